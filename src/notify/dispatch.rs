//! The notifiers' outboxes: a delivery worker per notifier, and a held queue for a notifier
//! whose channel cannot be built (its messages stay pending in the store, nothing lost).
//!
//! Every kind is built through [`AnyChannel::build`]; its worker paces it ([`Pacing`], from
//! the notifier and `daemon.timezone`). On reload a notifier whose channel or pacing settings
//! changed gets a new outbox that takes over the old one's undelivered messages; a removed
//! notifier's undelivered messages are recorded as dropped.

use std::collections::{BTreeMap, VecDeque};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use jiff::tz::TimeZone;

use super::channel::{AnyChannel, Channel};
use super::ledger::Message;
use super::pacing::Pacing;
use super::worker::{Links, Worker};
use super::{NotifierSet, log};
use crate::config::{Email, Notifier};
use crate::store::{DeliveryState, Write};

/// How the outboxes are built.
pub(crate) struct Plumbing {
    /// What workers share with the ledger task.
    pub links: Links,
    /// Where workers are spawned (the daemon awaits it).
    pub tracker: TaskTracker,
    /// Cancelled when the daemon stops; every worker's token is a child of it.
    pub stop: CancellationToken,
    /// Tests: every worker delivers to this recorder instead of its channel.
    #[cfg(test)]
    pub recorder: Option<super::tests::Recorder>,
}

/// One notifier's outbox.
enum Outbox {
    /// A running worker.
    Live {
        inbox: mpsc::UnboundedSender<Message>,
        cancel: CancellationToken,
        worker: JoinHandle<VecDeque<Message>>,
    },
    /// The messages of a notifier whose channel cannot be built, kept in order.
    Held(VecDeque<Message>),
}

/// Every configured notifier's outbox.
pub(crate) struct Dispatcher {
    plumbing: Plumbing,
    timezone: TimeZone,
    outboxes: BTreeMap<String, (Notifier, Outbox)>,
}

impl Dispatcher {
    /// Outboxes for `notifiers` (workers spawned on the tracker).
    pub(crate) fn new(plumbing: Plumbing, notifiers: &NotifierSet) -> Dispatcher {
        let mut dispatcher = Dispatcher {
            plumbing,
            timezone: notifiers.timezone.clone(),
            outboxes: BTreeMap::new(),
        };
        for notifier in &notifiers.notifiers {
            let outbox = dispatcher.open(notifier, VecDeque::new());
            dispatcher
                .outboxes
                .insert(notifier.name.clone(), (notifier.clone(), outbox));
        }
        dispatcher
    }

    /// Hands each message to its notifier's outbox; a message for a notifier that is gone is
    /// recorded as dropped.
    pub(crate) fn dispatch(&mut self, messages: Vec<Message>) {
        let mut dropped = Vec::new();
        for message in messages {
            match self.outboxes.get_mut(&message.delivery.notifier) {
                Some((_, Outbox::Held(queue))) => queue.push_back(message),
                Some((_, Outbox::Live { inbox, .. })) => {
                    self.plumbing.links.outstanding.send_modify(|n| *n += 1);
                    if let Err(lost) = inbox.send(message) {
                        // The worker ended (it only does when cancelled); the delivery stays
                        // pending in the store and is resumed on the next start.
                        self.plumbing
                            .links
                            .outstanding
                            .send_modify(|n| *n = n.saturating_sub(1));
                        drop(lost);
                    }
                }
                None => dropped.push(message),
            }
        }
        self.drop_messages(dropped);
    }

    /// Applies a new notifier list: removed notifiers' messages are dropped, changed ones
    /// move to a new outbox, unchanged ones keep running.
    pub(crate) async fn reconfigure(&mut self, notifiers: NotifierSet) {
        let mut old = std::mem::take(&mut self.outboxes);
        let same_zone = self.timezone == notifiers.timezone;
        self.timezone = notifiers.timezone;
        for notifier in &notifiers.notifiers {
            let kept = match old.remove(&notifier.name) {
                Some((before, outbox))
                    if same_zone
                        && same_channel(&before, notifier)
                        && same_pacing(&before, notifier) =>
                {
                    outbox
                }
                Some((_, outbox)) => {
                    let undelivered = self.close(outbox).await;
                    self.open(notifier, undelivered)
                }
                None => self.open(notifier, VecDeque::new()),
            };
            self.outboxes
                .insert(notifier.name.clone(), (notifier.clone(), kept));
        }
        for (_, (_, outbox)) in old {
            let undelivered = self.close(outbox).await;
            self.drop_messages(undelivered.into());
        }
    }

    /// Stops every worker, abandoning in-flight requests; undelivered messages stay pending
    /// in the store.
    pub(crate) async fn stop(self) {
        for (_, (_, outbox)) in self.outboxes {
            close_outbox(&self.plumbing, outbox).await;
        }
    }

