//! The ledger's rules with plain timestamps the tests advance (no clock, no store, no HTTP).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::*;
use crate::incident::{IncidentKind, Severity, Subject};
use crate::vendor::VendorKind;

const T0: &str = "2026-11-21T08:00:00Z";

fn t(secs: i64) -> Timestamp {
    let t0: Timestamp = T0.parse().unwrap();
    t0.checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn policy(send_resolved: bool, repeat_secs: u64) -> Policy {
    Policy {
        kind: NotifierKind::Webhook,
        send_resolved,
        repeat_interval: Duration::from_secs(repeat_secs),
        min_severity: Severity::Warning,
    }
}

/// "ops" sends resolved and never repeats; "pager" repeats every 10 min and skips resolved.
fn policies() -> Policies {
    BTreeMap::from([
        ("ops".to_owned(), policy(true, 0)),
        ("pager".to_owned(), policy(false, 600)),
    ])
}

fn key(kind: IncidentKind) -> IncidentKey {
    IncidentKey {
        subject: Subject::Device("sales-01".into()),
        kind,
    }
}

fn context(notify: &[&str]) -> Arc<IncidentContext> {
    Arc::new(IncidentContext {
        provider: "gewe-cloud".into(),
        vendor: VendorKind::Gewe,
        vendor_id: Some("wx_abc123".into()),
        labels: BTreeMap::new(),
        notify: notify.iter().map(|n| (*n).to_owned()).collect(),
    })
}

fn open(
    kind: IncidentKind,
    notify: &[&str],
    detail: serde_json::Value,
    escalate: bool,
    at: Timestamp,
) -> IncidentChange {
    IncidentChange::Open {
        key: key(kind),
        context: context(notify),
        summary: format!("sales-01: {kind}"),
        detail,
        escalate,
        at,
    }
}

fn manual(at: Timestamp) -> IncidentChange {
    open(
        IncidentKind::ManualLoginRequired,
        &["ops", "pager"],
        json!({}),
        false,
        at,
    )
}

fn resolve(kind: IncidentKind, at: Timestamp) -> IncidentChange {
    IncidentChange::Resolve {
        key: key(kind),
        at,
        resolution: Resolution::Recovered,
    }
}

/// (notifier, transition, seq) of each message, in order.
fn sent(outcome: &Outcome) -> Vec<(String, Transition, u32)> {
    outcome
        .messages
        .iter()
        .map(|m| {
            (
                m.delivery.notifier.clone(),
                m.delivery.transition,
                m.delivery.seq,
            )
        })
        .collect()
}

fn firing(notifier: &str, seq: u32) -> (String, Transition, u32) {
    (notifier.to_owned(), Transition::Firing, seq)
}

fn incident_writes(outcome: &Outcome) -> Vec<&IncidentRecord> {
    outcome
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::Incident(record) => Some(record),
            _ => None,
        })
        .collect()
}

/// Reports every message of `outcome` as delivered at `at`.
fn deliver_all(ledger: &mut Ledger, outcome: &Outcome, at: Timestamp) {
    for message in &outcome.messages {
        ledger.delivered(&message.delivery, at);
    }
}

#[test]
fn open_records_the_incident_and_one_firing_delivery_per_configured_notifier() {
    let mut ledger = Ledger::new(policies());
    let change = open(
        IncidentKind::ManualLoginRequired,
        &["ops", "pager", "gone"],
        json!({}),
        false,
        t(0),
    );
    let outcome = ledger.apply(change, t(1));
    assert_eq!(sent(&outcome), [firing("ops", 0), firing("pager", 0)]);
    let records = incident_writes(&outcome);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].id,
        "sales-01/manual_login_required/2026-11-21T08:00:00Z"
    );
    assert_eq!(records[0].opened_at, t(0));
    assert_eq!(records[0].resolved_at, None);
    assert_eq!(outcome.writes.len(), 3, "the incident and two deliveries");
    assert!(
        matches!(&outcome.events[..], [Event::Opened { incident, inhibited_by: None }] if incident.id == records[0].id)
    );
    for message in &outcome.messages {
        assert_eq!(message.delivery.state, DeliveryState::Pending);
        assert_eq!(message.delivery.created_at, t(1));
        assert_eq!(message.incident.id, records[0].id);
    }
}

