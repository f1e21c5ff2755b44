//! Keeps calls to the same endpoint for the same device a minimum gap apart, as the wechatpro
//! gateway requires (≥ 1 s; closer calls are refused with `请求过于频繁`).
//!
//! The gap is measured from the END of the previous call to the start of the next, and calls
//! for one (endpoint, device) are serialised: since the gateway saw the previous request no
//! later than its answer arrived here, the gateway always sees them at least the gap apart,
//! whatever the network latency. The map of slots is pruned so it stays bounded by the devices
//! called recently.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, MutexGuard};
use tokio::time::Instant;

/// The map is never pruned below this many entries.
const MIN_PRUNE_AT: usize = 1024;

/// One (endpoint, device) pair's last call end, behind an async lock that serialises calls.
type Slot = Arc<AsyncMutex<Option<Instant>>>;

/// Spaces calls per (endpoint, device key).
pub(crate) struct Spacer {
    gap: Duration,
    slots: Mutex<Slots>,
}

struct Slots {
    map: HashMap<(&'static str, String), Slot>,
    prune_at: usize,
}

/// Holds a slot while its call runs and stamps the end time when dropped, so a call cancelled
/// after it was sent still counts.
struct Stamp<'a>(MutexGuard<'a, Option<Instant>>);

impl Drop for Stamp<'_> {
    fn drop(&mut self) {
        *self.0 = Some(Instant::now());
    }
}

impl Spacer {
    /// A spacer enforcing `gap` between calls with the same key.
    pub(crate) fn new(gap: Duration) -> Spacer {
        Spacer {
            gap,
            slots: Mutex::new(Slots {
                map: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }

    /// Runs `call` once the previous call for (`endpoint`, `device`) ended at least the gap ago.
    pub(crate) async fn run<T>(
        &self,
        endpoint: &'static str,
        device: &str,
        call: impl Future<Output = T>,
    ) -> T {
        let slot = self.slot(endpoint, device);
        let guard = slot.lock().await;
        if let Some(last) = *guard {
            tokio::time::sleep_until(last + self.gap).await;
        }
        let _stamp = Stamp(guard);
        call.await
    }

    /// The slot for one key, created on first use; prunes idle, stale slots when the map has
    /// doubled since the last pruning.
    fn slot(&self, endpoint: &'static str, device: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.map.len() >= slots.prune_at {
            let keep_for = self.gap * 3;
            slots.map.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map_or(true, |last| last.is_some_and(|t| t.elapsed() < keep_for))
            });
            slots.prune_at = (slots.map.len() * 2).max(MIN_PRUNE_AT);
        }
        Arc::clone(slots.map.entry((endpoint, device.to_owned())).or_default())
    }

    /// How many slots are tracked (tests check the bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: Duration = Duration::from_millis(150);

    #[tokio::test]
    async fn same_key_waits_out_the_gap() {
        let spacer = Spacer::new(GAP);
        let first_end = spacer.run("/a", "d1", async { Instant::now() }).await;
        let second_start = spacer.run("/a", "d1", async { Instant::now() }).await;
        assert!(second_start.duration_since(first_end) >= GAP);
    }

    #[tokio::test]
    async fn concurrent_calls_with_one_key_are_serialised_and_spaced() {
        let spacer = Arc::new(Spacer::new(GAP));
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let spacer = Arc::clone(&spacer);
            tasks.push(tokio::spawn(async move {
                spacer.run("/a", "d1", async { Instant::now() }).await
            }));
        }
        let mut starts = Vec::new();
        for task in tasks {
            match task.await {
                Ok(start) => starts.push(start),
                Err(e) => panic!("task failed: {e}"),
            }
        }
        starts.sort();
        assert!(starts[1].duration_since(starts[0]) >= GAP);
        assert!(starts[2].duration_since(starts[1]) >= GAP);
    }

    #[tokio::test]
    async fn other_devices_and_endpoints_do_not_wait() {
        let spacer = Spacer::new(Duration::from_secs(3600));
        spacer.run("/a", "d1", async {}).await;
        // With an hour-long gap, any wait here would run into the generous bound.
        let others = async {
            spacer.run("/a", "d2", async {}).await;
            spacer.run("/b", "d1", async {}).await;
        };
        let done = tokio::time::timeout(Duration::from_secs(60), others).await;
        assert!(done.is_ok(), "a different key waited for another key's gap");
        assert_eq!(spacer.len(), 3);
    }

    #[tokio::test]
    async fn stale_slots_are_pruned() {
        let spacer = Spacer::new(Duration::from_millis(1));
        for i in 0..MIN_PRUNE_AT {
            spacer.run("/a", &format!("d{i}"), async {}).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        spacer.run("/a", "fresh", async {}).await;
        assert_eq!(spacer.len(), 1);
    }
}
