//! The daemon's liveness and readiness, shared between the keeper (which reports) and what
//! answers for it: the admin server's `/healthz` and `/readyz`.
//!
//! The supervisor loop ticks it, so a wedged supervisor shows up as a stale tick, never as a
//! free-running timer that keeps saying "alive".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use jiff::Timestamp;

/// A cheap-to-clone handle on the daemon's health; every clone sees the same state.
#[derive(Debug, Clone, Default)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Milliseconds since the epoch of the supervisor loop's last tick; 0 = never.
    last_tick_ms: AtomicI64,
    /// The configuration loaded and the state store open (start-up got that far).
    store_open: AtomicBool,
    /// Every device configured at start has been probed at least once.
    first_round_done: AtomicBool,
}

impl Health {
    /// A fresh handle: never ticked, not ready.
    pub fn new() -> Health {
        Health::default()
    }

    /// The supervisor loop is alive at `now`.
    pub fn tick(&self, now: Timestamp) {
        self.inner
            .last_tick_ms
            .store(now.as_millisecond(), Ordering::Release);
    }

    /// When the supervisor loop last ticked, if ever.
    pub fn last_tick(&self) -> Option<Timestamp> {
        match self.inner.last_tick_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Timestamp::from_millisecond(ms).ok(),
        }
    }

    /// The configuration is loaded and the state store is open.
    pub fn mark_store_open(&self) {
        self.inner.store_open.store(true, Ordering::Release);
    }

    /// Every device has had its first probe.
    pub fn mark_first_round_done(&self) {
        self.inner.first_round_done.store(true, Ordering::Release);
    }

    /// Config loaded, store open and the first probe round done: ready to be trusted.
    pub fn is_ready(&self) -> bool {
        self.inner.store_open.load(Ordering::Acquire)
            && self.inner.first_round_done.load(Ordering::Acquire)
    }

    /// Whether the store is open (readiness' first half).
    pub fn store_open(&self) -> bool {
        self.inner.store_open.load(Ordering::Acquire)
    }

    /// Whether the first probe round is done (readiness' second half).
    pub fn first_round_done(&self) -> bool {
        self.inner.first_round_done.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_ticks_and_readiness() {
        let health = Health::new();
        let seen = health.clone();
        assert_eq!(seen.last_tick(), None);
        assert!(!seen.is_ready());
        let at: Timestamp = "2026-11-21T08:00:00.250Z".parse().unwrap();
        health.tick(at);
        health.mark_store_open();
        assert!(!seen.is_ready(), "not ready before the first probe round");
        health.mark_first_round_done();
        assert_eq!(seen.last_tick(), Some(at));
        assert!(seen.is_ready());
    }
}