#[test]
fn open_again_without_escalate_updates_silently_and_never_opens_twice() {
    let mut ledger = Ledger::new(policies());
    ledger.apply(manual(t(0)), t(0));
    let same = ledger.apply(manual(t(60)), t(60));
    assert!(same.messages.is_empty() && same.events.is_empty() && same.writes.is_empty());

    let change = open(
        IncidentKind::ManualLoginRequired,
        &["ops", "pager"],
        json!({"steps": ["reconnect"]}),
        false,
        t(90),
    );
    let refreshed = ledger.apply(change, t(90));
    assert!(refreshed.messages.is_empty() && refreshed.events.is_empty());
    let records = incident_writes(&refreshed);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].detail, json!({"steps": ["reconnect"]}));
    assert_eq!(records[0].opened_at, t(0), "still the same incident");
    assert_eq!(ledger.open_incidents().count(), 1);
}

#[test]
fn escalate_sends_the_next_seq_to_every_notifier_and_counts_it() {
    let mut ledger = Ledger::new(policies());
    let warn = |m: &str, at| {
        open(
            IncidentKind::RecycleWarning,
            &["ops", "pager"],
            json!({"milestone": m}),
            true,
            at,
        )
    };
    let first = ledger.apply(warn("3d", t(0)), t(0));
    assert_eq!(sent(&first), [firing("ops", 0), firing("pager", 0)]);
    deliver_all(&mut ledger, &first, t(1));

    let second = ledger.apply(warn("1d", t(100)), t(100));
    assert_eq!(sent(&second), [firing("ops", 1), firing("pager", 1)]);
    assert_eq!(incident_writes(&second)[0].escalations, 1);
    assert_eq!(
        second.messages[0].incident.detail,
        json!({"milestone": "1d"})
    );
    assert!(
        second.events.is_empty(),
        "an escalation is not a new incident"
    );

    let third = ledger.apply(warn("6h", t(200)), t(200));
    assert_eq!(sent(&third), [firing("ops", 2), firing("pager", 2)]);
    assert_eq!(incident_writes(&third)[0].escalations, 2);
}

#[test]
fn repeat_interval_sends_again_only_after_the_interval_since_the_last_delivery() {
    let mut ledger = Ledger::new(policies());
    let opened = ledger.apply(manual(t(0)), t(0));
    assert_eq!(
        ledger.next_due(),
        None,
        "nothing delivered yet: no repeat clock"
    );
    assert!(
        ledger.tick(t(10_000)).messages.is_empty(),
        "undelivered: no repeats pile up"
    );

    deliver_all(&mut ledger, &opened, t(5));
    assert_eq!(ledger.next_due(), Some(t(605)));
    assert!(ledger.tick(t(604)).messages.is_empty());
    let repeat = ledger.tick(t(605));
    assert_eq!(
        sent(&repeat),
        [firing("pager", 1)],
        "ops has repeat_interval 0"
    );
    assert_eq!(ledger.next_due(), None, "the repeat is not delivered yet");
    assert!(ledger.tick(t(2_000)).messages.is_empty());

    deliver_all(&mut ledger, &repeat, t(700));
    assert_eq!(ledger.next_due(), Some(t(1_300)));
    assert_eq!(sent(&ledger.tick(t(1_300))), [firing("pager", 2)]);
}

#[test]
fn an_escalation_restarts_the_repeat_clock() {
    let mut ledger = Ledger::new(policies());
    let warn = |at| {
        open(
            IncidentKind::RecycleWarning,
            &["pager"],
            json!({}),
            true,
            at,
        )
    };
    let first = ledger.apply(warn(t(0)), t(0));
    deliver_all(&mut ledger, &first, t(0));
    let escalation = ledger.apply(warn(t(300)), t(300));
    assert_eq!(ledger.next_due(), None);
    deliver_all(&mut ledger, &escalation, t(301));
    assert_eq!(ledger.next_due(), Some(t(901)));
    assert_eq!(sent(&ledger.tick(t(901))), [firing("pager", 2)]);
}

