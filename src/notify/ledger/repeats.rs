//! Lanes and the repeat schedule. A lane is where one notifier's firing messages of one open
//! incident stand; the schedule holds every lane due a repeat, ordered by when. The ledger
//! keeps it in step with its lanes (on every new message, delivery, resolve and reload), so
//! finding the next repeat and making the due ones touch only those lanes, however many
//! incidents are open: ten thousand devices kicked at once must not make every later command
//! walk them all.
//!
//! The ledger's repeat side lives here too: a delivery starts a lane's repeat clock, and a
//! tick makes the repeats that fell due.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::{Inhibitions, Ledger, Outcome, Policies, Policy, firing};
use crate::store::{DeliveryRecord, IncidentRecord, Transition};

impl Ledger {
    /// A notifier delivered a message at `at`: starts its repeat clock.
    pub(crate) fn delivered(&mut self, delivery: &DeliveryRecord, at: Timestamp) {
        if delivery.transition != Transition::Firing {
            return;
        }
        let lane = self
            .ids
            .get(&delivery.incident_id)
            .and_then(|key| self.open.get_mut(key))
            .and_then(|open| open.lanes.get_mut(&delivery.notifier));
        let Some(lane) = lane else {
            return;
        };
        lane.unsent = lane.unsent.saturating_sub(1);
        lane.last_sent = Some(lane.last_sent.map_or(at, |last| last.max(at)));
        let (id, name) = (&delivery.incident_id, &delivery.notifier);
        schedule(&mut self.repeats, &self.policies, id, name, lane);
    }

    /// Creates the repeats due at `now`, touching only the lanes that are due. A lane whose
    /// notifier holds its incident back (inhibition) sends nothing: its repeat clock restarts
    /// at `now`.
    pub(crate) fn tick(&mut self, now: Timestamp) -> Outcome {
        let mut outcome = Outcome::default();
        let mut snapshots: HashMap<String, Arc<IncidentRecord>> = HashMap::new();
        // Repeats open no provider incident and add no lane: one look serves the whole tick.
        let mut inhibitions: Option<Inhibitions> = None;
        while let Some((id, name)) = self.repeats.pop_due(now) {
            let Some(key) = self.ids.get(&id) else {
                continue;
            };
            let inhibitions = inhibitions.get_or_insert_with(|| self.inhibitions());
            let inhibited = self
                .open
                .get(key)
                .is_some_and(|open| inhibitions.holds_message(&name, &open.record));
            let Some(open) = self.open.get_mut(key) else {
                continue;
            };
            let Some(lane) = open.lanes.get_mut(&name) else {
                continue;
            };
            lane.due = None;
            if inhibited {
                lane.last_sent = Some(now);
                schedule(&mut self.repeats, &self.policies, &id, &name, lane);
                continue;
            }
            let seq = lane.take_seq();
            let delivery = firing(&id, &name, seq, now);
            let incident = snapshots
                .entry(id)
                .or_insert_with(|| Arc::new(open.record.clone()));
            outcome.deliver(incident, delivery);
        }
        outcome
    }

    /// When [`Ledger::tick`] has something to do next, if ever.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.repeats.next()
    }
}

/// Per open incident and notifier: where its firing messages stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lane {
    /// The seq of the next firing message.
    pub(super) next_seq: u32,
    /// Firing messages created but not yet delivered.
    pub(super) unsent: u32,
    /// When the last firing message was delivered (the repeat clock's start).
    pub(super) last_sent: Option<Timestamp>,
    /// When the lane is scheduled for its next repeat ([`Repeats`]); `None` while it
    /// is not due one.
    pub(super) due: Option<Timestamp>,
}

impl Lane {
    /// A lane whose first message is about to be created.
    pub(super) fn new() -> Lane {
        Lane {
            next_seq: 0,
            unsent: 0,
            last_sent: None,
            due: None,
        }
    }

    /// The seq for a new firing message, counted as undelivered.
    pub(super) fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        self.unsent = self.unsent.saturating_add(1);
        seq
    }
}

/// When `lane` is due a repeat under `policy`; `None` when it never is (no repeats configured,
/// or a message is still undelivered, or nothing was delivered yet).
pub(super) fn repeat_due(lane: &Lane, policy: &Policy) -> Option<Timestamp> {
    if policy.repeat_interval.is_zero() || lane.unsent > 0 {
        return None;
    }
    let interval = SignedDuration::try_from(policy.repeat_interval).ok()?;
    lane.last_sent?.checked_add(interval).ok()
}

/// Puts `lane` (of `incident_id` and `notifier`) where `policies` say in the schedule, or takes
/// it out when it is not due a repeat.
pub(super) fn schedule(
    repeats: &mut Repeats,
    policies: &Policies,
    incident_id: &str,
    notifier: &str,
    lane: &mut Lane,
) {
    let due = policies
        .get(notifier)
        .and_then(|policy| repeat_due(lane, policy));
    repeats.reschedule(incident_id, notifier, lane.due, due);
    lane.due = due;
}

/// When each lane (incident id, notifier) is due its next repeat.
#[derive(Debug, Default)]
pub(super) struct Repeats {
    due: BTreeSet<(Timestamp, String, String)>,
    /// Schedule entries looked at, for the tests that pin the cost of a tick.
    #[cfg(test)]
    examined: std::cell::Cell<usize>,
}

impl Repeats {
    /// Moves the lane of `incident_id` and `notifier` from `from` to `to` (either may be
    /// `None`: not scheduled).
    pub(super) fn reschedule(
        &mut self,
        incident_id: &str,
        notifier: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) {
        if from == to {
            return;
        }
        if let Some(at) = from {
            self.due
                .remove(&(at, incident_id.to_owned(), notifier.to_owned()));
        }
        if let Some(at) = to {
            self.due
                .insert((at, incident_id.to_owned(), notifier.to_owned()));
        }
    }

    /// The earliest repeat scheduled.
    pub(super) fn next(&self) -> Option<Timestamp> {
        self.count_examined();
        self.due.first().map(|(at, _, _)| *at)
    }

    /// Takes the earliest lane (incident id, notifier) due at or before `now`, if any.
    pub(super) fn pop_due(&mut self, now: Timestamp) -> Option<(String, String)> {
        self.count_examined();
        if self.due.first().is_none_or(|(at, _, _)| *at > now) {
            return None;
        }
        self.due.pop_first().map(|(_, id, notifier)| (id, notifier))
    }

    /// Forgets every lane (a reload reschedules them all).
    pub(super) fn clear(&mut self) {
        self.due.clear();
    }

    /// Every scheduled lane in order: (due, incident id, notifier).
    #[cfg(test)]
    pub(super) fn entries(&self) -> Vec<(Timestamp, String, String)> {
        self.due.iter().cloned().collect()
    }

    /// How many schedule entries were looked at since the last call.
    #[cfg(test)]
    pub(super) fn take_examined(&self) -> usize {
        self.examined.replace(0)
    }

    fn count_examined(&self) {
        #[cfg(test)]
        self.examined.set(self.examined.get() + 1);
    }
}
