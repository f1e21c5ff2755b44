//! The shared HTTP plumbing (scrubbing, bounded replies), and the fixtures the bot channels'
//! tests share: a fixed moment, one alert, a fake receiver on 127.0.0.1:0 and an HMAC
//! independent of the production one.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::config::Language;
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Subject};
use crate::notify::channel::{Batch, Shape};
use crate::notify::ledger::Message;
use crate::notify::render::Style;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition};
use crate::vendor::VendorKind;

/// The moment of the attempt in every channel test (signatures are pinned to it).
pub(crate) fn sent_at() -> Timestamp {
    "2026-11-21T08:00:01.250Z".parse().unwrap()
}

/// Chinese, times in Asia/Shanghai.
pub(crate) fn zh() -> Style {
    Style {
        language: Language::Zh,
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
    }
}

/// One batch with the first message of `kind` about sales-01 (or gewe-cloud), or its
/// resolved message.
pub(crate) fn alert(kind: IncidentKind, transition: Transition) -> Batch {
    let subject = if kind.is_provider_wide() {
        Subject::Provider("gewe-cloud".into())
    } else {
        Subject::Device("sales-01".into())
    };
    Batch::one(message(subject, kind, transition))
}

/// A provider-wide outage: `count` devices of gewe-cloud needing a QR login, as one group.
pub(crate) fn outage(count: usize) -> Batch {
    let kind = IncidentKind::ManualLoginRequired;
    let messages = (0..count)
        .map(|i| {
            message(
                Subject::Device(format!("device-{i:03}")),
                kind,
                Transition::Firing,
            )
        })
        .collect();
    Batch {
        shape: Shape::Group,
        messages,
    }
}

/// The first firing (or the resolved) message of `kind` about `subject`.
fn message(subject: Subject, kind: IncidentKind, transition: Transition) -> Message {
    let key = IncidentKey { subject, kind };
    let opened_at: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    let resolved_at = (transition == Transition::Resolved).then(sent_at);
    let incident = IncidentRecord {
        id: key.incident_id(opened_at),
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: Some("wx_abc123".into()),
            labels: BTreeMap::new(),
            notify: vec!["ops".into()],
        },
        summary: "sales-01 needs a QR login: reconnect failed".into(),
        detail: json!({ "steps": ["reconnect failed"], "offline_reason": null }),
        key,
        opened_at,
        resolved_at,
        resolution: None,
        escalations: 0,
    };
    let delivery = DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "ops".into(),
        transition,
        seq: 0,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: opened_at,
        sent_at: None,
        last_error: None,
    };
    Message {
        incident: Arc::new(incident),
        delivery,
    }
}

/// A receiver answering every POST with `reply`.
pub(crate) async fn receiver(reply: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

/// An HTTP 200 reply with `body` as JSON.
pub(crate) fn json_reply(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The one request `server` received.
pub(crate) async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

/// Checks what every bot request shares: a POST to `path` with a JSON content type.
pub(crate) fn assert_json_post(request: &Request, path: &str) {
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), path);
    let content_type = request.headers.get("content-type").unwrap();
    assert_eq!(content_type.to_str().unwrap(), "application/json");
}

/// base64(HMAC-SHA256(key, message)) by the `hmac` crate, not by ring.
pub(crate) fn independent_hmac(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A port nothing listens on.
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::new(
        &SecretString::from(url.to_owned()),
        crate::config::DEFAULT_TIMEOUT,
    )
    .unwrap()
}

#[test]
fn scrub_blanks_the_url_its_query_values_and_path_tokens() {
    let url = "https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789?key=s3cr%2Bt-key-42&x=y";
    let text = format!(
        "failed at {url}; token 0a1b2c3d-4e5f-6789-abcd-ef0123456789, \
         key s3cr+t-key-42, raw s3cr%2Bt-key-42, x y"
    );
    assert_eq!(
        endpoint(url).scrub(&text),
        "failed at <redacted>; token <redacted>, key <redacted>, raw <redacted>, x y"
    );
    assert_eq!(
        endpoint(url).scrub("open-apis and bot stay"),
        "open-apis and bot stay"
    );
}

#[test]
fn only_http_urls_make_an_endpoint() {
    for bad in ["ftp://example.invalid/x", "not a url"] {
        let built = Endpoint::new(&SecretString::from(bad), crate::config::DEFAULT_TIMEOUT);
        assert!(matches!(built, Err(NotifyError::Build(_))), "{bad}");
    }
}

#[tokio::test]
async fn a_reply_is_read_as_json_within_the_cap() {
    let server = receiver(json_reply(json!({"errcode": 0}))).await;
    let endpoint = endpoint(&server.uri());
    let response = endpoint
        .post_json(endpoint.url().clone(), b"{}".to_vec())
        .await
        .unwrap();
    let reply = endpoint.read_json(response).await.unwrap();
    assert_eq!(reply, json!({"errcode": 0}));
}

#[tokio::test]
async fn an_oversized_or_garbled_reply_is_not_an_acceptance() {
    let huge = format!("{{\"errcode\":0,\"pad\":\"{}\"}}", "x".repeat(MAX_REPLY));
    let server = receiver(ResponseTemplate::new(200).set_body_string(huge)).await;
    let big = endpoint(&format!("{}/k?key=k-0123456789", server.uri()));
    let response = big
        .post_json(big.url().clone(), b"{}".to_vec())
        .await
        .unwrap();
    let error = big.read_json(response).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the receiver refused the message: the reply is larger than 65536 bytes"
    );

    let page = "<html>bad gateway for /k?key=k-0123456789</html>";
    let server = receiver(ResponseTemplate::new(200).set_body_string(page)).await;
    let garbled = endpoint(&format!("{}/k?key=k-0123456789", server.uri()));
    let response = garbled
        .post_json(garbled.url().clone(), b"{}".to_vec())
        .await
        .unwrap();
    let error = garbled.read_json(response).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the receiver refused the message: the reply is not json: \
         \"<html>bad gateway for /k?<redacted></html>\""
    );
}
