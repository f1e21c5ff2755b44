//! The ledger's decisions, without I/O: which changes are news, which messages go to which
//! notifier, and which store writes record it. Time is a parameter, so every rule is a plain
//! test with timestamps the test advances.
//!
//! Rules:
//! - `Open` for a key with no open incident opens one (id from the key and the second it
//!   opened, bumped by a second if the key's previous incident had the same id), records it
//!   and creates one firing delivery (seq 0) per notifier of its context that is configured.
//! - `Open` for an open key refreshes summary, detail and context (a store write when anything
//!   changed, no message). With `escalate` it counts an escalation and sends the incident again
//!   to every notifier (the next seq). A notifier newly named by the context gets seq 0.
//! - Repeat: a notifier with a non-zero `repeat_interval` gets the next seq when that long has
//!   passed since the last firing message to it was delivered, and never while one is still
//!   undelivered (a notifier that is down is not flooded when it comes back).
//! - `Resolve` for an open key resolves it once: a resolved delivery (seq 0) per notifier with
//!   `send_resolved`. Undelivered firing messages stay queued before it. `Resolve` for a key
//!   with nothing open does nothing.
//! - Restore ([`Ledger::restore`]): open incidents come back without a message; pending
//!   deliveries are resumed; pending deliveries to notifiers no longer configured are dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::{Notifier, NotifierKind};
use crate::incident::{IncidentChange, IncidentContext, IncidentKey};
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition, Write};

mod outcome;
mod restore;

pub(crate) use outcome::{Event, Message, Outcome};

/// What the ledger needs to know about a notifier (the channel's address is the worker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// The channel; decides whether this build can deliver at all.
    pub kind: NotifierKind,
    /// Whether resolved messages are sent.
    pub send_resolved: bool,
    /// How often an open incident is sent again; zero = never.
    pub repeat_interval: Duration,
}

impl Policy {
    /// The ledger's view of a configured notifier.
    pub(crate) fn of(notifier: &Notifier) -> Policy {
        Policy {
            kind: notifier.kind,
            send_resolved: notifier.send_resolved,
            repeat_interval: notifier.repeat_interval,
        }
    }
}

/// The configured notifiers by name, as the ledger sees them.
pub(crate) type Policies = BTreeMap<String, Policy>;

/// Per open incident and notifier: where its firing messages stand.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lane {
    /// The seq of the next firing message.
    next_seq: u32,
    /// Firing messages created but not yet delivered.
    unsent: u32,
    /// When the last firing message was delivered (the repeat clock's start).
    last_sent: Option<Timestamp>,
}

/// An open incident and its notifiers' lanes.
#[derive(Debug, Clone)]
struct OpenIncident {
    record: IncidentRecord,
    lanes: BTreeMap<String, Lane>,
}

/// The incident ledger: every open incident, and the configured notifiers.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    policies: Policies,
    open: BTreeMap<IncidentKey, OpenIncident>,
    /// The open incidents' keys by id, for delivery reports.
    ids: HashMap<String, IncidentKey>,
    /// The id each key last used, so an incident reopened within the same second gets a new id.
    last_ids: HashMap<IncidentKey, String>,
}

impl Ledger {
    /// An empty ledger for these notifiers.
    pub(crate) fn new(policies: Policies) -> Ledger {
        Ledger {
            policies,
            ..Ledger::default()
        }
    }

    /// Decides what `change`, observed by the ledger at `now`, means.
    pub(crate) fn apply(&mut self, change: IncidentChange, now: Timestamp) -> Outcome {
        match change {
            IncidentChange::Open {
                key,
                context,
                summary,
                detail,
                escalate,
                at,
            } => {
                let update = Update {
                    context: &context,
                    summary,
                    detail,
                    escalate,
                };
                if self.open.contains_key(&key) {
                    self.update(&key, update, now)
                } else {
                    self.open_new(key, update, at, now)
                }
            }
            IncidentChange::Resolve { key, at } => self.resolve(&key, at, now),
        }
    }

