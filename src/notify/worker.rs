//! One delivery worker per notifier: it keeps that notifier's queue, asks [`Pacing`] what may
//! go now (quiet hours, grouping, rate limit), sends that as one [`Batch`], and waits for the
//! moment the plan names or for a new message, whichever comes first (a new message may change
//! the plan: join a group, or tip the rate limit into a digest). A notifier that is down delays
//! its own messages, never anyone else's; and a message that fails delays only itself and the
//! later messages of its incident: each failing batch's messages wait their own backoff
//! ([`Retries`]) while pacing plans the rest, and are re-planned when it ends, so messages
//! that arrived meanwhile may join them in a digest.
//!
//! Every attempt is recorded, one journal batch per send, so a batch is never half-recorded:
//! on success every message in it is marked sent (and reported to the ledger, which starts its
//! repeat clock), on failure every message counts the attempt and its error. The rate limit
//! counts the sends that reached the receiver: delivered ones and refusals (an error code,
//! an HTTP status, a timeout, a failed command or a mail the server did not take), not the
//! requests that never got there (transport errors), since bots count the requests they get.
//!
//! A worker ends in one of two ways, and hands back a [`Handback`]: what it had not delivered
//! and what it remembers (the recent sends the rate limit counts, the failing messages'
//! backoffs), for the worker that takes over.
//! - Retired (a reload changed its notifier): it starts no new attempt, but lets the one in
//!   flight finish and records it, so the successor never sends that message again. An
//!   attempt is bounded by the notifier's `timeout` (5 minutes at most), and the successor
//!   waits for it, not the ledger task.
//! - Stopped (the daemon stops): it starts no new attempt and abandons a request still waiting
//!   for its answer (an answer already in is recorded first); those deliveries are still
//!   pending in the store and go again after the restart (at least once).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::channel::{Batch, Channel, Outgoing, Shape};
use super::journal::Journal;
use super::ledger::{Inhibitions, Message};
use super::pacing::{self, Hold, Pacing, Pick, Plan};
use super::task::Command;
use super::{NotifyError, log};
use crate::jitter::Jitter;
use crate::store::{DeliveryState, Write};

/// The longest a worker sleeps before planning again, so a wall clock that was set while it
/// waited (quiet hours read it) is noticed within a minute.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Where a worker reads the time: pacing and `sent_at` need a timestamp, and tests with
/// paused tokio time need one that moves with tokio's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    /// The system clock (the daemon).
    Wall,
    /// `base` plus the tokio time elapsed since `since`.
    #[cfg(test)]
    Tokio {
        /// The timestamp at `since`.
        base: Timestamp,
        /// The tokio instant `base` stands for.
        since: tokio::time::Instant,
    },
}

impl Clock {
    /// The time now.
    pub(crate) fn now(&self) -> Timestamp {
        match self {
            Clock::Wall => Timestamp::now(),
            #[cfg(test)]
            Clock::Tokio { base, since } => base.saturating_add(since.elapsed()).unwrap_or(*base),
        }
    }
}

/// What a worker shares with the ledger task.
#[derive(Clone)]
pub(crate) struct Links {
    /// Where attempts are recorded.
    pub journal: Arc<dyn Journal>,
    /// Where deliveries are reported (the ledger task's queue).
    pub reports: mpsc::UnboundedSender<Command>,
    /// Messages queued in workers and not yet delivered.
    pub outstanding: watch::Sender<usize>,
    /// The retry schedule.
    pub backoff: Backoff,
    /// The time.
    pub clock: Clock,
    /// Which providers' device logins each notifier holds back now, as the ledger publishes
    /// them: queued messages they cover wait (neither sent nor dropped) until they change.
    pub inhibitions: watch::Receiver<Inhibitions>,
}

/// One notifier's worker.
pub(crate) struct Worker<C> {
    /// Its delivery side.
    pub channel: C,
    /// When its messages may go.
    pub pacing: Pacing,
    /// Shared plumbing.
    pub links: Links,
    /// Stops the worker at once, abandoning an attempt in flight (the daemon stops).
    pub cancel: CancellationToken,
    /// Retires the worker once its attempt in flight is recorded (a reload).
    pub retire: CancellationToken,
}

