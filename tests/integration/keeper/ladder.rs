//! Each vendor's recovery ladder, end to end: the daemon notices the drop, climbs the rungs
//! the vendor supports, and the simulator shows the calls it made.

use session_keeper::vendor::VendorKind;
use tempfile::tempdir;

use super::harness::{Daemon, config, is};
use super::receiver::Receiver;
use crate::support::{TestSim, start_sim};

/// WKTeam probes after call `since` whose wId the simulator resolved to account `id`.
fn resolved_probes(sim: &TestSim, id: &str, since: u64) -> usize {
    sim.calls_to("/isOnline")
        .iter()
        .filter(|c| c.seq > since && c.device.as_deref() == Some(id) && c.status == Some(200))
        .count()
}

/// The sequence number of the newest WKTeam probe.
fn last_probe(sim: &TestSim) -> u64 {
    sim.calls_to("/isOnline").last().map_or(0, |c| c.seq)
}

fn dir() -> tempfile::TempDir {
    tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn gewe_reconnect_brings_the_device_back() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\nonline = false\nreconnect = \"succeed\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices = "[[device]]\nname = \"d1\"\nprovider = \"gewe\"\nid = \"wx_1\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    let offline = daemon
        .wait_event("d1 offline", |e| is(e, "device.offline", "d1"))
        .await;
    let reconnect = daemon
        .wait_after("d1 reconnect", &offline, |e| {
            is(e, "recovery.reconnect", "d1")
        })
        .await;
    daemon
        .wait_after("d1 online", &reconnect, |e| is(e, "device.online", "d1"))
        .await;
    assert_eq!(sim.calls_to("/login/reconnection").len(), 1);
    assert!(
        daemon
            .events_about("recovery.second_login", "d1")
            .is_empty()
    );
    assert!(daemon.events_about("device.suspect", "d1").len() == 1);
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert!(
        hook.messages("d1", "firing", "manual_login_required")
            .is_empty()
    );
}

