//! Inhibition and severity floors: provider incidents holding back their devices' logins,
//! and notifiers that only want critical incidents.

use super::*;

pub(super) fn provider_key(kind: IncidentKind) -> IncidentKey {
    IncidentKey {
        subject: Subject::Provider("gewe-cloud".into()),
        kind,
    }
}

pub(super) fn provider_open(kind: IncidentKind, at: Timestamp) -> IncidentChange {
    IncidentChange::Open {
        key: provider_key(kind),
        context: context(&["ops", "pager"]),
        summary: format!("gewe-cloud: {kind}"),
        detail: json!({"error": "connect timeout", "devices": ["sales-01"]}),
        escalate: false,
        at,
    }
}

pub(super) fn provider_resolve(kind: IncidentKind, at: Timestamp) -> IncidentChange {
    IncidentChange::Resolve {
        key: provider_key(kind),
        at,
        resolution: Resolution::Recovered,
    }
}

/// A manual login of `device` of `provider`, told to ops and pager.
pub(super) fn login_of(device: &str, provider: &str, at: Timestamp) -> IncidentChange {
    let mut context = (*context(&["ops", "pager"])).clone();
    context.provider = provider.into();
    IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Device(device.into()),
            kind: IncidentKind::ManualLoginRequired,
        },
        context: Arc::new(context),
        summary: format!("{device} needs a QR login"),
        detail: json!({}),
        escalate: false,
        at,
    }
}

/// (subject, transition, notifier) of each message, in order.
pub(super) fn told(outcome: &Outcome) -> Vec<(String, Transition, String)> {
    outcome
        .messages
        .iter()
        .map(|m| {
            let subject = m.incident.key.subject.name().to_owned();
            (subject, m.delivery.transition, m.delivery.notifier.clone())
        })
        .collect()
}

pub(super) fn both(subject: &str, transition: Transition) -> Vec<(String, Transition, String)> {
    ["ops", "pager"]
        .iter()
        .map(|n| (subject.to_owned(), transition, (*n).to_owned()))
        .collect()
}

#[test]
fn a_login_opened_while_its_provider_is_unreachable_is_recorded_but_not_sent() {
    let mut ledger = Ledger::new(policies());
    let outage = ledger.apply(provider_open(IncidentKind::ProviderUnreachable, t(0)), t(0));
    assert_eq!(told(&outage), both("gewe-cloud", Transition::Firing));
    let outage_id = incident_writes(&outage)[0].id.clone();

    let held = ledger.apply(manual(t(5)), t(5));
    assert!(held.messages.is_empty(), "no lanes while inhibited");
    assert_eq!(incident_writes(&held).len(), 1, "still recorded");
    assert!(matches!(
        &held.events[..],
        [Event::Opened { inhibited_by: Some(by), .. }] if *by == outage_id
    ));
    let again = ledger.apply(manual(t(9)), t(9));
    assert!(again.messages.is_empty(), "an update adds no lanes either");

    let elsewhere = ledger.apply(login_of("sales-02", "wkteam", t(6)), t(6));
    assert_eq!(told(&elsewhere), both("sales-02", Transition::Firing));
    let warning = open(
        IncidentKind::RecycleWarning,
        &["ops"],
        json!({}),
        false,
        t(7),
    );
    assert_eq!(sent(&ledger.apply(warning, t(7))), [firing("ops", 0)]);
}

#[test]
fn when_the_last_inhibitor_resolves_the_held_logins_get_their_first_message() {
    let mut ledger = Ledger::new(policies());
    ledger.apply(provider_open(IncidentKind::ProviderUnreachable, t(0)), t(0));
    ledger.apply(provider_open(IncidentKind::CredentialsInvalid, t(1)), t(1));
    ledger.apply(manual(t(5)), t(5));
    ledger.apply(login_of("sales-03", "gewe-cloud", t(6)), t(6));

    let reachable = ledger.apply(
        provider_resolve(IncidentKind::ProviderUnreachable, t(10)),
        t(10),
    );
    let resolved_only = vec![(
        "gewe-cloud".to_owned(),
        Transition::Resolved,
        "ops".to_owned(),
    )];
    assert_eq!(
        told(&reachable),
        resolved_only,
        "credentials are still invalid"
    );

    let valid = ledger.apply(
        provider_resolve(IncidentKind::CredentialsInvalid, t(20)),
        t(20),
    );
    let mut expected = resolved_only;
    expected.extend(both("sales-01", Transition::Firing));
    expected.extend(both("sales-03", Transition::Firing));
    assert_eq!(told(&valid), expected);
    assert!(valid.messages[1..].iter().all(|m| m.delivery.seq == 0));
    assert!(
        valid.messages[1..]
            .iter()
            .all(|m| m.delivery.created_at == t(20))
    );
}

