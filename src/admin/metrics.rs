//! The process-wide metrics registry: counters and the probe latency histogram that the
//! keeper's runners, token keepers and notification workers bump as things happen.
//!
//! Process-wide like tracing's dispatcher, so recording is one call at the spot where the
//! thing happens (no handle threaded through every constructor); a process runs one daemon.
//! What is a state rather than an event (devices by state, open incidents, recycle
//! deadlines) is not kept here: the exposition reads it from the store at scrape time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The probe latency histogram's upper bounds, in seconds (vendor timeouts default to 15 s).
pub const PROBE_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0];

/// What a probe answered, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeResult {
    /// The vendor says the account is logged in.
    Online,
    /// The vendor says it is not.
    Offline,
    /// No usable answer (network, credentials, the vendor's own trouble).
    Unknown,
}

impl ProbeResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeResult::Online => "online",
            ProbeResult::Offline => "offline",
            ProbeResult::Unknown => "unknown",
        }
    }
}

/// One latency histogram: cumulative counts per [`PROBE_BUCKETS`] bound, the sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Observations at or below each bound, in [`PROBE_BUCKETS`] order.
    pub buckets: [u64; PROBE_BUCKETS.len()],
    /// Every observation, in seconds.
    pub sum: f64,
    /// How many observations.
    pub count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bucket, bound) in self.buckets.iter_mut().zip(PROBE_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Everything counted so far; [`Registry::snapshot`] copies it for rendering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Probes by (vendor, result); vendor kinds are a fixed set, so recording allocates
    /// nothing on the per-probe path.
    pub probes: BTreeMap<(&'static str, &'static str), u64>,
    /// Probe latency by vendor.
    pub probe_seconds: BTreeMap<&'static str, Histogram>,
    /// Ladder rungs by (step, outcome).
    pub ladder: BTreeMap<(&'static str, &'static str), u64>,
    /// Notification sends by (channel, result).
    pub notifications: BTreeMap<(&'static str, &'static str), u64>,
    /// Token refreshes by (provider, result).
    pub token_refreshes: BTreeMap<(String, &'static str), u64>,
}

/// The registry: counters plus the devices that have had their first probe.
#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    counters: Option<Counters>,
    probed: BTreeSet<String>,
}

static GLOBAL: Registry = Registry::new();

/// The process's registry.
pub fn global() -> &'static Registry {
    &GLOBAL
}

impl Registry {
    /// An empty registry (tests make their own; the daemon uses [`global`]).
    pub const fn new() -> Registry {
        Registry {
            inner: Mutex::new(Inner {
                counters: None,
                probed: BTreeSet::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with(&self, f: impl FnOnce(&mut Counters)) {
        f(self.lock().counters.get_or_insert_with(Counters::default));
    }

    /// A device's probe answered `result` after `took`.
    pub fn probe(&self, vendor: &'static str, result: ProbeResult, took: Duration) {
        self.with(|c| {
            *c.probes.entry((vendor, result.as_str())).or_default() += 1;
            c.probe_seconds
                .entry(vendor)
                .or_default()
                .observe(took.as_secs_f64());
        });
    }

    /// `device` has completed a probe of its own (the first-round readiness counts these);
    /// a runner reports only its first.
    pub fn probed(&self, device: &str) {
        let mut inner = self.lock();
        if !inner.probed.contains(device) {
            inner.probed.insert(device.to_owned());
        }
    }

    /// Whether every one of `devices` has completed a probe.
    pub fn all_probed<'a>(&self, mut devices: impl Iterator<Item = &'a str>) -> bool {
        let inner = self.lock();
        devices.all(|device| inner.probed.contains(device))
    }

    /// A ladder rung (`reconnect`, `second_login`) ended in `outcome`.
    pub fn ladder(&self, step: &'static str, outcome: &'static str) {
        self.with(|c| *c.ladder.entry((step, outcome)).or_default() += 1);
    }

    /// A notification send through a `channel` (its kind) ended in `result` (`sent`, `failed`).
    pub fn notification(&self, channel: &'static str, result: &'static str) {
        self.with(|c| *c.notifications.entry((channel, result)).or_default() += 1);
    }

    /// A token refresh for `provider` ended in `result` (`ok`, `failed`).
    pub fn token_refresh(&self, provider: &str, result: &'static str) {
        self.with(|c| {
            *c.token_refreshes
                .entry((provider.to_owned(), result))
                .or_default() += 1;
        });
    }

    /// A copy of the counters for rendering.
    pub fn snapshot(&self) -> Counters {
        self.lock().counters.clone().unwrap_or_default()
    }
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

/// The ladder outcome a machine log event stands for, if any: `recovery.confirmed` and
/// `recovery.unconfirmed` finish a second login (its prompt went out as `sent` before).
pub fn ladder_outcome(event: &str) -> Option<(&'static str, &'static str)> {
    match event {
        "recovery.confirmed" => Some(("second_login", "confirmed")),
        "recovery.unconfirmed" => Some(("second_login", "unconfirmed")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_count_by_vendor_and_result_and_fill_cumulative_buckets() {
        let registry = Registry::new();
        registry.probe("gewe", ProbeResult::Offline, Duration::from_millis(80));
        registry.probe("gewe", ProbeResult::Offline, Duration::from_secs(3));
        registry.probe("gewe", ProbeResult::Online, Duration::from_millis(20));
        let counters = registry.snapshot();
        assert_eq!(counters.probes[&("gewe", "offline")], 2);
        assert_eq!(counters.probes[&("gewe", "online")], 1);
        let histogram = &counters.probe_seconds["gewe"];
        assert_eq!(histogram.count, 3);
        assert_eq!(histogram.buckets[0], 1, "only 20 ms is at or below 50 ms");
        assert_eq!(histogram.buckets[1], 2, "80 ms joins at 100 ms");
        assert_eq!(histogram.buckets[6], 3, "3 s joins at 5 s");
        assert!((histogram.sum - 3.1).abs() < 1e-9);
    }

    #[test]
    fn first_round_needs_every_device() {
        let registry = Registry::new();
        registry.probed("d1");
        assert!(!registry.all_probed(["d1", "d2"].into_iter()));
        registry.probed("d2");
        registry.probed("d2");
        assert!(registry.all_probed(["d1", "d2"].into_iter()));
        assert!(registry.all_probed(std::iter::empty()));
    }

    #[test]
    fn machine_events_map_to_ladder_outcomes() {
        assert_eq!(
            ladder_outcome("recovery.confirmed"),
            Some(("second_login", "confirmed"))
        );
        assert_eq!(ladder_outcome("device.online"), None);
    }
}
