//! The WeCom bot against a fake receiver on 127.0.0.1:0: the exact request, and every reply
//! that is not `errcode` 0 is a failure whose text never shows the key.

use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use super::*;
use crate::config::{Notifier, NotifierKind};
use crate::incident::IncidentKind;
use crate::notify::channel::http::tests::{
    alert, assert_json_post, closed_port, json_reply, only_request, outage, receiver, sent_at, zh,
};
use crate::notify::channel::{AnyChannel, Channel};
use crate::notify::render::render_within;
use crate::store::Transition;

const KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";

fn bot(server: &MockServer) -> WecomChannel {
    let url = format!("{}/cgi-bin/webhook/send?key={KEY}", server.uri());
    let url = SecretString::from(url);
    WecomChannel::new(&url, crate::config::DEFAULT_TIMEOUT, zh()).unwrap()
}

#[tokio::test]
async fn posts_the_rendered_markdown_and_errcode_0_is_delivered() {
    let server = receiver(json_reply(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    bot(&server)
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_json_post(&request, "/cgi-bin/webhook/send");
    assert_eq!(request.url.query(), Some(format!("key={KEY}").as_str()));
    let text = render_within(Outgoing::Alert(&batch), sent_at(), &zh(), MAX_CONTENT);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"msgtype": "markdown", "markdown": {"content": text.markdown}})
    );
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("### 【严重】sales-01 需要扫码登录\n"),
        "{content}"
    );
    assert!(content.contains("- **已尝试**：重连失败\n"), "{content}");
}

#[tokio::test]
async fn a_long_group_is_cut_to_4096_bytes_with_a_count_of_the_rest() {
    let server = receiver(json_reply(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let batch = outage(300);
    bot(&server)
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(content.len() <= 4096, "{}", content.len());
    assert!(content.starts_with("### 【严重】gewe-cloud: 300 台设备需要扫码登录\n"));
    let listed = content
        .lines()
        .filter(|l| l.starts_with("- device-"))
        .count();
    let rest = format!("- …及其他 {} 台", 300 - listed);
    assert!(content.lines().any(|l| l == rest), "{content}");
}

#[tokio::test]
async fn the_test_message_is_marked_and_names_the_notifier() {
    let server = receiver(json_reply(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let test = Outgoing::Test {
        notifier: "ops-wecom",
    };
    bot(&server).send(test, sent_at()).await.unwrap();
    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("### 【测试】session-keeper 测试消息\n"),
        "{content}"
    );
    assert!(content.contains("ops-wecom"), "{content}");
    assert!(content.contains("无需任何操作"), "{content}");
}

#[tokio::test]
async fn error_replies_are_failures_that_never_show_the_key() {
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    let errmsg = format!(
        "invalid webhook url, hint: [1700000000_abc], from ip: 10.0.0.1, more info at \
         https://open.work.weixin.qq.com/devtool/query?e=93000&key={KEY}"
    );
    let cases = [
        (
            json_reply(json!({"errcode": 93000, "errmsg": errmsg})),
            "the receiver refused the message: errcode 93000: invalid webhook url",
        ),
        (
            json_reply(json!({"errcode": 45009, "errmsg": format!("api freq out of limit {KEY}")})),
            "the receiver refused the message: errcode 45009: api freq out of limit <redacted>",
        ),
        (
            json_reply(json!({"errmsg": "ok"})),
            "the receiver refused the message: unexpected reply: {\"errmsg\":\"ok\"}",
        ),
        (
            ResponseTemplate::new(200).set_body_string("<html>502</html>"),
            "the receiver refused the message: the reply is not json: \"<html>502</html>\"",
        ),
        (
            ResponseTemplate::new(500).set_body_json(json!({"errcode": 0})),
            "the receiver answered http status 500",
        ),
    ];
    for (reply, expected) in cases {
        let server = receiver(reply).await;
        let error = bot(&server)
            .send(Outgoing::Alert(&batch), sent_at())
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert!(!format!("{error:?}").contains(KEY));
    }
}

#[tokio::test]
async fn a_refused_connection_never_shows_the_url() {
    let url = format!(
        "http://127.0.0.1:{}/cgi-bin/webhook/send?key={KEY}",
        closed_port()
    );
    let bot = WecomChannel::new(
        &SecretString::from(url),
        crate::config::DEFAULT_TIMEOUT,
        zh(),
    )
    .unwrap();
    let batch = alert(IncidentKind::ManualLoginRequired, Transition::Firing);
    let error = bot
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, NotifyError::Transport(_)), "{text}");
    assert!(!text.contains(KEY) && !text.contains("/cgi-bin"), "{text}");
    assert!(!format!("{bot:?}").contains(KEY));
}

#[tokio::test]
async fn a_wecom_notifier_builds_this_channel() {
    let server = receiver(json_reply(json!({"errcode": 0, "errmsg": "ok"}))).await;
    let mut notifier = Notifier::new("ops-wecom", NotifierKind::Wecom);
    let missing = AnyChannel::build(&notifier, &zh().timezone);
    assert!(matches!(missing, Err(NotifyError::Build(_))));
    notifier.url = Some(SecretString::from(format!(
        "{}/send?key={KEY}",
        server.uri()
    )));
    notifier.language = crate::config::Language::En;
    let channel = AnyChannel::build(&notifier, &zh().timezone).unwrap();
    assert!(matches!(channel, AnyChannel::Wecom(_)));
    let test = Outgoing::Test {
        notifier: "ops-wecom",
    };
    channel.deliver(test, sent_at()).await.unwrap();
    let body: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    let content = body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("### [TEST] session-keeper test message\n"),
        "{content}"
    );
}
