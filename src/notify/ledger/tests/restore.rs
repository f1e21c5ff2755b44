//! Restoring the ledger after a restart from what a store would have kept.

use super::*;
use crate::notify::Restored;

/// Runs `changes` through a ledger, delivering every message one second after it was decided,
/// and returns what a store would hold: incidents and deliveries by key, plus the ledger.
fn run_and_keep(changes: Vec<(IncidentChange, Timestamp)>, deliver: bool) -> (Ledger, Restored) {
    let mut ledger = Ledger::new(policies());
    let mut incidents: BTreeMap<String, IncidentRecord> = BTreeMap::new();
    let mut deliveries: BTreeMap<(String, String, Transition, u32), DeliveryRecord> =
        BTreeMap::new();
    for (change, now) in changes {
        let outcome = ledger.apply(change, now);
        for write in &outcome.writes {
            match write {
                Write::Incident(r) => {
                    incidents.insert(r.id.clone(), r.clone());
                }
                Write::Delivery(d) => {
                    let k = (
                        d.incident_id.clone(),
                        d.notifier.clone(),
                        d.transition,
                        d.seq,
                    );
                    deliveries.insert(k, d.clone());
                }
                _ => {}
            }
        }
        if deliver {
            for message in &outcome.messages {
                let mut d = message.delivery.clone();
                d.state = DeliveryState::Sent;
                d.sent_at = Some(now.checked_add(SignedDuration::from_secs(1)).unwrap());
                ledger.delivered(&d, d.sent_at.unwrap());
                deliveries.insert(
                    (
                        d.incident_id.clone(),
                        d.notifier.clone(),
                        d.transition,
                        d.seq,
                    ),
                    d,
                );
            }
        }
    }
    let open: Vec<_> = incidents
        .values()
        .filter(|r| r.resolved_at.is_none())
        .cloned()
        .collect();
    let pending: Vec<_> = deliveries
        .values()
        .filter(|d| d.state == DeliveryState::Pending)
        .cloned()
        .collect();
    let unfinished = incidents
        .values()
        .filter(|r| r.resolved_at.is_some() && pending.iter().any(|d| d.incident_id == r.id))
        .cloned()
        .collect();
    let history = deliveries
        .values()
        .filter(|d| open.iter().any(|r| r.id == d.incident_id))
        .cloned()
        .collect();
    (
        ledger,
        Restored {
            open,
            pending,
            history,
            unfinished,
        },
    )
}

#[test]
fn restore_does_not_resend_an_open_incident_and_keeps_its_seq_and_repeat_clock() {
    let warn = |at| {
        open(
            IncidentKind::RecycleWarning,
            &["ops", "pager"],
            json!({}),
            true,
            at,
        )
    };
    let (_, restored) = run_and_keep(vec![(warn(t(0)), t(0)), (warn(t(100)), t(100))], true);
    let (mut ledger, outcome) = Ledger::restore(policies(), &restored, t(200));
    assert!(outcome.messages.is_empty() && outcome.writes.is_empty() && outcome.events.is_empty());
    assert_eq!(ledger.open_incidents().count(), 1);

    let again = ledger.apply(warn(t(250)), t(250));
    assert!(again.events.is_empty(), "not opened a second time");
    assert_eq!(sent(&again), [firing("ops", 2), firing("pager", 2)]);

    let (mut ledger, _) = Ledger::restore(policies(), &restored, t(200));
    assert_eq!(
        ledger.next_due(),
        Some(t(701)),
        "pager: 600 s after its last delivery"
    );
    let resolved = ledger.apply(resolve(IncidentKind::RecycleWarning, t(300)), t(300));
    assert_eq!(
        sent(&resolved),
        [("ops".to_owned(), Transition::Resolved, 0)]
    );
}

