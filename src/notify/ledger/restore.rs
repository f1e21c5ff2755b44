//! Rebuilding the ledger after a restart from what the store kept: open incidents come back
//! without a message to the notifiers that were told before, pending deliveries are resumed
//! in the order they were created, and each lane learns its next seq and repeat clock from
//! its history. A notifier of an open incident that was never told (no delivery history:
//! added while the daemon was down, or the incident was inhibited and its inhibitor resolved
//! meanwhile) gets the first message now, unless the notifier still holds the incident back
//! (it is told of an open inhibitor of the device's provider) or the incident is below the
//! notifier's `min_severity`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;

use super::{
    Inhibitions, Lane, Ledger, Message, OpenIncident, Outcome, Policies, firing, schedule,
};
use crate::notify::Restored;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition, Write};

impl Ledger {
    /// The ledger as it stood before the restart, and the messages to send: the pending
    /// ones to resume, then the first messages of notifiers never told (plus drop writes for
    /// pending deliveries nobody can deliver any more: their notifier was removed from the
    /// config, or their incident is unknown; and the writes of the new deliveries).
    pub(crate) fn restore(
        policies: Policies,
        restored: &Restored,
        now: Timestamp,
    ) -> (Ledger, Outcome) {
        let mut ledger = Ledger::new(policies);
        for record in &restored.open {
            if record.resolved_at.is_some() {
                continue;
            }
            ledger.ids.insert(record.id.clone(), record.key.clone());
            ledger
                .last_ids
                .insert(record.key.clone(), record.id.clone());
            let open = OpenIncident {
                record: record.clone(),
                lanes: BTreeMap::new(),
            };
            ledger.open.insert(record.key.clone(), open);
        }
        // Every incident is in before any lane: inhibition is read from the inhibitors' lanes.
        let mut outcome = ledger.resume(restored);
        let history = History::of(restored);
        ledger.each_open_inhibitors_first(|ledger, open, inhibitions| {
            ledger.restore_lanes(open, inhibitions, &history, now, &mut outcome);
        });
        (ledger, outcome)
    }

    /// The lanes of `open`: from its history, or new with a first message for a notifier
    /// never told (unless that notifier holds the incident back).
    fn restore_lanes(
        &mut self,
        open: &mut OpenIncident,
        inhibitions: &Inhibitions,
        history: &History,
        now: Timestamp,
        outcome: &mut Outcome,
    ) {
        let incident = Arc::new(open.record.clone());
        for name in &open.record.context.notify {
            if !self.wants(name, &open.record) || open.lanes.contains_key(name) {
                continue;
            }
            let mut lane = match history.lane(&open.record.id, name, now) {
                Some(lane) => lane,
                None if inhibitions.holds_message(name, &open.record) => continue,
                None => {
                    let mut lane = Lane::new();
                    let seq = lane.take_seq();
                    outcome.deliver(&incident, firing(&incident.id, name, seq, now));
                    lane
                }
            };
            schedule(
                &mut self.repeats,
                &self.policies,
                &incident.id,
                name,
                &mut lane,
            );
            open.lanes.insert(name.clone(), lane);
        }
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

    /// The lane the history describes; `None` when the notifier has no firing delivery of
    /// the incident (it was never told). A lane with nothing sent and nothing pending (its
    /// rows were dropped) starts its repeat clock at `now`.
    fn lane(&self, incident_id: &str, notifier: &str, now: Timestamp) -> Option<Lane> {
        let key = (incident_id.to_owned(), notifier.to_owned());
        let known = self.lanes.get(&key)?;
        let last_sent = match (known.last_sent, known.unsent) {
            (None, 0) => Some(now),
            (last, _) => last,
        };
        Some(Lane {
            next_seq: known.max_seq.map_or(0, |seq| seq.saturating_add(1)),
            unsent: known.unsent,
            last_sent,
            due: None,
        })
    }
}
