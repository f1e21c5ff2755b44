//! Stops during every in-flight ladder call, per vendor, with SIGTERM and with SIGKILL: the
//! next run finishes the job. Nothing is lost, no prompt goes out twice, and no
//! `manual_login_required` is raised for an account that is back.
//!
//! Each case: the daemon climbs the ladder until the call under test is in flight at the
//! simulator (held there by a slow fault on that one endpoint, or by the vendor's own blocking
//! second login), is stopped, the world moves on while it is down (the fault goes; the person
//! confirms; the login rotates the WKTeam wId), and a new daemon on the same state takes over.

use std::time::Duration;

use session_keeper::sim::{Fault, FaultSpec};
use session_keeper::vendor::VendorKind;
use tempfile::tempdir;

use super::harness::{Daemon, config, is, status_json};
use super::receiver::Receiver;
use crate::support::{TestSim, start_sim};

/// Long enough for the person to confirm (the scenarios' `confirm_after = "2s"`) while the
/// keeper is down.
const PERSON_CONFIRMS: Duration = Duration::from_millis(2_200);

/// How the daemon is stopped mid-call.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// A graceful stop (`systemctl restart`).
    Term,
    /// A crash.
    Kill,
}

/// One interrupted call.
struct Case {
    /// The simulator's scenario.
    scenario: &'static str,
    /// The `[[device]]` table (named `d`).
    device: &'static str,
    /// The endpoint whose call is interrupted.
    endpoint: &'static str,
    /// Hold that endpoint's calls with a slow fault (false: the vendor blocks by itself).
    slow: Option<VendorKind>,
    /// The prompt endpoint, which must have been called exactly once in the end.
    prompt: &'static str,
}

/// Waits until a call to `endpoint` has arrived and has not been answered yet.
async fn in_flight(daemon: &Daemon, sim: &TestSim, endpoint: &str) {
    daemon
        .wait_until(&format!("a call to {endpoint} in flight"), || {
            sim.calls_to(endpoint).iter().any(|c| c.status.is_none())
        })
        .await;
}

/// The harness's timeouts are short; interrupted calls must stay in flight until the stop.
fn patient(text: String) -> String {
    text.replace("timeout = \"500ms\"", "timeout = \"30s\"")
        .replace("timeout = \"2s\"", "timeout = \"30s\"")
}

/// What a case leaves running: the simulator, the webhook receiver, the second daemon and
/// its state directory.
struct Run {
    sim: TestSim,
    hook: Receiver,
    daemon: Daemon,
    _dir: tempfile::TempDir,
}

/// Runs `case` stopped with `stop`; the daemon stays down for `downtime` (the person may
/// confirm meanwhile) before a new one takes over the same state.
async fn interrupted(case: Case, stop: Stop, downtime: Duration) -> Run {
    let sim = start_sim(case.scenario).await;
    if let Some(vendor) = case.slow {
        let hold = FaultSpec {
            slow: Some(Duration::from_secs(60)),
            endpoint: Some(case.endpoint.to_owned()),
            ..FaultSpec::new(Fault::Slow)
        };
        sim.sim.set_vendor_fault(vendor, Some(hold));
    }
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = patient(config(dir.path(), &sim, &hook, case.device));
    let mut first = Daemon::start(dir.path(), &text);
    in_flight(&first, &sim, case.endpoint).await;
    match stop {
        Stop::Term => {
            assert_eq!(first.stop().await.code(), Some(0), "{}", first.log());
        }
        Stop::Kill => {
            first.signal("KILL");
            first.wait_exit().await;
        }
    }
    if let Some(vendor) = case.slow {
        sim.sim.set_vendor_fault(vendor, None);
    }
    tokio::time::sleep(downtime).await;
    let daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_event("the second run resumes", |e| e["event"] == "daemon.ready")
        .await;
    assert!(sim.calls_to(case.prompt).len() <= 1, "no prompt twice");
    Run {
        sim,
        hook,
        daemon,
        _dir: dir,
    }
}

