//! The repeat schedule at scale: finding the next repeat and making the due ones touches the
//! due lanes only, however many incidents are open.

use super::*;
use crate::notify::ledger::repeats::repeat_due;

/// An open change for device `name` (told to "ops" and "pager").
fn open_device(name: &str, at: Timestamp) -> IncidentChange {
    IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Device(name.to_owned()),
            kind: IncidentKind::ManualLoginRequired,
        },
        context: context(&["ops", "pager"]),
        summary: format!("{name} needs a QR login"),
        detail: json!({}),
        escalate: false,
        at,
    }
}

#[test]
fn ten_thousand_open_incidents_are_not_walked_to_find_or_make_the_due_repeats() {
    let mut ledger = Ledger::new(policies());
    for i in 0..10_000 {
        let outcome = ledger.apply(open_device(&format!("dev-{i:05}"), t(0)), t(0));
        // Delivered one second apart: pager's repeats fall due one second apart too.
        deliver_all(&mut ledger, &outcome, t(i));
    }
    ledger.take_examined();

    assert_eq!(ledger.next_due(), Some(t(600)));
    let repeats = ledger.tick(t(602));
    assert_eq!(sent(&repeats), vec![firing("pager", 1); 3]);
    let devices: Vec<_> = repeats
        .messages
        .iter()
        .map(|m| m.incident.key.subject.name().to_owned())
        .collect();
    assert_eq!(devices, ["dev-00000", "dev-00001", "dev-00002"]);
    assert_eq!(ledger.next_due(), Some(t(603)));
    let examined = ledger.take_examined();
    assert!(
        examined <= 10,
        "looked at {examined} lanes for 3 due repeats"
    );
}

/// The schedule holds exactly the lanes due a repeat, at the time their policy says.
fn assert_schedule_matches_lanes(ledger: &Ledger) {
    let mut expected = Vec::new();
    for open in ledger.open.values() {
        for (name, lane) in &open.lanes {
            let due = ledger
                .policies
                .get(name)
                .and_then(|policy| repeat_due(lane, policy));
            assert_eq!(lane.due, due, "lane {} of {}", name, open.record.id);
            if let Some(due) = due {
                expected.push((due, open.record.id.clone(), name.clone()));
            }
        }
    }
    expected.sort();
    assert_eq!(ledger.repeats.entries(), expected);
}

/// (device, seq) of each message, in order.
fn repeated(outcome: &Outcome) -> Vec<(String, u32)> {
    outcome
        .messages
        .iter()
        .map(|m| {
            let device = m.incident.key.subject.name().to_owned();
            (device, m.delivery.seq)
        })
        .collect()
}

#[test]
fn the_schedule_follows_deliveries_repeats_escalations_resolves_and_reloads() {
    let mut ledger = Ledger::new(policies());
    let a = ledger.apply(open_device("dev-a", t(0)), t(0));
    let b = ledger.apply(open_device("dev-b", t(0)), t(0));
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(ledger.next_due(), None, "nothing delivered yet");

    deliver_all(&mut ledger, &a, t(10));
    deliver_all(&mut ledger, &b, t(20));
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(
        ledger.next_due(),
        Some(t(610)),
        "pager only: ops never repeats"
    );

    let first = ledger.tick(t(615));
    assert_eq!(repeated(&first), [("dev-a".to_owned(), 1)]);
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(
        ledger.next_due(),
        Some(t(620)),
        "dev-a waits for its delivery"
    );

    let mut escalate = open_device("dev-b", t(616));
    if let IncidentChange::Open { escalate: e, .. } = &mut escalate {
        *e = true;
    }
    let escalation = ledger.apply(escalate, t(616));
    assert_eq!(sent(&escalation), [firing("ops", 1), firing("pager", 1)]);
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(ledger.next_due(), None, "both pager lanes await a delivery");

    deliver_all(&mut ledger, &first, t(630));
    deliver_all(&mut ledger, &escalation, t(640));
    assert_eq!(ledger.next_due(), Some(t(1_230)));

    // ops now repeats every 100 s, pager is gone.
    let reload = ledger.reconfigure(
        BTreeMap::from([("ops".to_owned(), policy(true, 100))]),
        t(700),
    );
    assert!(reload.messages.is_empty(), "ops already has every lane");
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(
        ledger.next_due(),
        Some(t(110)),
        "dev-a's ops lane, delivered at 10"
    );
    let ops = ledger.tick(t(740));
    assert_eq!(
        repeated(&ops),
        [("dev-a".to_owned(), 1), ("dev-b".to_owned(), 2)]
    );
    assert!(ops.messages.iter().all(|m| m.delivery.notifier == "ops"));
    assert_schedule_matches_lanes(&ledger);
    deliver_all(&mut ledger, &ops, t(750));
    assert_eq!(ledger.next_due(), Some(t(850)));

    let resolved = ledger.apply(
        IncidentChange::Resolve {
            key: IncidentKey {
                subject: Subject::Device("dev-a".to_owned()),
                kind: IncidentKind::ManualLoginRequired,
            },
            at: t(800),
            resolution: Resolution::Recovered,
        },
        t(800),
    );
    assert_eq!(
        resolved.writes.len(),
        2,
        "the incident and its resolved message"
    );
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(repeated(&ledger.tick(t(900))), [("dev-b".to_owned(), 3)]);
    assert_schedule_matches_lanes(&ledger);
    assert_eq!(
        ledger.repeats.entries(),
        [],
        "dev-b's repeat awaits delivery"
    );
}

#[test]
fn a_reload_that_keeps_every_interval_keeps_the_schedule_and_no_repeats_means_none() {
    let mut ledger = Ledger::new(policies());
    let opened = ledger.apply(open_device("dev-a", t(0)), t(0));
    deliver_all(&mut ledger, &opened, t(5));
    let before = ledger.repeats.entries();
    let mut quiet = policies();
    if let Some(pager) = quiet.get_mut("pager") {
        pager.send_resolved = true;
    }
    assert!(ledger.reconfigure(quiet, t(10)).messages.is_empty());
    assert_eq!(ledger.repeats.entries(), before);
    assert_eq!(ledger.next_due(), Some(t(605)));

    let never = BTreeMap::from([
        ("ops".to_owned(), policy(true, 0)),
        ("pager".to_owned(), policy(false, 0)),
    ]);
    assert!(ledger.reconfigure(never, t(20)).messages.is_empty());
    assert_eq!(ledger.next_due(), None);
    assert!(ledger.tick(t(100_000)).messages.is_empty());
    assert_schedule_matches_lanes(&ledger);
}