#[test]
fn a_login_resolved_while_inhibited_and_never_sent_sends_nothing() {
    let mut ledger = Ledger::new(policies());
    ledger.apply(provider_open(IncidentKind::ProviderUnreachable, t(0)), t(0));
    ledger.apply(manual(t(5)), t(5));
    let resolved = ledger.apply(resolve(IncidentKind::ManualLoginRequired, t(8)), t(8));
    assert!(resolved.messages.is_empty());
    assert_eq!(incident_writes(&resolved)[0].resolved_at, Some(t(8)));
    assert!(matches!(&resolved.events[..], [Event::Resolved(_)]));

    let reachable = ledger.apply(
        provider_resolve(IncidentKind::ProviderUnreachable, t(10)),
        t(10),
    );
    assert_eq!(
        told(&reachable),
        [(
            "gewe-cloud".to_owned(),
            Transition::Resolved,
            "ops".to_owned()
        )]
    );
}

#[test]
fn reminders_and_escalations_of_a_sent_login_pause_while_inhibited() {
    let mut ledger = Ledger::new(policies());
    let opened = ledger.apply(manual(t(0)), t(0));
    deliver_all(&mut ledger, &opened, t(5));
    assert_eq!(ledger.next_due(), Some(t(605)));
    ledger.apply(
        provider_open(IncidentKind::ProviderUnreachable, t(100)),
        t(100),
    );

    assert!(ledger.tick(t(605)).messages.is_empty(), "paused");
    assert_eq!(ledger.next_due(), Some(t(1_205)), "the clock restarted");
    let escalate = open(
        IncidentKind::ManualLoginRequired,
        &["ops", "pager"],
        json!({}),
        true,
        t(700),
    );
    let escalation = ledger.apply(escalate, t(700));
    assert!(escalation.messages.is_empty());
    assert_eq!(incident_writes(&escalation)[0].escalations, 1);

    let reachable = ledger.apply(
        provider_resolve(IncidentKind::ProviderUnreachable, t(800)),
        t(800),
    );
    assert!(
        reachable
            .messages
            .iter()
            .all(|m| m.incident.key.subject == Subject::Provider("gewe-cloud".into())),
        "lanes already told get no first message again"
    );
    assert_eq!(sent(&ledger.tick(t(1_205))), [firing("pager", 1)]);
}

/// ops and pager as in [`policies`], plus "oncall" (critical only, resolved, no repeats).
pub(super) fn with_oncall() -> Policies {
    let mut policies = policies();
    let mut oncall = policy(true, 0);
    oncall.min_severity = Severity::Critical;
    policies.insert("oncall".to_owned(), oncall);
    policies
}

#[test]
fn a_notifier_with_min_severity_critical_gets_no_lane_for_warnings() {
    let mut ledger = Ledger::new(with_oncall());
    let warning = open(
        IncidentKind::RecycleWarning,
        &["ops", "oncall"],
        json!({}),
        false,
        t(0),
    );
    assert_eq!(sent(&ledger.apply(warning, t(0))), [firing("ops", 0)]);
    let critical = open(
        IncidentKind::ManualLoginRequired,
        &["ops", "oncall"],
        json!({}),
        false,
        t(1),
    );
    let told = ledger.apply(critical, t(1));
    assert_eq!(sent(&told), [firing("ops", 0), firing("oncall", 0)]);

    let resolved = ledger.apply(resolve(IncidentKind::RecycleWarning, t(2)), t(2));
    assert_eq!(
        sent(&resolved),
        [("ops".to_owned(), Transition::Resolved, 0)]
    );
}

#[test]
fn raising_min_severity_on_reload_drops_the_lanes_of_warnings() {
    let mut ledger = Ledger::new(policies());
    let warning = open(
        IncidentKind::RecycleWarning,
        &["pager"],
        json!({}),
        false,
        t(0),
    );
    let opened = ledger.apply(warning, t(0));
    deliver_all(&mut ledger, &opened, t(1));
    assert_eq!(ledger.next_due(), Some(t(601)));
    let mut raised = policies();
    if let Some(pager) = raised.get_mut("pager") {
        pager.min_severity = Severity::Critical;
    }
    assert!(ledger.reconfigure(raised, t(600)).messages.is_empty());
    assert_eq!(ledger.next_due(), None);
    let resolved = ledger.apply(resolve(IncidentKind::RecycleWarning, t(700)), t(700));
    assert!(resolved.messages.is_empty());
}
