//! Incidents and their delivery: the ledger that opens, repeats and resolves each incident
//! exactly once, and the channels that carry its messages (DESIGN.md §5).
//!
//! The keeper sends [`IncidentChange`]s through a [`Notifications`] handle; the ledger task
//! decides what is news, records incidents and deliveries in the store (so a restart neither
//! re-sends nor loses anything) and delivers each message to each notifier, retrying with
//! backoff while a channel fails.
//!
//! Layout:
//! - `ledger`: the pure decisions (open once, send once per notifier, repeat, escalate,
//!   resolve once, restore), with time as a parameter;
//! - `payload`: the contract JSON of the generic webhook; `render`: the text people read;
//! - `channel`: webhook, wecom, dingtalk, feishu, exec and email;
//! - `worker`, `backoff`: one delivery worker per notifier, retrying with backoff and jitter;
//! - `pacing`: when a worker's messages go and together with which (quiet hours, grouping,
//!   rate limit and digests), with time as a parameter;
//! - `dispatch`: the notifiers' outboxes, and what a reload does to them;
//! - `task`: the ledger task that ties them to the store's writer; `log`: its log lines.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Notifier;
use crate::incident::IncidentChange;
use crate::store::{DeliveryRecord, IncidentRecord, Store, StoreError, Writer};

mod backoff;
mod channel;
mod check;
mod dispatch;
mod journal;
mod ledger;
mod log;
mod pacing;
mod payload;
mod render;
mod task;
mod worker;

pub use check::{NotifyCheckError, TestReport, test_notifiers};
pub use payload::{Payload, SCHEMA, rfc3339};

use backoff::Backoff;
use dispatch::{Dispatcher, Plumbing};
use journal::Journal;
use ledger::Ledger;
use task::{Command, LedgerTask, policies};
use worker::{Clock, Links};

/// Why a message could not be delivered (each attempt's error, recorded as the delivery's
/// `last_error` and logged; never containing a URL or a secret).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The channel cannot be built from its settings.
    #[error("cannot set up the channel: {0}")]
    Build(String),
    /// The payload could not be encoded.
    #[error("cannot encode the message: {0}")]
    Encode(String),
    /// The receiver did not answer within the request limit.
    #[error("the receiver did not answer in time")]
    Timeout,
    /// The request failed before an answer (connection refused, TLS, reset, ...).
    #[error("request failed: {0}")]
    Transport(String),
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered http status {0}")]
    Status(u16),
    /// The receiver answered, but its reply says the message was refused (the chat bots
    /// answer HTTP 200 with an error code in the body).
    #[error("the receiver refused the message: {0}")]
    Refused(String),
    /// The exec notifier's program failed (could not start, exited non-zero, timed out).
    #[error("the command failed: {0}")]
    Command(String),
    /// The mail could not be handed to the SMTP server.
    #[error("the mail was not accepted: {0}")]
    Mail(String),
}

/// What the store kept from the previous run, for [`Notifications::start`]: the ledger comes
/// back without re-sending anything and resumes what was not delivered.
///
/// Its parts are private and come from one read of the store ([`Restored::load`]), or are all
/// empty ([`Restored::default`], a fresh store): a part left out would break the ledger, e.g.
/// open incidents without their delivery history start their seqs again at 0, overwriting
/// rows already sent and sending repeat 0 a second time.
///
/// ```
/// use session_keeper::notify::Restored;
/// // A fresh store has nothing to restore.
/// assert!(Restored::default().open().is_empty());
/// ```
///
/// ```compile_fail,E0451
/// use session_keeper::notify::Restored;
/// // Built by hand, the delivery history would be left empty: refused.
/// let restored = Restored { open: Vec::new(), ..Default::default() };
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restored {
    /// The open incidents (`Store::open_incidents`).
    open: Vec<IncidentRecord>,
    /// The deliveries not yet made (`Store::pending_deliveries`).
    pending: Vec<DeliveryRecord>,
    /// Every stored delivery of the open incidents (`Store::deliveries` of each): each
    /// notifier's next seq and repeat clock come from it. Without it a restored incident's
    /// next message would reuse a seq already sent.
    history: Vec<DeliveryRecord>,
    /// The resolved incidents that still have pending deliveries (their resolved message was
    /// not delivered yet): the messages are built from them.
    unfinished: Vec<IncidentRecord>,
}

impl Restored {
    /// Reads from the store everything the ledger needs to carry on after a restart: the
    /// open incidents, the pending deliveries, the delivery history of the open incidents,
    /// and the resolved incidents whose resolved message is still pending (read one by one:
    /// the incidents table only grows). Call it before the store moves into its [`Writer`].
    pub fn load(store: &Store) -> Result<Restored, StoreError> {
        let open = store.open_incidents()?;
        let pending = store.pending_deliveries()?;
        let mut history = Vec::new();
        for incident in &open {
            history.extend(store.deliveries(&incident.id)?);
        }
        let mut unfinished = Vec::new();
        let mut seen: HashSet<&str> = open.iter().map(|r| r.id.as_str()).collect();
        for delivery in &pending {
            if seen.insert(delivery.incident_id.as_str())
                && let Some(record) = store.incident(&delivery.incident_id)?
            {
                unfinished.push(record);
            }
        }
        Ok(Restored {
            open,
            pending,
            history,
            unfinished,
        })
    }

    /// The open incidents the store kept: the keeper reads which provider incidents are open
    /// to restore each provider's gate.
    pub fn open(&self) -> &[IncidentRecord] {
        &self.open
    }
}

