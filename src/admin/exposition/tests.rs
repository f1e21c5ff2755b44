//! The exposition's series, names, labels and values.

use std::time::Duration;

use super::*;
use crate::admin::metrics::{ProbeResult, Registry};

fn device(name: &str, state: &'static str, deadline: Option<&str>) -> DeviceStatus {
    DeviceStatus {
        name: name.to_owned(),
        provider: "gewe".to_owned(),
        state,
        since: None,
        last_online_at: None,
        recycle_deadline: deadline.map(str::to_owned),
        open_incidents: Vec::new(),
        last_probe_at: None,
        stale: false,
    }
}

/// The value of the sample written exactly as `series`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn scrape() -> String {
    let registry = Registry::new();
    registry.probe("gewe", ProbeResult::Offline, Duration::from_millis(70));
    registry.probe("gewe", ProbeResult::Offline, Duration::from_millis(70));
    registry.ladder("reconnect", "failed");
    registry.notification("webhook", "sent");
    registry.token_refresh("shrise-pc", "ok");
    let fleet = Fleet {
        devices: vec![
            device("d1", "login_required", Some("2026-11-21T10:00:00Z")),
            device("d2", "online", Some("2026-11-21T07:00:00Z")),
            device("d\"3", "unknown", None),
        ],
        open_incidents: vec![IncidentKind::ManualLoginRequired],
    };
    let now: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    render(&registry.snapshot(), &fleet, now)
}

#[test]
fn gauges_count_states_and_kinds_listing_zeros() {
    let text = scrape();
    let at = |series: &str| value(&text, series);
    assert_eq!(
        at(r#"session_keeper_devices{state="login_required"}"#),
        Some(1.0)
    );
    assert_eq!(at(r#"session_keeper_devices{state="online"}"#), Some(1.0));
    assert_eq!(at(r#"session_keeper_devices{state="recycled"}"#), Some(0.0));
    assert_eq!(
        at(r#"session_keeper_open_incidents{kind="manual_login_required"}"#),
        Some(1.0)
    );
    assert_eq!(
        at(r#"session_keeper_open_incidents{kind="provider_unreachable"}"#),
        Some(0.0)
    );
}

#[test]
fn recycle_deadlines_are_seconds_left_negative_when_past() {
    let text = scrape();
    let at = |series: &str| value(&text, series);
    assert_eq!(
        at(r#"session_keeper_recycle_deadline_seconds{device="d1"}"#),
        Some(7200.0)
    );
    assert_eq!(
        at(r#"session_keeper_recycle_deadline_seconds{device="d2"}"#),
        Some(-3600.0)
    );
    assert!(!text.contains(r#"device="d\"3""#), "no deadline, no series");
}

#[test]
fn counters_and_histogram_are_rendered_with_types() {
    let text = scrape();
    let at = |series: &str| value(&text, series);
    assert_eq!(
        at(r#"session_keeper_probes_total{vendor="gewe",result="offline"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"session_keeper_probe_duration_seconds_bucket{vendor="gewe",le="0.05"}"#),
        Some(0.0)
    );
    assert_eq!(
        at(r#"session_keeper_probe_duration_seconds_bucket{vendor="gewe",le="0.1"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"session_keeper_probe_duration_seconds_bucket{vendor="gewe",le="+Inf"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"session_keeper_probe_duration_seconds_count{vendor="gewe"}"#),
        Some(2.0)
    );
    assert_eq!(
        at(r#"session_keeper_ladder_steps_total{step="reconnect",outcome="failed"}"#),
        Some(1.0)
    );
    assert_eq!(
        at(r#"session_keeper_notifications_total{channel="webhook",result="sent"}"#),
        Some(1.0)
    );
    assert_eq!(
        at(r#"session_keeper_token_refreshes_total{provider="shrise-pc",result="ok"}"#),
        Some(1.0)
    );
    assert!(text.contains("# TYPE session_keeper_probe_duration_seconds histogram\n"));
    assert!(text.contains("# TYPE session_keeper_devices gauge\n"));
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}