#[test]
fn restore_resumes_pending_deliveries_in_order_and_drops_those_of_removed_notifiers() {
    let changes = vec![
        (manual(t(0)), t(0)),
        (
            open(
                IncidentKind::RecycleWarning,
                &["ops", "pager"],
                json!({}),
                false,
                t(5),
            ),
            t(5),
        ),
        (resolve(IncidentKind::RecycleWarning, t(9)), t(9)),
    ];
    let (_, restored) = run_and_keep(changes, false);
    let only_ops = BTreeMap::from([("ops".to_owned(), policy(true, 0))]);
    let (mut ledger, outcome) = Ledger::restore(only_ops, &restored, t(20));
    let resumed: Vec<_> = outcome
        .messages
        .iter()
        .map(|m| (m.incident.key.kind, m.delivery.transition))
        .collect();
    assert_eq!(
        resumed,
        [
            (IncidentKind::ManualLoginRequired, Transition::Firing),
            (IncidentKind::RecycleWarning, Transition::Firing),
            (IncidentKind::RecycleWarning, Transition::Resolved),
        ]
    );
    assert!(
        outcome
            .messages
            .iter()
            .all(|m| m.delivery.notifier == "ops")
    );
    let dropped: Vec<_> = outcome
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::Delivery(d) if d.state == DeliveryState::Dropped => Some(d.notifier.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, ["pager", "pager"]);
    assert!(outcome.events.is_empty());

    let repeat_clock = ledger.next_due();
    assert_eq!(repeat_clock, None, "ops never repeats");
    ledger.delivered(&outcome.messages[0].delivery, t(21));
    let again = ledger.apply(manual(t(30)), t(30));
    assert!(
        again.messages.is_empty(),
        "a resumed incident is not opened again"
    );
}

#[test]
fn restore_schedules_each_restored_lane_from_its_history() {
    let changes = vec![
        (manual(t(0)), t(0)),
        (
            open(
                IncidentKind::RecycleWarning,
                &["ops", "pager"],
                json!({}),
                false,
                t(50),
            ),
            t(50),
        ),
    ];
    let (_, restored) = run_and_keep(changes, true);
    let (mut ledger, _) = Ledger::restore(policies(), &restored, t(100));
    let scheduled: Vec<_> = ledger
        .repeats
        .entries()
        .into_iter()
        .map(|(due, _, notifier)| (due, notifier))
        .collect();
    assert_eq!(
        scheduled,
        [(t(601), "pager".to_owned()), (t(651), "pager".to_owned())],
        "600 s after each delivery; ops never repeats"
    );
    let repeats = ledger.tick(t(651));
    assert_eq!(sent(&repeats), [firing("pager", 1), firing("pager", 1)]);
    assert_eq!(ledger.next_due(), None);
}

/// The (notifier, seq) of each new first message, and whether each was also written.
fn first_messages(outcome: &Outcome) -> Vec<(String, u32)> {
    for message in &outcome.messages {
        let written = outcome
            .writes
            .iter()
            .any(|w| matches!(w, Write::Delivery(d) if *d == message.delivery));
        assert!(written, "{:?} is recorded before it goes", message.delivery);
    }
    outcome
        .messages
        .iter()
        .map(|m| (m.delivery.notifier.clone(), m.delivery.seq))
        .collect()
}

#[test]
fn restore_sends_the_first_message_to_a_notifier_that_was_never_told() {
    let only_ops = open(
        IncidentKind::ManualLoginRequired,
        &["ops"],
        json!({}),
        false,
        t(0),
    );
    let (_, mut restored) = run_and_keep(vec![(only_ops, t(0))], true);
    // The device's notify list gained pager while the daemon was down.
    restored.open[0].context.notify.push("pager".into());
    let (mut ledger, outcome) = Ledger::restore(policies(), &restored, t(100));
    assert_eq!(first_messages(&outcome), [("pager".to_owned(), 0)]);
    assert_eq!(outcome.messages[0].delivery.created_at, t(100));
    assert!(outcome.events.is_empty(), "not opened again");
    assert!(ledger.apply(manual(t(110)), t(110)).messages.is_empty());
}

