//! The ledger over the real store: the SQLite file and its writer thread, restarted between
//! runs the way the daemon restarts (open, load, start; stop, close).

use std::path::Path;

use super::*;
use crate::store::{DeliveryRecord, IncidentRecord, Store, Writer};

/// One daemon run over the store in `dir`: loads what it kept, starts the ledger with the
/// store's writer and a webhook notifier "ops" at `server`, lets `during` drive it, then stops
/// the ledger and closes the writer.
async fn run_over_store<F, Fut>(dir: &Path, server: &MockServer, during: F)
where
    F: FnOnce(Notifications) -> Fut,
    Fut: Future<Output = ()>,
{
    run_notifiers_over_store(dir, vec![webhook("ops", server, true)], during).await;
}

/// [`run_over_store`] with these notifiers.
async fn run_notifiers_over_store<F, Fut>(dir: &Path, notifiers: Vec<Notifier>, during: F)
where
    F: FnOnce(Notifications) -> Fut,
    Fut: Future<Output = ()>,
{
    let store = Store::open(dir).unwrap();
    let restored = Restored::load(&store).unwrap();
    let (writer, writer_task) = Writer::spawn(store);
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    let notifications =
        Notifications::start(set(notifiers), restored, writer, &tracker, stop.clone());
    during(notifications.clone()).await;
    stop.cancel();
    tokio::time::timeout(WAIT, notifications.closed())
        .await
        .expect("the ledger stops");
    tracker.close();
    tokio::time::timeout(WAIT, tracker.wait())
        .await
        .expect("every task ends");
    writer_task.close().await.unwrap();
}

fn statuses(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| b["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_restart_over_the_store_resends_nothing_and_sends_the_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let server = ok_server().await;
    run_over_store(dir.path(), &server, |n| async move {
        n.send(open_change(&["ops"]));
        settle(&n).await;
    })
    .await;
    assert_eq!(bodies(&server, "/ops").await.len(), 1);

    run_over_store(dir.path(), &server, |n| async move {
        n.send(open_change(&["ops"]));
        settle(&n).await;
        n.send(resolve_change());
        settle(&n).await;
    })
    .await;
    let sent = bodies(&server, "/ops").await;
    assert_eq!(statuses(&sent), ["firing", "resolved"], "nothing re-sent");
    assert_eq!(sent[1]["incident_id"], sent[0]["incident_id"]);

    let store = Store::open(dir.path()).unwrap();
    assert!(store.open_incidents().unwrap().is_empty());
    assert!(store.pending_deliveries().unwrap().is_empty());
    let incidents = store.incidents().unwrap();
    assert_eq!(incidents.len(), 1);
    let resolved_at = "2026-11-21T09:00:00Z".parse().unwrap();
    assert_eq!(incidents[0].resolved_at, Some(resolved_at));
    let deliveries = store.deliveries(&incidents[0].id).unwrap();
    let kept: Vec<_> = deliveries
        .iter()
        .map(|d| (d.transition, d.seq, d.state, d.attempts))
        .collect();
    assert_eq!(
        kept,
        [
            (Transition::Firing, 0, DeliveryState::Sent, 1),
            (Transition::Resolved, 0, DeliveryState::Sent, 1),
        ]
    );
}

#[tokio::test]
async fn messages_left_pending_in_the_store_go_out_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let receiver = &down;
    run_over_store(dir.path(), &down, |n| async move {
        n.send(open_change(&["ops"]));
        n.send(resolve_change());
        eventually("the receiver was tried", || async {
            !bodies(receiver, "/ops").await.is_empty()
        })
        .await;
    })
    .await;
    let store = Store::open(dir.path()).unwrap();
    let restored = Restored::load(&store).unwrap();
    assert!(restored.open.is_empty());
    assert_eq!(restored.unfinished.len(), 1);
    assert_eq!(restored.pending.len(), 2);
    drop(store);

    let up = ok_server().await;
    run_over_store(dir.path(), &up, |n| async move { settle(&n).await }).await;
    assert_eq!(statuses(&bodies(&up, "/ops").await), ["firing", "resolved"]);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.pending_deliveries().unwrap().is_empty());
}

