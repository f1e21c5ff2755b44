//! What the shared HTTP layer does with answers no vendor speaks about, seen through a real
//! client: HTTP statuses the keeper classifies specially.

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{received, settings};
use crate::vendor::body::MAX_BODY;
use crate::vendor::gewe::GeweClient;
use crate::vendor::{Auth, ClientSettings, DeviceRef, Probe, Vendor, VendorError};

const TOKEN: &str = "gewe-SECRET-token";

fn gewe_auth() -> Auth {
    Auth::Gewe {
        token: TOKEN.into(),
    }
}

fn gewe(server: &MockServer) -> GeweClient {
    match GeweClient::new(&settings(server, "", gewe_auth())) {
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

/// A valid checkOnline answer padded with JSON whitespace to `len` bytes: parseable at any
/// size, so only the size limit can refuse it.
fn padded_answer(len: usize) -> Vec<u8> {
    let mut body = br#"{"ret":200,"msg":"ok","data":true}"#.to_vec();
    body.resize(len, b' ');
    body
}

fn assert_too_large(probe: &Probe) {
    assert!(
        matches!(probe, Probe::Unknown(VendorError::Malformed(text)) if text.ends_with("body larger than 1 MiB")),
        "{probe:?}"
    );
}

#[tokio::test]
async fn declared_body_over_1_mib_is_malformed() {
    let answer =
        ResponseTemplate::new(200).set_body_raw(padded_answer(MAX_BODY + 1), "application/json");
    assert_too_large(&probe_answered_with(answer).await);
}

#[tokio::test]
async fn body_of_exactly_1_mib_is_read() {
    let answer =
        ResponseTemplate::new(200).set_body_raw(padded_answer(MAX_BODY), "application/json");
    let probe = probe_answered_with(answer).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

#[tokio::test]
async fn bom_and_whitespace_around_the_json_are_accepted() {
    let body = "\u{FEFF}\r\n {\"ret\":200,\"msg\":\"ok\",\"data\":true} \n";
    let answer = ResponseTemplate::new(200).set_body_raw(body, "application/json");
    let probe = probe_answered_with(answer).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
}

/// Serves one connection: reads the request head, then answers 200 with `body` in 64 KiB
/// chunks and no Content-Length. Write errors are ignored (the client may hang up early).
async fn chunked_server(body: Vec<u8>) -> String {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => panic!("cannot bind: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => panic!("no local address: {e}"),
    };
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0_u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut out = start.as_bytes().to_vec();
        for chunk in body.chunks(64 * 1024) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        let _ = socket.write_all(&out).await;
        let _ = socket.shutdown().await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn chunked_body_over_1_mib_is_malformed() {
    let base_url = chunked_server(padded_answer(MAX_BODY + 64 * 1024)).await;
    let settings = ClientSettings {
        base_url,
        ..super::settings_for("http://127.0.0.1:1", gewe_auth())
    };
    let client = match GeweClient::new(&settings) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    };
    assert_too_large(&client.probe(DeviceRef::new("wx_1")).await);
}
