//! The recovery policy: defaults, the `[policy]` layer, and per-device overrides.
//!
//! Each layer is parsed into a patch (only the keys it sets), checked key by key where it is
//! written, then applied over the layer below. Rules that tie two keys together are checked on
//! the merged result and reported at the key the layer itself set, so an inherited conflict is
//! reported once, where it was written.

use std::time::Duration;

use super::locate::KeyPath;
use super::raw::RawPolicy;
use super::report::Problems;
use super::values::{MAX_DURATION, in_range, opt_duration};
use super::window::Window;

/// How the keeper watches and recovers one device. Every device gets a complete copy: the
/// `[policy]` defaults with that device's overrides applied, so the runtime never merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Time between status probes.
    pub poll_interval: Duration,
    /// Consecutive offline answers before recovery starts (>= 1).
    pub offline_after: u32,
    /// Consecutive online answers before an incident resolves (>= 1).
    pub online_after: u32,
    /// How long a second-login prompt stays valid on the phone (> 0).
    pub confirm_window: Duration,
    /// Probe cadence while a prompt awaits confirmation (> 0, <= `confirm_window`).
    pub recheck_interval: Duration,
    /// Reconnect attempts per incident (0 = never reconnect).
    pub reconnect_attempts: u32,
    /// Second-login prompts per incident (0 = never prompt).
    pub second_login_attempts: u32,
    /// Unconfirmed prompts in a row, across incidents, before going straight to manual login.
    pub max_unconfirmed_second_logins: u32,
    /// When a person can confirm a prompt; outside it no prompt is sent.
    pub second_login_hours: Window,
    /// How long a device may stay logged out before the vendor recycles it.
    pub recycle_after: Duration,
    /// Warnings before the recycle deadline: sorted descending, no duplicates, each > 0 and
    /// < `recycle_after`.
    pub recycle_warn_before: Vec<Duration>,
}

const DAY: u64 = 86_400;

impl Default for Policy {
    /// The defaults of DESIGN.md §4.
    fn default() -> Policy {
        Policy {
            poll_interval: Duration::from_secs(60),
            offline_after: 2,
            online_after: 1,
            confirm_window: Duration::from_secs(180),
            recheck_interval: Duration::from_secs(5),
            reconnect_attempts: 1,
            second_login_attempts: 1,
            max_unconfirmed_second_logins: 2,
            second_login_hours: Window::from_minutes(8 * 60, 22 * 60 + 30),
            recycle_after: Duration::from_secs(20 * DAY),
            recycle_warn_before: vec![
                Duration::from_secs(3 * DAY),
                Duration::from_secs(DAY),
                Duration::from_secs(6 * 3_600),
            ],
        }
    }
}

/// The keys one layer sets, already parsed; `None` = inherited.
#[derive(Debug, Default)]
pub(crate) struct PolicyPatch {
    poll_interval: Option<Duration>,
    offline_after: Option<u32>,
    online_after: Option<u32>,
    confirm_window: Option<Duration>,
    recheck_interval: Option<Duration>,
    reconnect_attempts: Option<u32>,
    second_login_attempts: Option<u32>,
    max_unconfirmed_second_logins: Option<u32>,
    second_login_hours: Option<Window>,
    recycle_after: Option<Duration>,
    recycle_warn_before: Option<Vec<Duration>>,
}

/// The shortest probe cadences (`poll_interval`, `recheck_interval`): tests use sub-second
/// timings, anything shorter would hammer the gateway.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The shortest `confirm_window`: a person needs at least a moment to tap confirm.
const MIN_CONFIRM_WINDOW: Duration = Duration::from_secs(1);

/// Parses and checks the policy keys of one layer (`[policy]` or one `[[device]]` at `at`).
pub(crate) fn patch(raw: &RawPolicy, at: &KeyPath, problems: &mut Problems) -> PolicyPatch {
    let at_least_one = |value: Option<u32>, key: &str, problems: &mut Problems| {
        value.filter(|n| {
            let ok = *n >= 1;
            if !ok {
                problems.at(&at.key(key), format!("`{key}` must be at least 1"));
            }
            ok
        })
    };
    let dur = |value: &Option<String>, key: &str, min: Duration, problems: &mut Problems| {
        positive_duration(value.as_deref(), &at.key(key), key, min, problems)
    };
    PolicyPatch {
        poll_interval: dur(&raw.poll_interval, "poll_interval", MIN_INTERVAL, problems),
        offline_after: at_least_one(raw.offline_after, "offline_after", problems),
        online_after: at_least_one(raw.online_after, "online_after", problems),
        confirm_window: dur(
            &raw.confirm_window,
            "confirm_window",
            MIN_CONFIRM_WINDOW,
            problems,
        ),
        recheck_interval: dur(
            &raw.recheck_interval,
            "recheck_interval",
            MIN_INTERVAL,
            problems,
        ),
        reconnect_attempts: raw.reconnect_attempts,
        second_login_attempts: raw.second_login_attempts,
        max_unconfirmed_second_logins: at_least_one(
            raw.max_unconfirmed_second_logins,
            "max_unconfirmed_second_logins",
            problems,
        ),
        second_login_hours: raw.second_login_hours.as_deref().and_then(|s| {
            let at = at.key("second_login_hours");
            Window::parse(s).map_err(|e| problems.at(&at, e)).ok()
        }),
        recycle_after: dur(
            &raw.recycle_after,
            "recycle_after",
            Duration::ZERO,
            problems,
        ),
        recycle_warn_before: warn_list(raw.recycle_warn_before.as_deref(), at, problems),
    }
}

