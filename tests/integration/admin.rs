//! The admin HTTP server end to end: the real daemon with `admin_listen = "127.0.0.1:0"`
//! (the bound address read from its `admin.listening` event) against the simulator, through a
//! scripted outage: `/metrics` parsed and its series checked, `/readyz`, `/healthz`,
//! `/v1/devices` against `status --json`, and the `health` command's exit codes.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::tempdir;

use crate::keeper::harness::{Daemon, LIMIT, config_full, is, status_json};
use crate::keeper::receiver::Receiver;
use crate::notify::lost_device;
use crate::support::start_sim;

/// `config_full` with the admin server on a free loopback port.
fn with_admin(config: &str) -> String {
    config.replacen(
        "[daemon]\n",
        "[daemon]\nadmin_listen = \"127.0.0.1:0\"\n",
        1,
    )
}

/// `http://ADDR` of the daemon's admin server, from its `admin.listening` event.
async fn admin_base(daemon: &Daemon) -> String {
    let event = daemon
        .wait_event("admin.listening", |e| e["event"] == "admin.listening")
        .await;
    let address = event["address"]
        .as_str()
        .unwrap_or_else(|| panic!("{event}"));
    format!("http://{address}")
}

async fn get(url: &str) -> (u16, String) {
    let answer = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

/// The samples of a text exposition: series (name and labels, as written) → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Scrapes `url` until its samples satisfy `done` (the store is written asynchronously);
/// panics with the last scrape after [`LIMIT`].
async fn scrape_until(
    url: &str,
    done: impl Fn(&HashMap<String, f64>) -> bool,
) -> HashMap<String, f64> {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let (status, text) = get(url).await;
        let seen = samples(&text);
        if status == 200 && done(&seen) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out scraping {url}; last answer {status}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `session-keeper health --url URL`'s exit code.
fn health_command(url: &str) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .args(["health", "--url", url])
        .output()
        .unwrap_or_else(|e| panic!("cannot run health: {e}"))
        .status
        .code()
}

#[tokio::test]
async fn metrics_after_an_outage_show_the_lost_device_and_what_was_done() {
    let (device, twin) = lost_device("m1");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap();
    let config = with_admin(&config_full(dir.path(), &sim, &hook, "", "", &device));
    let mut daemon = Daemon::start(dir.path(), &config);
    let base = admin_base(&daemon).await;
    daemon
        .wait_event("the webhook got the alert", |e| is(e, "notify.sent", "m1"))
        .await;
    let metrics = format!("{base}/metrics");
    let last = scrape_until(&metrics, |seen| {
        seen.get(r#"session_keeper_devices{state="login_required"}"#) == Some(&1.0)
            && seen.get(r#"session_keeper_open_incidents{kind="manual_login_required"}"#)
                == Some(&1.0)
    })
    .await;
    let at = |series: &str| last.get(series).copied();
    assert_eq!(at(r#"session_keeper_devices{state="online"}"#), Some(0.0));
    let offline = at(r#"session_keeper_probes_total{vendor="gewe",result="offline"}"#);
    assert!(
        offline.is_some_and(|n| n >= 2.0),
        "offline probes: {offline:?}"
    );
    let latency = at(r#"session_keeper_probe_duration_seconds_count{vendor="gewe"}"#);
    assert!(latency >= offline, "every probe is timed: {latency:?}");
    assert_eq!(
        at(r#"session_keeper_ladder_steps_total{step="reconnect",outcome="failed"}"#),
        Some(1.0)
    );
    let sent = at(r#"session_keeper_notifications_total{channel="webhook",result="sent"}"#);
    assert!(sent.is_some_and(|n| n >= 1.0), "sent: {sent:?}");

    let (status, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(
        (status, body.trim()),
        (200, "ok"),
        "the first round is long done"
    );

    let (status, body) = get(&format!("{base}/v1/devices")).await;
    assert_eq!(status, 200);
    let served: Value = serde_json::from_str(&body).unwrap();
    let shown = status_json(&daemon.config_path);
    assert_eq!(
        served.as_array(),
        Some(&shown),
        "/v1/devices is status --json"
    );
    assert_eq!(served[0]["state"], "login_required");
    // Never seen online, so no deadline is known, and no deadline series either.
    assert!(served[0]["recycle_deadline"].is_null());
    assert_eq!(
        at(r#"session_keeper_recycle_deadline_seconds{device="m1"}"#),
        None
    );

    let healthz = format!("{base}/healthz");
    assert_eq!(
        get(&healthz).await,
        (200, "ok\n".to_owned()),
        "the supervisor ticks"
    );
    let checked = tokio::task::spawn_blocking(move || health_command(&healthz));
    assert_eq!(checked.await.unwrap(), Some(0));

    assert!(daemon.stop().await.success(), "log:\n{}", daemon.log());
}

#[tokio::test]
async fn the_health_command_fails_against_a_closed_port() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    assert_eq!(
        health_command(&format!("http://{address}/healthz")),
        Some(1)
    );
}

#[tokio::test]
async fn an_address_in_use_is_a_start_up_error_naming_it() {
    let (device, twin) = lost_device("b1");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let config = config_full(dir.path(), &sim, &hook, "", "", &device).replacen(
        "[daemon]\n",
        &format!("[daemon]\nadmin_listen = \"{address}\"\n"),
        1,
    );
    let mut daemon = Daemon::start(dir.path(), &config);
    let status = daemon.wait_exit().await;
    assert_eq!(status.code(), Some(1), "log:\n{}", daemon.log());
    let log = daemon.log();
    assert!(
        log.contains(&format!("cannot listen on daemon.admin_listen {address}")),
        "log:\n{log}"
    );
    drop(taken);
}

#[tokio::test]
async fn devices_added_by_a_reload_are_listed_by_the_admin_server() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_a\"\n[[device]]\nvendor = \"gewe\"\nid = \"wx_b\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let one = "[[device]]\nname = \"a\"\nprovider = \"gewe\"\nid = \"wx_a\"\n";
    let text = |devices: &str| with_admin(&config_full(dir.path(), &sim, &hook, "", "", devices));
    let mut daemon = Daemon::start(dir.path(), &text(one));
    let base = admin_base(&daemon).await;
    let names = |body: &str| -> Vec<String> {
        let devices: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let list = devices.as_array().cloned().unwrap_or_default();
        list.iter()
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (_, before) = get(&format!("{base}/v1/devices")).await;
    assert_eq!(names(&before), ["a"]);

    let two = format!("{one}[[device]]\nname = \"b\"\nprovider = \"gewe\"\nid = \"wx_b\"\n");
    crate::keeper::harness::write_config(dir.path(), &text(&two));
    daemon.signal("HUP");
    daemon
        .wait_event("the reload", |e| e["event"] == "config.reloaded")
        .await;
    let (status, after) = get(&format!("{base}/v1/devices")).await;
    assert_eq!(status, 200);
    assert_eq!(names(&after), ["a", "b"]);
    assert_eq!(daemon.stop().await.code(), Some(0));
}
