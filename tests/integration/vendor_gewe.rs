//! The GeWe client against the simulator: one test per quirk of the vendor reference.

use std::time::Duration;

use session_keeper::vendor::gewe::{GeweClient, LoginCheck, LoginState};
use session_keeper::vendor::{
    DeviceRef, Probe, ReconnectOutcome, SecondLogin, Vendor, VendorError,
};

use crate::support::{eventually, start_sim};
use crate::vendor_support::{
    GEWE_TOKEN, SHORT_TIMEOUT, SimClients, TIMEOUT, assert_unknown_for, one_device,
    probe_under_fault,
};

const WAIT: Duration = Duration::from_secs(10);

fn with_region(id: &str) -> DeviceRef<'_> {
    DeviceRef {
        region_id: Some("320000"),
        ..DeviceRef::new(id)
    }
}

#[tokio::test]
async fn gewe_check_online_data_bool_is_online_or_offline() {
    let toml = one_device("gewe", "wx_on", "") + &one_device("gewe", "wx_off", "online = false");
    let sim = start_sim(&toml).await;
    let client = sim.gewe();
    let on = client.probe(DeviceRef::new("wx_on")).await;
    assert!(matches!(on, Probe::Online { last_login: None }), "{on:?}");
    let off = client.probe(DeviceRef::new("wx_off")).await;
    assert!(
        matches!(off, Probe::Offline { message: None, .. }),
        "{off:?}"
    );
}

