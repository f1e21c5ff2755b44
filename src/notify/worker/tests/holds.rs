//! The worker's holds with paused tokio time: a message the receiver refuses forever backs
//! off alone, and queued device logins wait while their notifier holds their provider.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_message_refused_forever_backs_off_alone_and_later_incidents_go() {
    let worker = paced(pacing_of(NotifierKind::Webhook), vec![]);
    *worker.channel.refuse.lock().unwrap() = Some("bad".into());
    worker.login("bad");
    worker.login("d0");
    sleep_secs(10).await;
    worker.login("d1");
    sleep_secs(60).await;

    let seen = worker.seen();
    let good: Vec<_> = seen
        .iter()
        .filter(|(_, _, d)| d[0] != "bad")
        .cloned()
        .collect();
    assert_eq!(
        good,
        [
            (0, Shape::One, names(&["d0"])),
            (10, Shape::One, names(&["d1"])),
        ],
        "the refused message blocks nobody"
    );
    let tries: Vec<Timestamp> = worker
        .channel
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, d)| d[0] == "bad")
        .map(|(at, _, _)| *at)
        .collect();
    assert!(tries.len() >= 5, "it keeps being retried: {tries:?}");
    let gaps: Vec<i128> = tries
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_millis())
        .collect();
    // Doubling waits, each within ±20 %: every wait is longer than the one before.
    assert!(
        gaps.windows(2).all(|w| w[1] > w[0]),
        "the waits grow: {gaps:?}"
    );
    let left = worker.stop().await;
    assert_eq!(left.len(), 1, "only the refused message is left");
    assert_eq!(left[0].incident.key.subject.name(), "bad");
}

/// The inhibitions of a ledger where gewe-cloud is unreachable, told to `notifier`.
fn outage_told_to(notifier: &str) -> Inhibitions {
    use crate::notify::ledger::{Ledger, Policy};
    let policy = Policy::of(&Notifier::new(notifier, NotifierKind::Feishu));
    let mut ledger = Ledger::new([(notifier.to_owned(), policy)].into());
    let base: Timestamp = BASE.parse().unwrap();
    let mut context = device_message("x", IncidentKind::ManualLoginRequired, base)
        .incident
        .context
        .clone();
    context.notify = vec![notifier.to_owned()];
    let outage = crate::incident::IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Provider("gewe-cloud".into()),
            kind: IncidentKind::ProviderUnreachable,
        },
        context: Arc::new(context),
        summary: "gewe-cloud is unreachable".into(),
        detail: json!({}),
        escalate: false,
        at: base,
    };
    ledger.apply(outage, base);
    ledger.inhibitions()
}

#[tokio::test(start_paused = true)]
async fn a_queued_login_is_held_while_its_notifier_holds_the_provider_and_goes_after() {
    let worker = paced(pacing_of(NotifierKind::Feishu), vec![]);
    worker.login("d0");
    sleep_secs(5).await;
    worker.inhibitions.send_replace(outage_told_to("pager"));
    sleep_secs(5).await;
    worker.inhibitions.send_replace(outage_told_to("ops"));
    sleep_secs(600).await;
    assert!(worker.seen().is_empty(), "held past its group wait");

    worker.inhibitions.send_replace(Inhibitions::default());
    sleep_secs(1).await;
    assert_eq!(worker.seen(), [(610, Shape::One, names(&["d0"]))]);
    assert_eq!(
        worker.journal.states(),
        [vec![(DeliveryState::Sent, 1, false)]]
    );
    assert!(worker.stop().await.is_empty());
}
