//! A reload: the ledger takes the new set of notifiers. Lanes of notifiers removed (or whose
//! `min_severity` the incident no longer reaches) go; notifiers newly configured (or whose
//! `min_severity` was lowered) get a lane and a first message for every open incident that
//! names them and that they do not hold back, just as a restart would give them; and every
//! lane is rescheduled under the new repeat intervals.

use jiff::Timestamp;

use super::{Ledger, Outcome, Policies, schedule};

impl Ledger {
    /// Takes a new set of notifiers at `now` and returns the first messages (and their
    /// writes) of notifiers that newly get a lane. Lanes of removed notifiers go (their queued
    /// messages are the workers' to drop), and so do lanes of notifiers whose `min_severity`
    /// the incident no longer reaches; a notifier that thereby stops hearing of a provider's
    /// outage no longer holds its devices' logins and gets them now. Changed repeat and
    /// resolve settings apply from now on (a change of notifiers, repeat intervals or
    /// severity floors reschedules every lane).
    pub(crate) fn reconfigure(&mut self, policies: Policies, now: Timestamp) -> Outcome {
        let same_schedule = self.policies.len() == policies.len()
            && self.policies.iter().zip(&policies).all(|((a, p), (b, q))| {
                a == b && p.repeat_interval == q.repeat_interval && p.min_severity == q.min_severity
            });
        self.policies = policies;
        let mut outcome = Outcome::default();
        if same_schedule {
            return outcome;
        }
        self.repeats.clear();
        for open in self.open.values_mut() {
            let severity = open.record.key.kind.severity();
            open.lanes
                .retain(|name, _| self.policies.get(name).is_some_and(|p| p.wants(severity)));
            for (name, lane) in &mut open.lanes {
                lane.due = None;
                schedule(
                    &mut self.repeats,
                    &self.policies,
                    &open.record.id,
                    name,
                    lane,
                );
            }
        }
        self.each_open_inhibitors_first(|ledger, open, inhibitions| {
            ledger.add_new_lanes(open, inhibitions, now, &mut outcome);
        });
        outcome
    }
}
