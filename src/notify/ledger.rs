//! The ledger's decisions, without I/O: which changes are news, which messages go to which
//! notifier, and which store writes record it. Time is a parameter, so every rule is a plain
//! test with timestamps the test advances.
//!
//! Rules:
//! - `Open` for a key with no open incident opens one (id from the key and the second it
//!   opened, bumped by a second if the key's previous incident had the same id), records it
//!   and creates one firing delivery (seq 0) per notifier of its context that is configured
//!   and whose `min_severity` the incident's severity reaches (a lane per such notifier).
//! - Inhibition ([`inhibit`]), per notifier: while `provider_unreachable` or
//!   `credentials_invalid` of a provider is open and told to a notifier, `manual_login_required`
//!   incidents of its devices are opened and recorded but get no lane to that notifier
//!   (nothing sent to it), and the lanes they already have to it send no escalations or
//!   repeats (a skipped repeat restarts the repeat clock). A notifier not told of the outage
//!   keeps getting them. When the last such incident told to a notifier resolves, the
//!   still-open ones get their first messages to it.
//! - `Open` for an open key refreshes summary, detail and context (a store write when anything
//!   changed, no message). With `escalate` it counts an escalation and sends the incident again
//!   to every notifier (the next seq). A notifier newly named by the context gets seq 0.
//! - Repeat: a notifier with a non-zero `repeat_interval` gets the next seq when that long has
//!   passed since the last firing message to it was delivered, and never while one is still
//!   undelivered (a notifier that is down is not flooded when it comes back).
//! - `Resolve` for an open key resolves it once, recording why (the payload's `resolution`): a
//!   resolved delivery (seq 0) per notifier with `send_resolved`. Undelivered firing messages stay queued before it. `Resolve` for a key
//!   with nothing open does nothing.
//! - The lanes due a repeat are kept in a schedule ordered by time ([`repeats`]), so the next
//!   repeat and the due ones are found without walking every open incident.
//! - Reload ([`Ledger::reconfigure`]): lanes of removed notifiers go, and open incidents get
//!   lanes and first messages for notifiers newly configured or newly wanting them.
//! - Restore ([`Ledger::restore`]): open incidents come back without a message to the
//!   notifiers that have delivery history; a notifier that was never told (no history, e.g.
//!   the incident was inhibited and its inhibitor resolved while the daemon was down) gets
//!   its first message then, unless the incident is still inhibited. Pending deliveries are
//!   resumed; pending deliveries to notifiers no longer configured are dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::{Notifier, NotifierKind};
use crate::incident::{IncidentChange, IncidentContext, IncidentKey, Resolution, Severity};
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition, Write};

mod inhibit;

pub(crate) use inhibit::Inhibitions;
mod outcome;
mod reload;
mod repeats;
mod restore;

pub(crate) use outcome::{Event, Message, Outcome};
use repeats::{Lane, Repeats, schedule};

/// What the ledger needs to know about a notifier (the channel's address is the worker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// The channel; decides whether this build can deliver at all.
    pub kind: NotifierKind,
    /// Whether resolved messages are sent.
    pub send_resolved: bool,
    /// How often an open incident is sent again; zero = never.
    pub repeat_interval: Duration,
    /// Incidents below this severity get no lane to this notifier.
    pub min_severity: Severity,
}

impl Policy {
    /// The ledger's view of a configured notifier.
    pub(crate) fn of(notifier: &Notifier) -> Policy {
        Policy {
            kind: notifier.kind,
            send_resolved: notifier.send_resolved,
            repeat_interval: notifier.repeat_interval,
            min_severity: notifier.min_severity,
        }
    }

    /// Whether incidents of `severity` are for this notifier.
    pub(crate) fn wants(&self, severity: Severity) -> bool {
        severity >= self.min_severity
    }
}

