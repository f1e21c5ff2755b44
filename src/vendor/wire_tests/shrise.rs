//! shrise on the wire: the token header (default and custom), and the refresh-once-and-retry
//! dance, including ONE refresh for many concurrent rejections.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{json_answer, received, settings};
use crate::vendor::shrise::ShriseClient;
use crate::vendor::{Auth, DeviceRef, Probe, TokenPair, Vendor, VendorError};

const STATUS_PATH: &str = "/wx/pc/check-login-status/PC-1";

fn client_with(server: &MockServer, header: &str, prefix: &str) -> ShriseClient {
    let auth = Auth::Shrise {
        tokens: TokenPair {
            access: SecretString::from("a1"),
            access_expires: None,
            refresh: SecretString::from("r1"),
            refresh_expires: None,
        },
        header: header.into(),
        prefix: prefix.into(),
    };
    match ShriseClient::new(&settings(server, "", auth)) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

fn client(server: &MockServer) -> ShriseClient {
    client_with(server, "Authorization", "Bearer ")
}

fn logged_in() -> ResponseTemplate {
    json_answer(
        json!({"code": 0, "msg": "success", "data": {"isLogin": true, "lastLoginTime": null}}),
    )
}

fn status_with(value: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .and(header("Authorization", value))
}

/// The refresh call: JSON body with both tokens and NO Authorization header.
fn refresh_call() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/app/auth/token/refresh"))
        .and(header("Content-Type", "application/json"))
        .and(body_json(
            json!({"accessToken": "a1", "refreshToken": "r1"}),
        ))
        .and(|request: &Request| !request.headers.contains_key("authorization"))
}