#[tokio::test]
async fn gewe_phantom_online_reads_online() {
    // checkOnline says true while the account is gone: the client cannot tell and must not
    // pretend to; the ladder handles it through `无需重连` (next test).
    let sim = start_sim(&one_device(
        "gewe",
        "wx_1",
        "online = false\nphantom_online = true",
    ))
    .await;
    let probe = sim.gewe().probe(DeviceRef::new("wx_1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn gewe_no_reconnect_needed_is_reported_distinctly() {
    let extra = "online = false\nphantom_online = true\nreconnect = \"not_needed\"";
    let sim = start_sim(&one_device("gewe", "wx_1", extra)).await;
    let outcome = sim.gewe().reconnect(DeviceRef::new("wx_1")).await;
    match outcome {
        Ok(ReconnectOutcome::NotNeeded(text)) => assert!(text.contains("无需重连"), "{text}"),
        other => panic!("expected NotNeeded, got {other:?}"),
    }
}

#[tokio::test]
async fn gewe_reconnect_on_healthy_account_is_not_needed() {
    let sim = start_sim(&one_device("gewe", "wx_1", "")).await;
    let outcome = sim.gewe().reconnect(DeviceRef::new("wx_1")).await;
    assert!(
        matches!(outcome, Ok(ReconnectOutcome::NotNeeded(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn gewe_reconnect_success_is_accepted_and_device_returns() {
    let sim = start_sim(&one_device("gewe", "wx_1", "online = false")).await;
    let client = sim.gewe();
    let outcome = client.reconnect(DeviceRef::new("wx_1")).await;
    assert_eq!(outcome, Ok(ReconnectOutcome::Accepted));
    let probe = client.probe(DeviceRef::new("wx_1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn gewe_reconnect_failure_is_refused() {
    let sim = start_sim(&one_device(
        "gewe",
        "wx_1",
        "online = false\nreconnect = \"fail\"",
    ))
    .await;
    let outcome = sim.gewe().reconnect(DeviceRef::new("wx_1")).await;
    assert!(
        matches!(&outcome, Err(VendorError::Refused { code, message }) if code == "500" && message.contains("重连失败")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn gewe_echoed_token_is_credentials_rejected_and_redacted() {
    let sim = start_sim(&one_device("gewe", "wx_1", "")).await;
    let wrong = "wrong-SECRET-token";
    let client = sim.gewe_with(&sim.gewe_base(), wrong, TIMEOUT);
    let Probe::Unknown(error) = client.probe(DeviceRef::new("wx_1")).await else {
        panic!("a rejected token must not give an answer");
    };
    assert!(error.is_credentials(), "{error:?}");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(
        !shown.contains(wrong) && !shown.contains(GEWE_TOKEN),
        "{shown}"
    );
    let reconnect = client.reconnect(DeviceRef::new("wx_1")).await;
    assert!(
        matches!(reconnect, Err(VendorError::CredentialsRejected(_))),
        "{reconnect:?}"
    );
}

#[tokio::test]
async fn gewe_unknown_app_id_is_device_gone_from_nested_msg() {
    let sim = start_sim("").await;
    let probe = sim.gewe().probe(DeviceRef::new("wx_nobody")).await;
    match probe {
        Probe::Unknown(VendorError::DeviceGone(text)) => {
            assert!(text.contains("设备不存在"), "{text}")
        }
        other => panic!("expected device gone, got {other:?}"),
    }
}

#[tokio::test]
async fn gewe_dialog_login_on_logged_in_account_is_already_logged_in() {
    let sim = start_sim(&one_device("gewe", "wx_1", "")).await;
    let login = sim.gewe().second_login(with_region("wx_1"), WAIT).await;
    assert!(
        matches!(login, Err(VendorError::AlreadyLoggedIn(_))),
        "{login:?}"
    );
}

#[tokio::test]
async fn gewe_dialog_login_prompt_confirmed_brings_device_back() {
    let extra = "online = false\nsecond_login = \"confirm\"\nconfirm_after = \"300ms\"";
    let sim = start_sim(&one_device("gewe", "wx_1", extra)).await;
    let client = sim.gewe();
    let login = client.second_login(with_region("wx_1"), WAIT).await;
    assert!(
        matches!(
            &login,
            Ok(SecondLogin {
                new_w_id: None,
                login_uuid: Some(_)
            })
        ),
        "{login:?}"
    );
    // dialogLogin answers at once; the person confirms later and probes see it.
    eventually("the probe reads online after the confirm", WAIT, || async {
        matches!(
            client.probe(DeviceRef::new("wx_1")).await,
            Probe::Online { .. }
        )
    })
    .await;
}

/// The uuid of a dialog login on `id`, which must succeed.
async fn dialog_login_uuid(client: &GeweClient, id: &str) -> String {
    match client.second_login(with_region(id), WAIT).await {
        Ok(SecondLogin {
            login_uuid: Some(uuid),
            ..
        }) => uuid,
        other => panic!("expected a dialog login with a uuid, got {other:?}"),
    }
}

#[tokio::test]
async fn gewe_dialog_login_uuid_follows_the_login_with_check_login() {
    let toml = one_device(
        "gewe",
        "wx_yes",
        "online = false\nsecond_login = \"confirm\"\nconfirm_after = \"300ms\"",
    ) + &one_device("gewe", "wx_no", "online = false\nsecond_login = \"never\"");
    let sim = start_sim(&toml).await;
    let client = sim.gewe();
    // Nobody confirms on wx_no: its login keeps waiting.
    let uuid = dialog_login_uuid(&client, "wx_no").await;
    let check = client.check_login("wx_no", &uuid).await;
    assert!(
        matches!(
            check,
            Ok(LoginCheck {
                state: LoginState::Waiting,
                expires_in: Some(_)
            })
        ),
        "{check:?}"
    );
    let uuid = dialog_login_uuid(&client, "wx_yes").await;
    eventually(
        "checkLogin says logged in after the confirm",
        WAIT,
        || async {
            let check = client.check_login("wx_yes", &uuid).await;
            assert!(check.is_ok(), "{check:?}");
            matches!(
                check,
                Ok(LoginCheck {
                    state: LoginState::LoggedIn,
                    ..
                })
            )
        },
    )
    .await;
}

#[tokio::test]
async fn gewe_dialog_login_refusal_is_refused() {
    let extra = "online = false\nsecond_login = \"refuse\"";
    let sim = start_sim(&one_device("gewe", "wx_1", extra)).await;
    let login = sim.gewe().second_login(with_region("wx_1"), WAIT).await;
    assert!(
        matches!(login, Err(VendorError::Refused { .. })),
        "{login:?}"
    );
}

#[tokio::test]
async fn gewe_dialog_login_needs_region_id() {
    let sim = start_sim(&one_device("gewe", "wx_1", "online = false")).await;
    let login = sim.gewe().second_login(DeviceRef::new("wx_1"), WAIT).await;
    assert_eq!(
        login,
        Err(VendorError::Unsupported("gewe dialogLogin needs region_id"))
    );
    assert!(
        sim.calls_to("/login/dialogLogin").is_empty(),
        "a call was sent without regionId"
    );
}

#[tokio::test]
async fn gewe_self_hosted_prefix_serves_the_same_paths() {
    let sim = start_sim(&one_device("gewe", "wx_1", "online = false")).await;
    let client = sim.gewe_with(&sim.url("/v2/api"), GEWE_TOKEN, TIMEOUT);
    let probe = client.probe(DeviceRef::new("wx_1")).await;
    assert!(matches!(probe, Probe::Offline { .. }), "{probe:?}");
    let calls = sim.calls_to("/login/checkOnline");
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["/v2/api/login/checkOnline"]);
}

#[tokio::test]
async fn gewe_offline_reason_and_last_login_are_unsupported() {
    let sim = start_sim(&one_device("gewe", "wx_1", "")).await;
    let client = sim.gewe();
    let reason = client.offline_reason(DeviceRef::new("wx_1")).await;
    assert!(
        matches!(reason, Err(VendorError::Unsupported(_))),
        "{reason:?}"
    );
    let last = client.last_login(DeviceRef::new("wx_1")).await;
    assert!(matches!(last, Err(VendorError::Unsupported(_))), "{last:?}");
    assert!(
        sim.sim.calls(0).is_empty(),
        "unsupported calls reached the gateway"
    );
}

async fn gewe_fault(fault: &str) -> Probe {
    let timeout = if fault == "timeout" {
        SHORT_TIMEOUT
    } else {
        TIMEOUT
    };
    probe_under_fault("gewe", DeviceRef::new("wx_1"), fault, |sim| {
        sim.gewe_with(&sim.gewe_base(), GEWE_TOKEN, timeout)
    })
    .await
}

#[tokio::test]
async fn gewe_http500_is_unknown() {
    assert_unknown_for(&gewe_fault("http500").await, "http500");
}

#[tokio::test]
async fn gewe_timeout_is_unknown() {
    assert_unknown_for(&gewe_fault("timeout").await, "timeout");
}

#[tokio::test]
async fn gewe_malformed_body_is_unknown() {
    assert_unknown_for(&gewe_fault("malformed").await, "malformed");
}

#[tokio::test]
async fn gewe_closed_connection_is_unknown() {
    assert_unknown_for(&gewe_fault("close").await, "close");
}