/// What a worker hands back when it ends, and what its successor starts from, so a reload
/// neither loses a message nor forgets how much of the rate limit the last minute used.
#[derive(Debug, Default)]
pub(crate) struct Handback {
    /// The undelivered messages, oldest first.
    pub queue: VecDeque<Message>,
    /// When the recent sends that count against the rate limit went.
    pub sends: VecDeque<Timestamp>,
    /// The failing messages' backoffs.
    pub retries: Retries,
}

mod memory;

pub(crate) use memory::Retries;

/// What a worker remembers between sends.
struct Memory {
    /// When the recent sends that count against the rate limit went.
    sends: VecDeque<Timestamp>,
    /// The failing messages' backoffs.
    retries: Retries,
    jitter: Jitter,
}

impl<C: Channel> Worker<C> {
    /// Delivers the queue it starts with, then whatever arrives in `inbox`, as pacing allows,
    /// until stopped or retired or the inbox closes; hands back what it did not deliver and
    /// what it remembers.
    pub(crate) async fn run(
        self,
        mut inbox: mpsc::UnboundedReceiver<Message>,
        start: Handback,
    ) -> Handback {
        let mut inhibitions = self.links.inhibitions.clone();
        let mut queue = start.queue;
        let mut memory = Memory {
            sends: start.sends,
            retries: start.retries,
            jitter: Jitter::new(),
        };
        loop {
            while let Ok(message) = inbox.try_recv() {
                queue.push_back(message);
            }
            if self.retire.is_cancelled() {
                break;
            }
            let now = self.links.clock.now();
            pacing::forget_old(&mut memory.sends, now);
            let plan = self.plan(&queue, &memory, &mut inhibitions, now);
            let carry_on = match plan {
                Plan::Send(pick) => self.send(&mut queue, pick, &mut memory).await,
                Plan::Wait(until) => {
                    let wait = Duration::try_from(until.duration_since(now)).unwrap_or_default();
                    let wait = Some(wait.min(MAX_WAIT));
                    self.wait(&mut inbox, &mut queue, &mut inhibitions, wait)
                        .await
                }
                Plan::Idle => {
                    self.wait(&mut inbox, &mut queue, &mut inhibitions, None)
                        .await
                }
            };
            if !carry_on {
                break;
            }
        }
        while let Ok(message) = inbox.try_recv() {
            queue.push_back(message);
        }
        Handback {
            queue,
            sends: memory.sends,
            retries: memory.retries,
        }
    }

    /// What pacing says about `queue` at `now`, with the messages the current inhibitions
    /// and the backoffs hold.
    fn plan(
        &self,
        queue: &VecDeque<Message>,
        memory: &Memory,
        inhibitions: &mut watch::Receiver<Inhibitions>,
        now: Timestamp,
    ) -> Plan {
        let held = inhibitions.borrow_and_update();
        let held_back = |message: &Message| hold(&held, &memory.retries, message);
        self.pacing.plan(queue, &memory.sends, now, held_back)
    }

    /// Waits for a new message (queued), for `wait` to pass, for the inhibitions to change,
    /// or for the stop; false when the worker should end.
    async fn wait(
        &self,
        inbox: &mut mpsc::UnboundedReceiver<Message>,
        queue: &mut VecDeque<Message>,
        inhibitions: &mut watch::Receiver<Inhibitions>,
        wait: Option<Duration>,
    ) -> bool {
        let sleep = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        let changed = async {
            // Once the ledger task is gone nothing changes any more.
            if inhibitions.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => false,
            () = self.retire.cancelled() => false,
            next = inbox.recv() => match next {
                Some(message) => {
                    queue.push_back(message);
                    true
                }
                None => false,
            },
            () = changed => true,
            () = sleep => true,
        }
    }

