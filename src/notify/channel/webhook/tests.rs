//! The webhook channel against a fake receiver on 127.0.0.1:0 (real time, short limits).

use std::time::Duration;

use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn channel(url: &str, timeout: Duration) -> WebhookChannel {
    WebhookChannel::new(&SecretString::from(url.to_owned()), timeout).unwrap()
}

#[tokio::test]
async fn posts_the_body_as_json_and_a_2xx_is_delivered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let hook = channel(
        &format!("{}/hook?key=k1", server.uri()),
        crate::config::DEFAULT_TIMEOUT,
    );
    let body = br#"{"schema":"session-keeper.alert.v1"}"#.to_vec();
    hook.deliver(body.clone()).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.body, body);
    assert_eq!(request.url.query(), Some("key=k1"));
    let content_type = request.headers.get("content-type").unwrap();
    assert_eq!(content_type.to_str().unwrap(), "application/json");
}

#[tokio::test]
async fn any_other_status_is_a_failure_and_redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let elsewhere = format!("{}/elsewhere", server.uri());
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", elsewhere.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;

    let down = channel(
        &format!("{}/down", server.uri()),
        crate::config::DEFAULT_TIMEOUT,
    );
    let error = down.deliver(b"{}".to_vec()).await.unwrap_err();
    assert!(matches!(error, NotifyError::Status(500)), "{error}");

    let moved = channel(
        &format!("{}/moved", server.uri()),
        crate::config::DEFAULT_TIMEOUT,
    );
    let error = moved.deliver(b"{}".to_vec()).await.unwrap_err();
    assert!(matches!(error, NotifyError::Status(302)), "{error}");
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.url.path() != "/elsewhere"));
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = channel(&server.uri(), Duration::from_millis(200));
    let error = slow.deliver(b"{}".to_vec()).await.unwrap_err();
    assert!(matches!(error, NotifyError::Timeout), "{error}");
}

#[tokio::test]
async fn transport_errors_never_show_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/cgi-bin/webhook/send?key=s3cr3t-key");
    let refused = channel(&url, crate::config::DEFAULT_TIMEOUT);
    let error = refused.deliver(b"{}".to_vec()).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, NotifyError::Transport(_)), "{text}");
    assert!(!text.contains("s3cr3t-key"), "{text}");
    assert!(!text.contains("/cgi-bin/webhook"), "{text}");
    assert!(!format!("{refused:?}").contains("s3cr3t-key"));
}

#[test]
fn only_http_urls_make_a_channel() {
    let bad = WebhookChannel::new(
        &SecretString::from("ftp://example.invalid/x"),
        crate::config::DEFAULT_TIMEOUT,
    );
    assert!(matches!(bad, Err(NotifyError::Build(_))));
    let garbage = WebhookChannel::new(
        &SecretString::from("not a url"),
        crate::config::DEFAULT_TIMEOUT,
    );
    assert!(matches!(garbage, Err(NotifyError::Build(_))));
}
