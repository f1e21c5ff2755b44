//! The `/healthz` and `/readyz` rules, as pure functions of the [`Health`] handle and now.

use std::time::Duration;

use jiff::Timestamp;

use crate::health::Health;

/// The least staleness of the supervisor loop's last tick that makes `/healthz` say 503:
/// six of its default 5 s ticks, so a slow turn or two is not a failure.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// How stale the last tick may be for a loop ticking every `tick`: [`STALE_AFTER`], or three
/// ticks when the watchdog makes them slower than that.
pub fn stale_after(tick: Duration) -> Duration {
    STALE_AFTER.max(tick.saturating_mul(3))
}

/// Liveness: `Ok` while the supervisor loop ticked within `stale_after`; before the first
/// tick the daemon is still starting and is not yet live (503), so an orchestrator's start
/// period, not this rule, covers start-up.
pub fn live(health: &Health, now: Timestamp, stale_after: Duration) -> Result<(), String> {
    let Some(last) = health.last_tick() else {
        return Err("the supervisor loop has not ticked yet".to_owned());
    };
    let age = now.duration_since(last);
    if age.as_secs_f64() <= stale_after.as_secs_f64() {
        Ok(())
    } else {
        Err(format!(
            "the supervisor loop last ticked {}s ago",
            age.as_secs()
        ))
    }
}

/// Readiness: `Ok` once the store is open and every device has had its first probe; else
/// what is missing.
pub fn ready(health: &Health) -> Result<(), String> {
    let mut missing = Vec::new();
    if !health.store_open() {
        missing.push("state store not open");
    }
    if !health.first_round_done() {
        missing.push("first probe round not done");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("not ready: {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn live_while_the_tick_is_recent() {
        let health = Health::new();
        assert!(live(&health, at("2026-11-21T08:00:00Z"), STALE_AFTER).is_err());
        health.tick(at("2026-11-21T08:00:00Z"));
        assert_eq!(
            live(&health, at("2026-11-21T08:00:30Z"), STALE_AFTER),
            Ok(())
        );
        let stale = live(&health, at("2026-11-21T08:00:31Z"), STALE_AFTER).unwrap_err();
        assert!(stale.contains("31s"), "{stale}");
    }

    #[test]
    fn slow_watchdog_ticks_stretch_the_limit() {
        assert_eq!(stale_after(Duration::from_secs(5)), STALE_AFTER);
        assert_eq!(
            stale_after(Duration::from_secs(60)),
            Duration::from_secs(180)
        );
    }

    #[test]
    fn ready_names_what_is_missing() {
        let health = Health::new();
        assert_eq!(
            ready(&health),
            Err("not ready: state store not open, first probe round not done".to_owned())
        );
        health.mark_store_open();
        assert_eq!(
            ready(&health),
            Err("not ready: first probe round not done".to_owned())
        );
        health.mark_first_round_done();
        assert_eq!(ready(&health), Ok(()));
    }
}
