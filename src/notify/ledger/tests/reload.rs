//! A reload gives open incidents lanes for the notifiers it adds or that newly want them, as
//! a restart would, and respects what those notifiers hold back.

use super::held::{holding, outage};
use super::inhibit::{login_of, provider_resolve, told};
use super::*;

/// `policies()` with "pager" raised to critical only.
fn critical_pager() -> Policies {
    let mut policies = policies();
    if let Some(pager) = policies.get_mut("pager") {
        pager.min_severity = Severity::Critical;
    }
    policies
}

fn only_ops() -> Policies {
    BTreeMap::from([("ops".to_owned(), policy(true, 0))])
}

#[test]
fn a_reload_gives_open_incidents_a_first_message_for_a_newly_configured_notifier() {
    let mut ledger = Ledger::new(only_ops());
    let opened = ledger.apply(manual(t(0)), t(0));
    assert_eq!(sent(&opened), [firing("ops", 0)]);
    let ops_only = open(
        IncidentKind::RecycleWarning,
        &["ops"],
        json!({}),
        false,
        t(1),
    );
    ledger.apply(ops_only, t(1));
    ledger.apply(manual(t(2)), t(2));

    let reload = ledger.reconfigure(policies(), t(50));
    assert_eq!(
        sent(&reload),
        [firing("pager", 0)],
        "only the login names pager"
    );
    let message = &reload.messages[0];
    assert_eq!(message.incident.key, key(IncidentKind::ManualLoginRequired));
    assert_eq!(message.delivery.created_at, t(50));
    assert!(
        matches!(&reload.writes[..], [Write::Delivery(d)] if *d == message.delivery),
        "recorded before it goes"
    );
    assert!(reload.events.is_empty());

    assert!(ledger.reconfigure(policies(), t(60)).messages.is_empty());
    deliver_all(&mut ledger, &reload, t(70));
    assert_eq!(ledger.next_due(), Some(t(670)), "pager's lane repeats");
    let removed = ledger.reconfigure(only_ops(), t(80));
    assert!(removed.messages.is_empty());
    assert_eq!(ledger.next_due(), None, "pager's lane is gone again");
}

#[test]
fn a_reload_that_lowers_min_severity_gives_warnings_their_first_message() {
    let mut ledger = Ledger::new(critical_pager());
    let warning = open(
        IncidentKind::RecycleWarning,
        &["ops", "pager"],
        json!({}),
        false,
        t(0),
    );
    assert_eq!(sent(&ledger.apply(warning, t(0))), [firing("ops", 0)]);
    let lowered = ledger.reconfigure(policies(), t(30));
    assert_eq!(sent(&lowered), [firing("pager", 0)]);
    let resolved = ledger.apply(resolve(IncidentKind::RecycleWarning, t(40)), t(40));
    assert_eq!(
        sent(&resolved),
        [("ops".to_owned(), Transition::Resolved, 0)],
        "pager has a lane now but does not send resolved"
    );
}

#[test]
fn a_notifier_added_by_a_reload_hears_of_the_outage_and_holds_its_logins() {
    let mut ledger = Ledger::new(only_ops());
    let unreachable = IncidentKind::ProviderUnreachable;
    ledger.apply(outage(unreachable, &["ops", "pager"], t(0)), t(0));
    let held = ledger.apply(login_of("sales-01", "gewe-cloud", t(5)), t(5));
    assert!(held.messages.is_empty());

    let reload = ledger.reconfigure(policies(), t(10));
    assert_eq!(
        told(&reload),
        [(
            "gewe-cloud".to_owned(),
            Transition::Firing,
            "pager".to_owned()
        )],
        "the outage, not the login it holds"
    );
    assert_eq!(ledger.inhibitions(), holding(&["ops", "pager"]));

    let reachable = ledger.apply(provider_resolve(unreachable, t(20)), t(20));
    let logins: Vec<_> = told(&reachable)
        .into_iter()
        .filter(|(subject, _, _)| subject == "sales-01")
        .map(|(_, _, notifier)| notifier)
        .collect();
    assert_eq!(logins, ["ops", "pager"]);
}

#[test]
fn raising_min_severity_on_reload_releases_the_logins_held_by_a_warning_outage() {
    let mut ledger = Ledger::new(policies());
    let unreachable = IncidentKind::ProviderUnreachable;
    ledger.apply(outage(unreachable, &["ops", "pager"], t(0)), t(0));
    assert!(
        ledger
            .apply(login_of("sales-01", "gewe-cloud", t(5)), t(5))
            .messages
            .is_empty()
    );

    let reload = ledger.reconfigure(critical_pager(), t(10));
    assert_eq!(
        told(&reload),
        [(
            "sales-01".to_owned(),
            Transition::Firing,
            "pager".to_owned()
        )],
        "pager no longer hears of the outage, so it no longer holds the login"
    );
    assert_eq!(ledger.inhibitions(), holding(&["ops"]));
}