/// An optional duration key that must be greater than 0 and at least `min`.
fn positive_duration(
    value: Option<&str>,
    at: &KeyPath,
    key: &str,
    min: Duration,
    problems: &mut Problems,
) -> Option<Duration> {
    let parsed = opt_duration(value, at, problems)?;
    if parsed.is_zero() {
        problems.at(at, format!("`{key}` must be greater than 0"));
        return None;
    }
    in_range(parsed, key, min, MAX_DURATION)
        .map_err(|e| problems.at(at, e))
        .ok()
}

/// Parses `recycle_warn_before`: each a positive duration; sorted descending, deduplicated.
fn warn_list(
    raw: Option<&[String]>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Vec<Duration>> {
    let at = at.key("recycle_warn_before");
    let mut list = Vec::new();
    let mut ok = true;
    for (i, item) in raw?.iter().enumerate() {
        match opt_duration(Some(item), &at.index(i), problems) {
            Some(d) if d.is_zero() => {
                problems.at(&at.index(i), "each warning must be greater than 0");
                ok = false;
            }
            Some(d) => list.push(d),
            None => ok = false,
        }
    }
    list.sort_by(|a, b| b.cmp(a));
    list.dedup();
    ok.then_some(list)
}

impl Policy {
    /// `self` with the keys `patch` sets replaced.
    pub(crate) fn apply(&self, patch: &PolicyPatch) -> Policy {
        let base = self.clone();
        Policy {
            poll_interval: patch.poll_interval.unwrap_or(base.poll_interval),
            offline_after: patch.offline_after.unwrap_or(base.offline_after),
            online_after: patch.online_after.unwrap_or(base.online_after),
            confirm_window: patch.confirm_window.unwrap_or(base.confirm_window),
            recheck_interval: patch.recheck_interval.unwrap_or(base.recheck_interval),
            reconnect_attempts: patch.reconnect_attempts.unwrap_or(base.reconnect_attempts),
            second_login_attempts: patch
                .second_login_attempts
                .unwrap_or(base.second_login_attempts),
            max_unconfirmed_second_logins: patch
                .max_unconfirmed_second_logins
                .unwrap_or(base.max_unconfirmed_second_logins),
            second_login_hours: patch.second_login_hours.unwrap_or(base.second_login_hours),
            recycle_after: patch.recycle_after.unwrap_or(base.recycle_after),
            recycle_warn_before: patch
                .recycle_warn_before
                .clone()
                .unwrap_or(base.recycle_warn_before),
        }
    }

    /// Checks the rules between keys on the merged policy, reporting at the key `patch` set
    /// (a conflict entirely inherited from a lower layer was reported there).
    pub(crate) fn check_merged(&self, patch: &PolicyPatch, at: &KeyPath, problems: &mut Problems) {
        if self.recheck_interval > self.confirm_window {
            let key = if patch.recheck_interval.is_some() {
                Some("recheck_interval")
            } else {
                patch.confirm_window.map(|_| "confirm_window")
            };
            if let Some(key) = key {
                problems.at(
                    &at.key(key),
                    format!(
                        "recheck_interval ({}) must not exceed confirm_window ({})",
                        humantime::format_duration(self.recheck_interval),
                        humantime::format_duration(self.confirm_window)
                    ),
                );
            }
        }
        let too_late = self
            .recycle_warn_before
            .iter()
            .find(|d| **d >= self.recycle_after);
        if let Some(warning) = too_late {
            let key = if patch.recycle_warn_before.is_some() {
                Some("recycle_warn_before")
            } else {
                patch.recycle_after.map(|_| "recycle_after")
            };
            if let Some(key) = key {
                problems.at(
                    &at.key(key),
                    format!(
                        "recycle_warn_before ({}) must be less than recycle_after ({})",
                        humantime::format_duration(*warning),
                        humantime::format_duration(self.recycle_after)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
