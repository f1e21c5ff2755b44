//! How long a delivery worker waits before trying a failing notifier again: 1 s, 2 s, 4 s, …
//! capped at 5 minutes, each wait moved by up to ±20 % so notifiers that failed together do
//! not retry in step. The delays are pure functions of their inputs; the randomness comes from
//! the crate's [`crate::jitter::Jitter`], the same source the keeper's timers use.

use std::time::Duration;

use crate::jitter::spread;

/// How far each wait may move: ±20 %.
const SPREAD: f64 = 0.2;

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

    /// The wait after `failures` failures, moved within ±20 % of the nominal one by `unit`, a
    /// value in `[0, 1)` (uniform when it comes from [`crate::jitter::Jitter::unit`]).
    pub(crate) fn delay(&self, failures: u32, unit: f64) -> Duration {
        spread(self.nominal(failures), SPREAD, unit)
    }
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
        assert_eq!(backoff.delay(4, 0.0), Duration::from_millis(6_400));
        assert_eq!(backoff.delay(4, 0.5), Duration::from_millis(8_000));
        assert!(backoff.delay(4, 0.999_999) < Duration::from_millis(9_600));
        let mut jitter = crate::jitter::Jitter::new();
        for unit in [0.0, 0.25, 0.999_999, jitter.unit(), jitter.unit()] {
            let delay = backoff.delay(10, unit);
            let range = Duration::from_secs(240)..=Duration::from_secs(360);
            assert!(range.contains(&delay), "{delay:?}");
        }
    }
}