/// The configured notifiers by name, as the ledger sees them.
pub(crate) type Policies = BTreeMap<String, Policy>;

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
    /// The lanes due a repeat, by when: kept in step with every lane's `due`.
    repeats: Repeats,
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
            IncidentChange::Resolve {
                key,
                at,
                resolution,
            } => self.resolve(&key, at, resolution, now),
        }
    }

    /// Schedule entries looked at since the last call, for the tests that pin a tick's cost.
    #[cfg(test)]
    pub(crate) fn take_examined(&self) -> usize {
        self.repeats.take_examined()
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
            resolution: None,
            escalations: 0,
        };
        let incident = Arc::new(record.clone());
        let inhibitions = self.inhibitions();
        let inhibited_by = self.inhibitor(&record).map(|by| by.id.clone());
        let mut outcome = Outcome {
            writes: vec![Write::Incident(record.clone())],
            events: vec![Event::Opened {
                incident: Arc::clone(&incident),
                inhibited_by,
            }],
            ..Outcome::default()
        };
        let mut open = OpenIncident {
            record,
            lanes: BTreeMap::new(),
        };
        self.add_new_lanes(&mut open, &inhibitions, now, &mut outcome);
        self.ids.insert(id.clone(), key.clone());
        self.last_ids.insert(key.clone(), id);
        self.open.insert(key, open);
        outcome
    }

    fn update(&mut self, key: &IncidentKey, update: Update<'_>, now: Timestamp) -> Outcome {
        let mut outcome = Outcome::default();
        let inhibitions = self.inhibitions();
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
                if inhibitions.holds_message(name, &open.record) {
                    continue;
                }
                let seq = lane.take_seq();
                schedule(&mut self.repeats, &self.policies, &incident.id, name, lane);
                outcome.deliver(&incident, firing(&incident.id, name, seq, now));
            }
        }
        self.add_new_lanes(&mut open, &inhibitions, now, &mut outcome);
        self.open.insert(key.clone(), open);
        outcome
    }

    fn resolve(
        &mut self,
        key: &IncidentKey,
        at: Timestamp,
        resolution: Resolution,
        now: Timestamp,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(mut open) = self.open.remove(key) else {
            return outcome;
        };
        self.ids.remove(&open.record.id);
        for (name, lane) in &open.lanes {
            self.repeats
                .reschedule(&open.record.id, name, lane.due, None);
        }
        open.record.resolved_at = Some(at.max(open.record.opened_at));
        open.record.resolution = Some(resolution);
        outcome.writes.push(Write::Incident(open.record.clone()));
        let incident = Arc::new(open.record);
        outcome.events.push(Event::Resolved(Arc::clone(&incident)));
        for name in open.lanes.keys() {
            if self.policies.get(name).is_some_and(|p| p.send_resolved) {
                let delivery = delivery(&incident.id, name, Transition::Resolved, 0, now);
                outcome.deliver(&incident, delivery);
            }
        }
        self.release(key, now, &mut outcome);
        outcome
    }

    /// Gives every configured notifier named by the incident's context that wants its
    /// severity, is not yet told about it and does not hold it back (`inhibitions`), a lane
    /// and its first message.
    fn add_new_lanes(
        &self,
        open: &mut OpenIncident,
        inhibitions: &Inhibitions,
        now: Timestamp,
        outcome: &mut Outcome,
    ) {
        // The incident as the new messages share it, made only when one is.
        let mut incident: Option<Arc<IncidentRecord>> = None;
        for name in &open.record.context.notify {
            if !self.wants(name, &open.record)
                || open.lanes.contains_key(name)
                || inhibitions.holds_message(name, &open.record)
            {
                continue;
            }
            let incident = incident.get_or_insert_with(|| Arc::new(open.record.clone()));
            let mut lane = Lane::new();
            let seq = lane.take_seq();
            outcome.deliver(incident, firing(&incident.id, name, seq, now));
            open.lanes.insert(name.clone(), lane);
        }
    }

    /// Whether notifier `name` is configured and wants incidents like `record`.
    fn wants(&self, name: &str, record: &IncidentRecord) -> bool {
        let severity = record.key.kind.severity();
        self.policies.get(name).is_some_and(|p| p.wants(severity))
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
