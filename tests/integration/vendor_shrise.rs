//! The shrise client against the simulator: one test per quirk of the vendor reference.

use std::time::Duration;

use jiff::Timestamp;
use secrecy::ExposeSecret;
use session_keeper::vendor::{DeviceRef, Probe, Vendor, VendorError};

use crate::support::start_sim;
use crate::vendor_support::{
    SHORT_TIMEOUT, SHRISE_ACCESS, SHRISE_REFRESH, SimClients, TIMEOUT, assert_unknown_for,
    one_device, probe_under_fault,
};

const REFRESH: &str = "/app/auth/token/refresh";
const CHECK_PATH: &str = "/wx/pc/check-login-status/PC-1";
const LAST_LOGIN: &str = "2026-11-20T08:00:00Z";

fn pc(extra: &str) -> String {
    one_device(
        "shrise",
        "PC-1",
        &format!("last_login = \"{LAST_LOGIN}\"\n{extra}"),
    )
}

fn last_login() -> Option<Timestamp> {
    LAST_LOGIN.parse().ok()
}

#[tokio::test]
async fn shrise_is_login_true_is_online_with_last_login() {
    let sim = start_sim(&pc("")).await;
    let probe = sim
        .shrise(SHRISE_ACCESS, SHRISE_REFRESH)
        .probe(DeviceRef::new("PC-1"))
        .await;
    assert!(
        matches!(probe, Probe::Online { last_login: l } if l == last_login()),
        "{probe:?}"
    );
}

#[tokio::test]
async fn shrise_is_login_false_is_offline_with_last_login() {
    let sim = start_sim(&pc("online = false")).await;
    let client = sim.shrise(SHRISE_ACCESS, SHRISE_REFRESH);
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(
        matches!(probe, Probe::Offline { message: None, last_login: l } if l == last_login()),
        "{probe:?}"
    );
    assert_eq!(
        client.last_login(DeviceRef::new("PC-1")).await,
        Ok(last_login())
    );
}

#[tokio::test]
async fn shrise_rejected_token_refreshes_once_and_retries() {
    let sim = start_sim(&pc("")).await;
    let client = sim.shrise("stale-access", SHRISE_REFRESH);
    let mut updates = client.token_updates();
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    assert_eq!(sim.calls_to(REFRESH).len(), 1);
    let statuses: Vec<_> = sim.calls_at(CHECK_PATH).iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Some(401), Some(200)]);
    // The rotation is published for the keeper to store; the refresh token stays.
    assert!(updates.has_changed().unwrap_or(false));
    let pair = updates.borrow_and_update().clone();
    assert_ne!(pair.access.expose_secret(), "stale-access");
    assert_eq!(pair.refresh.expose_secret(), SHRISE_REFRESH);
    assert!(pair.access_expires.is_some());
}

#[tokio::test]
async fn shrise_code_401_in_http_200_also_refreshes() {
    let toml = format!("[credentials]\nshrise_reject = \"code\"\n\n{}", pc(""));
    let sim = start_sim(&toml).await;
    let client = sim.shrise("stale-access", SHRISE_REFRESH);
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    assert_eq!(sim.calls_to(REFRESH).len(), 1);
}

#[tokio::test]
async fn shrise_concurrent_rejections_cause_one_refresh() {
    let sim = start_sim(&pc("")).await;
    let client = sim.shrise("stale-access", SHRISE_REFRESH);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.probe(DeviceRef::new("PC-1")).await })
        })
        .collect();
    for task in tasks {
        let probe = task.await.map_err(|e| e.to_string());
        assert!(matches!(probe, Ok(Probe::Online { .. })), "{probe:?}");
    }
    // A second refresh would have retired the first new token while others used it.
    assert_eq!(sim.calls_to(REFRESH).len(), 1);
}

