//! How long the shrise client leaves the refresh endpoint alone after a refresh failed.
//!
//! A refresh token the platform refused stays refused: retrying it on every probe would only
//! hammer the platform (and may look like an attack). After the n-th refusal in a row the
//! client waits 30 s doubled n−1 times, capped at 30 min; any other failure (transport,
//! timeout, "busy") says nothing about the token and waits only briefly. Every wait is shortened
//! by a random fraction of up to a quarter, so clients sharing a platform do not retry in step.
//! The delays are pure functions of their inputs; only [`jitter`] draws randomness.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The wait after the first refusal.
const FIRST_REFUSAL: Duration = Duration::from_secs(30);
/// The longest wait after refusals.
const MAX_REFUSAL: Duration = Duration::from_secs(30 * 60);
/// The wait after a failure that is not a refusal.
const OTHER_FAILURE: Duration = Duration::from_secs(5);

/// The nominal wait after `refusals` refusals in a row (1 = the first): 30 s, 60 s, 120 s, …
/// capped at 30 min.
pub(super) fn after_refusals(refusals: u32) -> Duration {
    let doublings = refusals.saturating_sub(1).min(16);
    FIRST_REFUSAL
        .saturating_mul(1 << doublings)
        .min(MAX_REFUSAL)
}

/// The nominal wait after a failure that is not a refusal.
pub(super) fn after_other_failure() -> Duration {
    OTHER_FAILURE
}

/// `nominal` shortened by `jitter` modulo a quarter of it: uniform in [¾·nominal, nominal]
/// when `jitter` is uniform.
pub(super) fn jittered(nominal: Duration, jitter: u64) -> Duration {
    let quarter = u64::try_from(nominal.as_millis() / 4).unwrap_or(u64::MAX);
    let cut = jitter % quarter.saturating_add(1);
    nominal.saturating_sub(Duration::from_millis(cut))
}

/// A random number for [`jittered`], from the standard library's randomly keyed hasher (no
/// random-number crate needed for this).
pub(super) fn jitter() -> u64 {
    RandomState::new().hash_one(0_u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_double_from_30_seconds_to_30_minutes() {
        let secs: Vec<u64> = (1..=8).map(|n| after_refusals(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(after_refusals(0).as_secs(), 30);
        assert_eq!(after_refusals(u32::MAX).as_secs(), 1800);
    }

    #[test]
    fn jitter_shortens_by_at_most_a_quarter() {
        let nominal = Duration::from_secs(60);
        assert_eq!(jittered(nominal, 0), nominal);
        assert_eq!(jittered(nominal, 15_000), Duration::from_secs(45));
        assert_eq!(jittered(nominal, 15_001), nominal);
        for seed in [1, 7_777, u64::MAX, jitter(), jitter()] {
            let delay = jittered(nominal, seed);
            assert!(
                (Duration::from_secs(45)..=nominal).contains(&delay),
                "{delay:?}"
            );
        }
        assert_eq!(jittered(Duration::ZERO, 12), Duration::ZERO);
    }
}
