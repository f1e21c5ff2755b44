//! The worker's races with a stop, staged exactly with a fake channel (no HTTP, no clock).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde_json::json;
use tokio::sync::oneshot;

use super::*;
use crate::config::{Notifier, NotifierKind};
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Subject};
use crate::notify::journal::MemoryJournal;
use crate::store::{DeliveryRecord, IncidentRecord, Transition};
use crate::vendor::VendorKind;

/// A receiver whose answers the test gives: each delivery hands the test a responder and
/// waits for it. The test can so stage a stop and an answer arriving before the worker runs
/// again, both ready in the same poll.
struct Staged {
    started: mpsc::UnboundedSender<oneshot::Sender<Result<(), NotifyError>>>,
}

impl Channel for Staged {
    fn deliver(
        &self,
        _outgoing: Outgoing<'_>,
        _sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send {
        let (answer, answered) = oneshot::channel();
        let _ = self.started.send(answer);
        async move {
            answered
                .await
                .unwrap_or_else(|_| Err(NotifyError::Transport("no answer".into())))
        }
    }
}

/// A staged channel and the queue of its responders, one per attempt.
fn staged() -> (
    Staged,
    mpsc::UnboundedReceiver<oneshot::Sender<Result<(), NotifyError>>>,
) {
    let (started, attempts) = mpsc::unbounded_channel();
    (Staged { started }, attempts)
}

fn message(seq: u32) -> Message {
    let opened_at: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    let mut message = device_message("sales-01", IncidentKind::ManualLoginRequired, opened_at);
    message.delivery.seq = seq;
    message
}

/// The first firing message of `kind` for `device` (of provider gewe-cloud), created at
/// `created` (the incident opened then too).
fn device_message(device: &str, kind: IncidentKind, created: Timestamp) -> Message {
    let key = IncidentKey {
        subject: Subject::Device(device.into()),
        kind,
    };
    let incident = IncidentRecord {
        id: key.incident_id(created),
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: Some("wx_abc123".into()),
            labels: BTreeMap::new(),
            notify: vec!["ops".into()],
        },
        summary: format!("{device}: {kind}"),
        detail: json!({}),
        key,
        opened_at: created,
        resolved_at: None,
        resolution: None,
        escalations: 0,
    };
    let delivery = DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "ops".into(),
        transition: Transition::Firing,
        seq: 0,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: created,
        sent_at: None,
        last_error: None,
    };
    Message {
        incident: Arc::new(incident),
        delivery,
    }
}

/// A start from `queue` with nothing remembered.
fn start(queue: VecDeque<Message>) -> Handback {
    Handback {
        queue,
        ..Handback::default()
    }
}

/// A worker over `channel` recording into `journal`, and its report queue and outstanding
/// count (starting at `outstanding`).
fn worker<C: Channel>(
    channel: C,
    journal: &MemoryJournal,
    cancel: &CancellationToken,
    outstanding: usize,
) -> (
    Worker<C>,
    mpsc::UnboundedReceiver<Command>,
    watch::Receiver<usize>,
) {
    let (reports, reported) = mpsc::unbounded_channel();
    let (outstanding, counted) = watch::channel(outstanding);
    let links = Links {
        journal: Arc::new(journal.clone()),
        reports,
        outstanding,
        backoff: Backoff::default(),
        clock: Clock::Wall,
        inhibitions: watch::channel(Inhibitions::default()).1,
    };
    let worker = Worker {
        channel,
        pacing: Pacing::of(&Notifier::new("ops", NotifierKind::Webhook), &TimeZone::UTC),
        links,
        cancel: cancel.clone(),
        retire: CancellationToken::new(),
    };
    (worker, reported, counted)
}

#[tokio::test]
async fn a_2xx_that_arrives_with_the_stop_is_recorded_sent_and_nothing_new_starts() {
    let cancel = CancellationToken::new();
    let (channel, mut attempts) = staged();
    let journal = MemoryJournal::default();
    let (worker, mut reported, counted) = worker(channel, &journal, &cancel, 2);
    let (_inbox, receiver) = mpsc::unbounded_channel();
    let run = tokio::spawn(worker.run(receiver, start(VecDeque::from([message(0), message(1)]))));

    let answer = attempts.recv().await.unwrap();
    // The stop and the 2xx both arrive before the worker runs again.
    cancel.cancel();
    answer.send(Ok(())).unwrap();
    let left = run.await.unwrap().queue;

    let left: Vec<u32> = left.iter().map(|m| m.delivery.seq).collect();
    assert_eq!(left, [1], "the answered message is not handed back");
    assert!(attempts.try_recv().is_err(), "no attempt after the stop");
    let writes = journal.writes();
    let [Write::Delivery(sent)] = &writes[..] else {
        panic!("expected one delivery write, got {writes:?}");
    };
    assert_eq!(
        (sent.seq, sent.state, sent.attempts),
        (0, DeliveryState::Sent, 1)
    );
    assert!(sent.sent_at.is_some());
    match reported.try_recv() {
        Ok(Command::Delivered { delivery, .. }) => assert_eq!(delivery.seq, 0),
        other => panic!("expected a delivery report, got {other:?}"),
    }
    assert_eq!(*counted.borrow(), 1, "one message still outstanding");
}

#[tokio::test]
async fn a_stop_abandons_an_attempt_still_waiting_for_its_answer() {
    let cancel = CancellationToken::new();
    let (channel, mut attempts) = staged();
    let journal = MemoryJournal::default();
    let (worker, _reported, _counted) = worker(channel, &journal, &cancel, 1);
    let (_inbox, receiver) = mpsc::unbounded_channel();
    let run = tokio::spawn(worker.run(receiver, start(VecDeque::from([message(0)]))));

    let answer = attempts.recv().await.unwrap();
    cancel.cancel();
    let left = run.await.unwrap().queue;
    assert!(answer.send(Ok(())).is_err(), "the attempt was dropped");

    let left: Vec<u32> = left.iter().map(|m| m.delivery.seq).collect();
    assert_eq!(left, [0], "still pending, handed back");
    assert!(journal.writes().is_empty());
}

#[tokio::test]
async fn a_stopped_worker_attempts_nothing_and_hands_its_queue_back() {
    let cancel = CancellationToken::new();
    let (channel, mut attempts) = staged();
    let journal = MemoryJournal::default();
    let (worker, _reported, _counted) = worker(channel, &journal, &cancel, 2);
    let (inbox, receiver) = mpsc::unbounded_channel();
    inbox.send(message(1)).unwrap();
    cancel.cancel();

    let left = worker
        .run(receiver, start(VecDeque::from([message(0)])))
        .await
        .queue;

    let left: Vec<u32> = left.iter().map(|m| m.delivery.seq).collect();
    assert_eq!(left, [0, 1], "oldest first, the inbox included");
    assert!(attempts.try_recv().is_err(), "no attempt");
    assert!(journal.writes().is_empty());
}

#[path = "tests/paced.rs"]
mod paced;