/// The configured notifiers and the zone their times are read in (quiet hours, rendered
/// deadlines): what [`Notifications::start`] and [`Notifications::reconfigure`] take.
#[derive(Debug, Clone)]
pub struct NotifierSet {
    /// The `[[notifier]]`s.
    pub notifiers: Vec<Notifier>,
    /// `daemon.timezone`.
    pub timezone: TimeZone,
}

impl NotifierSet {
    /// The notifiers and zone of `config`.
    pub fn of(config: &crate::config::Config) -> NotifierSet {
        NotifierSet {
            notifiers: config.notifiers.clone(),
            timezone: config.daemon.timezone.clone(),
        }
    }
}

/// How the ledger task's timings are set (tests shorten them, and may record what the
/// workers send instead of sending it).
#[derive(Clone, Default)]
pub(crate) struct Tuning {
    /// The retry schedule of failing deliveries.
    pub backoff: Backoff,
    /// Tests: every worker delivers to this recorder instead of its channel.
    #[cfg(test)]
    pub recorder: Option<tests::Recorder>,
}

/// The keeper's handle to the ledger task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifications {
    commands: mpsc::UnboundedSender<Command>,
    outstanding: watch::Receiver<usize>,
    done: CancellationToken,
}

impl Notifications {
    /// Starts the ledger task and one delivery worker per notifier (on `tracker`) from what
    /// the store kept ([`Restored::load`]), recording through the store's `writer`. Pending
    /// deliveries are resumed at once; open incidents are not re-sent. Must be called inside
    /// a tokio runtime.
    ///
    /// `stop` should be cancelled after the device runners have stopped, so their last
    /// changes are recorded; the task then drains its queue into the store and ends
    /// ([`Notifications::closed`]), after which the writer can be closed.
    pub fn start(
        notifiers: NotifierSet,
        restored: Restored,
        writer: Writer,
        tracker: &TaskTracker,
        stop: CancellationToken,
    ) -> Notifications {
        let journal: Arc<dyn Journal> = Arc::new(writer);
        Notifications::start_with(
            notifiers,
            restored,
            journal,
            tracker,
            stop,
            Tuning::default(),
        )
    }

    /// [`Notifications::start`] writing through any `journal`, with chosen timings.
    pub(crate) fn start_with(
        notifiers: NotifierSet,
        restored: Restored,
        journal: Arc<dyn Journal>,
        tracker: &TaskTracker,
        stop: CancellationToken,
        tuning: Tuning,
    ) -> Notifications {
        let (ledger, resumed) =
            Ledger::restore(policies(&notifiers.notifiers), &restored, Timestamp::now());
        let (commands, receiver) = mpsc::unbounded_channel();
        let (outstanding_tx, outstanding) = watch::channel(0);
        let (inhibitions, published) = watch::channel(ledger.inhibitions());
        let plumbing = Plumbing {
            links: Links {
                journal: Arc::clone(&journal),
                reports: commands.clone(),
                outstanding: outstanding_tx,
                backoff: tuning.backoff,
                clock: Clock::Wall,
                inhibitions: published,
            },
            tracker: tracker.clone(),
            stop: stop.clone(),
            #[cfg(test)]
            recorder: tuning.recorder,
        };
        let mut dispatcher = Dispatcher::new(plumbing, &notifiers);
        if !resumed.writes.is_empty() {
            journal.record(resumed.writes);
        }
        dispatcher.dispatch(resumed.messages);
        let done = CancellationToken::new();
        let task = LedgerTask {
            ledger,
            dispatcher,
            journal,
            inhibitions,
            commands: receiver,
            stop,
            done: done.clone(),
        };
        tracker.spawn(task.run());
        Notifications {
            commands,
            outstanding,
            done,
        }
    }

    /// Hands a change to the ledger; never blocks. After the ledger stopped the change is
    /// only logged (the keeper stops its runners before the ledger, so this is a bug).
    pub fn send(&self, change: IncidentChange) {
        let sent = self.commands.send(Command::Change(change));
        if let Err(mpsc::error::SendError(Command::Change(change))) = sent {
            tracing::error!(
                event = "notify.failed",
                subject = change.key().subject.name(),
                kind = change.key().kind.as_str(),
                "the incident ledger has stopped; this change is not recorded"
            );
        }
    }

    /// Applies a reloaded notifier list: new notifiers start, removed ones stop (their
    /// undelivered messages are dropped), changed ones restart keeping their queue and their
    /// rate-limit memory. An attempt in flight is never abandoned by a reload: it finishes
    /// (within the notifier's timeout) and is recorded before the new worker takes over, so
    /// nothing is sent twice; the ledger task does not wait for it.
    pub fn reconfigure(&self, notifiers: NotifierSet) {
        let _ = self.commands.send(Command::Reconfigure(notifiers));
    }

    /// Resolves once every change sent before the call has been applied and every message
    /// a worker holds has been delivered (for tests and the demo). Never resolves while a
    /// channel keeps failing, and waits out what pacing holds (quiet hours, a rate limit, a
    /// group wait); returns at once after the ledger stopped.
    pub async fn drained(&self) {
        let (answer, applied) = oneshot::channel();
        if self.commands.send(Command::Barrier(answer)).is_err() {
            return;
        }
        if applied.await.is_err() {
            return;
        }
        let mut outstanding = self.outstanding.clone();
        let _ = outstanding.wait_for(|n| *n == 0).await;
    }

    /// Resolves once the ledger task has stopped and recorded everything queued before.
    pub async fn closed(&self) {
        self.done.cancelled().await;
    }
}

#[cfg(test)]
mod tests;