#[tokio::test]
async fn shrise_dead_refresh_token_is_credentials_rejected() {
    let sim = start_sim(&pc("")).await;
    let client = sim.shrise("stale-access", "stale-refresh");
    let updates = client.token_updates();
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    match &probe {
        Probe::Unknown(VendorError::CredentialsRejected(text)) => {
            assert!(text.contains("refreshToken已失效"), "{text}");
            assert!(!text.contains("stale-"), "{text}");
        }
        other => panic!("expected credentials rejected, got {other:?}"),
    }
    assert_eq!(sim.calls_to(REFRESH).len(), 1);
    assert_eq!(
        sim.calls_at(CHECK_PATH).len(),
        1,
        "retried without a new token"
    );
    assert!(!updates.has_changed().unwrap_or(true));
}

#[tokio::test]
async fn shrise_proactive_refresh_rotates_and_keeps_working() {
    let sim = start_sim(&pc("")).await;
    let client = sim.shrise(SHRISE_ACCESS, SHRISE_REFRESH);
    let updates = client.token_updates();
    let pair = match client.refresh_tokens().await {
        Ok(pair) => pair,
        Err(e) => panic!("refresh failed: {e}"),
    };
    assert_ne!(pair.access.expose_secret(), SHRISE_ACCESS);
    assert_eq!(
        updates.borrow().access.expose_secret(),
        pair.access.expose_secret()
    );
    assert_eq!(
        client.tokens().await.access.expose_secret(),
        pair.access.expose_secret()
    );
    // The platform retired the old access token; the client uses the new one without
    // another refresh.
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    assert_eq!(sim.calls_to(REFRESH).len(), 1);
}

#[tokio::test]
async fn shrise_custom_header_and_prefix() {
    let toml = format!(
        "[credentials]\nshrise_header = \"X-Access-Token\"\nshrise_prefix = \"\"\n\n{}",
        pc("")
    );
    let sim = start_sim(&toml).await;
    let client = sim.shrise_with(SHRISE_ACCESS, SHRISE_REFRESH, "X-Access-Token", "", TIMEOUT);
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    assert!(
        sim.calls_to(REFRESH).is_empty(),
        "the custom header was not accepted"
    );
}

#[tokio::test]
async fn shrise_unknown_device_is_device_gone() {
    let sim = start_sim("").await;
    let probe = sim
        .shrise(SHRISE_ACCESS, SHRISE_REFRESH)
        .probe(DeviceRef::new("PC-X"))
        .await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::DeviceGone(_))),
        "{probe:?}"
    );
}

#[tokio::test]
async fn shrise_devices_are_check_and_alert_only() {
    let sim = start_sim(&pc("online = false")).await;
    let client = sim.shrise(SHRISE_ACCESS, SHRISE_REFRESH);
    let device = DeviceRef::new("PC-1");
    let unsupported = VendorError::Unsupported("shrise devices are check-and-alert");
    assert_eq!(client.reconnect(device).await, Err(unsupported.clone()));
    let login = client.second_login(device, Duration::from_secs(5)).await;
    assert_eq!(login, Err(unsupported.clone()));
    assert_eq!(client.offline_reason(device).await, Err(unsupported));
    assert!(
        sim.sim.calls(0).is_empty(),
        "an unsupported call reached the platform"
    );
}

async fn shrise_fault(fault: &str) -> Probe {
    let timeout = if fault == "timeout" {
        SHORT_TIMEOUT
    } else {
        TIMEOUT
    };
    probe_under_fault("shrise", DeviceRef::new("PC-1"), fault, |sim| {
        sim.shrise_with(
            SHRISE_ACCESS,
            SHRISE_REFRESH,
            "Authorization",
            "Bearer ",
            timeout,
        )
    })
    .await
}

#[tokio::test]
async fn shrise_http500_is_unknown() {
    assert_unknown_for(&shrise_fault("http500").await, "http500");
}

#[tokio::test]
async fn shrise_timeout_is_unknown() {
    assert_unknown_for(&shrise_fault("timeout").await, "timeout");
}

#[tokio::test]
async fn shrise_malformed_body_is_unknown() {
    assert_unknown_for(&shrise_fault("malformed").await, "malformed");
}

#[tokio::test]
async fn shrise_closed_connection_is_unknown() {
    assert_unknown_for(&shrise_fault("close").await, "close");
}
