//! The demo's ears: a tracing layer that turns the keeper's structured log events
//! (DESIGN.md §6) into [`Observed`] values for the director, and the plain words a new user
//! reads for each of them.
//!
//! The demo runs the real keeper; it does not get a private channel into it. Whatever the
//! narrator can tell, an operator's log monitoring can tell too.

use std::collections::BTreeMap;
use std::fmt;

use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// One log event of the keeper, as the narrator saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The stable event name (`device.offline`, ...); empty for lines without one.
    pub event: String,
    /// The event's message.
    pub message: String,
    /// Every other field, as text.
    pub fields: BTreeMap<String, String>,
}

impl Observed {
    /// A field's text, or "" when the event has none.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    /// The device the event is about, or "".
    pub fn device(&self) -> &str {
        self.field("device")
    }
}

/// Forwards every event that carries an `event` field to the director.
#[derive(Debug)]
pub struct Narrator {
    events: mpsc::UnboundedSender<Observed>,
}

impl Narrator {
    /// A layer sending to `events`; the director holds the receiver.
    pub fn new(events: mpsc::UnboundedSender<Observed>) -> Narrator {
        Narrator { events }
    }
}

impl<S: Subscriber> Layer<S> for Narrator {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut seen = Observed::default();
        event.record(&mut Fields(&mut seen));
        if !seen.event.is_empty() {
            // The director may have finished; a closed channel only means nobody listens.
            let _ = self.events.send(seen);
        }
    }
}

/// Collects an event's fields into an [`Observed`].
struct Fields<'a>(&'a mut Observed);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: String) {
        match field.name() {
            "event" => self.0.event = value,
            "message" => self.0.message = value,
            name => {
                self.0.fields.insert(name.to_owned(), value);
            }
        }
    }
}

/// The lines for the second-login rung: the request, a refusal; the gateway's own word that a
/// prompt lapsed or was confirmed is told by `recovery.unconfirmed` / `recovery.confirmed`.
fn second_login(device: &str, message: &str) -> Option<String> {
    if message.starts_with("asking") {
        Some(format!(
            "{device}: step 2, asking for a second-login prompt on the phone; waiting for a \
             person to tap \"confirm\""
        ))
    } else if message.starts_with("the gateway showed") {
        Some(format!("{device}: the prompt is on the phone"))
    } else if message.starts_with("the gateway") {
        None
    } else {
        Some(format!("{device}: {message}"))
    }
}

/// The line a new user reads for an event, or `None` for events the story does not need
/// (probes that change nothing, deliveries the webhook receiver reports itself).
pub fn describe(seen: &Observed) -> Option<String> {
    let device = seen.device();
    let text = match seen.event.as_str() {
        "daemon.ready" => "the keeper is running and probing every device".to_owned(),
        "device.online" => format!("{device} is online"),
        "device.suspect" => format!(
            "{device} answered \"offline\" once; the keeper waits for a second answer before \
             acting (one answer can be a glitch)"
        ),
        "device.offline" => format!("{device} is offline: confirmed by consecutive probes"),
        "device.unknown" => format!("{device}: no trustworthy answer, so it is not called offline"),
        "recovery.reconnect" => {
            format!("{device}: step 1, asking the gateway to reconnect (no phone needed)")
        }
        "recovery.second_login" => return second_login(device, &seen.message),
        "recovery.confirmed" => format!("{device}: the person confirmed the prompt"),
        "recovery.unconfirmed" => {
            format!("{device}: nobody confirmed the prompt before it expired")
        }
        "recovery.skipped" => format!("{device}: skipped a step: {}", seen.message),
        "incident.opened" => format!("ALERT opened: {} for {}", seen.field("kind"), subject(seen)),
        "incident.resolved" => format!(
            "alert resolved: {} for {}",
            seen.field("kind"),
            subject(seen)
        ),
        "recycle.warning" => seen.message.clone(),
        "recycle.recycled" => format!("{device}: the gateway has recycled the device"),
        "notify.failed" => format!(
            "a notification failed and will be retried: {}",
            seen.message
        ),
        _ => return None,
    };
    Some(text)
}

/// The device an event is about, or its provider for provider-wide events.
fn subject(seen: &Observed) -> &str {
    match seen.device() {
        "" => seen.field("provider"),
        device => device,
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn layer_forwards_events_with_an_event_field_only() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let subscriber = tracing_subscriber::registry().with(Narrator::new(tx));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                event = "device.offline",
                device = "shop-01",
                provider = "gewe",
                "offline confirmed"
            );
            tracing::info!("a line without an event name");
        });
        let seen = rx.try_recv().unwrap();
        assert_eq!(seen.event, "device.offline");
        assert_eq!(seen.device(), "shop-01");
        assert_eq!(seen.field("provider"), "gewe");
        assert_eq!(seen.message, "offline confirmed");
        assert!(rx.try_recv().is_err(), "the event-less line was forwarded");
    }

    #[test]
    fn described_events_name_the_device_and_quiet_ones_are_skipped() {
        let mut seen = Observed {
            event: "recovery.reconnect".into(),
            ..Observed::default()
        };
        seen.fields.insert("device".into(), "shop-01".into());
        let line = describe(&seen).unwrap();
        assert!(line.starts_with("shop-01: step 1"), "{line}");
        seen.event = "notify.sent".into();
        assert_eq!(describe(&seen), None);
        seen.event = "incident.opened".into();
        seen.fields.remove("device");
        seen.fields.insert("provider".into(), "gewe-cloud".into());
        seen.fields
            .insert("kind".into(), "provider_unreachable".into());
        assert_eq!(
            describe(&seen).unwrap(),
            "ALERT opened: provider_unreachable for gewe-cloud"
        );
    }
}
