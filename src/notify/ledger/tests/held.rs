//! Inhibition per notifier: a provider's outage holds its devices' logins back only from the
//! notifiers told of the outage; the others keep getting them.

use super::inhibit::{login_of, provider_key, provider_resolve, told, with_oncall};
use super::*;

/// An inhibiting incident of kind `kind` of "gewe-cloud", told to `notify`.
pub(super) fn outage(kind: IncidentKind, notify: &[&str], at: Timestamp) -> IncidentChange {
    IncidentChange::Open {
        key: provider_key(kind),
        context: context(notify),
        summary: format!("gewe-cloud: {kind}"),
        detail: json!({"error": "connect timeout", "devices": ["sales-01"]}),
        escalate: false,
        at,
    }
}

/// What [`Ledger::inhibitions`] should be: each notifier holding "gewe-cloud".
pub(super) fn holding(notifiers: &[&str]) -> Inhibitions {
    let mut expected = Inhibitions::default();
    for notifier in notifiers {
        expected.hold(notifier, "gewe-cloud");
    }
    expected
}

/// A login of `device` of "gewe-cloud" told to `notify`; `escalate` as given.
fn login_for(device: &str, notify: &[&str], escalate: bool, at: Timestamp) -> IncidentChange {
    let mut change = login_of(device, "gewe-cloud", at);
    if let IncidentChange::Open {
        context: c,
        escalate: e,
        ..
    } = &mut change
    {
        *c = context(notify);
        *e = escalate;
    }
    change
}

/// The (subject, transition, notifier) of one message.
fn msg(subject: &str, transition: Transition, notifier: &str) -> (String, Transition, String) {
    (subject.to_owned(), transition, notifier.to_owned())
}

const EVERYONE: [&str; 3] = ["ops", "pager", "oncall"];

/// ops, pager and oncall (critical only, repeats every 10 min): sales-01's login told to all
/// three and delivered at 1, then gewe-cloud unreachable at 10 (told to ops and pager only).
/// Returns the ledger and the outage's outcome.
fn told_then_unreachable() -> (Ledger, Outcome) {
    let mut policies = with_oncall();
    if let Some(oncall) = policies.get_mut("oncall") {
        oncall.repeat_interval = Duration::from_secs(600);
    }
    let mut ledger = Ledger::new(policies);
    let before = ledger.apply(login_for("sales-01", &EVERYONE, false, t(0)), t(0));
    deliver_all(&mut ledger, &before, t(1));
    let unreachable = IncidentKind::ProviderUnreachable;
    let down = ledger.apply(outage(unreachable, &EVERYONE, t(10)), t(10));
    (ledger, down)
}

#[test]
fn a_critical_only_notifier_keeps_getting_device_logins_during_an_outage_it_never_hears_of() {
    let (mut ledger, down) = told_then_unreachable();
    assert_eq!(
        told(&down),
        [
            msg("gewe-cloud", Transition::Firing, "ops"),
            msg("gewe-cloud", Transition::Firing, "pager"),
        ],
        "a warning: oncall never hears of it"
    );
    assert_eq!(ledger.inhibitions(), holding(&["ops", "pager"]));
    assert!(!ledger.inhibitions().holds("oncall", "gewe-cloud"));

    let second = ledger.apply(login_for("sales-02", &EVERYONE, false, t(20)), t(20));
    assert_eq!(
        told(&second),
        [msg("sales-02", Transition::Firing, "oncall")]
    );
    let outage_id = incident_writes(&down)[0].id.clone();
    assert!(matches!(
        &second.events[..],
        [Event::Opened { inhibited_by: Some(by), .. }] if *by == outage_id
    ));

    let third = ledger.apply(login_for("sales-03", &["oncall"], false, t(30)), t(30));
    assert_eq!(
        told(&third),
        [msg("sales-03", Transition::Firing, "oncall")]
    );
    assert!(
        matches!(
            &third.events[..],
            [Event::Opened {
                inhibited_by: None,
                ..
            }]
        ),
        "nobody it is for holds it"
    );
}

#[test]
fn repeats_and_escalations_pause_only_for_the_notifiers_told_of_the_outage() {
    let (mut ledger, _) = told_then_unreachable();
    // sales-01 was told to all three before the outage: only oncall's repeat goes.
    let repeats = ledger.tick(t(601));
    assert_eq!(
        told(&repeats),
        [msg("sales-01", Transition::Firing, "oncall")]
    );
    assert_eq!(ledger.next_due(), Some(t(1_201)), "pager's clock restarted");
    let escalate = login_for("sales-01", &EVERYONE, true, t(650));
    let escalation = ledger.apply(escalate, t(650));
    assert_eq!(
        told(&escalation),
        [msg("sales-01", Transition::Firing, "oncall")]
    );
    assert_eq!(escalation.messages[0].delivery.seq, 2);
}

#[test]
fn each_notifier_gets_the_held_logins_when_the_last_outage_told_to_it_resolves() {
    let mut ledger = Ledger::new(policies());
    ledger.apply(
        outage(IncidentKind::ProviderUnreachable, &["ops"], t(0)),
        t(0),
    );
    ledger.apply(
        outage(IncidentKind::CredentialsInvalid, &["pager"], t(1)),
        t(1),
    );
    assert_eq!(ledger.inhibitions(), holding(&["ops", "pager"]));
    let held = ledger.apply(login_of("sales-01", "gewe-cloud", t(5)), t(5));
    assert!(
        held.messages.is_empty(),
        "each notifier is told of one outage"
    );

    let reachable = ledger.apply(
        provider_resolve(IncidentKind::ProviderUnreachable, t(10)),
        t(10),
    );
    assert_eq!(
        told(&reachable),
        [
            msg("gewe-cloud", Transition::Resolved, "ops"),
            msg("sales-01", Transition::Firing, "ops"),
        ],
        "pager still holds it: credentials are still invalid"
    );
    assert_eq!(ledger.inhibitions(), holding(&["pager"]));

    let valid = ledger.apply(
        provider_resolve(IncidentKind::CredentialsInvalid, t(20)),
        t(20),
    );
    assert_eq!(told(&valid), [msg("sales-01", Transition::Firing, "pager")]);
    assert_eq!(valid.messages[0].delivery.seq, 0);
    assert_eq!(valid.messages[0].delivery.created_at, t(20));
    assert_eq!(ledger.inhibitions(), Inhibitions::default());
}

#[test]
fn an_outage_newly_told_to_a_notifier_holds_the_logins_for_it_from_then_on() {
    let mut ledger = Ledger::new(policies());
    let unreachable = IncidentKind::ProviderUnreachable;
    ledger.apply(outage(unreachable, &["ops"], t(0)), t(0));
    let first = ledger.apply(login_of("sales-01", "gewe-cloud", t(5)), t(5));
    assert_eq!(told(&first), [msg("sales-01", Transition::Firing, "pager")]);

    let widened = ledger.apply(outage(unreachable, &["ops", "pager"], t(10)), t(10));
    assert_eq!(
        told(&widened),
        [msg("gewe-cloud", Transition::Firing, "pager")]
    );
    assert_eq!(ledger.inhibitions(), holding(&["ops", "pager"]));
    let second = ledger.apply(login_of("sales-02", "gewe-cloud", t(15)), t(15));
    assert!(second.messages.is_empty());
}
