//! The WKTeam client against the simulator: one test per quirk of the vendor reference.

use std::time::Duration;

use session_keeper::vendor::{DeviceRef, Probe, ReasonCategory, Vendor, VendorError, VendorKind};

use crate::support::start_sim;
use crate::vendor_support::{
    SHORT_TIMEOUT, SimClients, TIMEOUT, WKTEAM_AUTH, assert_unknown_for, one_device,
    probe_under_fault,
};

const WAIT: Duration = Duration::from_secs(10);

/// The account `wxid_1` with login instance `w-0001`.
fn account(extra: &str) -> String {
    one_device("wkteam", "wxid_1", &format!("w_id = \"w-0001\"\n{extra}"))
}

fn device(w_id: &str) -> DeviceRef<'_> {
    DeviceRef {
        w_id: Some(w_id),
        ..DeviceRef::new("wxid_1")
    }
}

#[tokio::test]
async fn wkteam_online_is_code_1000_with_is_online_true() {
    let sim = start_sim(&account("")).await;
    let probe = sim.wkteam().probe(device("w-0001")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn wkteam_offline_is_code_1000_with_is_online_false() {
    let sim = start_sim(&account("online = false")).await;
    let probe = sim.wkteam().probe(device("w-0001")).await;
    assert!(
        matches!(probe, Probe::Offline { message: None, .. }),
        "{probe:?}"
    );
}

#[tokio::test]
async fn wkteam_nested_failure_in_1000_is_failure() {
    let sim = start_sim(&account("online = false\nsecond_login = \"refuse_nested\"")).await;
    let login = sim.wkteam().second_login(device("w-0001"), WAIT).await;
    assert!(
        matches!(&login, Err(VendorError::Refused { code, message }) if code == "1001" && message.contains("二次登录失败")),
        "{login:?}"
    );
    // The outer envelope said success: the sim must have answered it, and the wId is unchanged.
    let view = sim.sim.device(VendorKind::Wkteam, "wxid_1");
    assert_eq!(view.and_then(|v| v.w_id).as_deref(), Some("w-0001"));
}

#[tokio::test]
async fn wkteam_plain_1001_failure_is_refused() {
    let sim = start_sim(&account("online = false\nsecond_login = \"refuse\"")).await;
    let login = sim.wkteam().second_login(device("w-0001"), WAIT).await;
    assert!(
        matches!(&login, Err(VendorError::Refused { code, .. }) if code == "1001"),
        "{login:?}"
    );
}

#[tokio::test]
async fn wkteam_second_login_returns_new_wid() {
    let confirming = "online = false\nconfirm_after = \"300ms\"";
    let sim = start_sim(&account(confirming)).await;
    let client = sim.wkteam();
    // The call is held until the person confirms; the confirmed login has a new wId.
    let started = std::time::Instant::now();
    let login = client.second_login(device("w-0001"), WAIT).await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "held until confirmed"
    );
    let new_w_id = match login {
        Ok(login) => login.new_w_id,
        Err(e) => panic!("second login failed: {e}"),
    };
    let Some(new_w_id) = new_w_id else {
        panic!("no new wId returned");
    };
    assert_ne!(new_w_id, "w-0001");
    let view = sim.sim.device(VendorKind::Wkteam, "wxid_1");
    assert_eq!(view.and_then(|v| v.w_id), Some(new_w_id.clone()));
    // The new wId answers; the old one is dead.
    let probe = client.probe(device(&new_w_id)).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    let stale = client.probe(device("w-0001")).await;
    assert!(
        matches!(stale, Probe::Unknown(VendorError::DeviceGone(_))),
        "{stale:?}"
    );
}

#[tokio::test]
async fn wkteam_second_login_unconfirmed_is_unconfirmed_and_keeps_the_wid() {
    let toml = format!(
        "confirm_window = \"500ms\"\n{}",
        account("online = false\nsecond_login = \"never\"")
    );
    let sim = start_sim(&toml).await;
    let login = sim.wkteam().second_login(device("w-0001"), WAIT).await;
    assert!(
        matches!(&login, Err(VendorError::Unconfirmed(message)) if message.contains("超时")),
        "{login:?}"
    );
    let view = sim.sim.device(VendorKind::Wkteam, "wxid_1");
    assert_eq!(view.and_then(|v| v.w_id).as_deref(), Some("w-0001"));
}

#[tokio::test]
async fn wkteam_second_login_with_type_2_for_old_servers() {
    let sim = start_sim(&account("online = false\nconfirm_after = \"100ms\"")).await;
    let client = sim.wkteam_with(WKTEAM_AUTH, Some(2), TIMEOUT);
    let login = client.second_login(device("w-0001"), WAIT).await;
    assert!(matches!(&login, Ok(s) if s.new_w_id.is_some()), "{login:?}");
}

#[tokio::test]
async fn wkteam_a_rotated_wid_can_read_offline_and_the_account_is_found_by_its_wcid() {
    let sim = start_sim(&account("stale_w_id = \"offline\"")).await;
    if let Err(e) = sim.sim.login(VendorKind::Wkteam, "wxid_1") {
        panic!("sim login failed: {e}");
    }
    let client = sim.wkteam();
    // Some gateways answer an old wId with isOnline:false, as if the account were offline.
    let stale = client.probe(device("w-0001")).await;
    assert!(matches!(stale, Probe::Offline { .. }), "{stale:?}");
    let found = client.find_account("wxid_1", Duration::ZERO).await;
    let current = sim
        .sim
        .device(VendorKind::Wkteam, "wxid_1")
        .and_then(|v| v.w_id);
    assert_eq!(found.ok().flatten(), current);
    assert_ne!(current.as_deref(), Some("w-0001"));
    // A second device asking at once is served by the same listing.
    let again = client.find_account("wxid_1", Duration::from_secs(30)).await;
    assert_eq!(again.ok().flatten(), current);
    assert_eq!(sim.calls_to("/queryLoginWx").len(), 1);
    let nobody = client.find_account("wxid_9", Duration::from_secs(30)).await;
    assert_eq!(nobody.ok(), Some(None));
}

#[tokio::test]
async fn wkteam_second_login_while_online_is_already_logged_in() {
    let sim = start_sim(&account("")).await;
    let login = sim.wkteam().second_login(device("w-0001"), WAIT).await;
    assert!(
        matches!(login, Err(VendorError::AlreadyLoggedIn(_))),
        "{login:?}"
    );
}

#[tokio::test]
async fn wkteam_stale_wid_is_device_gone_not_offline() {
    let sim = start_sim(&account("online = false")).await;
    let probe = sim.wkteam().probe(device("w-stale")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::DeviceGone(_))),
        "{probe:?}"
    );
}