    /// Sends the picked messages as one batch and records the outcome; false when the worker
    /// was stopped before or during the attempt (nothing recorded, the queue unchanged).
    async fn send(&self, queue: &mut VecDeque<Message>, pick: Pick, memory: &mut Memory) -> bool {
        let batch = Batch {
            shape: pick.shape,
            messages: pick
                .indices
                .iter()
                .filter_map(|index| queue.get(*index).cloned())
                .collect(),
        };
        let Some((sent_at, result)) = self.attempt_unless_stopped(&batch).await else {
            return false;
        };
        if result.as_ref().map_or_else(reached, |()| true) {
            memory.sends.push_back(sent_at);
        }
        let outcome = if result.is_ok() { "sent" } else { "failed" };
        crate::admin::metrics::global().notification(self.channel.kind(), outcome);
        match result {
            Ok(()) => {
                let mut sent = Vec::with_capacity(pick.indices.len());
                for index in pick.indices.iter().rev() {
                    sent.extend(queue.remove(*index));
                }
                sent.reverse();
                for message in &sent {
                    memory.retries.forget(message);
                }
                self.delivered(sent, pick.shape, sent_at);
            }
            Err(error) => {
                self.failed(queue, &pick, &error);
                let now = self.links.clock.now();
                let unit = memory.jitter.unit();
                memory
                    .retries
                    .failed(&batch.messages, &self.links.backoff, unit, now);
            }
        }
        true
    }

    /// One attempt at `batch` and when it was sent, unless the worker is stopped: `None`
    /// when it was stopped or retired before the attempt, or stopped while the attempt still
    /// waited for its answer (retiring lets it finish). The attempt is polled first, so an
    /// answer that is in when the stop arrives counts: dropping it would leave a delivered
    /// message pending, sent again after the restart.
    async fn attempt_unless_stopped(
        &self,
        batch: &Batch,
    ) -> Option<(Timestamp, Result<(), NotifyError>)> {
        if self.cancel.is_cancelled() || self.retire.is_cancelled() {
            return None;
        }
        let sent_at = self.links.clock.now();
        tokio::select! {
            biased;
            result = self.channel.deliver(Outgoing::Alert(batch), sent_at) => Some((sent_at, result)),
            () = self.cancel.cancelled() => None,
        }
    }

    /// Records the delivered `messages` (one journal batch) and reports each.
    fn delivered(&self, mut messages: Vec<Message>, shape: Shape, sent_at: Timestamp) {
        let size = messages.len();
        let mut writes = Vec::with_capacity(size);
        for message in &mut messages {
            let delivery = &mut message.delivery;
            delivery.attempts = delivery.attempts.saturating_add(1);
            delivery.state = DeliveryState::Sent;
            delivery.sent_at = Some(sent_at);
            delivery.last_error = None;
            writes.push(Write::Delivery(delivery.clone()));
        }
        self.links.journal.record(writes);
        for message in messages {
            log::sent(&message.incident, &message.delivery, shape, size);
            let _ = self.links.reports.send(Command::Delivered {
                delivery: message.delivery,
                at: sent_at,
            });
        }
        self.links
            .outstanding
            .send_modify(|n| *n = n.saturating_sub(size));
    }

    /// Records a failed attempt on every picked message (one journal batch).
    fn failed(&self, queue: &mut VecDeque<Message>, pick: &Pick, error: &NotifyError) {
        let mut writes = Vec::with_capacity(pick.indices.len());
        for index in &pick.indices {
            let Some(message) = queue.get_mut(*index) else {
                continue;
            };
            let delivery = &mut message.delivery;
            delivery.attempts = delivery.attempts.saturating_add(1);
            delivery.last_error = Some(error.to_string());
            writes.push(Write::Delivery(delivery.clone()));
            log::failed(
                &message.incident,
                delivery,
                error,
                pick.shape,
                pick.indices.len(),
            );
        }
        self.links.journal.record(writes);
    }
}

/// Why the worker keeps `message` back now, if it does: its notifier inhibits it, or it
/// waits out its backoff.
fn hold(inhibitions: &Inhibitions, retries: &Retries, message: &Message) -> Option<Hold> {
    if inhibitions.holds_message(&message.delivery.notifier, &message.incident) {
        return Some(Hold::Inhibited);
    }
    retries.at(message).map(Hold::Until)
}

/// Whether a failed send reached the receiver, so it counts against the rate limit.
fn reached(error: &NotifyError) -> bool {
    match error {
        NotifyError::Refused(_)
        | NotifyError::Status(_)
        | NotifyError::Timeout
        | NotifyError::Command(_)
        | NotifyError::Mail(_) => true,
        NotifyError::Build(_) | NotifyError::Encode(_) | NotifyError::Transport(_) => false,
    }
}

#[cfg(test)]
#[path = "worker/tests.rs"]
mod tests;
