//! The container contract without a Docker engine: the daemon runs as PID 1 of its own PID
//! namespace (signals are delivered to it only because it installs handlers; the exit code is
//! the container's), and it runs with a read-only root where only the state directory is
//! writable, writing nothing anywhere else. `container/ns.rs` wraps `unshare`.

mod ns;

use std::collections::BTreeSet;
use std::path::Path;

use tempfile::tempdir;

use crate::keeper::harness::{config, is, status_json, write_config};
use crate::keeper::receiver::Receiver;
use crate::support::{TestSim, start_sim};
use ns::{BIN, Contained, unshare, unshare_available};

const SCENARIO: &str = "[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n";
const DEVICES: &str = "[[device]]\nname = \"d1\"\nprovider = \"gewe\"\nid = \"wx_1\"\n";

/// The simulator with one online gewe device, a webhook receiver, and a config for both.
async fn fleet(dir: &Path) -> (TestSim, Receiver, String) {
    let sim = start_sim(SCENARIO).await;
    let hook = Receiver::start().await;
    let text = config(dir, &sim, &hook, DEVICES);
    (sim, hook, text)
}

/// Starts the daemon as PID 1, waits until d1 is online, sends `signal` to PID 1, and checks
/// the clean stop: exit 0 after `daemon.stopping` and `daemon.stopped`.
async fn stops_on(signal: &str) {
    let dir = tempdir().unwrap();
    let (_sim, _hook, text) = fleet(dir.path()).await;
    let path = write_config(dir.path(), &text);
    let mut cmd = unshare();
    cmd.arg(BIN).arg("run").arg("-c").arg(&path);
    let mut daemon = Contained::start(cmd);
    daemon
        .wait_event("daemon.ready", |e| e["event"] == "daemon.ready")
        .await;
    daemon
        .wait_event("d1 online", |e| is(e, "device.online", "d1"))
        .await;
    daemon.signal_init(signal);
    let status = daemon.wait_exit().await;
    assert_eq!(status.code(), Some(0), "SIG{signal}: {}", daemon.log());
    let names: Vec<String> = daemon
        .events()
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .filter(|n| n.starts_with("daemon.stop"))
        .collect();
    assert_eq!(
        names,
        ["daemon.stopping", "daemon.stopped"],
        "{}",
        daemon.log()
    );
}

#[tokio::test]
async fn as_pid_1_sigterm_stops_cleanly_and_exits_zero() {
    if unshare_available() {
        stops_on("TERM").await;
    }
}

#[tokio::test]
async fn as_pid_1_sigint_stops_cleanly_and_exits_zero() {
    if unshare_available() {
        stops_on("INT").await;
    }
}

#[tokio::test]
async fn as_pid_1_a_config_error_exits_78() {
    if !unshare_available() {
        return;
    }
    let dir = tempdir().unwrap();
    let path = write_config(dir.path(), "[daemon]\nno_such_key = 1\n");
    let mut cmd = unshare();
    cmd.arg(BIN).arg("run").arg("-c").arg(&path);
    let mut daemon = Contained::start(cmd);
    let status = daemon.wait_exit().await;
    assert_eq!(status.code(), Some(78), "{}", daemon.log());
    let log = daemon.log();
    assert!(log.contains("no_such_key"), "names the bad key: {log}");
    assert!(log.contains("configuration invalid"), "{log}");
}

/// Bind-mounts the state and scratch directories onto themselves (their own, writable
/// mounts), remounts `/` read-only, proves a write to `$3` fails, then execs the daemon as
/// PID 1: `sh -c RO_ROOT sh STATE SCRATCH PROBE BIN CONFIG`.
const RO_ROOT: &str = r#"set -eu
mount --bind "$1" "$1"
mount --bind "$2" "$2"
mount -o remount,bind,ro /
if (: > "$3") 2>/dev/null; then echo "the root is still writable" >&2; exit 97; fi
exec "$4" run -c "$5"
"#;

/// The names directly in `dir`.
fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn with_a_read_only_root_it_runs_and_writes_only_its_state_dir() {
    if !unshare_available() {
        return;
    }
    let dir = tempdir().unwrap();
    let (state, scratch) = (dir.path().join("state"), dir.path().join("scratch"));
    std::fs::create_dir(&state).unwrap();
    std::fs::create_dir(&scratch).unwrap();
    let (_sim, _hook, text) = fleet(dir.path()).await;
    let path = write_config(dir.path(), &text);
    let probe = dir.path().join("probe");
    let before = listing(dir.path());

    let mut cmd = unshare();
    cmd.args(["sh", "-c", RO_ROOT, "sh"])
        .args([&state, &scratch, &probe])
        .arg(BIN)
        .arg(&path)
        .env("HOME", &scratch)
        .env("TMPDIR", &scratch);
    let mut daemon = Contained::start(cmd);
    daemon
        .wait_event("daemon.ready", |e| e["event"] == "daemon.ready")
        .await;
    daemon
        .wait_event("d1 online", |e| is(e, "device.online", "d1"))
        .await;
    daemon.signal_init("TERM");
    let status = daemon.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let events = daemon.events();
    assert!(events.iter().any(|e| e["event"] == "daemon.stopped"));
    let errors: Vec<_> = events.iter().filter(|e| e["level"] == "ERROR").collect();
    assert!(
        errors.is_empty(),
        "errors under a read-only root: {errors:?}"
    );
    assert!(
        daemon.other().is_empty(),
        "non-JSON stderr: {:?}",
        daemon.other()
    );

    assert!(!listing(&state).is_empty(), "the store is in the state dir");
    assert!(
        listing(&scratch).is_empty(),
        "HOME/TMPDIR: {:?}",
        listing(&scratch)
    );
    assert_eq!(
        listing(dir.path()),
        before,
        "nothing new beside the state dir"
    );
    let devices = status_json(&path);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(
        devices[0]["state"], "online",
        "the store was persisted: {devices:?}"
    );
}