#[test]
fn resolve_sends_resolved_once_and_only_to_notifiers_with_send_resolved() {
    let mut ledger = Ledger::new(policies());
    let opened = ledger.apply(manual(t(0)), t(0));
    deliver_all(&mut ledger, &opened, t(1));
    let resolved = ledger.apply(resolve(IncidentKind::ManualLoginRequired, t(50)), t(51));
    assert_eq!(
        sent(&resolved),
        [("ops".to_owned(), Transition::Resolved, 0)]
    );
    assert_eq!(incident_writes(&resolved)[0].resolved_at, Some(t(50)));
    assert_eq!(resolved.messages[0].incident.resolved_at, Some(t(50)));
    assert!(matches!(&resolved.events[..], [Event::Resolved(_)]));
    assert_eq!(ledger.open_incidents().count(), 0);
    assert_eq!(
        ledger.next_due(),
        None,
        "no repeats for a resolved incident"
    );

    let again = ledger.apply(resolve(IncidentKind::ManualLoginRequired, t(60)), t(60));
    assert!(again.messages.is_empty() && again.writes.is_empty() && again.events.is_empty());
}

#[test]
fn resolve_without_an_open_incident_does_nothing() {
    let mut ledger = Ledger::new(policies());
    ledger.apply(manual(t(0)), t(0));
    let other = ledger.apply(resolve(IncidentKind::DeviceRecycled, t(5)), t(5));
    assert!(other.messages.is_empty() && other.writes.is_empty() && other.events.is_empty());
    assert_eq!(ledger.open_incidents().count(), 1);
}

#[test]
fn reopening_in_the_same_second_gets_a_new_id() {
    let mut ledger = Ledger::new(policies());
    let at = |ms: i64| t(0).checked_add(SignedDuration::from_millis(ms)).unwrap();
    let first = ledger.apply(manual(at(100)), at(100));
    ledger.apply(resolve(IncidentKind::ManualLoginRequired, at(300)), at(300));
    let second = ledger.apply(manual(at(600)), at(600));
    let first_id = &incident_writes(&first)[0].id;
    let second = incident_writes(&second)[0];
    assert_ne!(&second.id, first_id);
    assert_eq!(
        second.id,
        "sales-01/manual_login_required/2026-11-21T08:00:01Z"
    );
    assert_eq!(second.id, second.key.incident_id(second.opened_at));
}

#[test]
fn a_notifier_added_to_the_context_later_gets_the_first_message() {
    let mut ledger = Ledger::new(policies());
    let only_ops = open(
        IncidentKind::ManualLoginRequired,
        &["ops"],
        json!({}),
        false,
        t(0),
    );
    assert_eq!(sent(&ledger.apply(only_ops, t(0))), [firing("ops", 0)]);
    assert_eq!(
        sent(&ledger.apply(manual(t(10)), t(10))),
        [firing("pager", 0)]
    );
}

#[test]
fn reconfigure_removes_lanes_and_applies_new_settings() {
    let mut ledger = Ledger::new(policies());
    let opened = ledger.apply(manual(t(0)), t(0));
    deliver_all(&mut ledger, &opened, t(0));
    let reload = ledger.reconfigure(
        BTreeMap::from([("ops".to_owned(), policy(false, 60))]),
        t(0),
    );
    assert!(reload.messages.is_empty() && reload.writes.is_empty());
    assert_eq!(ledger.next_due(), Some(t(60)));
    assert_eq!(sent(&ledger.tick(t(60))), [firing("ops", 1)]);
    let resolved = ledger.apply(resolve(IncidentKind::ManualLoginRequired, t(70)), t(70));
    assert!(
        resolved.messages.is_empty(),
        "ops no longer sends resolved, pager is gone"
    );
}

mod held;
mod inhibit;
mod reload;
mod repeats;
mod restore;
