//! The worker's pacing with paused tokio time and an in-memory channel: rate limits and
//! digests, retries that re-plan, quiet hours, grouping, and a stop while waiting.

use std::sync::Mutex;

use tokio::task::JoinHandle;

use super::*;
use crate::config::Window;

const BASE: &str = "2026-11-21T08:00:00Z";

/// A batch as the receiver saw it: when it was sent, its shape and its devices.
type Seen = (Timestamp, Shape, Vec<String>);

/// A receiver that answers from a script (then accepts everything, except any batch with a
/// message about the device named in `refuse`), keeping each batch it was handed and when.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<Result<(), NotifyError>>>>,
    refuse: Arc<Mutex<Option<String>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Channel for Scripted {
    fn deliver(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send {
        let mut refused = false;
        if let Outgoing::Alert(batch) = outgoing {
            let devices: Vec<String> = batch
                .messages
                .iter()
                .map(|m| m.incident.key.subject.name().to_owned())
                .collect();
            let refuse = self.refuse.lock().unwrap();
            refused = devices.iter().any(|d| Some(d) == refuse.as_ref());
            self.seen
                .lock()
                .unwrap()
                .push((sent_at, batch.shape, devices));
        }
        let answer = self.answers.lock().unwrap().pop_front().unwrap_or(Ok(()));
        if refused {
            return std::future::ready(Err(NotifyError::Status(400)));
        }
        std::future::ready(answer)
    }
}

/// A journal keeping each recorded batch apart, to check a send is recorded as one.
#[derive(Clone, Default)]
struct Batches(Arc<Mutex<Vec<Vec<Write>>>>);

impl Journal for Batches {
    fn record(&self, writes: Vec<Write>) {
        self.0.lock().unwrap().push(writes);
    }
}

impl Batches {
    /// (state, attempts, has an error) of each delivery, per recorded batch.
    fn states(&self) -> Vec<Vec<(DeliveryState, u32, bool)>> {
        let batches = self.0.lock().unwrap();
        batches
            .iter()
            .map(|writes| {
                writes
                    .iter()
                    .filter_map(|w| match w {
                        Write::Delivery(d) => Some((d.state, d.attempts, d.last_error.is_some())),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }
}

/// A running paced worker over a scripted channel, its clock starting at [`BASE`].
struct Paced {
    inbox: mpsc::UnboundedSender<Message>,
    /// What the ledger task would publish.
    inhibitions: watch::Sender<Inhibitions>,
    channel: Scripted,
    journal: Batches,
    cancel: CancellationToken,
    retire: CancellationToken,
    run: JoinHandle<Handback>,
    clock: Clock,
    base: Timestamp,
}

fn paced(pacing: Pacing, answers: Vec<Result<(), NotifyError>>) -> Paced {
    let base: Timestamp = BASE.parse().unwrap();
    paced_from(base, pacing, answers)
}

fn paced_from(base: Timestamp, pacing: Pacing, answers: Vec<Result<(), NotifyError>>) -> Paced {
    paced_with(base, pacing, answers, Handback::default())
}

/// A paced worker starting at `base` from what `start` hands it.
fn paced_with(
    base: Timestamp,
    pacing: Pacing,
    answers: Vec<Result<(), NotifyError>>,
    start: Handback,
) -> Paced {
    let channel = Scripted::default();
    channel.answers.lock().unwrap().extend(answers);
    let journal = Batches::default();
    let clock = Clock::Tokio {
        base,
        since: tokio::time::Instant::now(),
    };
    let (reports, _) = mpsc::unbounded_channel();
    let (inhibitions, published) = watch::channel(Inhibitions::default());
    let links = Links {
        journal: Arc::new(journal.clone()),
        reports,
        outstanding: watch::channel(0).0,
        backoff: Backoff::default(),
        clock,
        inhibitions: published,
    };
    let cancel = CancellationToken::new();
    let worker = Worker {
        channel: channel.clone(),
        pacing,
        links,
        cancel: cancel.clone(),
        retire: CancellationToken::new(),
    };
    let retire = worker.retire.clone();
    let (inbox, receiver) = mpsc::unbounded_channel();
    let run = tokio::spawn(worker.run(receiver, start));
    Paced {
        inbox,
        inhibitions,
        channel,
        journal,
        cancel,
        retire,
        run,
        clock,
        base,
    }
}

impl Paced {
    /// Queues a firing message of `kind` for `device`, created now.
    fn send(&self, device: &str, kind: IncidentKind) {
        let message = device_message(device, kind, self.clock.now());
        self.inbox.send(message).unwrap();
    }

    fn login(&self, device: &str) {
        self.send(device, IncidentKind::ManualLoginRequired);
    }

    /// (seconds after the start, shape, devices) of each batch handed to the channel.
    fn seen(&self) -> Vec<(i64, Shape, Vec<String>)> {
        let seen = self.channel.seen.lock().unwrap();
        seen.iter()
            .map(|(at, shape, devices)| {
                let secs = at.duration_since(self.base).as_secs();
                (secs, *shape, devices.clone())
            })
            .collect()
    }

    async fn stop(self) -> VecDeque<Message> {
        self.cancel.cancel();
        self.run.await.unwrap().queue
    }

    /// Retires the worker (a reload) and takes what it hands back.
    async fn retire(self) -> Handback {
        self.retire.cancel();
        self.run.await.unwrap()
    }
}

fn pacing_of(kind: NotifierKind) -> Pacing {
    Pacing::of(&Notifier::new("ops", kind), &TimeZone::UTC)
}

/// A WeCom-like channel without grouping, at `rate_limit` a minute.
fn chat(rate_limit: u32) -> Pacing {
    Pacing {
        rate_limit,
        group_wait: std::time::Duration::ZERO,
        ..pacing_of(NotifierKind::Wecom)
    }
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

async fn sleep_secs(secs: u64) {
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn over_its_rate_limit_a_chat_worker_sends_singles_then_one_digest() {
    let worker = paced(chat(3), vec![]);
    for device in ["d0", "d1", "d2"] {
        worker.login(device);
        sleep_secs(1).await;
    }
    worker.login("d3");
    worker.login("d4");
    sleep_secs(120).await;

    assert_eq!(
        worker.seen(),
        [
            (0, Shape::One, names(&["d0"])),
            (1, Shape::One, names(&["d1"])),
            (2, Shape::One, names(&["d2"])),
            (60, Shape::Digest, names(&["d3", "d4"])),
        ],
        "the digest goes when the first send leaves the minute"
    );
    let recorded = worker.journal.states();
    let sent = (DeliveryState::Sent, 1, false);
    assert_eq!(
        recorded.last(),
        Some(&vec![sent; 2]),
        "one write for the digest"
    );
    assert!(worker.stop().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failing_digest_waits_its_own_backoff_while_a_new_message_goes() {
    let refused = Err(NotifyError::Status(500));
    let worker = paced(chat(2), vec![refused]);
    for device in ["d0", "d1", "d2"] {
        worker.login(device);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    worker.login("d3");
    sleep_secs(120).await;

    assert_eq!(
        worker.seen(),
        [
            (0, Shape::Digest, names(&["d0", "d1", "d2"])),
            (0, Shape::One, names(&["d3"])),
            (60, Shape::Digest, names(&["d0", "d1", "d2"])),
        ],
        "d3 is not held by the failed digest; the digest is retried when the minute frees"
    );
    let failed = (DeliveryState::Pending, 1, true);
    let sent_again = (DeliveryState::Sent, 2, false);
    let sent_first = (DeliveryState::Sent, 1, false);
    assert_eq!(
        worker.journal.states(),
        [vec![failed; 3], vec![sent_first], vec![sent_again; 3]],
        "each send is one write: never half-recorded"
    );
    worker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_transport_error_does_not_count_against_the_rate_limit() {
    let unreachable = Err(NotifyError::Transport("connection refused".into()));
    let pacing = Pacing {
        rate_limit: 1,
        ..pacing_of(NotifierKind::Webhook)
    };
    let worker = paced(pacing, vec![unreachable]);
    worker.login("d0");
    sleep_secs(120).await;
    let at: Vec<_> = worker.seen().iter().map(|(at, _, _)| *at).collect();
    assert_eq!(at.len(), 2);
    assert!(at[1] <= 2, "the retry came after the backoff: {at:?}");
    worker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_refusal_counts_against_the_rate_limit() {
    let refused = Err(NotifyError::Refused("errcode 45009".into()));
    let pacing = Pacing {
        rate_limit: 1,
        ..pacing_of(NotifierKind::Webhook)
    };
    let worker = paced(pacing, vec![refused]);
    worker.login("d0");
    sleep_secs(120).await;
    let at: Vec<_> = worker.seen().iter().map(|(at, _, _)| *at).collect();
    assert_eq!(at, [0, 60], "the bot counted the refused request");
    worker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn during_quiet_hours_a_new_critical_goes_at_once_and_the_warning_at_the_end() {
    let pacing = Pacing {
        quiet_hours: Some(Window::parse("23:00-08:00").unwrap()),
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
        ..pacing_of(NotifierKind::Webhook)
    };
    // 07:59 in Shanghai.
    let base: Timestamp = "2026-11-21T23:59:00Z".parse().unwrap();
    let worker = paced_from(base, pacing, vec![]);
    worker.send("d0", IncidentKind::RecycleWarning);
    sleep_secs(10).await;
    worker.login("d1");
    sleep_secs(120).await;
    assert_eq!(
        worker.seen(),
        [
            (10, Shape::One, names(&["d1"])),
            (60, Shape::One, names(&["d0"])),
        ]
    );
    worker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn devices_arriving_within_the_group_wait_go_as_one_group() {
    let worker = paced(pacing_of(NotifierKind::Feishu), vec![]);
    for i in 0..5 {
        worker.login(&format!("d{i}"));
        sleep_secs(2).await;
    }
    worker.send("d9", IncidentKind::DeviceRecycled);
    sleep_secs(60).await;
    assert_eq!(
        worker.seen(),
        [
            (30, Shape::Group, names(&["d0", "d1", "d2", "d3", "d4"])),
            (40, Shape::One, names(&["d9"])),
        ],
        "held 30 s from the oldest; another kind is its own unit"
    );
    worker.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_stop_while_waiting_hands_the_held_messages_back() {
    let pacing = Pacing {
        quiet_hours: Some(Window::parse("00:00-24:00").unwrap()),
        ..pacing_of(NotifierKind::Webhook)
    };
    let worker = paced(pacing, vec![]);
    worker.send("d0", IncidentKind::RecycleWarning);
    worker.send("d1", IncidentKind::RecycleWarning);
    sleep_secs(3600).await;
    assert!(worker.seen().is_empty());
    let left = worker.stop().await;
    let devices: Vec<_> = left
        .iter()
        .map(|m| m.incident.key.subject.name().to_owned())
        .collect();
    assert_eq!(devices, ["d0", "d1"]);
}

#[path = "handover.rs"]
mod handover;
#[path = "holds.rs"]
mod holds;
