//! One delivery worker per notifier: it sends that notifier's messages one at a time,
//! in the order the ledger decided them, retrying a failing one with backoff for as long as
//! the daemon runs (a notifier that is down delays its own messages, never anyone else's).
//!
//! Every attempt is recorded (attempts, last error, and the sent time once delivered), then
//! reported to the ledger so it can start the repeat clock. On cancellation the worker starts
//! no new attempt, abandons a request still waiting for its answer (an answer already in is
//! recorded first) and hands back what it had not delivered; those deliveries are still
//! pending in the store.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::channel::{Batch, Channel, Outgoing};
use super::journal::Journal;
use super::ledger::Message;
use super::task::Command;
use super::{NotifyError, log};
use crate::jitter::Jitter;
use crate::store::{DeliveryState, Write};

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
}

/// One notifier's worker.
pub(crate) struct Worker<C> {
    /// Its delivery side.
    pub channel: C,
    /// Shared plumbing.
    pub links: Links,
    /// Stops the worker (the notifier was removed or changed, or the daemon stops).
    pub cancel: CancellationToken,
}

impl<C: Channel> Worker<C> {
    /// Delivers `queue`, then whatever arrives in `inbox`, until cancelled or the inbox
    /// closes; returns the messages it did not deliver, oldest first.
    pub(crate) async fn run(
        self,
        mut inbox: mpsc::UnboundedReceiver<Message>,
        mut queue: VecDeque<Message>,
    ) -> VecDeque<Message> {
        let mut failures: u32 = 0;
        let mut jitter = Jitter::new();
        loop {
            while let Ok(message) = inbox.try_recv() {
                queue.push_back(message);
            }
            let Some(message) = queue.front_mut() else {
                tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => break,
                    next = inbox.recv() => match next {
                        Some(message) => queue.push_back(message),
                        None => break,
                    },
                }
                continue;
            };
            let Some((sent_at, result)) = self.attempt_unless_stopped(message).await else {
                break;
            };
            match result {
                Ok(()) => {
                    failures = 0;
                    self.delivered(message, sent_at);
                    queue.pop_front();
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    self.failed(message, &error);
                    let delay = self.links.backoff.delay(failures, jitter.unit());
                    tokio::select! {
                        biased;
                        () = self.cancel.cancelled() => break,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        while let Ok(message) = inbox.try_recv() {
            queue.push_back(message);
        }
        queue
    }

    /// One attempt at `message` and when it was sent, unless the worker is stopped: `None`
    /// when it was stopped before the attempt or while the attempt still waited for its
    /// answer. The attempt is polled first, so an answer that is in when the stop arrives
    /// counts: dropping it would leave a delivered message pending, sent again after the
    /// restart.
    async fn attempt_unless_stopped(
        &self,
        message: &Message,
    ) -> Option<(Timestamp, Result<(), NotifyError>)> {
        if self.cancel.is_cancelled() {
            return None;
        }
        let sent_at = Timestamp::now();
        tokio::select! {
            biased;
            result = self.attempt(message, sent_at) => Some((sent_at, result)),
            () = self.cancel.cancelled() => None,
        }
    }

    /// One send of `message` as of `sent_at`.
    async fn attempt(&self, message: &Message, sent_at: Timestamp) -> Result<(), NotifyError> {
        let batch = Batch::one(message.clone());
        self.channel.deliver(Outgoing::Alert(&batch), sent_at).await
    }

    /// Records and reports a delivery.
    fn delivered(&self, message: &mut Message, sent_at: Timestamp) {
        let delivery = &mut message.delivery;
        delivery.attempts = delivery.attempts.saturating_add(1);
        delivery.state = DeliveryState::Sent;
        delivery.sent_at = Some(sent_at);
        delivery.last_error = None;
        self.links
            .journal
            .record(vec![Write::Delivery(delivery.clone())]);
        log::sent(&message.incident, delivery);
        let _ = self.links.reports.send(Command::Delivered {
            delivery: delivery.clone(),
            at: sent_at,
        });
        self.links
            .outstanding
            .send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Records a failed attempt.
    fn failed(&self, message: &mut Message, error: &NotifyError) {
        let delivery = &mut message.delivery;
        delivery.attempts = delivery.attempts.saturating_add(1);
        delivery.last_error = Some(error.to_string());
        self.links
            .journal
            .record(vec![Write::Delivery(delivery.clone())]);
        log::failed(&message.incident, delivery, error);
    }
}

#[cfg(test)]
#[path = "worker/tests.rs"]
mod tests;
