//! A small random source for timer jitter: spreading first wakes, delaying each wake a little,
//! and randomising backoffs (the keeper's provider gates and token refresh, the notifiers'
//! retries), so a fleet never acts in lockstep.
//!
//! Jitter needs no cryptographic quality, so this is SplitMix64 seeded from the standard
//! library's per-process random hasher keys: no extra dependency, no shared lock, one per task.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A per-task pseudo-random source for jitter.
#[derive(Debug, Clone)]
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    /// A source seeded from the OS-provided randomness behind `RandomState`.
    pub(crate) fn new() -> Jitter {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        Jitter {
            state: hasher.finish(),
        }
    }

    /// A source with a fixed seed, for tests.
    #[cfg(test)]
    pub(crate) fn seeded(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    /// The next value, uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits make an exactly representable fraction in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A duration uniform in `[0, max)`.
    pub(crate) fn up_to(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.unit())
    }
}

/// `base` scaled by a factor uniform in `[1 - spread, 1 + spread)`; `unit` is a value in
/// `[0, 1)` (from [`Jitter::unit`], or fixed in tests).
pub(crate) fn spread(base: Duration, spread: f64, unit: f64) -> Duration {
    let factor = 1.0 - spread + 2.0 * spread * unit.clamp(0.0, 1.0);
    base.mul_f64(factor.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_values_stay_in_range_and_vary() {
        let mut jitter = Jitter::seeded(7);
        let values: Vec<f64> = (0..1000).map(|_| jitter.unit()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
        assert!(values.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn spread_scales_within_the_band() {
        let base = Duration::from_secs(100);
        assert_eq!(spread(base, 0.2, 0.0), Duration::from_secs(80));
        assert_eq!(spread(base, 0.2, 0.5), Duration::from_secs(100));
        assert!(spread(base, 0.2, 0.999_999) < Duration::from_secs(120));
        let mut jitter = Jitter::seeded(1);
        assert!(jitter.up_to(base) < base);
    }
}