    /// A notifier delivered a message at `at`: starts its repeat clock.
    pub(crate) fn delivered(&mut self, delivery: &DeliveryRecord, at: Timestamp) {
        if delivery.transition != Transition::Firing {
            return;
        }
        let Some(key) = self.ids.get(&delivery.incident_id) else {
            return;
        };
        let lane = self
            .open
            .get_mut(key)
            .and_then(|open| open.lanes.get_mut(&delivery.notifier));
        if let Some(lane) = lane {
            lane.unsent = lane.unsent.saturating_sub(1);
            lane.last_sent = Some(lane.last_sent.map_or(at, |last| last.max(at)));
        }
    }

    /// Creates the repeats due at `now`.
    pub(crate) fn tick(&mut self, now: Timestamp) -> Outcome {
        let mut outcome = Outcome::default();
        for open in self.open.values_mut() {
            let mut snapshot: Option<Arc<IncidentRecord>> = None;
            for (name, lane) in &mut open.lanes {
                let due = self
                    .policies
                    .get(name)
                    .and_then(|policy| repeat_due(lane, policy));
                if due.is_none_or(|due| due > now) {
                    continue;
                }
                let incident = snapshot.get_or_insert_with(|| Arc::new(open.record.clone()));
                let seq = lane.take_seq();
                outcome.deliver(incident, firing(&open.record.id, name, seq, now));
            }
        }
        outcome
    }

    /// When [`Ledger::tick`] has something to do next, if ever.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.open
            .values()
            .flat_map(|open| open.lanes.iter())
            .filter_map(|(name, lane)| repeat_due(lane, self.policies.get(name)?))
            .min()
    }

    /// Takes a new set of notifiers: lanes of removed notifiers go (their queued messages are
    /// the workers' to drop); changed repeat and resolve settings apply from now on.
    pub(crate) fn reconfigure(&mut self, policies: Policies) {
        for open in self.open.values_mut() {
            open.lanes.retain(|name, _| policies.contains_key(name));
        }
        self.policies = policies;
    }

    /// The open incidents, for tests.
    #[cfg(test)]
    pub(crate) fn open_incidents(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.open.values().map(|open| &open.record)
    }

    fn open_new(
        &mut self,
        key: IncidentKey,
        update: Update<'_>,
        at: Timestamp,
        now: Timestamp,
    ) -> Outcome {
        let (id, opened_at) = self.fresh_id(&key, at);
        let record = IncidentRecord {
            id: id.clone(),
            key: key.clone(),
            context: update.context.clone(),
            summary: update.summary,
            detail: update.detail,
            opened_at,
            resolved_at: None,
            escalations: 0,
        };
        let incident = Arc::new(record.clone());
        let mut outcome = Outcome {
            writes: vec![Write::Incident(record.clone())],
            events: vec![Event::Opened(Arc::clone(&incident))],
            ..Outcome::default()
        };
        let mut open = OpenIncident {
            record,
            lanes: BTreeMap::new(),
        };
        self.add_new_lanes(&mut open, &incident, now, &mut outcome);
        self.ids.insert(id.clone(), key.clone());
        self.last_ids.insert(key.clone(), id);
        self.open.insert(key, open);
        outcome
    }

    fn update(&mut self, key: &IncidentKey, update: Update<'_>, now: Timestamp) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(mut open) = self.open.remove(key) else {
            return outcome;
        };
        let record = &mut open.record;
        let changed = record.summary != update.summary
            || record.detail != update.detail
            || record.context != *update.context;
        record.summary = update.summary;
        record.detail = update.detail;
        record.context = update.context.clone();
        if update.escalate {
            record.escalations = record.escalations.saturating_add(1);
        }
        if changed || update.escalate {
            outcome.writes.push(Write::Incident(record.clone()));
        }
        let incident = Arc::new(record.clone());
        if update.escalate {
            for (name, lane) in &mut open.lanes {
                let seq = lane.take_seq();
                outcome.deliver(&incident, firing(&incident.id, name, seq, now));
            }
        }
        self.add_new_lanes(&mut open, &incident, now, &mut outcome);
        self.open.insert(key.clone(), open);
        outcome
    }

    fn resolve(&mut self, key: &IncidentKey, at: Timestamp, now: Timestamp) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(mut open) = self.open.remove(key) else {
            return outcome;
        };
        self.ids.remove(&open.record.id);
        open.record.resolved_at = Some(at.max(open.record.opened_at));
        outcome.writes.push(Write::Incident(open.record.clone()));
        let incident = Arc::new(open.record);
        outcome.events.push(Event::Resolved(Arc::clone(&incident)));
        for name in open.lanes.keys() {
            if self.policies.get(name).is_some_and(|p| p.send_resolved) {
                let delivery = delivery(&incident.id, name, Transition::Resolved, 0, now);
                outcome.deliver(&incident, delivery);
            }
        }
        outcome
    }

    /// Gives every configured notifier named by the incident's context, and not yet told about
    /// it, a lane and its first message.
    fn add_new_lanes(
        &self,
        open: &mut OpenIncident,
        incident: &Arc<IncidentRecord>,
        now: Timestamp,
        outcome: &mut Outcome,
    ) {
        for name in &open.record.context.notify {
            if !self.policies.contains_key(name) || open.lanes.contains_key(name) {
                continue;
            }
            let mut lane = Lane::new();
            let seq = lane.take_seq();
            outcome.deliver(incident, firing(&incident.id, name, seq, now));
            open.lanes.insert(name.clone(), lane);
        }
    }

    /// The id for an incident of `key` opening at `at`, and the opening time it encodes.
    fn fresh_id(&self, key: &IncidentKey, at: Timestamp) -> (String, Timestamp) {
        let mut opened_at = at;
        let mut id = key.incident_id(opened_at);
        while self.last_ids.get(key) == Some(&id) {
            opened_at = opened_at
                .checked_add(SignedDuration::from_secs(1))
                .unwrap_or(opened_at);
            id = key.incident_id(opened_at);
        }
        (id, opened_at)
    }
}

