//! Notifications end to end: the real daemon against the simulator, delivering to fake chat
//! bots and a fake webhook on 127.0.0.1:0. Each channel's exact request (body, headers,
//! signature recomputed here), retries on error replies, grouping of a provider-wide outage,
//! quiet hours and the severity floor, and a restart in the middle of an outage.
//!
//! Rate-limit digests are per minute, too slow for a real-time test: they are pinned by the
//! worker's paused-time tests (`src/notify/worker/tests/paced.rs`) and the pure pacing rules.

mod bot;
mod channels;
mod grouping;
mod policy;
mod restart;

use std::path::Path;

use crate::keeper::harness::config_full;
use crate::keeper::receiver::Receiver;
use crate::support::TestSim;

/// A gewe device `name` (simulator id `wx_<name>`), and its simulator twin: offline, and
/// a reconnect fails, so the ladder ends in `manual_login_required` (no `region_id`: no
/// second login).
pub fn lost_device(name: &str) -> (String, String) {
    let keeper =
        format!("[[device]]\nname = \"{name}\"\nprovider = \"gewe\"\nid = \"wx_{name}\"\n");
    let sim = format!(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_{name}\"\nonline = false\nreconnect = \"fail\"\n"
    );
    (keeper, sim)
}

/// A configuration: state under `dir`, JSON logs, UTC, the fast policy, the simulator's four
/// providers, a webhook notifier `hook` posting to `hook`, then `notifiers` and `devices`
/// (TOML tables).
pub fn config(
    dir: &Path,
    sim: &TestSim,
    hook: &Receiver,
    notifiers: &str,
    devices: &str,
) -> String {
    config_full(dir, sim, hook, "", notifiers, devices)
}