#[test]
fn restore_holds_an_inhibited_login_and_sends_it_once_its_inhibitor_is_gone() {
    let outage = IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Provider("gewe-cloud".into()),
            kind: IncidentKind::ProviderUnreachable,
        },
        context: context(&["ops", "pager"]),
        summary: "gewe-cloud is unreachable".into(),
        detail: json!({}),
        escalate: false,
        at: t(0),
    };
    let (_, restored) = run_and_keep(vec![(outage, t(0)), (manual(t(5)), t(5))], true);
    assert_eq!(restored.open.len(), 2);

    // Still inhibited: no lanes, nothing sent; the inhibitor's resolve releases it.
    let (mut ledger, outcome) = Ledger::restore(policies(), &restored, t(100));
    assert!(outcome.messages.is_empty() && outcome.writes.is_empty());
    let resolve_outage = IncidentChange::Resolve {
        key: IncidentKey {
            subject: Subject::Provider("gewe-cloud".into()),
            kind: IncidentKind::ProviderUnreachable,
        },
        at: t(110),
        resolution: Resolution::Recovered,
    };
    let released = ledger.apply(resolve_outage, t(110));
    let logins: Vec<_> = released
        .messages
        .iter()
        .filter(|m| m.incident.key.kind == IncidentKind::ManualLoginRequired)
        .map(|m| (m.delivery.notifier.clone(), m.delivery.seq))
        .collect();
    assert_eq!(logins, [("ops".to_owned(), 0), ("pager".to_owned(), 0)]);

    // The inhibitor resolved while the daemon was down: the login is told at the restart.
    let mut without_outage = restored.clone();
    without_outage
        .open
        .retain(|r| r.key.kind == IncidentKind::ManualLoginRequired);
    let (_, outcome) = Ledger::restore(policies(), &without_outage, t(100));
    assert_eq!(
        first_messages(&outcome),
        [("ops".to_owned(), 0), ("pager".to_owned(), 0)]
    );
}

#[test]
fn restore_gives_no_lane_below_a_notifiers_min_severity() {
    let warning = open(
        IncidentKind::RecycleWarning,
        &["ops"],
        json!({}),
        false,
        t(0),
    );
    let (_, mut restored) = run_and_keep(vec![(warning, t(0))], true);
    restored.open[0].context.notify.push("pager".into());
    let mut critical_pager = policies();
    if let Some(pager) = critical_pager.get_mut("pager") {
        pager.min_severity = Severity::Critical;
    }
    let (ledger, outcome) = Ledger::restore(critical_pager, &restored, t(100));
    assert!(outcome.messages.is_empty());
    assert_eq!(ledger.next_due(), None, "no pager lane to repeat");
}

#[test]
fn restore_holds_a_login_only_from_the_notifiers_told_of_the_outage() {
    let outage = IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Provider("gewe-cloud".into()),
            kind: IncidentKind::CredentialsInvalid,
        },
        context: context(&["ops"]),
        summary: "gewe-cloud rejects the token".into(),
        detail: json!({}),
        escalate: false,
        at: t(0),
    };
    // pager never heard of the outage: it was told of the login at once.
    let (_, restored) = run_and_keep(vec![(outage, t(0)), (manual(t(5)), t(5))], true);

    let (mut ledger, outcome) = Ledger::restore(policies(), &restored, t(100));
    assert!(outcome.messages.is_empty() && outcome.writes.is_empty());
    assert!(ledger.inhibitions().holds("ops", "gewe-cloud"));
    assert!(!ledger.inhibitions().holds("pager", "gewe-cloud"));
    assert_eq!(ledger.next_due(), Some(t(606)), "pager's lane came back");
    assert_eq!(sent(&ledger.tick(t(606))), [firing("pager", 1)]);

    // The outage resolved while the daemon was down: only ops was never told of the login.
    let mut without_outage = restored.clone();
    without_outage
        .open
        .retain(|r| r.key.kind == IncidentKind::ManualLoginRequired);
    let (_, outcome) = Ledger::restore(policies(), &without_outage, t(100));
    assert_eq!(first_messages(&outcome), [("ops".to_owned(), 0)]);
}
