//! wechatpro on the wire: form-encoded POSTs and GETs under `/open` with a raw `Authorization`
//! header (no `Bearer`), and the per-request timeout of the blocking `loginAgain`.

use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer};

use super::{json_answer, settings};
use crate::vendor::wechatpro::WechatproClient;
use crate::vendor::{Auth, DeviceRef, Probe, SecondLogin, Vendor, VendorError};

const AUTHORIZATION: &str = "wp-SECRET-auth";

fn client_with_timeout(server: &MockServer, timeout: Duration) -> WechatproClient {
    let auth = Auth::Wechatpro {
        authorization: SecretString::from(AUTHORIZATION),
    };
    let settings = crate::vendor::ClientSettings {
        timeout,
        ..settings(server, "", auth)
    };
    match WechatproClient::new(&settings) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

fn client(server: &MockServer) -> WechatproClient {
    client_with_timeout(server, Duration::from_secs(10))
}

/// A form POST to `endpoint` whose body is exactly `form`.
fn form_call(endpoint: &str, form: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(endpoint))
        .and(header("Authorization", AUTHORIZATION))
        .and(header("Content-Type", "application/x-www-form-urlencoded"))
        .and(body_string(form))
}

#[tokio::test]
async fn is_online_is_a_form_post_with_raw_authorization() {
    let server = MockServer::start().await;
    form_call("/open/isOnline", "deviceId=dev-1")
        .respond_with(json_answer(
            json!({"message": "已离线", "code": "1001", "data": null}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let probe = client(&server).probe(DeviceRef::new("dev-1")).await;
    assert!(matches!(probe, Probe::Offline { .. }), "{probe:?}");
}

#[tokio::test]
async fn device_ids_are_form_encoded() {
    let server = MockServer::start().await;
    form_call("/open/offlineReason", "deviceId=a+b%26c%3D1")
        .respond_with(json_answer(
            json!({"message": "成功", "code": "1000", "data": {"reason": null}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let reason = client(&server)
        .offline_reason(DeviceRef::new("a b&c=1"))
        .await;
    assert_eq!(reason, Ok(None));
}

#[tokio::test]
async fn login_again_waits_past_the_provider_timeout_up_to_wait() {
    let server = MockServer::start().await;
    let answer = json!({"message": "成功", "code": "1000", "data": {"wcId": "wxid_1", "wId": "w"}});
    form_call("/open/loginAgain", "deviceId=dev-1")
        .respond_with(json_answer(answer).set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;
    // The provider timeout (300 ms) is far below the answer's delay; `wait` is far above it.
    let client = client_with_timeout(&server, Duration::from_millis(300));
    let login = client
        .second_login(DeviceRef::new("dev-1"), Duration::from_secs(30))
        .await;
    assert_eq!(login, Ok(SecondLogin::default()));
}

#[tokio::test]
async fn login_again_gives_up_after_wait() {
    let server = MockServer::start().await;
    form_call("/open/loginAgain", "deviceId=dev-1")
        .respond_with(json_answer(json!({"code": "1000"})).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    // The answer would come well within the provider timeout (10 s), but after `wait`.
    let login = client(&server)
        .second_login(DeviceRef::new("dev-1"), Duration::from_millis(300))
        .await;
    assert_eq!(login, Err(VendorError::Timeout));
}

#[tokio::test]
async fn workstation_and_query_login_device_are_gets() {
    let server = MockServer::start().await;
    let device =
        json!({"deviceId": "dev/1", "wechatStatus": 0, "lastLoginTime": "2026-11-20 16:00:00"});
    Mock::given(method("GET"))
        .and(path("/open/workstation/dev%2F1"))
        .and(header("Authorization", AUTHORIZATION))
        .respond_with(json_answer(
            json!({"message": "成功", "code": "1000", "data": device}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let ids = json!({"deviceIds": ["dev-1", "dev-2"], "total": 2});
    Mock::given(method("GET"))
        .and(path("/open/queryLoginDevice"))
        .and(header("Authorization", AUTHORIZATION))
        .respond_with(json_answer(
            json!({"message": "成功", "code": 1000, "data": ids}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let last = client.last_login(DeviceRef::new("dev/1")).await;
    assert_eq!(last, Ok("2026-11-20T08:00:00Z".parse::<Timestamp>().ok()));
    let online = client.online_devices().await;
    assert_eq!(online, Ok(vec!["dev-1".to_owned(), "dev-2".to_owned()]));
    let shown = format!("{client:?}");
    assert!(!shown.contains(AUTHORIZATION), "{shown}");
}
