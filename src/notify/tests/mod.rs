//! The ledger task end to end: changes in, store writes (an in-memory journal standing in for
//! the store's writer) and webhook requests (a fake receiver on 127.0.0.1:0) out. Real time
//! with short backoffs; waits poll with generous limits, never assert speed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::channel::{Batch, Channel, Outgoing};
use super::journal::MemoryJournal;
use super::*;
use crate::config::NotifierKind;
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Resolution, Subject};
use crate::store::{DeliveryState, Transition, Write};
use crate::vendor::VendorKind;

const WAIT: Duration = Duration::from_secs(20);

/// A channel that accepts and keeps every batch it is handed, for the tests that look at how
/// messages were put together (the webhook never merges them).
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    batches: Arc<std::sync::Mutex<Vec<Batch>>>,
}

impl Recorder {
    /// Every batch delivered so far, in order.
    fn batches(&self) -> Vec<Batch> {
        self.batches.lock().unwrap().clone()
    }
}

impl Channel for Recorder {
    fn deliver(
        &self,
        outgoing: Outgoing<'_>,
        _sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send {
        if let Outgoing::Alert(batch) = outgoing {
            self.batches.lock().unwrap().push(batch.clone());
        }
        std::future::ready(Ok(()))
    }
}

/// Polls `check` until it holds, panicking with `what` after [`WAIT`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn settle(notifications: &Notifications) {
    tokio::time::timeout(WAIT, notifications.drained())
        .await
        .expect("the ledger drains");
}

fn notifier(name: &str, kind: NotifierKind, url: &str, send_resolved: bool) -> Notifier {
    let mut notifier = Notifier::new(name, kind);
    notifier.url = Some(SecretString::from(url.to_owned()));
    notifier.send_resolved = send_resolved;
    notifier.timeout = Duration::from_secs(5);
    notifier
}

/// `notifiers` with times read in UTC.
fn set(notifiers: Vec<Notifier>) -> NotifierSet {
    NotifierSet {
        notifiers,
        timezone: jiff::tz::TimeZone::UTC,
    }
}

fn webhook(name: &str, server: &MockServer, send_resolved: bool) -> Notifier {
    let url = format!("{}/{name}?key=k-{name}", server.uri());
    notifier(name, NotifierKind::Webhook, &url, send_resolved)
}

fn key() -> IncidentKey {
    IncidentKey {
        subject: Subject::Device("sales-01".into()),
        kind: IncidentKind::ManualLoginRequired,
    }
}

fn open_change(notify: &[&str]) -> IncidentChange {
    let mut change = device_change("sales-01", IncidentKind::ManualLoginRequired, notify);
    if let IncidentChange::Open { summary, .. } = &mut change {
        *summary = "sales-01 needs a QR login: reconnect failed, second login not confirmed".into();
    }
    change
}

/// An `Open` of `kind` for `device` (of provider gewe-cloud), told to `notify`.
fn device_change(device: &str, kind: IncidentKind, notify: &[&str]) -> IncidentChange {
    IncidentChange::Open {
        key: IncidentKey {
            subject: Subject::Device(device.into()),
            kind,
        },
        context: Arc::new(IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: Some("wx_abc123".into()),
            labels: BTreeMap::from([("owner".to_owned(), "ops-team".to_owned())]),
            notify: notify.iter().map(|n| (*n).to_owned()).collect(),
        }),
        summary: format!("{device}: {kind}"),
        detail: json!({"steps": ["reconnect failed"], "offline_reason": null}),
        escalate: false,
        at: "2026-11-21T08:00:00Z".parse().unwrap(),
    }
}

fn resolve_change() -> IncidentChange {
    IncidentChange::Resolve {
        key: key(),
        at: "2026-11-21T09:00:00Z".parse().unwrap(),
        resolution: Resolution::Recovered,
    }
}

/// A running ledger task over an in-memory journal.
struct Running {
    notifications: Notifications,
    journal: MemoryJournal,
    stop: CancellationToken,
    tracker: TaskTracker,
}

