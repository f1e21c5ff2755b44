//! How long a delivery worker waits before trying a failing notifier again: 1 s, 2 s, 4 s, …
//! capped at 5 minutes, each wait moved by up to ±20 % so notifiers that failed together do
//! not retry in step. The delays are pure functions of their inputs; only [`jitter`] draws
//! randomness.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The retry schedule of one notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for Backoff {
    /// The product's schedule: 1 s doubling to 5 min.
    fn default() -> Backoff {
        Backoff {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(5 * 60),
        }
    }
}

impl Backoff {
    /// The nominal wait after `failures` failures in a row (1 = the first).
    pub(crate) fn nominal(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first.saturating_mul(1 << doublings).min(self.cap)
    }

    /// The wait after `failures` failures, moved by `jitter` within ±20 % of the nominal one
    /// (uniform when `jitter` is).
    pub(crate) fn delay(&self, failures: u32, jitter: u64) -> Duration {
        let nominal = self.nominal(failures);
        let fifth = nominal / 5;
        let span = u64::try_from(fifth.as_millis().saturating_mul(2)).unwrap_or(u64::MAX);
        let offset = Duration::from_millis(jitter % span.saturating_add(1));
        nominal.saturating_sub(fifth).saturating_add(offset)
    }
}

/// A random number for [`Backoff::delay`], from the standard library's randomly keyed hasher.
pub(crate) fn jitter() -> u64 {
    RandomState::new().hash_one(0_u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_one_second_to_five_minutes() {
        let backoff = Backoff::default();
        let secs: Vec<u64> = (1..=11).map(|n| backoff.nominal(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff.nominal(0).as_secs(), 1);
        assert_eq!(backoff.nominal(u32::MAX).as_secs(), 300);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(4, 0), Duration::from_millis(6_400));
        assert_eq!(backoff.delay(4, 3_200), Duration::from_millis(9_600));
        assert_eq!(backoff.delay(4, 3_201), Duration::from_millis(6_400));
        for seed in [1, 999, u64::MAX, jitter(), jitter()] {
            let delay = backoff.delay(10, seed);
            let range = Duration::from_secs(240)..=Duration::from_secs(360);
            assert!(range.contains(&delay), "{delay:?}");
        }
    }
}
