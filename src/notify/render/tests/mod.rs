//! The rendered text, pinned in full: one message of each kind in Chinese (`zh.rs`) and
//! English (`en.rs`), and the shapes (group, digest, test) and size limits (`shapes.rs`).
//!
//! Times are fixed and read in Asia/Shanghai (CST, UTC+8): incidents open at 08:00 UTC
//! (16:00 CST), first messages go a second later.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::*;
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Subject};
use crate::notify::channel::{Batch, Shape};
use crate::notify::ledger::Message;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition};
use crate::vendor::VendorKind;

mod en;
mod shapes;
mod zh;

/// When the incidents of these tests open.
const OPENED: &str = "2026-11-21T08:00:00Z";

/// When a first message goes out.
const SENT: &str = "2026-11-21T08:00:01Z";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn style(language: Language) -> Style {
    Style {
        language,
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
    }
}

/// An incident of `kind` about device `sales-01` (or, for provider kinds, `gewe-cloud`).
fn incident(kind: IncidentKind, detail: Value) -> IncidentRecord {
    let provider_wide = kind.is_provider_wide();
    let subject = if provider_wide {
        Subject::Provider("gewe-cloud".into())
    } else {
        Subject::Device("sales-01".into())
    };
    device_incident(kind, subject, detail, !provider_wide)
}

/// An incident of `kind` about `subject`, with the device context when `device` is set.
fn device_incident(
    kind: IncidentKind,
    subject: Subject,
    detail: Value,
    device: bool,
) -> IncidentRecord {
    let key = IncidentKey { subject, kind };
    let opened_at = at(OPENED);
    let (vendor_id, labels) = if device {
        let account = format!("wx_{}", key.subject.name().replace('-', ""));
        let labels = BTreeMap::from([("owner".to_owned(), "ops-team".to_owned())]);
        (Some(account), labels)
    } else {
        (None, BTreeMap::new())
    };
    IncidentRecord {
        id: key.incident_id(opened_at),
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id,
            labels,
            notify: vec!["ops".into()],
        },
        summary: format!("{} {}", key.subject.name(), kind),
        detail,
        key,
        opened_at,
        resolved_at: None,
        resolution: None,
        escalations: 0,
    }
}

/// The message `seq` of `incident` for `transition`.
fn message(incident: IncidentRecord, transition: Transition, seq: u32) -> Message {
    Message {
        delivery: DeliveryRecord {
            incident_id: incident.id.clone(),
            notifier: "ops".into(),
            transition,
            seq,
            state: DeliveryState::Pending,
            attempts: 0,
            created_at: incident.opened_at,
            sent_at: None,
            last_error: None,
        },
        incident: Arc::new(incident),
    }
}

/// The first firing message of `incident`.
fn firing(incident: IncidentRecord) -> Message {
    message(incident, Transition::Firing, 0)
}

/// `incident` resolved at `resolved_at`, and its resolved message.
fn resolved(mut incident: IncidentRecord, resolved_at: &str) -> Message {
    incident.resolved_at = Some(at(resolved_at));
    message(incident, Transition::Resolved, 0)
}

/// The detail the keeper writes for `manual_login_required` after a failed reconnect and an
/// unconfirmed second login.
fn manual_detail() -> Value {
    json!({
        "steps": ["reconnect failed", "second login not confirmed"],
        "offline_reason": "你的账号在另一台设备上登录",
    })
}

/// Every kind's detail as the keeper writes it.
fn detail(kind: IncidentKind) -> Value {
    match kind {
        IncidentKind::ManualLoginRequired => manual_detail(),
        IncidentKind::RecycleWarning => json!({
            "deadline": "2026-11-24T08:00:00Z", "remaining": "3d", "milestone": "3d",
        }),
        IncidentKind::DeviceRecycled => json!({
            "deadline": "2026-11-21T08:00:00Z", "remaining": "0s",
        }),
        IncidentKind::CredentialsInvalid => json!({
            "error": "gewe answered ret 401: token invalid",
            "devices": ["sales-01", "sales-02", "support-01"],
        }),
        IncidentKind::ProviderUnreachable => json!({
            "error": "connection refused",
            "devices": ["sales-01", "sales-02"],
        }),
    }
}

/// `messages` in one batch of `shape`, rendered in `language` as of `sent_at`.
fn render_batch(
    shape: Shape,
    messages: Vec<Message>,
    language: Language,
    sent_at: &str,
    max: usize,
) -> Text {
    let batch = Batch { shape, messages };
    render_within(Outgoing::Alert(&batch), at(sent_at), &style(language), max)
}

/// One message rendered in `language` as of `sent_at`.
fn render_one(message: Message, language: Language, sent_at: &str) -> Text {
    render_batch(Shape::One, vec![message], language, sent_at, DEFAULT_MAX)
}

/// `actual` is `expected`, the rendered text shown whole when it is not.
#[track_caller]
fn pinned(actual: &str, expected: &str) {
    assert_eq!(
        actual, expected,
        "\n--- rendered ---\n{actual}\n--- end ---\n"
    );
}

/// The first firing message of `kind` rendered in `language`.
fn first_of(kind: IncidentKind, language: Language) -> Text {
    render_one(firing(incident(kind, detail(kind))), language, SENT)
}

/// A reminder (seq 2) of `manual_login_required`, two and a half hours after it opened.
fn reminder(language: Language) -> Text {
    let incident = incident(IncidentKind::ManualLoginRequired, manual_detail());
    render_one(
        message(incident, Transition::Firing, 2),
        language,
        "2026-11-21T10:30:00Z",
    )
}

/// The resolved message of `manual_login_required`, 2 h 15 min after it opened.
fn recovered(language: Language) -> Text {
    let incident = incident(IncidentKind::ManualLoginRequired, manual_detail());
    let message = resolved(incident, "2026-11-21T10:15:30Z");
    render_one(message, language, "2026-11-21T10:15:31Z")
}

/// The open `manual_login_required` of a device an operator removed from the configuration.
fn removed(language: Language) -> Text {
    let mut incident = incident(IncidentKind::ManualLoginRequired, manual_detail());
    incident.resolution = Some(crate::incident::Resolution::Removed);
    let message = resolved(incident, "2026-11-21T10:15:30Z");
    render_one(message, language, "2026-11-21T10:15:31Z")
}
