//! What a worker remembers between sends: when each failing message may be tried again.
//! Every message keeps its own failure count and retry time, so a message the receiver keeps
//! refusing (a payload too large for the exec notifier's command line, a 4xx for one body)
//! backs off alone and never blocks the messages of other incidents queued behind it.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::notify::backoff::Backoff;
use crate::notify::ledger::Message;
use crate::store::Transition;

/// A delivery of this worker's notifier: incident id, transition and seq.
type DeliveryId = (String, Transition, u32);

/// The delivery a message records.
fn id(message: &Message) -> DeliveryId {
    let delivery = &message.delivery;
    (
        delivery.incident_id.clone(),
        delivery.transition,
        delivery.seq,
    )
}

/// A failing message's place in its backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retry {
    /// Failed attempts in a row.
    failures: u32,
    /// Not before this.
    at: Timestamp,
}

/// The retry times of the messages whose last attempt failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Retries(HashMap<DeliveryId, Retry>);

impl Retries {
    /// When `message` may be tried again, if its last attempt failed.
    pub(crate) fn at(&self, message: &Message) -> Option<Timestamp> {
        self.0.get(&id(message)).map(|retry| retry.at)
    }

    /// Records a failed attempt at `unit` (the messages sent together) at `now`: the unit's
    /// failure count is its most-failed member's plus one, and every member waits the
    /// backoff of that count, moved by `jitter` (a value in `[0, 1)`). Returns the retry time.
    pub(crate) fn failed(
        &mut self,
        unit: &[Message],
        backoff: &Backoff,
        jitter: f64,
        now: Timestamp,
    ) -> Timestamp {
        let before = unit
            .iter()
            .filter_map(|message| self.0.get(&id(message)))
            .map(|retry| retry.failures)
            .max()
            .unwrap_or(0);
        let failures = before.saturating_add(1);
        let delay = backoff.delay(failures, jitter);
        let at = now.saturating_add(delay).unwrap_or(now);
        for message in unit {
            self.0.insert(id(message), Retry { failures, at });
        }
        at
    }

    /// Forgets `message`'s failures (it was delivered).
    pub(crate) fn forget(&mut self, message: &Message) {
        self.0.remove(&id(message));
    }
}
