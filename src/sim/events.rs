//! The scenario's timed events: one background task for all of them, not one per device.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::scenario::{Event, EventChange};

/// Fires `events` (sorted by time) relative to now, until done or `cancel` fires.
pub(crate) async fn run(sim: Arc<Shared>, events: Vec<Event>, cancel: CancellationToken) {
    let start = Instant::now();
    for event in events {
        // A time too far out to represent never comes; neither do the later ones.
        let Some(at) = start.checked_add(event.at) else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(at) => apply(&sim, event),
            () = cancel.cancelled() => return,
        }
    }
}

fn apply(sim: &Shared, event: Event) {
    let (vendor, id) = (event.vendor, event.id.as_str());
    let (what, applied) = match event.change {
        EventChange::Patch(patch) => ("patch", sim.patch(vendor, id, patch).is_some()),
        EventChange::Login => (
            "login",
            sim.person_login(vendor, id, Timestamp::now()).is_some(),
        ),
    };
    if applied {
        tracing::info!(event = "sim.event", %vendor, device = id, what, "scenario event applied");
    } else {
        tracing::warn!(event = "sim.event", %vendor, device = id, what, "scenario event for a device that does not exist");
    }
}
