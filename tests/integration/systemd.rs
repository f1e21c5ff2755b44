//! The daemon under a (fake) systemd: `NOTIFY_SOCKET` is a datagram socket in a temp dir and
//! `WATCHDOG_USEC` is set, and the test reads what `session-keeper run` tells the service
//! manager: `READY=1` with a fleet `STATUS=`, `WATCHDOG=1` from the supervisor loop,
//! `RELOADING=1` + `MONOTONIC_USEC` then `READY=1` around SIGHUP, `STOPPING=1` on SIGTERM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::tempdir;
use tokio::net::UnixDatagram;

use crate::keeper::harness::{Daemon, LIMIT, config, is};
use crate::keeper::receiver::Receiver;
use crate::support::{eventually, start_sim};

const SIM: &str = r#"
[[device]]
vendor = "gewe"
id = "wx_a"
"#;

const DEVICES: &str = r#"
[[device]]
name = "a"
provider = "gewe"
id = "wx_a"
"#;

/// Every datagram received on the fake notify socket, in order.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Index of the first message at or after `from` that has the assignment `line`.
    fn find(&self, from: usize, line: &str) -> Option<usize> {
        let all = self.all();
        (from..all.len()).find(|&i| all[i].lines().any(|l| l == line))
    }

    async fn wait_for(&self, from: usize, line: &str, daemon: &Daemon) -> usize {
        let what = format!("{line} after message {from}");
        let found = tokio::time::timeout(
            LIMIT,
            eventually(&what, LIMIT + Duration::from_secs(1), || {
                std::future::ready(self.find(from, line).is_some())
            }),
        )
        .await;
        match (found, self.find(from, line)) {
            (Ok(()), Some(i)) => i,
            _ => panic!(
                "no {line}; received {:?}; log:\n{}",
                self.all(),
                daemon.log()
            ),
        }
    }

    fn count(&self, line: &str) -> usize {
        self.all()
            .iter()
            .filter(|m| m.lines().any(|l| l == line))
            .count()
    }
}

fn listen(socket: UnixDatagram) -> Received {
    let received = Received::default();
    let sink = received.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf).await {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            sink.0.lock().unwrap_or_else(|p| p.into_inner()).push(text);
        }
    });
    received
}

#[tokio::test]
async fn run_notifies_ready_watchdog_reloading_and_stopping() {
    let sim = start_sim(SIM).await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let received = listen(UnixDatagram::bind(&path).unwrap());
    let socket = path.display().to_string();
    let env = [
        ("NOTIFY_SOCKET", socket.as_str()),
        ("WATCHDOG_USEC", "400000"),
    ];
    let text = config(dir.path(), &sim, &hook, DEVICES);
    let mut daemon = Daemon::start_with_env(dir.path(), &text, &env);

    let ready = received.wait_for(0, "READY=1", &daemon).await;
    let first = &received.all()[ready];
    assert!(
        first.lines().any(|l| l.starts_with("STATUS=1 ")),
        "READY=1 without the fleet summary: {first:?}"
    );
    // READY=1 is sent right after daemon.ready is logged; the log comes through a pipe that
    // may lag behind the datagram, so wait for the line rather than expect it already read.
    daemon
        .wait_event("daemon.ready", |e| e["event"] == "daemon.ready")
        .await;
    daemon
        .wait_event("a online", |e| is(e, "device.online", "a"))
        .await;
    received.wait_for(ready, "STATUS=1 online", &daemon).await;
    let pings = |n| {
        let received = received.clone();
        async move { received.count("WATCHDOG=1") >= n }
    };
    eventually("three watchdog pings", LIMIT, || pings(3)).await;

    let before = received.all().len();
    daemon.signal("HUP");
    let reloading = received.wait_for(before, "RELOADING=1", &daemon).await;
    let usec = received.all()[reloading]
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(usec.is_some_and(|u| u > 0), "{:?}", received.all());
    received.wait_for(reloading + 1, "READY=1", &daemon).await;
    daemon
        .wait_event("reloaded", |e| e["event"] == "config.reloaded")
        .await;

    let after_reload = received.count("WATCHDOG=1");
    let more = |n| {
        let received = received.clone();
        async move { received.count("WATCHDOG=1") >= n }
    };
    eventually("watchdog pings after the reload", LIMIT, || {
        more(after_reload + 2)
    })
    .await;

    let before = received.all().len();
    assert_eq!(daemon.stop().await.code(), Some(0), "{}", daemon.log());
    received.wait_for(before, "STOPPING=1", &daemon).await;
}