#[tokio::test]
async fn default_header_is_authorization_bearer() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(logged_in())
        .expect(1)
        .mount(&server)
        .await;
    let probe = client(&server).probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn custom_header_and_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .and(header("X-Access-Token", "a1"))
        .and(|request: &Request| !request.headers.contains_key("authorization"))
        .respond_with(logged_in())
        .expect(1)
        .mount(&server)
        .await;
    let probe = client_with(&server, "X-Access-Token", "")
        .probe(DeviceRef::new("PC-1"))
        .await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn http_401_refreshes_once_retries_and_publishes() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    status_with("Bearer a2")
        .respond_with(logged_in())
        .expect(1)
        .mount(&server)
        .await;
    let answer =
        json!({"code": 0, "msg": "", "data": {"value": "a2", "expire": "2030-01-01T00:00:00Z"}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let mut updates = client.token_updates();
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    assert!(updates.has_changed().unwrap_or(false));
    let published = updates.borrow_and_update().clone();
    assert_eq!(published.access.expose_secret(), "a2");
    assert_eq!(published.refresh.expose_secret(), "r1");
    assert_eq!(
        published.access_expires,
        "2030-01-01T00:00:00Z".parse().ok()
    );
    assert_eq!(client.tokens().await.access.expose_secret(), "a2");
}

#[tokio::test]
async fn code_401_in_a_200_answer_also_refreshes() {
    let server = MockServer::start().await;
    let rejected = json!({"code": 401, "msg": "token已过期", "data": null});
    status_with("Bearer a1")
        .respond_with(json_answer(rejected))
        .mount(&server)
        .await;
    status_with("Bearer a2")
        .respond_with(logged_in())
        .expect(1)
        .mount(&server)
        .await;
    let answer = json!({"code": 0, "data": {"value": "a2", "expire": ""}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let probe = client(&server).probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn concurrent_rejections_cause_one_refresh() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    status_with("Bearer a2")
        .respond_with(logged_in())
        .expect(8)
        .mount(&server)
        .await;
    let answer = json!({"code": 0, "data": {"value": "a2", "expire": ""}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.probe(DeviceRef::new("PC-1")).await
        }));
    }
    for task in tasks {
        match task.await {
            Ok(Probe::Online { .. }) => {}
            other => panic!("expected online, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn rejected_refresh_is_credentials_without_retry() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let answer = json!({"code": 401, "msg": "refreshToken已失效", "data": null});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let updates = client.token_updates();
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    match probe {
        Probe::Unknown(VendorError::CredentialsRejected(text)) => {
            assert!(text.contains("refreshToken已失效"), "{text}");
            assert!(!text.contains("r1") && !text.contains("a1"), "{text}");
        }
        other => panic!("expected credentials rejected, got {other:?}"),
    }
    assert!(!updates.has_changed().unwrap_or(true));
}

#[tokio::test]
async fn rejected_again_after_refresh_is_credentials() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    status_with("Bearer a2")
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let answer = json!({"code": 0, "data": {"value": "a2", "expire": ""}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let last = client(&server).last_login(DeviceRef::new("PC-1")).await;
    assert!(
        matches!(last, Err(VendorError::CredentialsRejected(_))),
        "{last:?}"
    );
}

#[tokio::test]
async fn proactive_refresh_publishes() {
    let server = MockServer::start().await;
    let answer = json!({"code": 0, "data": {"value": "a2", "expire": ""}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let updates = client.token_updates();
    let pair = client.refresh_tokens().await;
    assert_eq!(
        pair.map(|p| p.access.expose_secret().to_owned()),
        Ok("a2".to_owned())
    );
    assert_eq!(updates.borrow().access.expose_secret(), "a2");
    let shown = format!("{client:?}");
    assert!(!shown.contains("a2") && !shown.contains("r1"), "{shown}");
}

#[tokio::test]
async fn a_dead_refresh_token_is_tried_once_for_many_probes() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .expect(5)
        .mount(&server)
        .await;
    let answer = json!({"code": 401, "msg": "refreshToken已失效", "data": null});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    for _ in 0..5 {
        let probe = client.probe(DeviceRef::new("PC-1")).await;
        assert!(
            matches!(&probe, Probe::Unknown(VendorError::CredentialsRejected(m)) if m.contains("refreshToken已失效")),
            "{probe:?}"
        );
    }
    let refreshes = received(&server).await;
    let refreshes = refreshes
        .iter()
        .filter(|r| r.url.path() == "/app/auth/token/refresh");
    assert_eq!(refreshes.count(), 1);
}

#[tokio::test]
async fn a_caller_cancelled_mid_refresh_loses_no_rotation() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let answer = json!({"code": 0, "data": {"value": "a2", "expire": ""}});
    refresh_call()
        .respond_with(json_answer(answer).set_delay(Duration::from_millis(500)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let mut updates = client.token_updates();
    // The caller gives up while the refresh answer is still on its way.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(100),
        client.probe(DeviceRef::new("PC-1")),
    )
    .await;
    assert!(cancelled.is_err(), "the probe finished: {cancelled:?}");
    let published = tokio::time::timeout(Duration::from_secs(10), updates.changed()).await;
    assert!(matches!(published, Ok(Ok(()))), "{published:?}");
    assert_eq!(updates.borrow().access.expose_secret(), "a2");
    assert_eq!(client.tokens().await.access.expose_secret(), "a2");
}

#[tokio::test]
async fn a_busy_refresh_endpoint_is_refused_not_credentials() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let answer = json!({"code": 500, "msg": "系统繁忙", "data": null});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let probe = client(&server).probe(DeviceRef::new("PC-1")).await;
    assert!(
        matches!(&probe, Probe::Unknown(VendorError::Refused { code, .. }) if code == "500"),
        "{probe:?}"
    );
}

#[tokio::test]
async fn a_flat_refresh_answer_is_used_and_published() {
    let server = MockServer::start().await;
    status_with("Bearer a1")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    status_with("Bearer a2")
        .respond_with(logged_in())
        .expect(1)
        .mount(&server)
        .await;
    let answer = json!({"code": 0, "data": {"accessToken": "a2", "refreshToken": "r2"}});
    refresh_call()
        .respond_with(json_answer(answer))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let probe = client.probe(DeviceRef::new("PC-1")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    let pair = client.token_updates().borrow().clone();
    assert_eq!(
        (pair.access.expose_secret(), pair.refresh.expose_secret()),
        ("a2", "r2")
    );
}
