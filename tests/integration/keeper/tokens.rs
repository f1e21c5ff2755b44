//! The shrise token keeper: rotated pairs are refreshed ahead of expiry, stored, and used again
//! after a restart (unless the operator configured a new pair); a refused refresh opens
//! `credentials_invalid` and the provider is backed off from.

use tempfile::tempdir;

use super::harness::{Daemon, config, is};
use super::receiver::Receiver;
use crate::support::{TestSim, start_sim};

const CHECK: &str = "/wx/pc/check-login-status/PC-1";
const REFRESH: &str = "/app/auth/token/refresh";
const PC: &str = "[[device]]\nname = \"pc\"\nprovider = \"shrise\"\nid = \"PC-1\"\n";

fn checks(sim: &TestSim, status: Option<u16>) -> usize {
    sim.sim
        .calls(0)
        .iter()
        .filter(|c| c.path == CHECK && (status.is_none() || c.status == status))
        .count()
}

fn refreshed(daemon: &Daemon) -> usize {
    daemon
        .events()
        .iter()
        .filter(|e| e["event"] == "token.refreshed" && e["provider"] == "shrise")
        .count()
}

/// The configuration with the shrise provider's initial pair replaced.
fn with_pair(text: &str, access: &str, refresh: &str) -> String {
    text.replace(
        "access_token = \"sim-shrise-access\"",
        &format!("access_token = \"{access}\""),
    )
    .replace(
        "refresh_token = \"sim-shrise-refresh\"",
        &format!("refresh_token = \"{refresh}\""),
    )
}

/// The `access_expires` of every rotation logged so far.
fn rotations(daemon: &Daemon) -> Vec<jiff::Timestamp> {
    daemon
        .events()
        .iter()
        .filter(|e| e["event"] == "token.refreshed" && e["provider"] == "shrise")
        .filter_map(|e| e["access_expires"].as_str()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn tokens_are_refreshed_ahead_of_expiry() {
    let sim = start_sim(
        "[credentials]\nshrise_access_ttl = \"6s\"\n\n[[device]]\nvendor = \"shrise\"\nid = \"PC-1\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, PC));
    // The configured pair has no known expiry: the first rotation follows its rejection; the
    // second is scheduled from the first pair's expiry and comes before it.
    daemon
        .wait_until("two rotations", || rotations(&daemon).len() >= 2)
        .await;
    let expiries = rotations(&daemon);
    let refreshes: Vec<jiff::Timestamp> = sim
        .calls_to(REFRESH)
        .iter()
        .filter(|c| c.status == Some(200))
        .map(|c| c.at)
        .collect();
    assert!(refreshes.len() >= 2, "{refreshes:?}");
    assert!(refreshes[1] < expiries[0], "{refreshes:?} {expiries:?}");
    assert!(daemon.events_about("device.offline", "pc").is_empty());
    assert!(!daemon.log().contains("sim-shrise-refresh"));
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test]
async fn the_stored_pair_survives_a_restart_until_the_operator_configures_a_new_one() {
    let sim = start_sim("[[device]]\nvendor = \"shrise\"\nid = \"PC-1\"\n").await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = config(dir.path(), &sim, &hook, PC);
    // The configured access token is stale: the first call is rejected and refreshed.
    let stale = with_pair(&base, "stale-access", "sim-shrise-refresh");
    let mut daemon = Daemon::start(dir.path(), &stale);
    daemon
        .wait_event("online", |e| is(e, "device.online", "pc"))
        .await;
    assert_eq!(refreshed(&daemon), 1);
    assert_eq!(daemon.stop().await.code(), Some(0));

    let refreshes = sim.calls_to(REFRESH).len();
    let mut daemon = Daemon::start(dir.path(), &stale);
    let before = checks(&sim, Some(200));
    daemon
        .wait_until("three accepted checks", || {
            checks(&sim, Some(200)) >= before + 3
        })
        .await;
    assert_eq!(
        sim.calls_to(REFRESH).len(),
        refreshes,
        "the stored pair was used"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));

    // A new configured pair (still stale here) replaces the stored one.
    let replaced = with_pair(&base, "another-stale-access", "sim-shrise-refresh");
    let mut daemon = Daemon::start(dir.path(), &replaced);
    daemon
        .wait_until("a refresh of the new pair", || refreshed(&daemon) == 1)
        .await;
    assert!(sim.calls_to(REFRESH).len() > refreshes);
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test]
async fn a_refused_refresh_opens_credentials_invalid_and_backs_off() {
    let sim = start_sim(
        "[[device]]\nvendor = \"shrise\"\nid = \"PC-1\"\n\n[[device]]\nvendor = \"gewe\"\nid = \"wx_g\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = format!("{PC}[[device]]\nname = \"g\"\nprovider = \"gewe\"\nid = \"wx_g\"\n");
    let text = with_pair(
        &config(dir.path(), &sim, &hook, &devices),
        "stale",
        "bad-refresh",
    );
    let mut daemon = Daemon::start(dir.path(), &text);
    let opened = || {
        hook.bodies()
            .into_iter()
            .filter(|b| b["kind"] == "credentials_invalid" && b["status"] == "firing")
            .collect::<Vec<_>>()
    };
    daemon
        .wait_until("credentials_invalid", || opened().len() == 1)
        .await;
    let message = &opened()[0];
    assert_eq!(message["provider"], "shrise");
    assert!(message["device"].is_null());
    assert!(!message.to_string().contains("bad-refresh"));
    // Backed off: while the gewe device is probed ten more times, shrise sees at most one trial.
    let calls = checks(&sim, None);
    let gewe = || sim.calls_to("/login/checkOnline").len();
    let start = gewe();
    daemon
        .wait_until("ten gewe probes", || gewe() >= start + 10)
        .await;
    assert!(checks(&sim, None) <= calls + 1, "{}", daemon.log());
    assert!(daemon.events_about("device.offline", "pc").is_empty());
    assert_eq!(daemon.stop().await.code(), Some(0));
}
