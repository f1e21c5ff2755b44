//! Incidents and their delivery: the ledger that opens, repeats and resolves each incident
//! exactly once, and the channels that carry its messages (DESIGN.md §5).
//!
//! The keeper sends [`IncidentChange`]s through a [`Notifications`] handle; the ledger task
//! decides what is news, records incidents and deliveries in the store (so a restart neither
//! re-sends nor loses anything) and delivers each message to each notifier, retrying with
//! backoff while a channel fails.

use tokio::sync::mpsc;

use crate::incident::IncidentChange;

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
