//! Each chat bot gets the manual-login message in its own documented format: exact path,
//! query and body shape, the signature recomputed here with an independent HMAC, an error
//! reply (HTTP 200 with an error code) retried, and the resolved message once the person
//! logged in.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use session_keeper::vendor::VendorKind;
use sha2::Sha256;
use tempfile::tempdir;

use super::bot::{Bot, Request};
use super::{config, lost_device};
use crate::keeper::harness::Daemon;
use crate::keeper::receiver::Receiver;
use crate::support::start_sim;

const DINGTALK_SECRET: &str = "SECdingtalk-test-secret";
const FEISHU_SECRET: &str = "feishu-test-secret";

/// base64(HMAC-SHA256(key, message)), computed apart from the daemon's own code.
fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|e| panic!("{e}"));
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn ok_errcode() -> Value {
    json!({"errcode": 0, "errmsg": "ok"})
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_chat_bot_gets_the_manual_login_message_in_its_own_format() {
    let (device, twin) = lost_device("w1");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let wecom = Bot::start(ok_errcode()).await;
    wecom.script([(
        200,
        json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
    )]);
    let dingtalk = Bot::start(ok_errcode()).await;
    let feishu = Bot::start(json!({"code": 0, "msg": "success", "data": {}})).await;
    let notifiers = format!(
        r#"
[[notifier]]
name = "wecom"
kind = "wecom"
url = "{wecom}"
group_wait = "0s"

[[notifier]]
name = "dingtalk"
kind = "dingtalk"
url = "{dingtalk}"
secret = "{DINGTALK_SECRET}"
group_wait = "0s"

[[notifier]]
name = "feishu"
kind = "feishu"
url = "{feishu}"
secret = "{FEISHU_SECRET}"
group_wait = "0s"
"#,
        wecom = wecom.url("/cgi-bin/webhook/send?key=wecom-key-1"),
        dingtalk = dingtalk.url("/robot/send?access_token=dt-token-1"),
        feishu = feishu.url("/open-apis/bot/v2/hook/fs-hook-1"),
    );
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut daemon = Daemon::start(
        dir.path(),
        &config(dir.path(), &sim, &hook, &notifiers, &device),
    );
    daemon
        .wait_until("a message at every bot, the refused one retried", || {
            wecom.requests().len() >= 2
                && !dingtalk.requests().is_empty()
                && !feishu.requests().is_empty()
        })
        .await;

    check_wecom(&wecom.requests()[0]);
    check_wecom(&wecom.requests()[1]);
    check_dingtalk(&dingtalk.requests()[0]);
    check_feishu(&feishu.requests()[0]);
    let failed = daemon
        .wait_event("the refused wecom attempt", |e| {
            e["event"] == "notify.failed" && e["notifier"] == "wecom"
        })
        .await;
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("45009"), "{failed}");
    assert!(!failed.to_string().contains("wecom-key-1"), "{failed}");

    sim.sim
        .login(VendorKind::Gewe, "wx_w1")
        .unwrap_or_else(|e| panic!("{e}"));
    daemon
        .wait_until("a resolved message at every bot", || {
            wecom.requests().len() >= 3
                && dingtalk.requests().len() >= 2
                && feishu.requests().len() >= 2
        })
        .await;
    let resolved = &wecom.requests()[2].body["markdown"]["content"];
    assert!(
        resolved.as_str().unwrap_or_default().contains("w1"),
        "{resolved}"
    );
    assert_ne!(wecom.requests()[2].body, wecom.requests()[1].body);
    assert_eq!(daemon.stop().await.code(), Some(0));
    for request in [wecom.requests(), dingtalk.requests(), feishu.requests()].concat() {
        let text = request.body.to_string();
        assert!(
            !text.contains("sim-gewe-token") && !text.contains("SEC"),
            "{text}"
        );
    }
}

/// The text a person reads: the device, its provider, and what to do (scan a QR code).
fn check_text(text: &Value) {
    let text = text.as_str().unwrap_or_else(|| panic!("no text: {text}"));
    for part in ["w1", "gewe", "wx_w1", "扫码"] {
        assert!(text.contains(part), "{part:?} missing from {text}");
    }
}

fn check_wecom(request: &Request) {
    assert_eq!(request.path, "/cgi-bin/webhook/send");
    assert_eq!(request.query, "key=wecom-key-1");
    assert!(request.content_type.starts_with("application/json"));
    assert_eq!(keys(&request.body), ["msgtype", "markdown"]);
    assert_eq!(request.body["msgtype"], "markdown");
    assert_eq!(keys(&request.body["markdown"]), ["content"]);
    check_text(&request.body["markdown"]["content"]);
}

fn check_dingtalk(request: &Request) {
    assert_eq!(request.path, "/robot/send");
    assert_eq!(request.param("access_token").as_deref(), Some("dt-token-1"));
    let timestamp = request.param("timestamp").unwrap_or_default();
    let millis: i64 = timestamp
        .parse()
        .unwrap_or_else(|e| panic!("{timestamp}: {e}"));
    let now = jiff::Timestamp::now().as_millisecond();
    assert!((now - millis).abs() < 3_600_000, "stale timestamp {millis}");
    let expected = hmac_base64(
        DINGTALK_SECRET.as_bytes(),
        format!("{timestamp}\n{DINGTALK_SECRET}").as_bytes(),
    );
    assert_eq!(request.param("sign"), Some(expected));
    assert!(request.content_type.starts_with("application/json"));
    assert_eq!(request.body["msgtype"], "markdown");
    assert_eq!(keys(&request.body["markdown"]), ["title", "text"]);
    assert!(
        request.body["markdown"]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    check_text(&request.body["markdown"]["text"]);
}

fn check_feishu(request: &Request) {
    assert_eq!(request.path, "/open-apis/bot/v2/hook/fs-hook-1");
    assert!(request.content_type.starts_with("application/json"));
    let body = &request.body;
    let timestamp = body["timestamp"].as_str().unwrap_or_default();
    let seconds: i64 = timestamp
        .parse()
        .unwrap_or_else(|e| panic!("{timestamp}: {e}"));
    assert!((jiff::Timestamp::now().as_second() - seconds).abs() < 3600);
    let expected = hmac_base64(format!("{timestamp}\n{FEISHU_SECRET}").as_bytes(), b"");
    assert_eq!(body["sign"], expected);
    assert_eq!(body["msg_type"], "interactive");
    let card = &body["card"];
    assert!(
        card["header"]["title"]["content"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(card["header"]["template"], "red", "critical is red: {card}");
    check_text(&Value::String(card.to_string()));
}
