//! A provider-wide outage reaches people as one grouped message listing every device, while
//! the webhook (for programs) still gets one contract payload per device.

use serde_json::json;
use tempfile::tempdir;

use super::bot::Bot;
use super::{config, lost_device};
use crate::keeper::harness::Daemon;
use crate::keeper::receiver::Receiver;
use crate::support::start_sim;

const DEVICES: [&str; 6] = ["g1", "g2", "g3", "g4", "g5", "g6"];

#[tokio::test]
async fn a_provider_wide_outage_is_one_grouped_message() {
    let (devices, twins): (Vec<String>, Vec<String>) =
        DEVICES.iter().map(|name| lost_device(name)).unzip();
    let sim = start_sim(&twins.concat()).await;
    let hook = Receiver::start().await;
    let wecom = Bot::start(json!({"errcode": 0, "errmsg": "ok"})).await;
    let notifiers = format!(
        "[[notifier]]\nname = \"wecom\"\nkind = \"wecom\"\nurl = \"{}\"\ngroup_wait = \"4s\"\n",
        wecom.url("/cgi-bin/webhook/send?key=k")
    );
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = config(dir.path(), &sim, &hook, &notifiers, &devices.concat());
    let mut daemon = Daemon::start(dir.path(), &text);
    daemon
        .wait_until("a firing payload per device at the webhook", || {
            DEVICES
                .iter()
                .all(|d| hook.messages(d, "firing", "manual_login_required").len() == 1)
        })
        .await;
    daemon
        .wait_until("the grouped message", || !wecom.requests().is_empty())
        .await;
    // Anything still held would go out once its own wait ended: give it that long.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let requests = wecom.requests();
    assert_eq!(
        requests.len(),
        1,
        "one message for the outage: {requests:#?}"
    );
    let content = requests[0].body["markdown"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for device in DEVICES {
        assert!(content.contains(device), "{device} missing from {content}");
    }
    assert!(content.contains('6'), "the count is missing from {content}");
    assert!(
        content.contains("gewe"),
        "the provider is missing from {content}"
    );
    let sent: Vec<_> = daemon
        .events()
        .into_iter()
        .filter(|e| e["event"] == "notify.sent" && e["notifier"] == "wecom")
        .collect();
    assert_eq!(
        sent.len(),
        DEVICES.len(),
        "one notify.sent per incident: {sent:#?}"
    );
    assert_eq!(daemon.stop().await.code(), Some(0));
}
