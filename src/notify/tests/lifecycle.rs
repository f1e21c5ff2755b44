//! Lifecycle: restarts, stopping, reloads and notifiers whose channel cannot be built.

use super::*;

#[tokio::test]
async fn a_restart_resends_nothing_and_sends_what_changed() {
    let server = ok_server().await;
    let first = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    first.notifications.send(open_change(&["ops"]));
    settle(&first.notifications).await;
    let journal = first.stop().await;

    let restored = fold(&journal.writes()).restored();
    assert_eq!(restored.open.len(), 1);
    let second = start(vec![webhook("ops", &server, true)], restored, journal);
    second.notifications.send(open_change(&["ops"]));
    settle(&second.notifications).await;
    assert_eq!(
        bodies(&server, "/ops").await.len(),
        1,
        "the open incident is not re-sent"
    );

    second.notifications.send(resolve_change());
    settle(&second.notifications).await;
    let sent = bodies(&server, "/ops").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["status"], "resolved");
    assert_eq!(sent[1]["incident_id"], sent[0]["incident_id"]);
    second.stop().await;
}

#[tokio::test]
async fn undelivered_messages_survive_a_stop_and_go_out_after_the_restart() {
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let first = start(
        vec![webhook("ops", &down, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    first.notifications.send(open_change(&["ops"]));
    let journal = first.journal.clone();
    eventually("an attempt failed", || {
        let journal = journal.clone();
        async move {
            fold(&journal.writes())
                .pending_and_rest()
                .iter()
                .any(|d| d.attempts >= 2)
        }
    })
    .await;
    first.notifications.send(resolve_change());
    let journal = first.stop().await;

    let up = ok_server().await;
    let restored = fold(&journal.writes()).restored();
    assert!(restored.open.is_empty());
    assert_eq!(restored.unfinished.len(), 1);
    assert_eq!(restored.pending.len(), 2);
    let second = start(vec![webhook("ops", &up, true)], restored, journal);
    settle(&second.notifications).await;
    let sent = bodies(&up, "/ops").await;
    let order: Vec<_> = sent.iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(order, ["firing", "resolved"]);
    assert!(
        second
            .deliveries()
            .iter()
            .all(|d| d.state == DeliveryState::Sent)
    );
    second.stop().await;
}

#[tokio::test]
async fn a_notifier_that_cannot_be_built_keeps_its_messages_until_a_reload_fixes_it() {
    let server = ok_server().await;
    let url = format!("{}/bot?key=k", server.uri());
    let mut broken = Notifier::new("bot", NotifierKind::Webhook);
    broken.url = None;
    let running = start(vec![broken], Restored::default(), MemoryJournal::default());
    running.notifications.send(open_change(&["bot"]));
    settle(&running.notifications).await;
    let kept = running.deliveries();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].state, kept[0].attempts),
        (DeliveryState::Pending, 0)
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    running.notifications.reconfigure(set(vec![notifier(
        "bot",
        NotifierKind::Webhook,
        &url,
        true,
    )]));
    settle(&running.notifications).await;
    assert_eq!(bodies(&server, "/bot").await.len(), 1);
    assert_eq!(running.deliveries()[0].state, DeliveryState::Sent);
    running.stop().await;
}

#[tokio::test]
async fn a_removed_notifier_drops_its_undelivered_messages() {
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&down)
        .await;
    let up = ok_server().await;
    let running = start(
        vec![webhook("ops", &down, true), webhook("team", &up, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops", "team"]));
    let journal = running.journal.clone();
    eventually("ops failed once", || {
        let journal = journal.clone();
        async move {
            fold(&journal.writes())
                .pending_and_rest()
                .iter()
                .any(|d| d.attempts >= 1 && d.notifier == "ops")
        }
    })
    .await;
    running
        .notifications
        .reconfigure(set(vec![webhook("team", &up, true)]));
    settle(&running.notifications).await;
    let states: Vec<_> = running
        .deliveries()
        .into_iter()
        .map(|d| (d.notifier, d.state))
        .collect();
    assert_eq!(
        states,
        [
            ("ops".into(), DeliveryState::Dropped),
            ("team".into(), DeliveryState::Sent)
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn changes_queued_before_stop_are_recorded() {
    let server = ok_server().await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops"]));
    running.stop.cancel();
    let notifications = running.notifications.clone();
    let journal = running.stop().await;
    let folded = fold(&journal.writes());
    assert_eq!(folded.incidents.len(), 1);
    assert_eq!(folded.deliveries.len(), 1);
    notifications.send(resolve_change());
    tokio::time::timeout(WAIT, notifications.drained())
        .await
        .expect("returns after the stop");
}

#[tokio::test]
async fn a_reload_during_an_attempt_lets_it_finish_and_sends_the_message_once() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200).set_delay(Duration::from_millis(800));
    Mock::given(method("POST"))
        .respond_with(slow)
        .mount(&server)
        .await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops"]));
    eventually("the attempt reached the receiver", || async {
        !bodies(&server, "/ops").await.is_empty()
    })
    .await;
    let mut changed = webhook("ops", &server, true);
    changed.timeout = Duration::from_secs(6);
    running.notifications.reconfigure(set(vec![changed]));
    settle(&running.notifications).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(bodies(&server, "/ops").await.len(), 1, "sent once");
    let deliveries = running.deliveries();
    let states: Vec<_> = deliveries.iter().map(|d| (d.state, d.attempts)).collect();
    assert_eq!(states, [(DeliveryState::Sent, 1)]);
    running.stop().await;
}
