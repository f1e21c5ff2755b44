//! Pacing and inhibition through the ledger task: rate limits and quiet hours against a fake
//! webhook receiver, grouping into a recording channel, inhibition end to end, and a reload
//! that changes pacing.

use crate::config::Window;
use crate::store::DeliveryRecord;

use super::*;

/// How long a test watches for something that must not happen.
const SETTLE: Duration = Duration::from_millis(600);

fn login(device: &str) -> IncidentChange {
    device_change(device, IncidentKind::ManualLoginRequired, &["ops"])
}

fn warning(device: &str) -> IncidentChange {
    device_change(device, IncidentKind::RecycleWarning, &["ops"])
}

/// The latest state of each delivery, by device.
fn by_device(running: &Running) -> Vec<(String, DeliveryState)> {
    let folded = fold(&running.journal.writes());
    folded
        .deliveries
        .values()
        .map(|d: &DeliveryRecord| {
            let device = d.incident_id.split('/').next().unwrap_or_default();
            (device.to_owned(), d.state)
        })
        .collect()
}

fn devices_in(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| b["device"].as_str().unwrap_or("-").to_owned())
        .collect()
}

#[tokio::test]
async fn over_its_rate_limit_a_webhook_posts_three_and_the_other_two_wait() {
    let server = ok_server().await;
    let mut ops = webhook("ops", &server, true);
    ops.rate_limit = 3;
    let running = start(vec![ops], Restored::default(), MemoryJournal::default());
    for device in ["d1", "d2", "d3", "d4", "d5"] {
        running.notifications.send(login(device));
    }
    eventually("three posts", || async {
        bodies(&server, "/ops").await.len() == 3
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let sent = bodies(&server, "/ops").await;
    assert_eq!(devices_in(&sent), ["d1", "d2", "d3"], "in order, one each");
    let states = by_device(&running);
    let waiting: Vec<_> = states
        .iter()
        .filter(|(_, state)| *state == DeliveryState::Pending)
        .map(|(device, _)| device.as_str())
        .collect();
    assert_eq!(waiting, ["d4", "d5"], "waiting, not dropped: {states:?}");
    running.stop().await;
}

#[tokio::test]
async fn quiet_hours_defer_a_warning_and_not_a_critical() {
    let server = ok_server().await;
    let mut ops = webhook("ops", &server, true);
    ops.quiet_hours = Some(Window::parse("00:00-24:00").unwrap());
    let running = start(vec![ops], Restored::default(), MemoryJournal::default());
    running.notifications.send(warning("w1"));
    running.notifications.send(login("c1"));
    eventually("the critical is posted", || async {
        bodies(&server, "/ops").await.len() == 1
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(devices_in(&bodies(&server, "/ops").await), ["c1"]);
    assert!(by_device(&running).contains(&("w1".to_owned(), DeliveryState::Pending)));

    // A reload that ends the quiet hours restarts the worker with its queue.
    running
        .notifications
        .reconfigure(set(vec![webhook("ops", &server, true)]));
    settle(&running.notifications).await;
    assert_eq!(devices_in(&bodies(&server, "/ops").await), ["c1", "w1"]);
    running.stop().await;
}

#[tokio::test]
async fn a_provider_wide_outage_reaches_a_chat_notifier_as_one_group() {
    let recorder = Recorder::default();
    let mut bot = Notifier::new("ops", NotifierKind::Wecom);
    bot.group_wait = Duration::from_secs(1);
    let running = start_tuned(
        vec![bot],
        Restored::default(),
        MemoryJournal::default(),
        Some(recorder.clone()),
    );
    let devices: Vec<String> = (0..37).map(|i| format!("dev-{i:02}")).collect();
    for device in &devices {
        running.notifications.send(login(device));
    }
    settle(&running.notifications).await;

    let batches = recorder.batches();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0].shape, super::channel::Shape::Group);
    let grouped: Vec<String> = batches[0]
        .messages
        .iter()
        .map(|m| m.incident.key.subject.name().to_owned())
        .collect();
    assert_eq!(grouped, devices);
    assert!(
        running
            .deliveries()
            .iter()
            .all(|d| d.state == DeliveryState::Sent && d.attempts == 1)
    );
    running.stop().await;
}

fn provider_key() -> IncidentKey {
    IncidentKey {
        subject: Subject::Provider("gewe-cloud".into()),
        kind: IncidentKind::ProviderUnreachable,
    }
}

/// gewe-cloud unreachable, told to ops.
fn outage() -> IncidentChange {
    IncidentChange::Open {
        key: provider_key(),
        context: Arc::new(IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: None,
            labels: BTreeMap::new(),
            notify: vec!["ops".into()],
        }),
        summary: "provider gewe-cloud is unreachable".into(),
        detail: json!({"error": "connect timeout", "devices": ["sales-01"]}),
        escalate: false,
        at: "2026-11-21T07:59:00Z".parse().unwrap(),
    }
}

#[tokio::test]
async fn a_login_already_waiting_its_group_wait_is_held_while_its_provider_is_unreachable() {
    let recorder = Recorder::default();
    let mut bot = Notifier::new("ops", NotifierKind::Wecom);
    bot.group_wait = Duration::from_millis(300);
    let running = start_tuned(
        vec![bot],
        Restored::default(),
        MemoryJournal::default(),
        Some(recorder.clone()),
    );
    let subjects = || -> Vec<String> {
        let batches = recorder.batches();
        let messages = batches.iter().flat_map(|b| b.messages.iter());
        messages
            .map(|m| m.incident.key.subject.name().to_owned())
            .collect()
    };
    running.notifications.send(open_change(&["ops"]));
    running.notifications.send(outage());
    eventually("the outage is told", || async { !subjects().is_empty() }).await;
    tokio::time::sleep(SETTLE * 2).await;
    assert_eq!(subjects(), ["gewe-cloud"], "the queued login is held");

    running.notifications.send(IncidentChange::Resolve {
        key: provider_key(),
        at: "2026-11-21T08:10:00Z".parse().unwrap(),
        resolution: Resolution::Recovered,
    });
    settle(&running.notifications).await;
    let mut told = subjects();
    told.sort();
    assert_eq!(
        told,
        ["gewe-cloud", "gewe-cloud", "sales-01"],
        "the outage, its resolve and the login it held"
    );
    assert!(
        running
            .deliveries()
            .iter()
            .all(|d| d.state == DeliveryState::Sent)
    );
    running.stop().await;
}

#[tokio::test]
async fn an_unreachable_provider_holds_back_its_devices_logins_until_it_resolves() {
    let (logs, _capturing) = Captured::start();
    let server = ok_server().await;
    let running = start(
        vec![webhook("ops", &server, true)],
        Restored::default(),
        MemoryJournal::default(),
    );
    running.notifications.send(outage());
    running.notifications.send(open_change(&["ops"]));
    settle(&running.notifications).await;
    let sent = bodies(&server, "/ops").await;
    assert_eq!(devices_in(&sent), ["-"], "only the provider incident");
    assert_eq!(
        fold(&running.journal.writes()).incidents.len(),
        2,
        "both recorded"
    );
    let events = logs.events();
    let opened: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "incident.opened")
        .collect();
    assert_eq!(opened.len(), 2);
    assert!(opened[0].get("inhibited_by").is_none());
    assert_eq!(opened[1]["device"], "sales-01");
    assert_eq!(
        opened[1]["inhibited_by"],
        "gewe-cloud/provider_unreachable/2026-11-21T07:59:00Z"
    );

    running.notifications.send(IncidentChange::Resolve {
        key: provider_key(),
        at: "2026-11-21T08:10:00Z".parse().unwrap(),
        resolution: Resolution::Recovered,
    });
    settle(&running.notifications).await;
    let sent = bodies(&server, "/ops").await;
    let told: Vec<_> = sent
        .iter()
        .map(|b| (b["kind"].as_str().unwrap(), b["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        told,
        [
            ("provider_unreachable", "firing"),
            ("provider_unreachable", "resolved"),
            ("manual_login_required", "firing"),
        ]
    );
    running.stop().await;
}
