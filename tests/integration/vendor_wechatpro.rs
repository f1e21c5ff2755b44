//! The wechatpro client against the simulator: one test per quirk of the vendor reference.

use std::time::Duration;

use jiff::Timestamp;
use session_keeper::vendor::{
    DeviceRef, Probe, ReasonCategory, SecondLogin, Vendor, VendorError, VendorKind,
};

use crate::support::start_sim;
use crate::vendor_support::{
    SHORT_TIMEOUT, SimClients, TIMEOUT, WECHATPRO_AUTH, assert_unknown_for, one_device,
    probe_under_fault,
};

/// Far longer than any prompt in these scenarios.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn wechatpro_code_1000_is_online() {
    let sim = start_sim(&one_device("wechatpro", "dev-1", "")).await;
    let probe = sim.wechatpro().probe(DeviceRef::new("dev-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn wechatpro_1001_offline_message_is_offline() {
    let sim = start_sim(&one_device("wechatpro", "dev-1", "online = false")).await;
    let probe = sim.wechatpro().probe(DeviceRef::new("dev-1")).await;
    match probe {
        Probe::Offline {
            message: Some(text),
            ..
        } => assert_eq!(text, "已离线"),
        other => panic!("expected offline with the vendor's words, got {other:?}"),
    }
}

#[tokio::test]
async fn wechatpro_1001_unknown_exception_is_unknown_not_offline() {
    let sim = start_sim(&one_device(
        "wechatpro",
        "dev-1",
        "online = false\nfault = \"unknown\"",
    ))
    .await;
    let probe = sim.wechatpro().probe(DeviceRef::new("dev-1")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::VendorUnknown(_))),
        "{probe:?}"
    );
}

#[tokio::test]
async fn wechatpro_calls_spaced_one_second_per_device() {
    let sim = start_sim(&one_device("wechatpro", "dev-1", "")).await;
    let client = sim.wechatpro();
    // Three probes of one device at once: the gateway refuses calls closer than 1 s, so every
    // one answering "online" proves the client spaced them; the call log shows the gaps.
    let probes = (0..3).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.probe(DeviceRef::new("dev-1")).await })
    });
    for task in probes.collect::<Vec<_>>() {
        let probe = task.await.map_err(|e| e.to_string());
        assert!(matches!(probe, Ok(Probe::Online { .. })), "{probe:?}");
    }
    let calls = sim.calls_to("/open/isOnline");
    assert_eq!(calls.len(), 3, "{calls:?}");
    for pair in calls.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= jiff::SignedDuration::from_secs(1),
            "calls {gap:?} apart"
        );
    }
}

#[tokio::test]
async fn wechatpro_wrong_authorization_is_credentials_rejected() {
    let sim = start_sim(&one_device("wechatpro", "dev-1", "")).await;
    let wrong = "wrong-SECRET-auth";
    let client = sim.wechatpro_with(wrong, TIMEOUT);
    let probe = client.probe(DeviceRef::new("dev-1")).await;
    assert!(
        matches!(&probe, Probe::Unknown(e) if e.is_credentials()),
        "{probe:?}"
    );
    let shown = format!("{probe:?} {client:?}");
    assert!(
        !shown.contains(wrong) && !shown.contains(WECHATPRO_AUTH),
        "{shown}"
    );
}

#[tokio::test]
async fn wechatpro_unknown_device_is_device_gone() {
    let sim = start_sim("").await;
    let probe = sim.wechatpro().probe(DeviceRef::new("dev-nobody")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::DeviceGone(_))),
        "{probe:?}"
    );
}

#[tokio::test]
async fn wechatpro_login_again_blocks_until_the_person_confirms() {
    let extra = "online = false\nsecond_login = \"confirm\"\nconfirm_after = \"1s\"";
    let sim = start_sim(&one_device("wechatpro", "dev-1", extra)).await;
    let login = sim
        .wechatpro()
        .second_login(DeviceRef::new("dev-1"), WAIT)
        .await;
    assert_eq!(login, Ok(SecondLogin::default()));
    // The call returned only once the person confirmed: the device is online already.
    let view = sim.sim.device(VendorKind::Wechatpro, "dev-1");
    assert!(
        view.is_some_and(|v| v.online),
        "device not online after loginAgain returned"
    );
}

#[tokio::test]
async fn wechatpro_login_again_unconfirmed_expires_as_unconfirmed() {
    let toml = format!(
        "confirm_window = \"1s\"\n{}",
        one_device(
            "wechatpro",
            "dev-1",
            "online = false\nsecond_login = \"never\""
        )
    );
    let sim = start_sim(&toml).await;
    let login = sim
        .wechatpro()
        .second_login(DeviceRef::new("dev-1"), WAIT)
        .await;
    // "二次登录超时": the prompt was shown and lapsed, which is not a refusal of second logins.
    assert!(
        matches!(&login, Err(VendorError::Unconfirmed(message)) if message.contains("超时")),
        "{login:?}"
    );
}

