//! The Feishu bot against a fake receiver on 127.0.0.1:0: the exact card, the header colour
//! per tone, the signature recomputed with an independent HMAC, and every reply that is not
//! code 0 a failure whose text never shows the hook token.

use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use super::*;
use crate::config::{Notifier, NotifierKind};
use crate::incident::IncidentKind;
use crate::notify::channel::http::tests::{
    alert, assert_json_post, independent_hmac, json_reply, only_request, outage, receiver, sent_at,
    zh,
};
use crate::notify::channel::{AnyChannel, Channel};
use crate::store::Transition;

const TOKEN: &str = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const SECRET: &str = "qBx7uAIeLmPnOQrsTuVwXy";

fn path() -> String {
    format!("/open-apis/bot/v2/hook/{TOKEN}")
}

fn bot(server: &MockServer, secret: Option<&str>) -> FeishuChannel {
    let url = SecretString::from(format!("{}{}", server.uri(), path()));
    let secret = secret.map(|s| SecretString::from(s.to_owned()));
    FeishuChannel::new(&url, secret, crate::config::DEFAULT_TIMEOUT, zh()).unwrap()
}

fn ok() -> ResponseTemplate {
    json_reply(json!({"code": 0, "data": {}, "msg": "success"}))
}

/// The card Feishu must receive for `outgoing`, with header colour `template`.
fn expected_card(outgoing: Outgoing<'_>, template: &str) -> Value {
    let text = render_within(outgoing, sent_at(), &zh(), MAX_REQUEST);
    json!({
        "header": {
            "title": {"tag": "plain_text", "content": text.title},
            "template": template,
        },
        "elements": [{"tag": "markdown", "content": text.markdown_body()}],
    })
}

/// Sends `outgoing` through an unsigned bot and returns the body received.
async fn received(outgoing: Outgoing<'_>) -> Value {
    let server = receiver(ok()).await;
    bot(&server, None).send(outgoing, sent_at()).await.unwrap();
    let request = only_request(&server).await;
    assert_json_post(&request, &path());
    assert_eq!(request.url.query(), None);
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn posts_an_interactive_card_coloured_by_tone() {
    let cases = [
        (IncidentKind::ManualLoginRequired, Transition::Firing, "red"),
        (
            IncidentKind::ProviderUnreachable,
            Transition::Firing,
            "orange",
        ),
        (
            IncidentKind::ManualLoginRequired,
            Transition::Resolved,
            "green",
        ),
    ];
    for (kind, transition, template) in cases {
        let batch = alert(kind, transition);
        let body = received(Outgoing::Alert(&batch)).await;
        let card = expected_card(Outgoing::Alert(&batch), template);
        assert_eq!(body, json!({"msg_type": "interactive", "card": card}));
    }
    let body = received(Outgoing::Alert(&alert(
        IncidentKind::ManualLoginRequired,
        Transition::Firing,
    )))
    .await;
    assert_eq!(
        body["card"]["header"]["title"]["content"],
        "【严重】sales-01 需要扫码登录"
    );
    let content = body["card"]["elements"][0]["content"].as_str().unwrap();
    assert!(content.starts_with("设备已掉线"), "{content}");
}

#[tokio::test]
async fn the_test_message_is_a_blue_card() {
    let test = Outgoing::Test {
        notifier: "ops-feishu",
    };
    let body = received(test).await;
    assert_eq!(
        body,
        json!({"msg_type": "interactive", "card": expected_card(test, "blue")})
    );
    let content = body["card"]["elements"][0]["content"].as_str().unwrap();
    assert!(content.contains("ops-feishu") && content.contains("无需任何操作"));
}

#[tokio::test]
async fn a_secret_signs_the_body_with_the_attempts_second_timestamp() {
    let server = receiver(ok()).await;
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    bot(&server, Some(SECRET))
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_json_post(&request, &path());
    let timestamp = "1795248001";
    let sign = independent_hmac(format!("{timestamp}\n{SECRET}").as_bytes(), b"");
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let card = expected_card(Outgoing::Alert(&batch), "red");
    assert_eq!(
        body,
        json!({"timestamp": timestamp, "sign": sign, "msg_type": "interactive", "card": card})
    );
}

#[tokio::test]
async fn a_huge_group_is_cut_until_the_encoded_signed_request_fits_20000_bytes() {
    let server = receiver(ok()).await;
    let batch = outage(900);
    let first_try = render_within(Outgoing::Alert(&batch), sent_at(), &zh(), MAX_REQUEST);
    assert!(
        first_try.markdown.len() > MAX_REQUEST - 100,
        "the raw text fills the limit"
    );
    bot(&server, Some(SECRET))
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert!(request.body.len() <= MAX_REQUEST, "{}", request.body.len());
    assert!(
        request.body.len() > MAX_REQUEST - 1000,
        "{}",
        request.body.len()
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert!(body["sign"].is_string());
    let content = body["card"]["elements"][0]["content"].as_str().unwrap();
    let listed = content
        .lines()
        .filter(|l| l.starts_with("- device-"))
        .count();
    let rest = content
        .lines()
        .find_map(|l| l.strip_prefix("- …及其他 ")?.strip_suffix(" 台"))
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(rest.map(|rest| listed + rest), Some(900), "{content}");
    assert!(content.ends_with("\n\n— session-keeper"));
}

#[tokio::test]
async fn the_older_status_code_reply_is_accepted_too() {
    let reply = json_reply(json!({"Extra": null, "StatusCode": 0, "StatusMessage": "success"}));
    let server = receiver(reply).await;
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    bot(&server, None)
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();
}

#[tokio::test]
async fn error_replies_are_failures_that_never_show_the_token() {
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    let sign_fail = "sign match fail or timestamp is not within one hour from current time";
    let cases = [
        (
            json_reply(json!({"code": 19021, "data": {}, "msg": sign_fail})),
            format!("the receiver refused the message: code 19021: {sign_fail}"),
        ),
        (
            json_reply(json!({"code": 19024, "msg": "Key Words Not Found"})),
            "the receiver refused the message: code 19024: Key Words Not Found".to_owned(),
        ),
        (
            json_reply(json!({"StatusCode": 9499, "StatusMessage": format!("bad hook {TOKEN}")})),
            "the receiver refused the message: StatusCode 9499: bad hook <redacted>".to_owned(),
        ),
        (
            json_reply(json!({"data": {}})),
            "the receiver refused the message: unexpected reply: {\"data\":{}}".to_owned(),
        ),
        (
            ResponseTemplate::new(200).set_body_string(""),
            "the receiver refused the message: the reply is not json: \"\"".to_owned(),
        ),
        (
            ResponseTemplate::new(500),
            "the receiver answered http status 500".to_owned(),
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
    }
}

#[tokio::test]
async fn a_feishu_notifier_builds_this_channel() {
    let server = receiver(ok()).await;
    let mut notifier = Notifier::new("ops-feishu", NotifierKind::Feishu);
    let missing = AnyChannel::build(&notifier, &zh().timezone);
    assert!(matches!(missing, Err(NotifyError::Build(_))));
    notifier.url = Some(SecretString::from(format!("{}{}", server.uri(), path())));
    let channel = AnyChannel::build(&notifier, &zh().timezone).unwrap();
    assert!(matches!(channel, AnyChannel::Feishu(_)));
    let test = Outgoing::Test {
        notifier: "ops-feishu",
    };
    channel.deliver(test, sent_at()).await.unwrap();
    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(body["card"]["header"]["template"], "blue");
}
