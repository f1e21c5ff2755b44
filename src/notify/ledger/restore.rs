//! Rebuilding the ledger after a restart from what the store kept: open incidents come back
//! without a message (they were sent before), pending deliveries are resumed in the order
//! they were created, and each lane learns its next seq and repeat clock from its history.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;

use super::{Lane, Ledger, Message, OpenIncident, Outcome, Policies, schedule};
use crate::notify::Restored;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition, Write};

impl Ledger {
    /// The ledger as it stood before the restart, and the pending messages to resume (plus
    /// drop writes for pending deliveries nobody can deliver any more: their notifier was
    /// removed from the config, or their incident is unknown).
    ///
    /// A lane without any stored firing delivery (its notifier was added to the incident's
    /// context later) starts at seq 0 with its repeat clock at `now`: nothing is re-sent.
    pub(crate) fn restore(
        policies: Policies,
        restored: &Restored,
        now: Timestamp,
    ) -> (Ledger, Outcome) {
        let mut ledger = Ledger::new(policies);
        let history = History::of(restored);
        for record in &restored.open {
            if record.resolved_at.is_some() {
                continue;
            }
            let mut lanes: BTreeMap<String, Lane> = record
                .context
                .notify
                .iter()
                .filter(|name| ledger.policies.contains_key(*name))
                .map(|name| (name.clone(), history.lane(&record.id, name, now)))
                .collect();
            for (name, lane) in &mut lanes {
                schedule(
                    &mut ledger.repeats,
                    &ledger.policies,
                    &record.id,
                    name,
                    lane,
                );
            }
            ledger.ids.insert(record.id.clone(), record.key.clone());
            ledger
                .last_ids
                .insert(record.key.clone(), record.id.clone());
            let open = OpenIncident {
                record: record.clone(),
                lanes,
            };
            ledger.open.insert(record.key.clone(), open);
        }
        let outcome = ledger.resume(restored);
        (ledger, outcome)
    }

    /// Messages for the pending deliveries, oldest first; drops for the undeliverable ones.
    fn resume(&self, restored: &Restored) -> Outcome {
        let incidents: HashMap<&str, Arc<IncidentRecord>> = restored
            .open
            .iter()
            .chain(&restored.unfinished)
            .map(|record| (record.id.as_str(), Arc::new(record.clone())))
            .collect();
        let mut pending: Vec<&DeliveryRecord> = restored
            .pending
            .iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .collect();
        pending.sort_by_key(|d| (d.created_at, d.transition, d.seq));
        let mut outcome = Outcome::default();
        for delivery in pending {
            let incident = incidents.get(delivery.incident_id.as_str());
            match incident {
                Some(incident) if self.policies.contains_key(&delivery.notifier) => {
                    outcome.messages.push(Message {
                        incident: Arc::clone(incident),
                        delivery: delivery.clone(),
                    });
                }
                _ => {
                    let mut dropped = delivery.clone();
                    dropped.state = DeliveryState::Dropped;
                    outcome.writes.push(Write::Delivery(dropped));
                }
            }
        }
        outcome
    }
}

/// What the stored deliveries say about each (incident, notifier) lane.
#[derive(Default)]
struct History {
    lanes: BTreeMap<(String, String), LaneHistory>,
}

#[derive(Default)]
struct LaneHistory {
    max_seq: Option<u32>,
    unsent: u32,
    last_sent: Option<Timestamp>,
}

impl History {
    fn of(restored: &Restored) -> History {
        let mut history = History::default();
        for delivery in restored.history.iter().chain(&restored.pending) {
            if delivery.transition != Transition::Firing {
                continue;
            }
            let key = (delivery.incident_id.clone(), delivery.notifier.clone());
            let lane = history.lanes.entry(key).or_default();
            lane.max_seq = lane.max_seq.max(Some(delivery.seq));
            if delivery.state == DeliveryState::Sent {
                lane.last_sent = lane.last_sent.max(delivery.sent_at);
            }
        }
        for delivery in &restored.pending {
            let pending = delivery.state == DeliveryState::Pending;
            if pending && delivery.transition == Transition::Firing {
                let key = (delivery.incident_id.clone(), delivery.notifier.clone());
                if let Some(lane) = history.lanes.get_mut(&key) {
                    lane.unsent = lane.unsent.saturating_add(1);
                }
            }
        }
        history
    }

    fn lane(&self, incident_id: &str, notifier: &str, now: Timestamp) -> Lane {
        let key = (incident_id.to_owned(), notifier.to_owned());
        let Some(known) = self.lanes.get(&key) else {
            return Lane {
                next_seq: 0,
                unsent: 0,
                last_sent: Some(now),
                due: None,
            };
        };
        let last_sent = match (known.last_sent, known.unsent) {
            (None, 0) => Some(now),
            (last, _) => last,
        };
        Lane {
            next_seq: known.max_seq.map_or(0, |seq| seq.saturating_add(1)),
            unsent: known.unsent,
            last_sent,
            due: None,
        }
    }
}
