//! A restart in the middle of an outage: the message a bot could not take before the stop is
//! delivered after the restart, exactly once, and what was delivered before is not sent
//! again.

use std::time::Duration;

use serde_json::json;
use tempfile::tempdir;

use super::bot::Bot;
use super::{config, lost_device};
use crate::keeper::harness::Daemon;
use crate::keeper::receiver::Receiver;
use crate::support::start_sim;

#[tokio::test]
async fn a_restart_during_an_outage_neither_duplicates_nor_loses_a_message() {
    let (device, twin) = lost_device("w1");
    let sim = start_sim(&twin).await;
    let hook = Receiver::start().await;
    let wecom = Bot::start(json!({"errcode": 0, "errmsg": "ok"})).await;
    // The bot is broken until further notice: every attempt before the restart fails.
    wecom.script((0..1000).map(|_| (502, json!({"errcode": -1, "errmsg": "bad gateway"}))));
    let notifiers = format!(
        "[[notifier]]\nname = \"wecom\"\nkind = \"wecom\"\nurl = \"{}\"\ngroup_wait = \"0s\"\n",
        wecom.url("/cgi-bin/webhook/send?key=k")
    );
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = config(dir.path(), &sim, &hook, &notifiers, &device);
    let mut first = Daemon::start(dir.path(), &text);
    first
        .wait_until("the webhook's firing message", || {
            hook.messages("w1", "firing", "manual_login_required").len() == 1
        })
        .await;
    first
        .wait_event("a failed wecom attempt", |e| {
            e["event"] == "notify.failed" && e["notifier"] == "wecom"
        })
        .await;
    assert_eq!(first.stop().await.code(), Some(0));
    let attempts_before = wecom.requests().len();

    wecom.clear_script();
    let mut second = Daemon::start(dir.path(), &text);
    second
        .wait_until("the held message delivered", || {
            wecom.requests().len() > attempts_before
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = &wecom.requests()[attempts_before..];
    assert_eq!(
        after.len(),
        1,
        "exactly one delivery after the restart: {after:#?}"
    );
    let content = after[0].body["markdown"]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(content.contains("w1"), "{content}");
    assert_eq!(
        hook.messages("w1", "firing", "manual_login_required").len(),
        1,
        "the webhook's delivered message is not sent again"
    );
    assert_eq!(second.stop().await.code(), Some(0));
}
