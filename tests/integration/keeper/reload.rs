//! SIGHUP reloads as a diff: an added device starts, a removed one stops, an unchanged one
//! keeps running, and an invalid file is refused while the old configuration keeps running.

use tempfile::tempdir;

use super::harness::{Daemon, config, is, status_json, write_config};
use super::receiver::Receiver;
use crate::support::{TestSim, start_sim};

const SIM: &str = r#"
[[device]]
vendor = "gewe"
id = "wx_a"

[[device]]
vendor = "gewe"
id = "wx_b"

[[device]]
vendor = "gewe"
id = "wx_c"
"#;

fn device(name: &str, id: &str) -> String {
    format!("[[device]]\nname = \"{name}\"\nprovider = \"gewe\"\nid = \"{id}\"\n")
}

fn probes(sim: &TestSim, id: &str) -> usize {
    sim.calls_to("/login/checkOnline")
        .iter()
        .filter(|c| c.device.as_deref() == Some(id))
        .count()
}

#[tokio::test]
async fn sighup_adds_and_removes_devices_and_refuses_an_invalid_file() {
    let sim = start_sim(SIM).await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let first = format!("{}{}", device("a", "wx_a"), device("c", "wx_c"));
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, &first));
    daemon
        .wait_event("a online", |e| is(e, "device.online", "a"))
        .await;
    daemon
        .wait_event("c online", |e| is(e, "device.online", "c"))
        .await;

    let second = format!("{}{}", device("b", "wx_b"), device("c", "wx_c"));
    write_config(dir.path(), &config(dir.path(), &sim, &hook, &second));
    daemon.signal("HUP");
    let reloaded = daemon
        .wait_event("reloaded", |e| e["event"] == "config.reloaded")
        .await;
    assert_eq!(reloaded["added"], serde_json::json!(["b"]), "{reloaded}");
    assert_eq!(reloaded["removed"], serde_json::json!(["a"]), "{reloaded}");
    assert_eq!(reloaded["restarted"], serde_json::json!([]), "{reloaded}");
    daemon
        .wait_event("b online", |e| is(e, "device.online", "b"))
        .await;
    let a_after_reload = probes(&sim, "wx_a");
    let b_now = probes(&sim, "wx_b");
    daemon
        .wait_until("five more probes of b", || {
            probes(&sim, "wx_b") >= b_now + 5
        })
        .await;
    // At most one probe of `a` was already on its way when the reload stopped it.
    assert!(probes(&sim, "wx_a") <= a_after_reload + 1);
    // `c` kept running untouched: online once, never again.
    assert_eq!(daemon.events_about("device.online", "c").len(), 1);

    write_config(dir.path(), "[daemon\nthis is not toml");
    daemon.signal("HUP");
    daemon
        .wait_event("reload refused", |e| e["event"] == "config.reload_failed")
        .await;
    let c_now = probes(&sim, "wx_c");
    daemon
        .wait_until("c still probed", || probes(&sim, "wx_c") >= c_now + 3)
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0), "{}", daemon.log());

    let path = write_config(dir.path(), &config(dir.path(), &sim, &hook, &second));
    let names: Vec<String> = status_json(&path)
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["b", "c"]);
}

#[tokio::test]
async fn removing_a_device_with_an_open_incident_resolves_it_as_removed_not_online_again() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_gone\"\nonline = false\nreconnect = \"fail\"\n\
         [[device]]\nvendor = \"gewe\"\nid = \"wx_stays\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let both = format!(
        "{}{}",
        device("gone", "wx_gone"),
        device("stays", "wx_stays")
    );
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, &both));
    daemon
        .wait_until("the manual-login alert", || {
            hook.messages("gone", "firing", "manual_login_required")
                .len()
                == 1
        })
        .await;
    write_config(
        dir.path(),
        &config(dir.path(), &sim, &hook, &device("stays", "wx_stays")),
    );
    daemon.signal("HUP");
    daemon
        .wait_until("the resolved message", || {
            !hook
                .messages("gone", "resolved", "manual_login_required")
                .is_empty()
        })
        .await;
    let resolved = hook.messages("gone", "resolved", "manual_login_required");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["resolution"], "removed", "{}", resolved[0]);
    assert!(
        daemon.events_about("device.online", "gone").is_empty(),
        "the device never came back"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test]
async fn a_device_removed_while_the_daemon_was_down_is_resolved_as_removed_at_start() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_gone\"\nonline = false\nreconnect = \"fail\"\n\
         [[device]]\nvendor = \"gewe\"\nid = \"wx_stays\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let both = format!(
        "{}{}",
        device("gone", "wx_gone"),
        device("stays", "wx_stays")
    );
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, &both));
    daemon
        .wait_until("the manual-login alert", || {
            hook.messages("gone", "firing", "manual_login_required")
                .len()
                == 1
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    let one = config(dir.path(), &sim, &hook, &device("stays", "wx_stays"));
    let mut daemon = Daemon::start(dir.path(), &one);
    daemon
        .wait_until("the resolved message", || {
            !hook
                .messages("gone", "resolved", "manual_login_required")
                .is_empty()
        })
        .await;
    assert_eq!(
        hook.messages("gone", "resolved", "manual_login_required")[0]["resolution"],
        "removed"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));
}
