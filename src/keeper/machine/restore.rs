//! Keeping the ledger in step with the stored state across a crash. The runner writes the
//! state and the incident changes through separate queues, so a crash can lose either side
//! of a change: an `Open` the state records, or a `Resolve` after the state was cleared.
//! The machine therefore re-tells the ledger on the first wake what the stored state records
//! open, and resolves every device kind once the device is online. Both are safe to repeat:
//! the ledger treats an `Open` of an open key as a silent update and ignores a `Resolve` of a
//! key that is not open. A ladder call the stored state records in flight was interrupted by
//! the stop: the first wake finishes it (rule 8).

use std::time::Duration;

use jiff::Timestamp;

use super::{Action, LadderCall, Level, Machine, log};
use crate::incident::{IncidentKind, Resolution};

/// The incident kinds about one device (the others are provider-wide).
const DEVICE_KINDS: [IncidentKind; 3] = [
    IncidentKind::ManualLoginRequired,
    IncidentKind::RecycleWarning,
    IncidentKind::DeviceRecycled,
];

impl Machine {
    /// The first wake of a machine built from a stored state: an `Open` (not escalated) for
    /// each incident the state records open, reading as it would now.
    pub(super) fn reopen_incidents(&self, now: Timestamp, out: &mut Vec<Action>) {
        for kind in &self.state.open_incidents {
            let open = match kind {
                IncidentKind::ManualLoginRequired => Some(self.manual_incident()),
                IncidentKind::RecycleWarning => self.reopened_warning(now),
                IncidentKind::DeviceRecycled => self
                    .recycle_deadline()
                    .map(|deadline| self.recycled_incident(deadline)),
                IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable => None,
            };
            out.extend(open);
        }
    }

    /// The open `recycle_warning` as it reads now: the time left, and the smallest milestone
    /// warned in this episode (or passed, for a row that lacks them). None without a deadline.
    fn reopened_warning(&self, now: Timestamp) -> Option<Action> {
        let deadline = self.recycle_deadline()?;
        let remaining = if now < deadline {
            deadline.duration_since(now).unsigned_abs()
        } else {
            Duration::ZERO
        };
        let warned = self
            .state
            .episode
            .as_ref()
            .and_then(|e| e.warned_milestones.iter().min().copied())
            .map(Duration::from_secs);
        let passed = || {
            let milestones = self.settings.policy.recycle_warn_before.iter();
            milestones.filter(|m| remaining <= **m).min().copied()
        };
        let milestone = warned.or_else(passed).unwrap_or(remaining);
        Some(self.warning_incident(deadline, remaining, milestone, false))
    }

    /// Rule 8: a ladder call the stored state records in flight was interrupted by a stop.
    /// A reconnect is retried like one never answered; a prompt counts as sent (the probes
    /// or its expiry decide, so none is sent twice); a question is asked again.
    pub(super) fn finish_interrupted(
        &mut self,
        call: LadderCall,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.end_call();
        let why = "a stop interrupted the call";
        let message = match call {
            LadderCall::Reconnect => {
                self.reconnect_abandoned(why, "interrupted", now, out);
                "a stop interrupted the reconnect; it is retried after the next offline answer"
            }
            LadderCall::SecondLogin => {
                "a stop interrupted the second-login call; the prompt counts as sent and the \
                 probes decide whether it was confirmed"
            }
            LadderCall::OfflineReason => {
                self.with_episode(|e| e.reason_asked = false);
                "a stop interrupted the offline-reason question; it is asked again"
            }
            LadderCall::LastLogin => {
                self.with_episode(|e| e.last_login_asked = false);
                "a stop interrupted the last-login question; it is asked again"
            }
        };
        log(out, "recovery.resumed", Level::Info, message.to_owned());
    }

    /// Back online: a `Resolve` for every device kind, recorded open or not.
    pub(super) fn resolve_device_incidents(&self, out: &mut Vec<Action>) {
        out.extend(DEVICE_KINDS.map(|kind| Action::Resolve {
            kind,
            resolution: Resolution::Recovered,
        }));
    }
}