#[tokio::test]
async fn wechatpro_login_again_refusal_is_refused() {
    let sim = start_sim(&one_device(
        "wechatpro",
        "dev-1",
        "online = false\nsecond_login = \"refuse\"",
    ))
    .await;
    let login = sim
        .wechatpro()
        .second_login(DeviceRef::new("dev-1"), WAIT)
        .await;
    assert!(
        matches!(login, Err(VendorError::Refused { .. })),
        "{login:?}"
    );
}

#[tokio::test]
async fn wechatpro_login_again_on_online_device_is_already_logged_in() {
    let sim = start_sim(&one_device("wechatpro", "dev-1", "")).await;
    let login = sim
        .wechatpro()
        .second_login(DeviceRef::new("dev-1"), WAIT)
        .await;
    assert!(
        matches!(login, Err(VendorError::AlreadyLoggedIn(_))),
        "{login:?}"
    );
}

#[tokio::test]
async fn wechatpro_recycled_device_second_login_is_refused() {
    let toml = format!(
        "recycle_after = \"20d\"\n{}",
        one_device(
            "wechatpro",
            "dev-1",
            "online = false\nlast_login = \"2020-01-01T00:00:00Z\""
        )
    );
    let sim = start_sim(&toml).await;
    let login = sim
        .wechatpro()
        .second_login(DeviceRef::new("dev-1"), WAIT)
        .await;
    assert!(
        matches!(login, Err(VendorError::Refused { .. })),
        "{login:?}"
    );
}

#[tokio::test]
async fn wechatpro_offline_reason_is_classified() {
    let toml = one_device(
        "wechatpro",
        "dev-1",
        "online = false\noffline_reason = \"在 iPad 设备上登录\"",
    ) + &one_device("wechatpro", "dev-2", "online = false");
    let sim = start_sim(&toml).await;
    let client = sim.wechatpro();
    let reason = client.offline_reason(DeviceRef::new("dev-1")).await;
    match reason {
        Ok(Some(reason)) => {
            assert_eq!(reason.category, ReasonCategory::OtherDevice);
            assert!(reason.needs_person());
        }
        other => panic!("expected a reason, got {other:?}"),
    }
    assert_eq!(
        client.offline_reason(DeviceRef::new("dev-2")).await,
        Ok(None)
    );
}

#[tokio::test]
async fn wechatpro_workstation_last_login_is_china_time() {
    let extra = "last_login = \"2026-11-20T08:00:00Z\"";
    let sim = start_sim(&one_device("wechatpro", "dev-1", extra)).await;
    let last = sim.wechatpro().last_login(DeviceRef::new("dev-1")).await;
    assert_eq!(last, Ok("2026-11-20T08:00:00Z".parse::<Timestamp>().ok()));
}

#[tokio::test]
async fn wechatpro_online_devices_lists_only_online_ids() {
    let toml = one_device("wechatpro", "dev-1", "")
        + &one_device("wechatpro", "dev-2", "online = false")
        + &one_device("wechatpro", "dev-3", "");
    let sim = start_sim(&toml).await;
    let mut ids = match sim.wechatpro().online_devices().await {
        Ok(ids) => ids,
        Err(e) => panic!("queryLoginDevice failed: {e}"),
    };
    ids.sort();
    assert_eq!(ids, vec!["dev-1".to_owned(), "dev-3".to_owned()]);
}

async fn wechatpro_fault(fault: &str) -> Probe {
    let timeout = if fault == "timeout" {
        SHORT_TIMEOUT
    } else {
        TIMEOUT
    };
    probe_under_fault("wechatpro", DeviceRef::new("dev-1"), fault, |sim| {
        sim.wechatpro_with(WECHATPRO_AUTH, timeout)
    })
    .await
}

#[tokio::test]
async fn wechatpro_http500_is_unknown() {
    assert_unknown_for(&wechatpro_fault("http500").await, "http500");
}

#[tokio::test]
async fn wechatpro_timeout_is_unknown_not_offline() {
    assert_unknown_for(&wechatpro_fault("timeout").await, "timeout");
}

#[tokio::test]
async fn wechatpro_malformed_body_is_unknown() {
    assert_unknown_for(&wechatpro_fault("malformed").await, "malformed");
}

#[tokio::test]
async fn wechatpro_closed_connection_is_unknown() {
    assert_unknown_for(&wechatpro_fault("close").await, "close");
}