/// The parts of an `Open` change that update an incident.
struct Update<'a> {
    context: &'a IncidentContext,
    summary: String,
    detail: serde_json::Value,
    escalate: bool,
}

impl Lane {
    /// A lane whose first message is about to be created.
    fn new() -> Lane {
        Lane {
            next_seq: 0,
            unsent: 0,
            last_sent: None,
        }
    }

    /// The seq for a new firing message, counted as undelivered.
    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        self.unsent = self.unsent.saturating_add(1);
        seq
    }
}

/// When `lane` is due a repeat under `policy`; `None` when it never is (no repeats configured,
/// or a message is still undelivered, or nothing was delivered yet).
fn repeat_due(lane: &Lane, policy: &Policy) -> Option<Timestamp> {
    if policy.repeat_interval.is_zero() || lane.unsent > 0 {
        return None;
    }
    let interval = SignedDuration::try_from(policy.repeat_interval).ok()?;
    lane.last_sent?.checked_add(interval).ok()
}

/// A new pending firing delivery.
fn firing(incident_id: &str, notifier: &str, seq: u32, now: Timestamp) -> DeliveryRecord {
    delivery(incident_id, notifier, Transition::Firing, seq, now)
}

/// A new pending delivery.
fn delivery(
    incident_id: &str,
    notifier: &str,
    transition: Transition,
    seq: u32,
    now: Timestamp,
) -> DeliveryRecord {
    DeliveryRecord {
        incident_id: incident_id.to_owned(),
        notifier: notifier.to_owned(),
        transition,
        seq,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: now,
        sent_at: None,
        last_error: None,
    }
}

#[cfg(test)]
mod tests;