#[tokio::test]
async fn gewe_dialog_login_is_followed_until_confirmed() {
    let sim = start_sim(
        "confirm_window = \"1s\"\n[[device]]\nvendor = \"gewe\"\nid = \"wx_4\"\nonline = false\n\
         reconnect = \"fail\"\nsecond_login = \"confirm\"\nconfirm_after = \"300ms\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices =
        "[[device]]\nname = \"d4\"\nprovider = \"gewe\"\nid = \"wx_4\"\nregion_id = \"320000\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    let prompt = daemon
        .wait_event("d4 prompt", |e| is(e, "recovery.second_login", "d4"))
        .await;
    daemon
        .wait_after("d4 confirmed", &prompt, |e| {
            is(e, "recovery.confirmed", "d4")
        })
        .await;
    assert_eq!(sim.calls_to("/login/reconnection").len(), 1);
    assert_eq!(sim.calls_to("/login/dialogLogin").len(), 1);
    assert!(!sim.calls_to("/login/checkLogin").is_empty());
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert!(
        hook.messages("d4", "firing", "manual_login_required")
            .is_empty()
    );
}

#[tokio::test]
async fn wechatpro_second_login_is_confirmed_and_the_reason_asked_once() {
    let sim = start_sim(
        "confirm_window = \"1s\"\n[[device]]\nvendor = \"wechatpro\"\nid = \"dev-1\"\n\
         online = false\nsecond_login = \"confirm\"\nconfirm_after = \"300ms\"\n\
         offline_reason = \"设备网络异常，请重新登录\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices = "[[device]]\nname = \"wp\"\nprovider = \"wechatpro\"\nid = \"dev-1\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    let prompt = daemon
        .wait_event("wp prompt", |e| is(e, "recovery.second_login", "wp"))
        .await;
    let confirmed = daemon
        .wait_after("wp confirmed", &prompt, |e| {
            is(e, "recovery.confirmed", "wp")
        })
        .await;
    daemon
        .wait_after("wp online", &confirmed, |e| is(e, "device.online", "wp"))
        .await;
    assert_eq!(sim.calls_to("/open/loginAgain").len(), 1);
    assert_eq!(sim.calls_to("/open/offlineReason").len(), 1);
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert!(
        hook.messages("wp", "firing", "manual_login_required")
            .is_empty()
    );
}

#[tokio::test]
async fn wkteam_second_login_stores_and_uses_the_new_wid() {
    let sim = start_sim(
        "confirm_window = \"1s\"\n[[device]]\nvendor = \"wkteam\"\nid = \"wc_1\"\n\
         w_id = \"w-0001\"\nonline = false\nsecond_login = \"confirm\"\nconfirm_after = \"300ms\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices =
        "[[device]]\nname = \"wk\"\nprovider = \"wkteam\"\nid = \"wc_1\"\nw_id = \"w-0001\"\n";
    let text = config(dir.path(), &sim, &hook, devices);
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_event("wk confirmed", |e| is(e, "recovery.confirmed", "wk"))
        .await;
    let rotated = sim
        .sim
        .device(VendorKind::Wkteam, "wc_1")
        .and_then(|d| d.w_id)
        .unwrap_or_default();
    assert_ne!(rotated, "w-0001", "the simulator rotated the wId");
    // Probes after the confirmation name the new wId: the simulator resolves it to the account.
    let since = last_probe(&sim);
    daemon
        .wait_until("probes with the new wId", || {
            resolved_probes(&sim, "wc_1", since) >= 3
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    // Looked up once before the offline was confirmed (rule 9).
    assert_eq!(sim.calls_to("/queryLoginWx").len(), 1);
    // After a restart the stored wId is used at once: no rediscovery needed.
    let daemon = Daemon::start(dir.path(), &text);
    let since = last_probe(&sim);
    daemon
        .wait_until("probes after the restart", || {
            resolved_probes(&sim, "wc_1", since) >= 3
        })
        .await;
    assert_eq!(sim.calls_to("/queryLoginWx").len(), 1);
    assert_eq!(sim.calls_to("/secondLogin").len(), 1);
}

#[tokio::test]
async fn wkteam_rediscovers_a_wid_rotated_elsewhere() {
    let sim =
        start_sim("[[device]]\nvendor = \"wkteam\"\nid = \"wc_2\"\nw_id = \"w-0002\"\n").await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices =
        "[[device]]\nname = \"wk2\"\nprovider = \"wkteam\"\nid = \"wc_2\"\nw_id = \"w-0002\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    daemon
        .wait_event("wk2 online", |e| is(e, "device.online", "wk2"))
        .await;
    // A person logs in with a QR code elsewhere: the wId rotates behind the keeper's back.
    sim.sim
        .login(VendorKind::Wkteam, "wc_2")
        .unwrap_or_else(|e| panic!("{e}"));
    let since = last_probe(&sim);
    daemon
        .wait_until("probes with the rediscovered wId", || {
            resolved_probes(&sim, "wc_2", since) >= 3
        })
        .await;
    assert_eq!(sim.calls_to("/queryLoginWx").len(), 1);
    assert!(daemon.events_about("device.suspect", "wk2").is_empty());
    assert!(daemon.events_about("device.offline", "wk2").is_empty());
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test]
async fn an_unconfirmed_prompt_becomes_manual_login_resolved_by_a_person() {
    let sim = start_sim(
        "confirm_window = \"1s\"\n[[device]]\nvendor = \"gewe\"\nid = \"wx_3\"\nonline = false\n\
         reconnect = \"fail\"\nsecond_login = \"never\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = dir();
    let devices =
        "[[device]]\nname = \"d3\"\nprovider = \"gewe\"\nid = \"wx_3\"\nregion_id = \"320000\"\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    let unconfirmed = daemon
        .wait_event("d3 unconfirmed", |e| is(e, "recovery.unconfirmed", "d3"))
        .await;
    daemon
        .wait_after("manual login opened", &unconfirmed, |e| {
            e["event"] == "incident.opened" && e["kind"] == "manual_login_required"
        })
        .await;
    daemon
        .wait_until("the firing webhook", || {
            hook.messages("d3", "firing", "manual_login_required").len() == 1
        })
        .await;
    assert_eq!(sim.calls_to("/login/reconnection").len(), 1);
    assert_eq!(sim.calls_to("/login/dialogLogin").len(), 1);
    sim.sim
        .login(VendorKind::Gewe, "wx_3")
        .unwrap_or_else(|e| panic!("{e}"));
    daemon
        .wait_after("d3 online", &unconfirmed, |e| is(e, "device.online", "d3"))
        .await;
    daemon
        .wait_until("the resolved webhook", || {
            hook.messages("d3", "resolved", "manual_login_required")
                .len()
                == 1
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert_eq!(
        hook.messages("d3", "firing", "manual_login_required").len(),
        1
    );
}
