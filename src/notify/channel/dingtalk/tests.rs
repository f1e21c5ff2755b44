//! The DingTalk bot against a fake receiver on 127.0.0.1:0: the exact request, the signature
//! recomputed with an independent HMAC, and every reply that is not `errcode` 0 a failure
//! whose text never shows the token.

use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use super::*;
use crate::config::{Notifier, NotifierKind};
use crate::incident::IncidentKind;
use crate::notify::channel::http::tests::{
    alert, assert_json_post, independent_hmac, json_reply, only_request, receiver, sent_at, zh,
};
use crate::notify::channel::{AnyChannel, Channel};
use crate::notify::render::render_within;
use crate::store::Transition;

const TOKEN: &str = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
const SECRET: &str = "SEC7f3c0e5d1b2a4968e0c1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3";

fn bot(server: &MockServer, secret: Option<&str>) -> DingtalkChannel {
    let url = format!("{}/robot/send?access_token={TOKEN}", server.uri());
    let secret = secret.map(|s| SecretString::from(s.to_owned()));
    DingtalkChannel::new(
        &SecretString::from(url),
        secret,
        crate::config::DEFAULT_TIMEOUT,
        zh(),
    )
    .unwrap()
}

fn ok() -> ResponseTemplate {
    json_reply(json!({"errcode": 0, "errmsg": "ok"}))
}

/// The body DingTalk must receive for `outgoing`.
fn expected_body(outgoing: Outgoing<'_>) -> Value {
    let text = render_within(outgoing, sent_at(), &zh(), MAX_TEXT);
    json!({"msgtype": "markdown", "markdown": {"title": text.title, "text": text.markdown}})
}

/// Percent-encoding of a base64 text, written out by hand for the three characters base64
/// uses beyond letters and digits.
fn percent_encoded(base64: &str) -> String {
    base64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn posts_the_markdown_with_its_title_unsigned_without_a_secret() {
    let server = receiver(ok()).await;
    let batch = alert(IncidentKind::RecycleWarning, Transition::Firing);
    bot(&server, None)
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_json_post(&request, "/robot/send");
    let query = format!("access_token={TOKEN}");
    assert_eq!(request.url.query(), Some(query.as_str()));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, expected_body(Outgoing::Alert(&batch)));
    assert_eq!(body["markdown"]["title"], "【警告】sales-01 即将被回收");
}

#[tokio::test]
async fn a_secret_signs_the_query_with_the_attempts_millisecond_timestamp() {
    let server = receiver(ok()).await;
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    bot(&server, Some(SECRET))
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_json_post(&request, "/robot/send");
    let timestamp = "1795248001250";
    let sign = independent_hmac(
        SECRET.as_bytes(),
        format!("{timestamp}\n{SECRET}").as_bytes(),
    );
    let expected = format!(
        "access_token={TOKEN}&timestamp={timestamp}&sign={}",
        percent_encoded(&sign)
    );
    assert_eq!(request.url.query(), Some(expected.as_str()));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, expected_body(Outgoing::Alert(&batch)));
}

#[tokio::test]
async fn error_replies_are_failures_that_never_show_the_token() {
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    let cases = [
        (
            json_reply(json!({"errcode": 310000, "errmsg": "sign not match, more: [...]"})),
            "the receiver refused the message: errcode 310000: sign not match, more: [...]",
        ),
        (
            json_reply(
                json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            ),
            "the receiver refused the message: errcode 130101: send too fast, exceed 20 times per minute",
        ),
        (
            json_reply(json!({"errcode": 300001, "errmsg": format!("token {TOKEN} is not exist")})),
            "the receiver refused the message: errcode 300001: token <redacted> is not exist",
        ),
        (
            ResponseTemplate::new(200).set_body_string("ok"),
            "the receiver refused the message: the reply is not json: \"ok\"",
        ),
        (
            ResponseTemplate::new(502),
            "the receiver answered http status 502",
        ),
    ];
    for (reply, expected) in cases {
        let server = receiver(reply).await;
        let error = bot(&server, Some(SECRET))
            .send(Outgoing::Alert(&batch), sent_at())
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert!(!format!("{error:?}").contains(TOKEN));
        assert!(!format!("{error:?}").contains(SECRET));
    }
}

#[tokio::test]
async fn a_dingtalk_notifier_builds_this_channel_with_its_secret() {
    let server = receiver(ok()).await;
    let mut notifier = Notifier::new("ops-dingtalk", NotifierKind::Dingtalk);
    let missing = AnyChannel::build(&notifier, &zh().timezone);
    assert!(matches!(missing, Err(NotifyError::Build(_))));
    notifier.url = Some(SecretString::from(format!(
        "{}/robot/send?access_token={TOKEN}",
        server.uri()
    )));
    notifier.secret = Some(SecretString::from(SECRET));
    let channel = AnyChannel::build(&notifier, &zh().timezone).unwrap();
    assert!(matches!(channel, AnyChannel::Dingtalk(_)));
    assert!(!format!("{channel:?}").contains(SECRET));
    let test = Outgoing::Test {
        notifier: "ops-dingtalk",
    };
    channel.deliver(test, sent_at()).await.unwrap();
    let request = only_request(&server).await;
    let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    let sign = independent_hmac(
        SECRET.as_bytes(),
        format!("1795248001250\n{SECRET}").as_bytes(),
    );
    assert_eq!(
        pairs,
        [
            ("access_token".to_owned(), TOKEN.to_owned()),
            ("timestamp".to_owned(), "1795248001250".to_owned()),
            ("sign".to_owned(), sign),
        ]
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["markdown"]["title"], "【测试】session-keeper 测试消息");
}
