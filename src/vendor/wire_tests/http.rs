//! What the shared HTTP layer does with answers no vendor speaks about, seen through a real
//! client: HTTP statuses the keeper classifies specially.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{received, settings};
use crate::vendor::gewe::GeweClient;
use crate::vendor::{Auth, DeviceRef, Probe, Vendor, VendorError};

const TOKEN: &str = "gewe-SECRET-token";

fn gewe(base_url: &MockServer) -> GeweClient {
    let auth = Auth::Gewe {
        token: TOKEN.into(),
    };
    match GeweClient::new(&settings(base_url, "", auth)) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

async fn probe_answered_with(answer: ResponseTemplate) -> Probe {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login/checkOnline"))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    gewe(&server).probe(DeviceRef::new("wx_1")).await
}

#[tokio::test]
async fn http_429_is_rate_limited_not_a_provider_fault() {
    let probe = probe_answered_with(ResponseTemplate::new(429)).await;
    match probe {
        Probe::Unknown(error @ VendorError::RateLimited(_)) => {
            assert!(!error.is_provider_fault(), "{error:?}")
        }
        other => panic!("expected rate limited, got {other:?}"),
    }
}

#[tokio::test]
async fn http_404_is_a_provider_fault() {
    let answer = ResponseTemplate::new(404).set_body_json(json!({"ret": 200, "data": true}));
    match probe_answered_with(answer).await {
        Probe::Unknown(error @ VendorError::HttpStatus(404)) => {
            assert!(error.is_provider_fault(), "{error:?}")
        }
        other => panic!("expected http status 404, got {other:?}"),
    }
}

/// A probe answered with `status` and a `Location` pointing at a second server: the client
/// must not follow it (the second server would receive the credential header and body).
async fn redirect_is_not_followed(status: u16) {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ret": 200, "data": true})))
        .mount(&elsewhere)
        .await;
    let location = format!("{}/login/checkOnline", elsewhere.uri());
    let answer = ResponseTemplate::new(status).insert_header("Location", location.as_str());
    let probe = probe_answered_with(answer).await;
    assert!(
        matches!(&probe, Probe::Unknown(VendorError::HttpStatus(s)) if *s == status),
        "{probe:?}"
    );
    let reached = received(&elsewhere).await;
    assert!(reached.is_empty(), "the redirect was followed: {reached:?}");
}

#[tokio::test]
async fn redirect_302_is_an_http_status_and_not_followed() {
    redirect_is_not_followed(302).await;
}

#[tokio::test]
async fn redirect_307_is_an_http_status_and_not_followed() {
    redirect_is_not_followed(307).await;
}