fn start(notifiers: Vec<Notifier>, restored: Restored, journal: MemoryJournal) -> Running {
    start_tuned(notifiers, restored, journal, None)
}

/// [`start`], every worker delivering to `recorder` when given.
fn start_tuned(
    notifiers: Vec<Notifier>,
    restored: Restored,
    journal: MemoryJournal,
    recorder: Option<Recorder>,
) -> Running {
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    let tuning = Tuning {
        backoff: Backoff {
            first: Duration::from_millis(50),
            cap: Duration::from_millis(200),
        },
        recorder,
    };
    let journal_handle: Arc<dyn Journal> = Arc::new(journal.clone());
    let notifications = Notifications::start_with(
        set(notifiers),
        restored,
        journal_handle,
        &tracker,
        stop.clone(),
        tuning,
    );
    Running {
        notifications,
        journal,
        stop,
        tracker,
    }
}

impl Running {
    async fn stop(self) -> MemoryJournal {
        self.stop.cancel();
        tokio::time::timeout(WAIT, self.notifications.closed())
            .await
            .expect("the ledger task stops");
        self.tracker.close();
        tokio::time::timeout(WAIT, self.tracker.wait())
            .await
            .expect("every task ends");
        self.journal
    }

    /// The latest state of every delivery row, as a store would hold it.
    fn deliveries(&self) -> Vec<crate::store::DeliveryRecord> {
        fold(&self.journal.writes()).pending_and_rest()
    }
}

/// The journal folded the way the store applies it (last write per key wins).
struct Folded {
    incidents: BTreeMap<String, crate::store::IncidentRecord>,
    deliveries: BTreeMap<(String, String, Transition, u32), crate::store::DeliveryRecord>,
}

fn fold(writes: &[Write]) -> Folded {
    let mut folded = Folded {
        incidents: BTreeMap::new(),
        deliveries: BTreeMap::new(),
    };
    for write in writes {
        match write {
            Write::Incident(r) => {
                folded.incidents.insert(r.id.clone(), r.clone());
            }
            Write::Delivery(d) => {
                let k = (
                    d.incident_id.clone(),
                    d.notifier.clone(),
                    d.transition,
                    d.seq,
                );
                folded.deliveries.insert(k, d.clone());
            }
            _ => {}
        }
    }
    folded
}

impl Folded {
    fn pending_and_rest(&self) -> Vec<crate::store::DeliveryRecord> {
        self.deliveries.values().cloned().collect()
    }

    /// What `Store` would hand to a restarted daemon.
    fn restored(&self) -> Restored {
        let open: Vec<_> = self
            .incidents
            .values()
            .filter(|r| r.resolved_at.is_none())
            .cloned()
            .collect();
        let pending: Vec<_> = self
            .deliveries
            .values()
            .filter(|d| d.state == DeliveryState::Pending)
            .cloned()
            .collect();
        let unfinished = self
            .incidents
            .values()
            .filter(|r| r.resolved_at.is_some() && pending.iter().any(|d| d.incident_id == r.id))
            .cloned()
            .collect();
        let history = self
            .deliveries
            .values()
            .filter(|d| open.iter().any(|r| r.id == d.incident_id))
            .cloned()
            .collect();
        Restored {
            open,
            pending,
            history,
            unfinished,
        }
    }
}

/// A `MakeWriter` collecting every log line in memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's log lines, as JSON, while the guards live.
    fn start() -> (
        Captured,
        (tracing::subscriber::DefaultGuard, tracing::Dispatch),
    ) {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = crate::logging::subscriber(
            crate::logging::Style::Json,
            tracing_subscriber::EnvFilter::new("info"),
            move || writer.clone(),
        );
        let guard = tracing::subscriber::set_default(subscriber);
        // Tracing caches whether a log line is wanted when it is first hit. With one live
        // subscriber it asks only the hitting thread's, so a line first hit by another test's
        // worker would be cached as unwanted; with two alive it asks every live one.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        (logs, (guard, second))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Every line captured, parsed.
    fn events(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

async fn bodies(server: &MockServer, at: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == at)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

mod delivery;
mod lifecycle;
mod pacing;
mod store;
