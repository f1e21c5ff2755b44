//! Per-notifier policy in the running daemon: during quiet hours a warning waits while a
//! critical incident goes out at once, and a notifier with `min_severity = "critical"` is
//! never told about warnings. The webhook, with neither, gets both.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use tempfile::tempdir;

use super::bot::Bot;
use super::{config, lost_device};
use crate::keeper::harness::Daemon;
use crate::keeper::receiver::Receiver;
use crate::support::start_sim;

/// Three WKTeam devices whose every answer is an HTTP 500: their provider becomes unreachable
/// (a warning). (wechatpro would not do: its client keeps calls to one device a second apart,
/// slower than the unreachable window of this fast policy.)
fn failing() -> (String, String) {
    let ids = ["u1", "u2", "u3"];
    let sim = ids
        .map(|id| {
            format!(
                "[[device]]\nvendor = \"wkteam\"\nid = \"wc_{id}\"\nw_id = \"w-{id}\"\n\
                 fault = \"http500\"\n"
            )
        })
        .concat();
    let keeper = ids
        .map(|id| {
            format!(
                "[[device]]\nname = \"{id}\"\nprovider = \"wkteam\"\nid = \"wc_{id}\"\n\
                 w_id = \"w-{id}\"\n"
            )
        })
        .concat();
    (keeper, sim)
}

/// A quiet-hours window (UTC) from an hour ago to two hours ahead: it holds now.
fn window_around_now() -> String {
    let now = Timestamp::now().to_zoned(TimeZone::UTC);
    let at = |minutes: i64| {
        now.checked_add(SignedDuration::from_mins(minutes))
            .unwrap_or_else(|e| panic!("{e}"))
            .strftime("%H:%M")
            .to_string()
    };
    format!("{}-{}", at(-60), at(120))
}

fn mentions(bot: &Bot, text: &str) -> bool {
    bot.requests()
        .iter()
        .any(|r| r.body.to_string().contains(text))
}

#[tokio::test]
async fn quiet_hours_hold_a_warning_and_the_severity_floor_drops_it() {
    let (device, twin) = lost_device("w1");
    let (failing, failing_twins) = failing();
    let sim = start_sim(&format!("{twin}{failing_twins}")).await;
    let hook = Receiver::start().await;
    let ok = json!({"errcode": 0, "errmsg": "ok"});
    let quiet = Bot::start(ok.clone()).await;
    let critical_only = Bot::start(ok).await;
    let notifiers = format!(
        r#"
[[notifier]]
name = "quiet"
kind = "wecom"
url = "{quiet}"
group_wait = "0s"
quiet_hours = "{window}"

[[notifier]]
name = "critical-only"
kind = "wecom"
url = "{critical}"
group_wait = "0s"
min_severity = "critical"
"#,
        quiet = quiet.url("/cgi-bin/webhook/send?key=q"),
        critical = critical_only.url("/cgi-bin/webhook/send?key=c"),
        window = window_around_now(),
    );
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = config(
        dir.path(),
        &sim,
        &hook,
        &notifiers,
        &format!("{device}{failing}"),
    );
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_until("both incidents at the webhook", || {
            let kinds: Vec<_> = hook
                .bodies()
                .into_iter()
                .map(|b| b["kind"].clone())
                .collect();
            kinds.contains(&json!("provider_unreachable"))
                && kinds.contains(&json!("manual_login_required"))
        })
        .await;
    daemon
        .wait_until("the critical message at both bots", || {
            mentions(&quiet, "w1") && mentions(&critical_only, "w1")
        })
        .await;
    // The warning is due now; give the workers time to (wrongly) send it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for bot in [&quiet, &critical_only] {
        assert!(!mentions(bot, "wkteam"), "{:#?}", bot.requests());
        assert_eq!(bot.requests().len(), 1, "{:#?}", bot.requests());
    }
    let held = daemon
        .events()
        .into_iter()
        .any(|e| e["event"] == "notify.sent" && e["notifier"] == "quiet" && e["device"].is_null());
    assert!(!held, "the warning went out during quiet hours");
    assert_eq!(daemon.stop().await.code(), Some(0));
}