#[tokio::test]
async fn a_restart_during_an_outage_sends_no_duplicate_and_loses_no_waiting_message() {
    let dir = tempfile::tempdir().unwrap();
    let server = ok_server().await;
    let mut ops = webhook("ops", &server, true);
    ops.rate_limit = 2;
    let login = |device: &str| device_change(device, IncidentKind::ManualLoginRequired, &["ops"]);
    let receiver = &server;
    run_notifiers_over_store(dir.path(), vec![ops.clone()], |n| async move {
        for device in ["d1", "d2", "d3"] {
            n.send(login(device));
        }
        eventually("two posts within the limit", || async {
            bodies(receiver, "/ops").await.len() == 2
        })
        .await;
    })
    .await;
    let store = Store::open(dir.path()).unwrap();
    let waiting = store.pending_deliveries().unwrap();
    assert_eq!(
        waiting.len(),
        1,
        "the third waited for the limit: {waiting:?}"
    );
    drop(store);

    run_notifiers_over_store(dir.path(), vec![ops], |n| async move {
        // The keeper reports the outage again after the restart: nothing new.
        for device in ["d1", "d2", "d3"] {
            n.send(login(device));
        }
        settle(&n).await;
    })
    .await;
    let sent = bodies(&server, "/ops").await;
    let mut ids: Vec<_> = sent
        .iter()
        .map(|b| b["incident_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "no duplicate");
    let store = Store::open(dir.path()).unwrap();
    assert!(store.pending_deliveries().unwrap().is_empty());
}

/// A resolved incident of `device` opened at `opened_at`, told to "ops".
fn resolved_incident(device: &str, opened_at: &str) -> IncidentRecord {
    let key = IncidentKey {
        subject: Subject::Device(device.into()),
        kind: IncidentKind::ManualLoginRequired,
    };
    let opened_at: Timestamp = opened_at.parse().unwrap();
    IncidentRecord {
        id: key.incident_id(opened_at),
        key,
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: None,
            labels: BTreeMap::new(),
            notify: vec!["ops".into()],
        },
        summary: format!("{device} needs a QR login"),
        detail: json!({}),
        resolved_at: Some(opened_at),
        resolution: None,
        opened_at,
        escalations: 0,
    }
}

fn resolved_delivery(incident: &IncidentRecord, state: DeliveryState) -> DeliveryRecord {
    DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "ops".into(),
        transition: Transition::Resolved,
        seq: 0,
        state,
        attempts: 0,
        created_at: incident.opened_at,
        sent_at: None,
        last_error: None,
    }
}

#[test]
fn load_reads_only_the_resolved_incidents_it_still_owes_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let done = resolved_incident("sales-02", "2026-11-20T08:00:00Z");
    let owed = resolved_incident("sales-01", "2026-11-21T08:00:00Z");
    let pending = resolved_delivery(&owed, DeliveryState::Pending);
    store
        .apply(&[
            Write::Incident(done.clone()),
            Write::Incident(owed.clone()),
            Write::Delivery(resolved_delivery(&done, DeliveryState::Sent)),
            Write::Delivery(pending.clone()),
        ])
        .unwrap();
    // An old incident nobody needs any more is unreadable: loading must not touch it.
    let raw = rusqlite::Connection::open(dir.path().join(crate::store::FILE_NAME)).unwrap();
    raw.execute(
        "UPDATE incidents SET context_json = 'garbage' WHERE id = ?1",
        [&done.id],
    )
    .unwrap();
    assert!(store.incidents().is_err(), "the whole table is unreadable");

    let restored = Restored::load(&store).unwrap();
    assert_eq!(restored.unfinished, vec![owed]);
    assert_eq!(restored.pending, vec![pending]);
    assert!(restored.open.is_empty() && restored.history.is_empty());
}
