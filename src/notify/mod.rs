//! Incidents and their delivery: the ledger that opens, repeats and resolves each incident
//! exactly once, and the channels that carry its messages (DESIGN.md §5).
//!
//! The keeper sends [`IncidentChange`]s through a [`Notifications`] handle; the ledger task
//! decides what is news, records incidents and deliveries in the store (so a restart neither
//! re-sends nor loses anything) and delivers each message to each notifier, retrying with
//! backoff while a channel fails.
//!
//! Layout:
//! - `ledger`: the pure decisions (open once, send once per notifier, repeat, escalate,
//!   resolve once, restore), with time as a parameter;
//! - `payload`: the contract JSON of the generic webhook;
//! - `webhook`: the webhook channel (reqwest, rustls, no redirects, 10 s per request);
//! - `worker`, `backoff`: one delivery worker per notifier, retrying with backoff and jitter;
//! - `dispatch`: the notifiers' outboxes, and what a reload does to them;
//! - `task`: the ledger task that ties them to the store's writer; `log`: its log lines.
//!
//! Channels other than `webhook` (wecom, dingtalk, feishu, exec) arrive with the notifications
//! issue. Until then their messages are recorded and kept pending in the store (nothing is
//! lost), and each such notifier is reported once, at start or reload, as a `notify.failed`
//! line saying so. Quiet hours arrive with them.

use tokio::sync::mpsc;

use crate::incident::IncidentChange;
use crate::store::{DeliveryRecord, IncidentRecord};

mod backoff;
mod ledger;
mod payload;

pub use payload::{Payload, SCHEMA, rfc3339};

/// What the store kept from the previous run, for [`Notifications::start`]: the ledger comes
/// back without re-sending anything and resumes what was not delivered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restored {
    /// The open incidents (`Store::open_incidents`).
    pub open: Vec<IncidentRecord>,
    /// The deliveries not yet made (`Store::pending_deliveries`).
    pub pending: Vec<DeliveryRecord>,
    /// Every stored delivery of the open incidents (`Store::deliveries` of each): each
    /// notifier's next seq and repeat clock come from it. Without it a restored incident's
    /// next message would reuse a seq already sent.
    pub history: Vec<DeliveryRecord>,
    /// The resolved incidents that still have pending deliveries (their resolved message was
    /// not delivered yet): the messages are built from them.
    pub unfinished: Vec<IncidentRecord>,
}

/// The keeper's handle to the ledger task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifications {
    changes: mpsc::UnboundedSender<IncidentChange>,
}

impl Notifications {
    /// Hands a change to the ledger; never blocks.
    pub fn send(&self, change: IncidentChange) {
        let _ = self.changes.send(change);
    }
}
