//! The daemon's life: start-up and shutdown events, SIGTERM exits 0 with the state persisted
//! (and `status` shows it), a restart mid-incident re-sends nothing but sends what changed
//! while it was down, and the exit codes of a bad start.

use std::process::Command;

use session_keeper::vendor::VendorKind;
use tempfile::tempdir;

use super::harness::{Daemon, config, is, status, status_json, write_config};
use super::receiver::Receiver;
use crate::support::{TestSim, start_sim};

fn probes(sim: &TestSim, id: &str) -> usize {
    sim.calls_to("/login/checkOnline")
        .iter()
        .filter(|c| c.device.as_deref() == Some(id))
        .count()
}

fn is_rfc3339_seconds(value: &serde_json::Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 20 && s.ends_with('Z') && s.parse::<jiff::Timestamp>().is_ok())
}

#[tokio::test]
async fn sigterm_exits_zero_with_the_state_persisted_for_status() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_ok\"\n").await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = "[[device]]\nname = \"ok\"\nprovider = \"gewe\"\nid = \"wx_ok\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    daemon
        .wait_event("ready", |e| e["event"] == "daemon.ready")
        .await;
    daemon
        .wait_event("ok online", |e| is(e, "device.online", "ok"))
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0), "{}", daemon.log());
    let names: Vec<String> = daemon
        .events()
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .filter(|n| n.starts_with("daemon."))
        .collect();
    assert_eq!(
        names,
        [
            "daemon.started",
            "daemon.ready",
            "daemon.stopping",
            "daemon.stopped"
        ]
    );
    let started = daemon
        .events()
        .into_iter()
        .find(|e| e["event"] == "daemon.started");
    assert_eq!(
        started.map(|e| e["devices"].clone()),
        Some(serde_json::json!(1))
    );

    let more =
        format!("{devices}[[device]]\nname = \"new\"\nprovider = \"gewe\"\nid = \"wx_new\"\n");
    let path = write_config(dir.path(), &config(dir.path(), &sim, &hook, &more));
    check_status(&path);
}

/// `status` after the run: `ok` persisted online; `new` (added since, no stored row) unknown.
fn check_status(path: &std::path::Path) {
    let entries = status_json(path);
    assert_eq!(entries.len(), 2);
    let ok = &entries[0];
    let keys: Vec<&str> = ok
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "name",
            "provider",
            "state",
            "since",
            "last_online_at",
            "recycle_deadline",
            "open_incidents",
            "last_probe_at",
            "stale"
        ]
    );
    // The daemon stopped: the entry says it may be out of date, and when it was last probed.
    assert_eq!(ok["stale"], true);
    assert!(is_rfc3339_seconds(&ok["last_probe_at"]), "{ok}");
    assert_eq!(ok["name"], "ok");
    assert_eq!(ok["provider"], "gewe");
    assert_eq!(ok["state"], "online");
    assert!(is_rfc3339_seconds(&ok["since"]), "{ok}");
    assert!(is_rfc3339_seconds(&ok["last_online_at"]), "{ok}");
    assert!(is_rfc3339_seconds(&ok["recycle_deadline"]), "{ok}");
    assert_eq!(ok["open_incidents"], serde_json::json!([]));
    let new = &entries[1];
    assert_eq!(new["state"], "unknown");
    for key in ["since", "last_online_at", "recycle_deadline"] {
        assert!(new[key].is_null(), "{new}");
    }
    let table = status(path, false);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok ") && l.contains("online")),
        "{text}"
    );
    assert!(!text.contains("sim-gewe-token"));
}

#[tokio::test]
async fn a_restart_mid_incident_resends_nothing_and_sends_what_changed_meanwhile() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_m\"\nonline = false\nreconnect = \"fail\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = "[[device]]\nname = \"m\"\nprovider = \"gewe\"\nid = \"wx_m\"\n";
    let text = config(dir.path(), &sim, &hook, devices);
    let firing = || hook.messages("m", "firing", "manual_login_required").len();
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_until("the first firing message", || firing() == 1)
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert_eq!(
        status_json(&daemon.config_path)[0]["state"],
        "login_required"
    );

    // Restarted while the incident is open: probes go on, nothing is sent again.
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_event("ready", |e| e["event"] == "daemon.ready")
        .await;
    let before = probes(&sim, "wx_m");
    daemon
        .wait_until("five probes after the restart", || {
            probes(&sim, "wx_m") >= before + 5
        })
        .await;
    assert_eq!(firing(), 1, "{:?}", hook.bodies());
    assert!(
        daemon
            .events()
            .iter()
            .all(|e| e["event"] != "incident.opened")
    );
    assert_eq!(sim.calls_to("/login/reconnection").len(), 1);
    assert_eq!(daemon.stop().await.code(), Some(0));

    // A person logs in while the daemon is down: the next daemon sends the resolution.
    sim.sim
        .login(VendorKind::Gewe, "wx_m")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_until("the resolved message", || {
            hook.messages("m", "resolved", "manual_login_required")
                .len()
                == 1
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert_eq!(firing(), 1);
    let resolved = hook.messages("m", "resolved", "manual_login_required");
    assert_eq!(resolved[0]["resolution"], "recovered", "{}", resolved[0]);
    assert_eq!(status_json(&daemon.config_path)[0]["state"], "online");
}

#[tokio::test]
async fn run_exits_78_on_a_bad_config_and_1_when_the_store_cannot_open() {
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad = write_config(dir.path(), "[daemon]\nstate_dir = 7\n");
    let out = Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .arg("run")
        .arg("-c")
        .arg(&bad)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(78));

    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file, not a directory").unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "[daemon]\nstate_dir = \"{}\"\nlog_format = \"json\"\n",
        blocker.join("state").display()
    );
    let path = write_config(dir.path(), &text);
    let out = Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .arg("run")
        .arg("-c")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("state store"));
}

#[tokio::test]
async fn a_zero_byte_store_file_is_refused_not_a_silent_fresh_start() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_z\"\nonline = false\nreconnect = \"fail\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = "[[device]]\nname = \"z\"\nprovider = \"gewe\"\nid = \"wx_z\"\n";
    let text = config(dir.path(), &sim, &hook, devices);
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_until("the manual-login alert", || {
            hook.messages("z", "firing", "manual_login_required").len() == 1
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    let store = dir.path().join("state").join("session-keeper.sqlite3");
    std::fs::File::create(&store).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .arg("run")
        .arg("-c")
        .arg(&daemon.config_path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&store.display().to_string()), "{stderr}");
    assert!(stderr.contains("empty (0 bytes)"), "{stderr}");
    assert!(stderr.contains("move it aside"), "{stderr}");
    let meta = std::fs::metadata(&store).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(meta.len(), 0, "the file is left for the operator");
    let status = status(&daemon.config_path, true);
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stderr).contains("empty (0 bytes)"));
    assert_eq!(
        hook.messages("z", "firing", "manual_login_required").len(),
        1
    );
}