#[tokio::test]
async fn wkteam_probe_without_wid_is_unknown() {
    let sim = start_sim(&account("")).await;
    let probe = sim.wkteam().probe(DeviceRef::new("wxid_1")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::Unsupported(_))),
        "{probe:?}"
    );
    assert!(
        sim.sim.calls(0).is_empty(),
        "a probe without wId reached the gateway"
    );
}

#[tokio::test]
async fn wkteam_logged_in_rediscovers_the_rotated_wid() {
    let toml = account("") + &one_device("wkteam", "wxid_2", "online = false");
    let sim = start_sim(&toml).await;
    // A person logs in again by QR elsewhere: the wId rotates behind the keeper's back.
    if let Err(e) = sim.sim.login(VendorKind::Wkteam, "wxid_1") {
        panic!("sim login failed: {e}");
    }
    let current = sim
        .sim
        .device(VendorKind::Wkteam, "wxid_1")
        .and_then(|v| v.w_id);
    let pairs = match sim.wkteam().logged_in().await {
        Ok(pairs) => pairs,
        Err(e) => panic!("queryLoginWx failed: {e}"),
    };
    let found: Vec<_> = pairs
        .into_iter()
        .filter(|(wc_id, _)| wc_id == "wxid_1")
        .map(|(_, w)| w)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(Some(found[0].clone()), current);
    assert_ne!(found[0], "w-0001");
}

#[tokio::test]
async fn wkteam_offline_reason_twice_within_12h_is_rate_limited() {
    let sim = start_sim(&account(
        "online = false\noffline_reason = \"你已退出微信\"",
    ))
    .await;
    let client = sim.wkteam();
    let first = client.offline_reason(device("w-0001")).await;
    match first {
        Ok(Some(reason)) => assert_eq!(reason.category, ReasonCategory::LoggedOut),
        other => panic!("expected a reason, got {other:?}"),
    }
    let second = client.offline_reason(device("w-0001")).await;
    assert!(
        matches!(second, Err(VendorError::RateLimited(_))),
        "{second:?}"
    );
}

#[tokio::test]
async fn wkteam_wrong_authorization_is_credentials_rejected() {
    let sim = start_sim(&account("")).await;
    let client = sim.wkteam_with("wrong-SECRET-auth", None, TIMEOUT);
    let probe = client.probe(device("w-0001")).await;
    assert!(
        matches!(&probe, Probe::Unknown(e) if e.is_credentials()),
        "{probe:?}"
    );
    assert!(!format!("{probe:?} {client:?}").contains("wrong-SECRET-auth"));
}

async fn wkteam_fault(fault: &str) -> Probe {
    let timeout = if fault == "timeout" {
        SHORT_TIMEOUT
    } else {
        TIMEOUT
    };
    probe_under_fault("wkteam", device("w-0001"), fault, |sim| {
        sim.wkteam_with(WKTEAM_AUTH, None, timeout)
    })
    .await
}

#[tokio::test]
async fn wkteam_http500_is_unknown() {
    assert_unknown_for(&wkteam_fault("http500").await, "http500");
}

#[tokio::test]
async fn wkteam_timeout_is_unknown() {
    assert_unknown_for(&wkteam_fault("timeout").await, "timeout");
}

#[tokio::test]
async fn wkteam_malformed_body_is_unknown() {
    assert_unknown_for(&wkteam_fault("malformed").await, "malformed");
}

#[tokio::test]
async fn wkteam_closed_connection_is_unknown() {
    assert_unknown_for(&wkteam_fault("close").await, "close");
}