/// The device comes back; no manual-login alert at any time; the prompt went out at most once.
async fn back_without_an_alert(case_prompt: &str, run: Run) {
    let Run {
        sim,
        hook,
        mut daemon,
        _dir,
    } = run;
    daemon
        .wait_event("d online", |e| is(e, "device.online", "d"))
        .await;
    assert!(
        hook.messages("d", "firing", "manual_login_required")
            .is_empty(),
        "a false manual_login_required: {:?}\n{}",
        hook.bodies(),
        daemon.log()
    );
    assert!(
        daemon
            .events()
            .iter()
            .all(|e| !(e["event"] == "incident.opened" && e["kind"] == "manual_login_required")),
        "{}",
        daemon.log()
    );
    assert!(
        sim.calls_to(case_prompt).len() <= 1,
        "a prompt went out twice"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert_eq!(status_json(&daemon.config_path)[0]["state"], "online");
}

fn gewe_reconnect() -> Case {
    Case {
        scenario: "[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\nonline = false\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"gewe\"\nid = \"wx_1\"\n",
        endpoint: "/login/reconnection",
        slow: Some(VendorKind::Gewe),
        prompt: "/login/dialogLogin",
    }
}

async fn gewe_reconnect_case(stop: Stop) {
    let run = interrupted(gewe_reconnect(), stop, Duration::ZERO).await;
    let calls = |endpoint: &str| run.sim.calls_to(endpoint).len();
    let (reconnects, prompts) = (calls("/login/reconnection"), calls("/login/dialogLogin"));
    back_without_an_alert("/login/dialogLogin", run).await;
    assert!((1..=2).contains(&reconnects), "{reconnects} reconnects");
    assert_eq!(prompts, 0);
}

#[tokio::test]
async fn a_sigterm_during_a_gewe_reconnect_is_finished_by_the_next_run() {
    gewe_reconnect_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_gewe_reconnect_is_finished_by_the_next_run() {
    gewe_reconnect_case(Stop::Kill).await;
}

fn gewe_second_login() -> Case {
    Case {
        scenario: "confirm_window = \"2s\"\n[[device]]\nvendor = \"gewe\"\nid = \"wx_2\"\n\
                   online = false\nreconnect = \"fail\"\nsecond_login = \"never\"\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"gewe\"\nid = \"wx_2\"\n\
                 region_id = \"320000\"\nconfirm_window = \"2s\"\n",
        endpoint: "/login/dialogLogin",
        slow: Some(VendorKind::Gewe),
        prompt: "/login/dialogLogin",
    }
}

/// Nobody confirms: after the restart the prompt counts as sent and lapses, the alert goes out
/// once (not lost, not twice), and resolves once when a person logs in.
async fn gewe_second_login_case(stop: Stop) {
    let Run {
        sim,
        hook,
        mut daemon,
        _dir,
    } = interrupted(gewe_second_login(), stop, Duration::ZERO).await;
    daemon
        .wait_until("one manual_login_required", || {
            hook.messages("d", "firing", "manual_login_required").len() == 1
        })
        .await;
    sim.sim
        .login(VendorKind::Gewe, "wx_2")
        .unwrap_or_else(|e| panic!("{e}"));
    daemon
        .wait_until("its resolution", || {
            hook.messages("d", "resolved", "manual_login_required")
                .len()
                == 1
        })
        .await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    assert_eq!(
        hook.messages("d", "firing", "manual_login_required").len(),
        1
    );
    assert_eq!(
        sim.calls_to("/login/dialogLogin").len(),
        1,
        "no second prompt"
    );
    assert_eq!(sim.calls_to("/login/reconnection").len(), 1);
}

#[tokio::test]
async fn a_sigterm_during_a_gewe_second_login_alerts_once_and_never_prompts_again() {
    gewe_second_login_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_gewe_second_login_alerts_once_and_never_prompts_again() {
    gewe_second_login_case(Stop::Kill).await;
}

fn wechatpro_offline_reason() -> Case {
    Case {
        scenario: "confirm_window = \"4s\"\n[[device]]\nvendor = \"wechatpro\"\nid = \"dev-3\"\n\
                   online = false\nconfirm_after = \"300ms\"\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"wechatpro\"\nid = \"dev-3\"\n\
                 confirm_window = \"4s\"\n",
        endpoint: "/open/offlineReason",
        slow: Some(VendorKind::Wechatpro),
        prompt: "/open/loginAgain",
    }
}

async fn wechatpro_offline_reason_case(stop: Stop) {
    let run = interrupted(wechatpro_offline_reason(), stop, Duration::ZERO).await;
    let sim = run.sim.sim.clone();
    back_without_an_alert("/open/loginAgain", run).await;
    assert_eq!(sim.calls_to("/open/loginAgain").len(), 1);
    assert_eq!(sim.calls_to("/open/offlineReason").len(), 2, "asked again");
}

#[tokio::test]
async fn a_sigterm_during_a_wechatpro_offline_reason_asks_again_and_recovers() {
    wechatpro_offline_reason_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_wechatpro_offline_reason_asks_again_and_recovers() {
    wechatpro_offline_reason_case(Stop::Kill).await;
}

fn wechatpro_second_login() -> Case {
    Case {
        scenario: "confirm_window = \"6s\"\n[[device]]\nvendor = \"wechatpro\"\nid = \"dev-4\"\n\
                   online = false\nconfirm_after = \"2s\"\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"wechatpro\"\nid = \"dev-4\"\n\
                 confirm_window = \"6s\"\n",
        endpoint: "/open/loginAgain",
        slow: None,
        prompt: "/open/loginAgain",
    }
}

/// loginAgain blocks until the person confirms; they confirm while the keeper is down.
async fn wechatpro_second_login_case(stop: Stop) {
    let run = interrupted(wechatpro_second_login(), stop, PERSON_CONFIRMS).await;
    let sim = run.sim.sim.clone();
    back_without_an_alert("/open/loginAgain", run).await;
    assert_eq!(sim.calls_to("/open/loginAgain").len(), 1);
}

#[tokio::test]
async fn a_sigterm_during_a_wechatpro_second_login_confirmed_meanwhile_recovers() {
    wechatpro_second_login_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_wechatpro_second_login_confirmed_meanwhile_recovers() {
    wechatpro_second_login_case(Stop::Kill).await;
}

fn wkteam_offline_reason() -> Case {
    Case {
        scenario: "confirm_window = \"4s\"\n[[device]]\nvendor = \"wkteam\"\nid = \"wc_5\"\n\
                   w_id = \"w-5\"\nonline = false\nconfirm_after = \"300ms\"\n\
                   stale_w_id = \"offline\"\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"wkteam\"\nid = \"wc_5\"\nw_id = \"w-5\"\n\
                 confirm_window = \"4s\"\n",
        endpoint: "/offlineReason",
        slow: Some(VendorKind::Wkteam),
        prompt: "/secondLogin",
    }
}

async fn wkteam_offline_reason_case(stop: Stop) {
    let run = interrupted(wkteam_offline_reason(), stop, Duration::ZERO).await;
    let sim = run.sim.sim.clone();
    back_without_an_alert("/secondLogin", run).await;
    assert_eq!(sim.calls_to("/secondLogin").len(), 1);
    assert_eq!(sim.calls_to("/offlineReason").len(), 2, "asked again");
}

#[tokio::test]
async fn a_sigterm_during_a_wkteam_offline_reason_asks_again_and_recovers() {
    wkteam_offline_reason_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_wkteam_offline_reason_asks_again_and_recovers() {
    wkteam_offline_reason_case(Stop::Kill).await;
}

fn wkteam_second_login() -> Case {
    Case {
        scenario: "confirm_window = \"6s\"\n[[device]]\nvendor = \"wkteam\"\nid = \"wc_6\"\n\
                   w_id = \"w-6\"\nonline = false\nconfirm_after = \"2s\"\n\
                   stale_w_id = \"offline\"\n",
        device: "[[device]]\nname = \"d\"\nprovider = \"wkteam\"\nid = \"wc_6\"\nw_id = \"w-6\"\n\
                 confirm_window = \"6s\"\n",
        endpoint: "/secondLogin",
        slow: None,
        prompt: "/secondLogin",
    }
}

/// The case: secondLogin blocks, the person confirms while the keeper is down, the
/// login rotates the wId and the gateway answers the old one `isOnline:false`.
async fn wkteam_second_login_case(stop: Stop) {
    let run = interrupted(wkteam_second_login(), stop, PERSON_CONFIRMS).await;
    let sim = run.sim.sim.clone();
    let rotated = sim
        .device(VendorKind::Wkteam, "wc_6")
        .and_then(|d| d.w_id)
        .unwrap_or_default();
    assert_ne!(rotated, "w-6", "the confirmed login rotated the wId");
    let adopted = run
        .daemon
        .wait_event("the new wId adopted", |e| is(e, "device.w_id_adopted", "d"))
        .await;
    assert!(
        adopted["message"]
            .as_str()
            .is_some_and(|m| m.contains(&rotated)),
        "{adopted}"
    );
    back_without_an_alert("/secondLogin", run).await;
    assert_eq!(sim.calls_to("/secondLogin").len(), 1);
}

#[tokio::test]
async fn a_sigterm_during_a_wkteam_second_login_keeps_the_new_wid() {
    wkteam_second_login_case(Stop::Term).await;
}

#[tokio::test]
async fn a_sigkill_during_a_wkteam_second_login_keeps_the_new_wid() {
    wkteam_second_login_case(Stop::Kill).await;
}
