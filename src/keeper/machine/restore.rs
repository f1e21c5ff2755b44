//! Keeping the ledger in step with the stored state across a crash. The runner writes the
//! state and the incident changes through separate queues, so a crash can lose either side
//! of a change: an `Open` the state records, or a `Resolve` after the state was cleared.
//! The machine therefore re-tells the ledger on the first wake what the stored state records
//! open, and resolves every device kind once the device is online. Both are safe to repeat:
//! the ledger treats an `Open` of an open key as a silent update and ignores a `Resolve` of a
//! key that is not open.

use std::time::Duration;

use jiff::Timestamp;

use super::{Action, Machine};
use crate::incident::IncidentKind;

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

    /// Back online: a `Resolve` for every device kind, recorded open or not.
    pub(super) fn resolve_device_incidents(&self, out: &mut Vec<Action>) {
        out.extend(DEVICE_KINDS.map(|kind| Action::Resolve { kind }));
    }
}
