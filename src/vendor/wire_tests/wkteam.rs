//! WKTeam on the wire: JSON POSTs at the root with a raw `Authorization` header.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer};

use super::{json_answer, received, settings};
use crate::vendor::wkteam::WkteamClient;
use crate::vendor::{Auth, DeviceRef, Probe, Vendor, VendorError};

const AUTHORIZATION: &str = "wk-SECRET-auth";

fn client(server: &MockServer, second_login_type: Option<i64>) -> WkteamClient {
    let auth = Auth::Wkteam {
        authorization: SecretString::from(AUTHORIZATION),
        second_login_type,
    };
    match WkteamClient::new(&settings(server, "", auth)) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

fn wk_call(endpoint: &str, body: serde_json::Value) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(endpoint))
        .and(header("Authorization", AUTHORIZATION))
        .and(header("Content-Type", "application/json"))
        .and(body_json(body))
}

#[tokio::test]
async fn is_online_sends_the_wid_and_accepts_an_integer_code() {
    let server = MockServer::start().await;
    wk_call("/isOnline", json!({"wId": "w-1"}))
        .respond_with(json_answer(
            json!({"message": "成功", "code": 1000, "data": {"isOnline": true}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let device = DeviceRef {
        w_id: Some("w-1"),
        ..DeviceRef::new("wxid_1")
    };
    let probe = client(&server, None).probe(device).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn second_login_body_without_and_with_type() {
    let server = MockServer::start().await;
    let answer = |w_id: &str| {
        json_answer(
            json!({"message": "二次登录成功", "code": "1000", "data": {"wcId": "wxid_1", "wId": w_id}}),
        )
    };
    wk_call("/secondLogin", json!({"wcId": "wxid_1"}))
        .respond_with(answer("w-plain"))
        .expect(1)
        .mount(&server)
        .await;
    wk_call("/secondLogin", json!({"wcId": "wxid_1", "type": 2}))
        .respond_with(answer("w-typed"))
        .expect(1)
        .mount(&server)
        .await;
    let wait = Duration::from_secs(5);
    let plain = client(&server, None)
        .second_login(DeviceRef::new("wxid_1"), wait)
        .await;
    assert_eq!(plain.map(|s| s.new_w_id), Ok(Some("w-plain".to_owned())));
    let typed = client(&server, Some(2))
        .second_login(DeviceRef::new("wxid_1"), wait)
        .await;
    assert_eq!(typed.map(|s| s.new_w_id), Ok(Some("w-typed".to_owned())));
}

#[tokio::test]
async fn offline_reason_and_logged_in_shapes() {
    let server = MockServer::start().await;
    let reasons = json!([{"wcId": "wxid_1", "reason": "你已退出微信"}]);
    wk_call("/offlineReason", json!({"wcId": "wxid_1"}))
        .respond_with(json_answer(
            json!({"message": "成功", "code": "1000", "data": reasons}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let accounts = json!([{"wcId": "wxid_1", "wId": "w-9"}]);
    wk_call("/queryLoginWx", json!({}))
        .respond_with(json_answer(
            json!({"message": "成功", "code": "1000", "data": accounts}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, None);
    let reason = client.offline_reason(DeviceRef::new("wxid_1")).await;
    assert_eq!(
        reason.map(|r| r.map(|r| r.text)),
        Ok(Some("你已退出微信".to_owned()))
    );
    let logged_in = client.logged_in().await;
    assert_eq!(logged_in, Ok(vec![("wxid_1".to_owned(), "w-9".to_owned())]));
}

#[tokio::test]
async fn probe_without_wid_sends_nothing() {
    let server = MockServer::start().await;
    let probe = client(&server, None).probe(DeviceRef::new("wxid_1")).await;
    assert!(
        matches!(
            probe,
            Probe::Unknown(VendorError::Unsupported("wkteam device has no wId"))
        ),
        "{probe:?}"
    );
    let received = received(&server).await;
    assert!(received.is_empty());
    let shown = format!("{:?}", client(&server, None));
    assert!(!shown.contains(AUTHORIZATION), "{shown}");
}

/// A client with a short provider timeout (300 ms).
fn impatient_client(server: &MockServer) -> WkteamClient {
    let auth = Auth::Wkteam {
        authorization: SecretString::from(AUTHORIZATION),
        second_login_type: None,
    };
    let settings = crate::vendor::ClientSettings {
        timeout: Duration::from_millis(300),
        ..settings(server, "", auth)
    };
    match WkteamClient::new(&settings) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

#[tokio::test]
async fn second_login_waits_past_the_provider_timeout_up_to_wait() {
    let server = MockServer::start().await;
    let answer =
        json!({"message": "成功", "code": "1000", "data": {"wcId": "wxid_1", "wId": "w-new"}});
    wk_call("/secondLogin", json!({"wcId": "wxid_1"}))
        .respond_with(json_answer(answer).set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&server)
        .await;
    // The provider timeout (300 ms) is far below the answer's delay; `wait` is far above it.
    let login = impatient_client(&server)
        .second_login(DeviceRef::new("wxid_1"), Duration::from_secs(30))
        .await;
    assert_eq!(login.map(|s| s.new_w_id), Ok(Some("w-new".to_owned())));
}

#[tokio::test]
async fn second_login_gives_up_after_wait() {
    let server = MockServer::start().await;
    let answer = json!({"code": "1000", "data": {"wId": "w-new"}});
    wk_call("/secondLogin", json!({"wcId": "wxid_1"}))
        .respond_with(json_answer(answer).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    // The answer would come well within the provider timeout (10 s), but after `wait`.
    let login = client(&server, None)
        .second_login(DeviceRef::new("wxid_1"), Duration::from_millis(300))
        .await;
    assert_eq!(login, Err(VendorError::Timeout));
}
