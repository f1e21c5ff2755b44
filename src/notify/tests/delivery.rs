//! Delivery: the contract payload on the wire, retries, resolved messages, repeats, logs.

use super::*;

#[tokio::test]
async fn the_webhook_receives_the_contract_payload_once() {
    let server = ok_server().await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops"]));
    running.notifications.send(open_change(&["ops"]));
    settle(&running.notifications).await;

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "opened once, sent once");
    let content_type = requests[0].headers.get("content-type").unwrap();
    assert_eq!(content_type.to_str().unwrap(), "application/json");
    let mut body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let sent_at = body["sent_at"].take();
    let sent_at: Timestamp = sent_at.as_str().unwrap().parse().unwrap();
    assert_eq!(body["sent_at"], Value::Null);
    assert!(sent_at > "2026-11-21T08:00:00Z".parse().unwrap());
    let expected = json!({
        "schema": "session-keeper.alert.v1",
        "status": "firing",
        "kind": "manual_login_required",
        "severity": "critical",
        "incident_id": "sales-01/manual_login_required/2026-11-21T08:00:00Z",
        "device": "sales-01",
        "provider": "gewe-cloud",
        "vendor": "gewe",
        "vendor_id": "wx_abc123",
        "labels": {"owner": "ops-team"},
        "summary": "sales-01 needs a QR login: reconnect failed, second login not confirmed",
        "opened_at": "2026-11-21T08:00:00Z",
        "resolved_at": null,
        "sent_at": null,
        "repeat": 0,
        "detail": {"steps": ["reconnect failed"], "offline_reason": null}
    });
    assert_eq!(body, expected);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    let expected_keys: Vec<_> = expected.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, expected_keys);

    let sent = running.deliveries();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].state, DeliveryState::Sent);
    assert_eq!(sent[0].attempts, 1);
    running.stop().await;
}

#[tokio::test]
async fn a_500_is_retried_and_the_message_delivered_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops"]));
    settle(&running.notifications).await;

    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    let attempts: Vec<_> = running
        .journal
        .writes()
        .into_iter()
        .filter_map(|w| match w {
            Write::Delivery(d) => Some((d.state, d.attempts, d.last_error)),
            _ => None,
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (DeliveryState::Pending, 0, None),
            (
                DeliveryState::Pending,
                1,
                Some("the receiver answered http status 500".into())
            ),
            (DeliveryState::Sent, 2, None),
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn resolved_goes_only_to_notifiers_with_send_resolved() {
    let server = ok_server().await;
    let notifiers = vec![
        webhook("ops", &server, true),
        webhook("quiet", &server, false),
    ];
    let running = start(notifiers, Restored::default(), MemoryJournal::default());
    running.notifications.send(open_change(&["ops", "quiet"]));
    settle(&running.notifications).await;
    running.notifications.send(resolve_change());
    running.notifications.send(resolve_change());
    settle(&running.notifications).await;

    let status = |bodies: Vec<Value>| -> Vec<String> {
        bodies
            .iter()
            .map(|b| b["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        status(bodies(&server, "/ops").await),
        ["firing", "resolved"]
    );
    assert_eq!(status(bodies(&server, "/quiet").await), ["firing"]);
    let resolved = &bodies(&server, "/ops").await[1];
    assert_eq!(resolved["resolved_at"], "2026-11-21T09:00:00Z");
    running.stop().await;
}

#[tokio::test]
async fn an_open_incident_is_repeated_per_repeat_interval() {
    let server = ok_server().await;
    let mut ops = webhook("ops", &server, true);
    ops.repeat_interval = Duration::from_millis(300);
    let running = start(vec![ops], Restored::default(), MemoryJournal::default());
    running.notifications.send(open_change(&["ops"]));
    eventually("a repeat arrives", || async {
        bodies(&server, "/ops").await.len() >= 2
    })
    .await;
    let sent = bodies(&server, "/ops").await;
    assert_eq!(sent[0]["repeat"], 0);
    assert_eq!(sent[1]["repeat"], 1);
    assert_eq!(sent[1]["incident_id"], sent[0]["incident_id"]);
    running.notifications.send(resolve_change());
    settle(&running.notifications).await;
    let after_resolve = bodies(&server, "/ops").await.len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        bodies(&server, "/ops").await.len(),
        after_resolve,
        "no repeats once resolved"
    );
    running.stop().await;
}

#[tokio::test]
async fn log_lines_carry_the_contract_events_and_never_the_url() {
    let (logs, _capturing) = Captured::start();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(open_change(&["ops"]));
    settle(&running.notifications).await;
    running.notifications.send(resolve_change());
    settle(&running.notifications).await;
    running.stop().await;

    let text = logs.text();
    let events = logs.events();
    let named =
        |name: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == name).collect() };
    assert_eq!(named("incident.opened").len(), 1);
    assert_eq!(named("incident.resolved").len(), 1);
    assert_eq!(named("notify.failed").len(), 1);
    assert_eq!(named("notify.sent").len(), 2);
    for event in named("notify.sent")
        .into_iter()
        .chain(named("notify.failed"))
    {
        assert_eq!(event["device"], "sales-01");
        assert_eq!(event["provider"], "gewe-cloud");
        assert_eq!(event["notifier"], "ops");
        assert_eq!(
            event["incident_id"],
            "sales-01/manual_login_required/2026-11-21T08:00:00Z"
        );
        assert_eq!(event["shape"], "one", "a webhook never merges");
        assert_eq!(event["batch_size"], 1);
    }
    assert!(named("incident.opened")[0].get("inhibited_by").is_none());
    assert!(!text.contains("k-ops"), "{text}");
    assert!(!text.contains(&server.uri()), "{text}");
}
