//! What one ledger message is about, read out of its incident record once: the subject, the
//! kind's `detail` (steps tried, offline reason, deadline, error, affected devices) and the
//! delivery (firing or resolved, first message or reminder).
//!
//! `detail` is read leniently: a key that is missing or of another shape is left out of the
//! message rather than failing it (an incident recorded by an older build still renders).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::incident::{IncidentKind, Resolution, Subject};
use crate::notify::ledger::Message;
use crate::store::{IncidentRecord, Transition};

/// One message's facts.
#[derive(Debug, Clone)]
pub(super) struct Facts<'a> {
    /// The incident as the ledger recorded it.
    pub incident: &'a IncidentRecord,
    /// What happened.
    pub kind: IncidentKind,
    /// Firing or resolved.
    pub transition: Transition,
    /// Why a resolved incident resolved (older rows: recovered).
    pub resolution: Resolution,
    /// 0 for the first message, more for reminders and escalations.
    pub seq: u32,
    /// The device; `None` for provider incidents.
    pub device: Option<&'a str>,
    /// The device or provider name.
    pub subject: &'a str,
    /// `detail.steps`.
    pub steps: Vec<&'a str>,
    /// `detail.offline_reason`, when not empty.
    pub offline_reason: Option<&'a str>,
    /// `detail.error`, when not empty.
    pub error: Option<&'a str>,
    /// `detail.deadline`.
    pub deadline: Option<Timestamp>,
    /// `detail.remaining` as the keeper wrote it, for a deadline that does not parse.
    pub remaining: Option<&'a str>,
    /// `detail.devices`: the devices a provider incident affects.
    pub devices: Vec<&'a str>,
}

impl<'a> Facts<'a> {
    /// The facts of `message`.
    pub(super) fn of(message: &'a Message) -> Facts<'a> {
        let incident = message.incident.as_ref();
        let detail = &incident.detail;
        let text = |key: &str| {
            detail
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let strings = |key: &str| -> Vec<&'a str> {
            let list = detail.get(key).and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        };
        let device = match &incident.key.subject {
            Subject::Device(name) => Some(name.as_str()),
            Subject::Provider(_) => None,
        };
        Facts {
            incident,
            kind: incident.key.kind,
            transition: message.delivery.transition,
            resolution: incident.resolution.unwrap_or(Resolution::Recovered),
            seq: message.delivery.seq,
            device,
            subject: incident.key.subject.name(),
            steps: strings("steps"),
            offline_reason: text("offline_reason"),
            error: text("error"),
            deadline: text("deadline").and_then(|d| d.parse().ok()),
            remaining: text("remaining"),
            devices: strings("devices"),
        }
    }

    /// True for the resolved message.
    pub(super) fn resolved(&self) -> bool {
        self.transition == Transition::Resolved
    }

    /// True for a reminder (or escalation) of an open incident.
    pub(super) fn reminder(&self) -> bool {
        !self.resolved() && self.seq > 0
    }

    /// The provider's configured name.
    pub(super) fn provider(&self) -> &'a str {
        &self.incident.context.provider
    }
}

/// `at` in `zone`, for people: `2026-11-21 16:00 CST`.
pub(super) fn local(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Whole seconds from `from` to `to`; 0 when `to` is not later.
pub(super) fn seconds_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.as_second().saturating_sub(from.as_second())).unwrap_or(0)
}
