//! The shared HTTP plumbing: scrubbing, bounded replies.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// A receiver answering every POST with `reply`.
async fn receiver(reply: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

/// An HTTP 200 reply with `body` as JSON.
fn json_reply(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
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