    /// An outbox for `notifier` starting with `queue`: a worker, or held messages when its
    /// channel cannot be built.
    fn open(&mut self, notifier: &Notifier, queue: VecDeque<Message>) -> Outbox {
        let pacing = Pacing::of(notifier, &self.timezone);
        #[cfg(test)]
        if let Some(recorder) = &self.plumbing.recorder {
            let channel = recorder.clone();
            return self.spawn(channel, pacing, queue);
        }
        match AnyChannel::build(notifier, &self.timezone) {
            Ok(channel) => self.spawn(channel, pacing, queue),
            Err(error) => {
                log::unavailable(&notifier.name, &error);
                Outbox::Held(queue)
            }
        }
    }

    /// Spawns a worker delivering `queue` and what follows through `channel`.
    fn spawn<C: Channel>(&self, channel: C, pacing: Pacing, queue: VecDeque<Message>) -> Outbox {
        let links = self.plumbing.links.clone();
        links.outstanding.send_modify(|n| *n += queue.len());
        let cancel = self.plumbing.stop.child_token();
        let (inbox, receiver) = mpsc::unbounded_channel();
        let worker = Worker {
            channel,
            pacing,
            links,
            cancel: cancel.clone(),
        };
        let worker = self.plumbing.tracker.spawn(worker.run(receiver, queue));
        Outbox::Live {
            inbox,
            cancel,
            worker,
        }
    }

    /// Stops an outbox and returns what it had not delivered.
    async fn close(&self, outbox: Outbox) -> VecDeque<Message> {
        close_outbox(&self.plumbing, outbox).await
    }

    /// Records `messages` as dropped (their notifier is gone).
    fn drop_messages(&self, messages: Vec<Message>) {
        let writes = messages
            .into_iter()
            .map(|message| {
                let mut delivery = message.delivery;
                delivery.state = DeliveryState::Dropped;
                Write::Delivery(delivery)
            })
            .collect::<Vec<_>>();
        if !writes.is_empty() {
            self.plumbing.links.journal.record(writes);
        }
    }
}

/// Stops an outbox: cancels its worker, waits for it to hand back its queue.
async fn close_outbox(plumbing: &Plumbing, outbox: Outbox) -> VecDeque<Message> {
    match outbox {
        Outbox::Held(queue) => queue,
        Outbox::Live {
            inbox,
            cancel,
            worker,
        } => {
            cancel.cancel();
            drop(inbox);
            // A worker that panicked loses only its in-memory queue: the store still holds
            // those deliveries as pending.
            let undelivered = worker.await.unwrap_or_default();
            let count = undelivered.len();
            plumbing
                .links
                .outstanding
                .send_modify(|n| *n = n.saturating_sub(count));
            undelivered
        }
    }
}

/// True when `a` and `b` deliver the same way (so a reload can keep `a`'s worker running).
fn same_channel(a: &Notifier, b: &Notifier) -> bool {
    a.kind == b.kind
        && same_secret(&a.url, &b.url)
        && same_secret(&a.secret, &b.secret)
        && a.command == b.command
        && a.timeout == b.timeout
        && a.language == b.language
        && same_email(a.email.as_ref(), b.email.as_ref())
}

/// True when `a` and `b` pace their messages the same way (the zone is compared apart).
fn same_pacing(a: &Notifier, b: &Notifier) -> bool {
    a.quiet_hours == b.quiet_hours && a.rate_limit == b.rate_limit && a.group_wait == b.group_wait
}

fn same_secret(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    }
}

fn same_email(a: Option<&Email>, b: Option<&Email>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.host == b.host
                && a.port == b.port
                && a.tls == b.tls
                && a.username == b.username
                && same_secret(&a.password, &b.password)
                && a.from == b.from
                && a.to == b.to
        }
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{Language, NotifierKind, Window};

    fn kept(a: &Notifier, b: &Notifier) -> bool {
        same_channel(a, b) && same_pacing(a, b)
    }

    #[test]
    fn a_reload_keeps_a_worker_only_when_its_channel_and_pacing_are_the_same() {
        let mut bot = Notifier::new("bot", NotifierKind::Wecom);
        bot.url = Some(SecretString::from("https://example.invalid/send?key=k"));
        assert!(kept(&bot, &bot.clone()));
        let mut resolved_off = bot.clone();
        resolved_off.send_resolved = false;
        assert!(
            kept(&bot, &resolved_off),
            "the ledger's setting, not the worker's"
        );

        let changes: [fn(&mut Notifier); 7] = [
            |n| n.rate_limit = 5,
            |n| n.group_wait = Duration::ZERO,
            |n| n.quiet_hours = Window::parse("23:00-08:00").ok(),
            |n| n.timeout = Duration::from_secs(3),
            |n| n.language = Language::En,
            |n| n.secret = Some(SecretString::from("s")),
            |n| n.url = Some(SecretString::from("https://example.invalid/send?key=other")),
        ];
        for change in changes {
            let mut changed = bot.clone();
            change(&mut changed);
            assert!(!kept(&bot, &changed), "{changed:?}");
        }
    }
}
