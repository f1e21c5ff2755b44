//! The recycle deadline: `last_online_at + recycle_after`. While an episode runs, one
//! `recycle_warning` per `recycle_warn_before` milestone (several passed at once → one message
//! naming the smallest), then `device_recycled` at the deadline, which supersedes the warning.

use std::time::Duration;

use jiff::Timestamp;

use super::{Action, Level, Machine, Phase, human, log};
use crate::incident::{IncidentKind, Resolution};

impl Machine {
    /// Rule 4, on every probe answer and sweep. Silent without an episode (the device is not
    /// confirmed offline) or without a known `last_online_at`.
    pub(super) fn check_deadline(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if !self.state.phase.in_episode() {
            return;
        }
        let Some(deadline) = self.recycle_deadline() else {
            return;
        };
        if now >= deadline {
            self.mark_recycled(deadline, now, out);
            return;
        }
        let remaining = deadline.duration_since(now).unsigned_abs();
        let Some(episode) = self.state.episode.as_mut() else {
            return;
        };
        let passed: Vec<u64> = self
            .settings
            .policy
            .recycle_warn_before
            .iter()
            .map(Duration::as_secs)
            .filter(|m| remaining <= Duration::from_secs(*m))
            .filter(|m| !episode.warned_milestones.contains(m))
            .collect();
        let Some(&smallest) = passed.iter().min() else {
            return;
        };
        episode.warned_milestones.extend(passed);
        self.warn(deadline, remaining, Duration::from_secs(smallest), out);
    }

    fn warn(
        &mut self,
        deadline: Timestamp,
        remaining: Duration,
        milestone: Duration,
        out: &mut Vec<Action>,
    ) {
        let escalate = !self
            .state
            .open_incidents
            .insert(IncidentKind::RecycleWarning);
        let open = self.warning_incident(deadline, remaining, milestone, escalate);
        if let Action::Open { summary, .. } = &open {
            log(out, "recycle.warning", Level::Warn, summary.clone());
        }
        out.push(open);
    }

    /// The `Open` of `recycle_warning`, `remaining` before `deadline`, for `milestone`.
    pub(super) fn warning_incident(
        &self,
        deadline: Timestamp,
        remaining: Duration,
        milestone: Duration,
        escalate: bool,
    ) -> Action {
        let left = human(round_up(remaining));
        let summary = format!(
            "{} will be recycled by the gateway in {left} (at {}) unless it logs in",
            self.settings.name,
            self.local(deadline)
        );
        let detail = serde_json::json!({
            "deadline": rfc3339(deadline),
            "remaining": left,
            "milestone": human(milestone),
        });
        Action::Open {
            kind: IncidentKind::RecycleWarning,
            summary,
            detail,
            escalate,
        }
    }

    fn mark_recycled(&mut self, deadline: Timestamp, now: Timestamp, out: &mut Vec<Action>) {
        let open = &mut self.state.open_incidents;
        if self.state.phase == Phase::Recycled && open.contains(&IncidentKind::DeviceRecycled) {
            return;
        }
        open.insert(IncidentKind::DeviceRecycled);
        let superseded = open.remove(&IncidentKind::RecycleWarning);
        self.set_phase(Phase::Recycled, now);
        let open = self.recycled_incident(deadline);
        if let Action::Open { summary, .. } = &open {
            log(out, "recycle.recycled", Level::Error, summary.clone());
        }
        out.push(open);
        if superseded {
            out.push(Action::Resolve {
                kind: IncidentKind::RecycleWarning,
                resolution: Resolution::Superseded,
            });
        }
    }

    /// The `Open` of `device_recycled` at `deadline`.
    pub(super) fn recycled_incident(&self, deadline: Timestamp) -> Action {
        let summary = format!(
            "{} was recycled by the gateway at {}: not logged in for {}; reset it and log in \
             with a QR code",
            self.settings.name,
            self.local(deadline),
            human(self.settings.policy.recycle_after)
        );
        let detail = serde_json::json!({ "deadline": rfc3339(deadline), "remaining": "0s" });
        Action::Open {
            kind: IncidentKind::DeviceRecycled,
            summary,
            detail,
            escalate: false,
        }
    }

    /// `t` in the configured zone, for people: `2026-12-01 16:00 CST`.
    fn local(&self, t: Timestamp) -> String {
        t.to_zoned(self.settings.timezone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
}

/// RFC 3339 UTC to the second, as in the payload contract.
fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Rounds up to the minute from an hour on (`2d 23h 59m 30s` left reads `3d`), to the
/// second below an hour (demo timings are seconds).
fn round_up(d: Duration) -> Duration {
    let step = if d >= Duration::from_secs(3_600) {
        60
    } else {
        1
    };
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.div_ceil(step) * step)
}
