//! Whether a provider is reachable, damped: `provider_unreachable` opens only after the
//! provider has been failing for a span, and resolves only after it has been healthy for one,
//! so a storm of intermittent errors is one incident, not a firing/resolved pair per second.
//!
//! Outcomes are counted in one-second buckets. A bucket is *failing* when more of its calls
//! were provider faults than answers, *healthy* when at most a tenth of them were faults, and
//! *mixed* in between. Consecutive buckets of one class make a streak, which runs from the
//! start of its first bucket; seconds without calls neither extend nor break it (they tell
//! nothing). A failing streak at least `open_after` long with at least [`MIN_FAULTS`] faults
//! opens the incident; a healthy streak at least `close_after` long resolves it; a mixed
//! streak does neither, so a provider failing about half its calls stays as it was. Neutral
//! outcomes (our own busy slots, a rate limit) are not counted at all.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// How many faults a failing streak needs before it opens the incident, however long it is.
pub const MIN_FAULTS: u32 = 3;

/// What one second of calls says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Failing,
    Healthy,
    Mixed,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    second: i64,
    faults: u32,
    answers: u32,
}

impl Bucket {
    fn class(&self) -> Class {
        let calls = self.faults + self.answers;
        if self.faults > self.answers {
            Class::Failing
        } else if self.faults.saturating_mul(10) <= calls {
            Class::Healthy
        } else {
            Class::Mixed
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Streak {
    class: Class,
    since: Timestamp,
    faults: u32,
}

/// The change a counted outcome causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flip {
    /// Open `provider_unreachable`.
    Unreachable,
    /// Resolve it.
    Reachable,
}

/// The damped reachability of one provider.
#[derive(Debug, Clone)]
pub(super) struct Reachability {
    open_after: Duration,
    close_after: Duration,
    unreachable: bool,
    /// The current second's calls.
    bucket: Option<Bucket>,
    /// The streak up to the end of the last second before `bucket`.
    before: Option<Streak>,
}

impl Reachability {
    /// A reachable provider (or, with `unreachable`, one whose incident is open) that opens
    /// the incident after failing for `open_after` and resolves it after `close_after` healthy.
    pub(super) fn new(open_after: Duration, close_after: Duration, unreachable: bool) -> Self {
        Reachability {
            open_after,
            close_after,
            unreachable,
            bucket: None,
            before: None,
        }
    }

    /// Adopts new spans (a reload changed the provider's settings or devices).
    pub(super) fn set_spans(&mut self, open_after: Duration, close_after: Duration) {
        self.open_after = open_after;
        self.close_after = close_after;
    }

    /// True while `provider_unreachable` holds.
    pub(super) fn is_unreachable(&self) -> bool {
        self.unreachable
    }

    /// Counts a call at `now` that was a provider fault (`fault`) or an answer.
    pub(super) fn count(&mut self, fault: bool, now: Timestamp) -> Option<Flip> {
        let second = now.as_second();
        match self.bucket.as_mut() {
            Some(bucket) if bucket.second == second => {}
            Some(_) => {
                self.before = self.streak();
                self.bucket = Some(Bucket {
                    second,
                    faults: 0,
                    answers: 0,
                });
            }
            None => {
                self.bucket = Some(Bucket {
                    second,
                    faults: 0,
                    answers: 0,
                })
            }
        }
        if let Some(bucket) = self.bucket.as_mut() {
            if fault {
                bucket.faults = bucket.faults.saturating_add(1);
            } else {
                bucket.answers = bucket.answers.saturating_add(1);
            }
        }
        self.judge(now)
    }

    fn judge(&mut self, now: Timestamp) -> Option<Flip> {
        let streak = self.streak()?;
        let lasted = now.duration_since(streak.since);
        let at_least = |span: Duration| {
            lasted >= SignedDuration::try_from(span).unwrap_or(SignedDuration::MAX)
        };
        match streak.class {
            Class::Failing
                if !self.unreachable
                    && streak.faults >= MIN_FAULTS
                    && at_least(self.open_after) =>
            {
                self.unreachable = true;
                Some(Flip::Unreachable)
            }
            Class::Healthy if self.unreachable && at_least(self.close_after) => {
                self.unreachable = false;
                Some(Flip::Reachable)
            }
            _ => None,
        }
    }

    /// The streak the current bucket is part of.
    fn streak(&self) -> Option<Streak> {
        let bucket = self.bucket?;
        let class = bucket.class();
        Some(match self.before {
            Some(before) if before.class == class => Streak {
                faults: before.faults.saturating_add(bucket.faults),
                ..before
            },
            _ => Streak {
                class,
                since: Timestamp::from_second(bucket.second).unwrap_or(Timestamp::MIN),
                faults: bucket.faults,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn at_ms(ms: i64) -> Timestamp {
        t0() + SignedDuration::from_millis(ms)
    }

    /// The flips of a storm: `devices` calls per second for `seconds`, each a fault when
    /// `fault(call number)` says so.
    fn storm(
        reach: &mut Reachability,
        devices: i64,
        from_s: i64,
        seconds: i64,
        fault: impl Fn(i64) -> bool,
    ) -> Vec<Flip> {
        let mut flips = Vec::new();
        for s in from_s..from_s + seconds {
            for d in 0..devices {
                let n = s * devices + d;
                let now = at_ms(s * 1000 + d * 1000 / devices);
                flips.extend(reach.count(fault(n), now));
            }
        }
        flips
    }

    #[test]
    fn a_storm_of_80_percent_502_for_30_s_is_one_incident_not_a_flap() {
        // The fault trial: 40 devices at a 1 s poll, 80 % of calls answered 502 for 30 s.
        let mut reach = Reachability::new(Duration::from_secs(2), Duration::from_secs(1), false);
        assert!(storm(&mut reach, 40, 0, 10, |_| false).is_empty());
        // A pseudo-random 80 %: never the same pattern per second.
        let eighty = |n: i64| (n.wrapping_mul(2_654_435_761) >> 7).rem_euclid(10) < 8;
        let during = storm(&mut reach, 40, 10, 30, eighty);
        assert_eq!(during, vec![Flip::Unreachable], "opened once, stays open");
        let after = storm(&mut reach, 40, 40, 10, |_| false);
        assert_eq!(after, vec![Flip::Reachable], "resolved once");
    }

    #[test]
    fn about_half_the_calls_failing_changes_nothing_either_way() {
        let half = |n: i64| n % 2 == 0;
        let mut up = Reachability::new(Duration::from_secs(2), Duration::from_secs(1), false);
        assert!(storm(&mut up, 40, 0, 30, half).is_empty());
        assert!(!up.is_unreachable());
        let mut down = Reachability::new(Duration::from_secs(2), Duration::from_secs(1), true);
        assert!(storm(&mut down, 40, 0, 30, half).is_empty());
        assert!(down.is_unreachable());
    }

    #[test]
    fn one_device_opens_after_its_third_failing_probe_two_polls_apart() {
        let poll = 10_000;
        let mut reach = Reachability::new(Duration::from_secs(20), Duration::from_secs(10), false);
        assert_eq!(reach.count(true, at_ms(0)), None);
        assert_eq!(reach.count(true, at_ms(poll + 100)), None);
        assert_eq!(
            reach.count(true, at_ms(2 * poll + 200)),
            Some(Flip::Unreachable)
        );
        assert_eq!(reach.count(true, at_ms(3 * poll)), None, "already open");
        // The first answer does not resolve it; a poll of answers does.
        assert_eq!(reach.count(false, at_ms(4 * poll)), None);
        assert_eq!(reach.count(false, at_ms(5 * poll)), Some(Flip::Reachable));
    }

    #[test]
    fn a_short_burst_of_faults_does_not_open_it() {
        let mut reach = Reachability::new(Duration::from_secs(20), Duration::from_secs(10), false);
        for ms in (0..5_000).step_by(100) {
            assert_eq!(reach.count(true, at_ms(ms)), None);
        }
        assert_eq!(reach.count(false, at_ms(6_000)), None);
        assert_eq!(
            reach.count(true, at_ms(25_000)),
            None,
            "the streak started again"
        );
        assert!(!reach.is_unreachable());
    }

    #[test]
    fn faults_alone_never_open_it_without_enough_of_them() {
        let mut reach = Reachability::new(Duration::ZERO, Duration::ZERO, false);
        assert_eq!(reach.count(true, at_ms(0)), None);
        assert_eq!(reach.count(true, at_ms(10)), None);
        assert_eq!(reach.count(true, at_ms(20)), Some(Flip::Unreachable));
    }
}
