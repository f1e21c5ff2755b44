//! The fleet board: every running device's state word (DESIGN.md §7), written by its runner
//! whenever it persists a transition and read by the supervisor loop for the one-line
//! summary (`STATUS=` under systemd, the shared health handle). Reading it never touches the
//! store, so the loop's tick stays cheap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::service::fleet_summary;

/// A cheap-to-clone handle on the board; every clone sees the same states.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fleet {
    states: Arc<Mutex<HashMap<String, &'static str>>>,
}

impl Fleet {
    /// Records `device`'s current state word.
    pub(crate) fn set(&self, device: &str, state: &'static str) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match states.get_mut(device) {
            Some(word) => *word = state,
            None => {
                states.insert(device.to_owned(), state);
            }
        }
    }

    /// The summary line over the `running` devices (a device not yet on the board counts
    /// as `unknown`; devices stopped by a reload are not listed by the caller).
    pub(crate) fn summary<'a>(&self, running: impl IntoIterator<Item = &'a String>) -> String {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        fleet_summary(
            running
                .into_iter()
                .map(|name| states.get(name).copied().unwrap_or("unknown")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_covers_running_devices_with_their_latest_state() {
        let fleet = Fleet::default();
        let writer = fleet.clone();
        writer.set("d1", "suspect");
        writer.set("d1", "online");
        writer.set("d2", "login_required");
        writer.set("gone", "offline");
        let running = ["d1", "d2", "d3"].map(str::to_owned);
        assert_eq!(
            fleet.summary(&running),
            "1 online, 1 needs login, 1 unknown"
        );
    }
}
