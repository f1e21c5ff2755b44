//! GeWe on the wire: JSON POSTs under the configured prefix with `X-GEWE-TOKEN`.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{json_answer, received, settings, truncated_answer};
use crate::vendor::gewe::{GeweClient, LoginCheck, LoginState};
use crate::vendor::{Auth, DeviceRef, Probe, ReconnectOutcome, SecondLogin, Vendor, VendorError};

const TOKEN: &str = "gewe-SECRET-token";

fn client(server: &MockServer) -> GeweClient {
    let auth = Auth::Gewe {
        token: SecretString::from(TOKEN),
    };
    match GeweClient::new(&settings(server, "/gewe/v2/api", auth)) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

/// A POST to `endpoint` under the prefix, with the token and a JSON body equal to `body`.
fn gewe_call(endpoint: &str, body: serde_json::Value) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!("/gewe/v2/api{endpoint}")))
        .and(header("X-GEWE-TOKEN", TOKEN))
        .and(header("Content-Type", "application/json"))
        .and(body_json(body))
}

#[tokio::test]
async fn check_online_shape() {
    let server = MockServer::start().await;
    gewe_call("/login/checkOnline", json!({"appId": "wx_1"}))
        .respond_with(json_answer(
            json!({"ret": 200, "msg": "操作成功", "data": true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let probe = client(&server).probe(DeviceRef::new("wx_1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn reconnection_and_dialog_login_shapes() {
    let server = MockServer::start().await;
    gewe_call("/login/reconnection", json!({"appId": "wx_1"}))
        .respond_with(json_answer(json!({"ret": 200, "msg": "操作成功"})))
        .expect(1)
        .mount(&server)
        .await;
    let answer = json!({"ret": 200, "msg": "操作成功", "data": {"appId": "wx_1", "uuid": "u"}});
    gewe_call(
        "/login/dialogLogin",
        json!({"appId": "wx_1", "regionId": "320000"}),
    )
    .respond_with(json_answer(answer))
    .expect(1)
    .mount(&server)
    .await;
    let client = client(&server);
    let reconnect = client.reconnect(DeviceRef::new("wx_1")).await;
    assert_eq!(reconnect, Ok(ReconnectOutcome::Accepted));
    let device = DeviceRef {
        region_id: Some("320000"),
        ..DeviceRef::new("wx_1")
    };
    let login = client.second_login(device, Duration::from_secs(5)).await;
    let expected = SecondLogin {
        new_w_id: None,
        login_uuid: Some("u".into()),
    };
    assert_eq!(login, Ok(expected));
}

#[tokio::test]
async fn check_login_shape() {
    let server = MockServer::start().await;
    let data = json!({"uuid": "u", "status": 1, "expiredTime": 170, "loginInfo": null});
    gewe_call("/login/checkLogin", json!({"appId": "wx_1", "uuid": "u"}))
        .respond_with(json_answer(
            json!({"ret": 200, "msg": "操作成功", "data": data}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let check = client(&server).check_login("wx_1", "u").await;
    let expected = LoginCheck {
        state: LoginState::Scanned,
        expires_in: Some(Duration::from_secs(170)),
    };
    assert_eq!(check, Ok(expected));
}

#[tokio::test]
async fn dialog_login_without_region_sends_nothing() {
    let server = MockServer::start().await;
    let login = client(&server)
        .second_login(DeviceRef::new("wx_1"), Duration::from_secs(5))
        .await;
    assert_eq!(
        login,
        Err(VendorError::Unsupported("gewe dialogLogin needs region_id"))
    );
    let received = received(&server).await;
    assert!(received.is_empty(), "{} requests sent", received.len());
}

#[tokio::test]
async fn http_500_truncated_body_and_401_are_unknown() {
    let server = MockServer::start().await;
    let answers = [
        (
            "wx_500",
            ResponseTemplate::new(500).set_body_string("Internal Server Error"),
        ),
        ("wx_bad", truncated_answer()),
        ("wx_401", ResponseTemplate::new(401)),
    ];
    for (id, answer) in answers {
        gewe_call("/login/checkOnline", json!({"appId": id}))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let client = client(&server);
    let probe = client.probe(DeviceRef::new("wx_500")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::HttpStatus(500))),
        "{probe:?}"
    );
    match client.probe(DeviceRef::new("wx_bad")).await {
        Probe::Unknown(VendorError::Malformed(text)) => {
            assert!(text.contains(r#"{"ret":200"#), "{text}")
        }
        other => panic!("expected malformed, got {other:?}"),
    }
    let probe = client.probe(DeviceRef::new("wx_401")).await;
    assert!(
        matches!(probe, Probe::Unknown(VendorError::CredentialsRejected(_))),
        "{probe:?}"
    );
}

#[tokio::test]
async fn echoed_token_never_reaches_error_or_debug() {
    let server = MockServer::start().await;
    let msg = format!("HTTP HEADER: X-GEWE-TOKEN={TOKEN} 不可用或已过期");
    gewe_call("/login/checkOnline", json!({"appId": "wx_1"}))
        .respond_with(json_answer(json!({"ret": 500, "msg": msg})))
        .mount(&server)
        .await;
    let client = client(&server);
    let Probe::Unknown(error) = client.probe(DeviceRef::new("wx_1")).await else {
        panic!("expected unknown");
    };
    assert!(error.is_credentials(), "{error:?}");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}
