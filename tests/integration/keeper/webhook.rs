//! The webhook payload of DESIGN.md §5, field for field, from a real incident: firing when the
//! ladder is exhausted, resolved when a person logs in.

use serde_json::{Value, json};
use session_keeper::vendor::VendorKind;
use tempfile::tempdir;

use super::harness::{Daemon, config};
use super::receiver::Receiver;
use crate::support::start_sim;

const KEYS: [&str; 16] = [
    "schema",
    "status",
    "kind",
    "severity",
    "incident_id",
    "device",
    "provider",
    "vendor",
    "vendor_id",
    "labels",
    "summary",
    "opened_at",
    "resolved_at",
    "sent_at",
    "repeat",
    "detail",
];

fn stamp(value: &Value) -> jiff::Timestamp {
    let text = value.as_str().unwrap_or_default();
    assert!(
        text.len() == 20 && text.ends_with('Z'),
        "not RFC 3339 seconds: {value}"
    );
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_webhook_payload_matches_the_contract_field_for_field() {
    let sim = start_sim(
        "[[device]]\nvendor = \"gewe\"\nid = \"wx_w\"\nonline = false\nreconnect = \"fail\"\n",
    )
    .await;
    let hook = Receiver::start().await;
    let dir = tempdir().unwrap_or_else(|e| panic!("{e}"));
    let devices = "[[device]]\nname = \"w1\"\nprovider = \"gewe\"\nid = \"wx_w\"\n\
                   labels = { owner = \"ops-team\", region = \"east\" }\n";
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), &sim, &hook, devices));
    daemon
        .wait_until("the firing message", || {
            !hook
                .messages("w1", "firing", "manual_login_required")
                .is_empty()
        })
        .await;
    let firing = hook.messages("w1", "firing", "manual_login_required")[0].clone();
    check_firing(&firing);

    sim.sim
        .login(VendorKind::Gewe, "wx_w")
        .unwrap_or_else(|e| panic!("{e}"));
    check_resolved(&daemon, &hook, &firing).await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    for body in hook.bodies() {
        assert!(!body.to_string().contains("sim-gewe-token"), "{body}");
    }
}

/// The resolved message after a person logged in: same incident, `resolved_at` set.
async fn check_resolved(daemon: &Daemon, hook: &Receiver, firing: &Value) {
    let opened = stamp(&firing["opened_at"]);
    daemon
        .wait_until("the resolved message", || {
            !hook
                .messages("w1", "resolved", "manual_login_required")
                .is_empty()
        })
        .await;
    let resolved = hook.messages("w1", "resolved", "manual_login_required")[0].clone();
    // The contract's keys, then why it resolved.
    let mut with_resolution = KEYS.to_vec();
    with_resolution.push("resolution");
    assert_eq!(keys(&resolved), with_resolution);
    assert_eq!(resolved["resolution"], "recovered");
    assert_eq!(resolved["incident_id"], firing["incident_id"]);
    assert_eq!(resolved["opened_at"], firing["opened_at"]);
    assert!(stamp(&resolved["resolved_at"]) >= opened);
    assert_eq!(resolved["repeat"], 0);
}

/// The firing message, field for field (the order is checked by the caller's `KEYS`).
fn check_firing(firing: &Value) {
    assert_eq!(keys(firing), KEYS);
    assert_eq!(firing["schema"], "session-keeper.alert.v1");
    assert_eq!(firing["severity"], "critical");
    let opened = stamp(&firing["opened_at"]);
    assert_eq!(
        firing["incident_id"],
        format!(
            "w1/manual_login_required/{}",
            firing["opened_at"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(firing["provider"], "gewe");
    assert_eq!(firing["vendor"], "gewe");
    assert_eq!(firing["vendor_id"], "wx_w");
    assert_eq!(
        firing["labels"],
        json!({"owner": "ops-team", "region": "east"})
    );
    let summary = firing["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("w1 needs a QR login"), "{summary}");
    assert!(firing["resolved_at"].is_null());
    assert!(stamp(&firing["sent_at"]) >= opened);
    assert_eq!(firing["repeat"], 0);
    let steps = firing["detail"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!steps.is_empty(), "{firing}");
    assert!(
        firing["detail"]
            .as_object()
            .is_some_and(|d| d.contains_key("offline_reason"))
    );
}
