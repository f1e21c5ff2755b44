//! The ledger task: the one owner of the [`Ledger`]. It applies changes in the order they
//! were sent, records each decision's writes as one batch before handing its messages to the
//! outboxes, creates repeats when they fall due, and applies reloads.
//!
//! On stop it takes no new work: it drains the changes already queued into the ledger and the
//! store (their messages stay pending there, resumed on the next start), stops the workers
//! (abandoning in-flight requests) and ends.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::dispatch::Dispatcher;
use super::journal::Journal;
use super::ledger::{Event, Inhibitions, Ledger, Outcome, Policies, Policy};
use super::{NotifierSet, log};
use crate::config::Notifier;
use crate::incident::IncidentChange;
use crate::store::DeliveryRecord;

/// What the ledger task is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Apply a change from the keeper.
    Change(IncidentChange),
    /// Take a new notifier list (config reload).
    Reconfigure(NotifierSet),
    /// A worker delivered a message.
    Delivered {
        /// The delivery as recorded.
        delivery: DeliveryRecord,
        /// When it was sent.
        at: Timestamp,
    },
    /// Answer once everything queued before this has been applied.
    Barrier(oneshot::Sender<()>),
}

/// The ledger's views of `notifiers`, by name.
pub(crate) fn policies(notifiers: &[Notifier]) -> Policies {
    notifiers
        .iter()
        .map(|n| (n.name.clone(), Policy::of(n)))
        .collect()
}

/// The ledger task's state.
pub(crate) struct LedgerTask {
    /// The decisions.
    pub ledger: Ledger,
    /// The outboxes.
    pub dispatcher: Dispatcher,
    /// Where decisions are recorded.
    pub journal: Arc<dyn Journal>,
    /// Where the ledger's inhibitions are published to the workers, after every decision
    /// that changed them.
    pub inhibitions: watch::Sender<Inhibitions>,
    /// The queue [`super::Notifications`] and the workers feed.
    pub commands: mpsc::UnboundedReceiver<Command>,
    /// Stops the task.
    pub stop: CancellationToken,
    /// Cancelled once the task has finished (everything queued is recorded).
    pub done: CancellationToken,
}

impl LedgerTask {
    /// Runs until `stop`; see the module docs for what stopping does.
    pub(crate) async fn run(mut self) {
        loop {
            let repeat = until(self.ledger.next_due());
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                command = self.commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                () = sleep_for(repeat) => {
                    let outcome = self.ledger.tick(Timestamp::now());
                    self.commit(outcome);
                }
            }
        }
        self.drain();
        self.dispatcher.stop().await;
        self.done.cancel();
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Change(change) => {
                let outcome = self.ledger.apply(change, Timestamp::now());
                self.commit(outcome);
            }
            Command::Reconfigure(notifiers) => {
                let policies = policies(&notifiers.notifiers);
                let outcome = self.ledger.reconfigure(policies, Timestamp::now());
                self.dispatcher.reconfigure(notifiers).await;
                self.commit(outcome);
            }
            Command::Delivered { delivery, at } => self.ledger.delivered(&delivery, at),
            Command::Barrier(answer) => {
                let _ = answer.send(());
            }
        }
    }

    /// Records a decision, logs it, hands its messages to the outboxes and publishes the
    /// inhibitions if it changed them (an inhibitor that opened holds back the device logins
    /// already queued; one that resolved lets them go).
    fn commit(&mut self, outcome: Outcome) {
        record(&*self.journal, outcome.writes, &outcome.events);
        self.dispatcher.dispatch(outcome.messages);
        self.publish();
    }

    /// Publishes the ledger's inhibitions when they changed.
    fn publish(&self) {
        let now = self.ledger.inhibitions();
        self.inhibitions.send_if_modified(|published| {
            let changed = *published != now;
            if changed {
                *published = now;
            }
            changed
        });
    }

    /// Applies what is still queued without sending anything: the store keeps the messages.
    fn drain(&mut self) {
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Change(change) => {
                    let outcome = self.ledger.apply(change, Timestamp::now());
                    record(&*self.journal, outcome.writes, &outcome.events);
                }
                Command::Delivered { delivery, at } => self.ledger.delivered(&delivery, at),
                Command::Barrier(answer) => {
                    let _ = answer.send(());
                }
                Command::Reconfigure(_) => {}
            }
        }
    }
}

/// Records `writes` as one batch and logs `events`.
fn record(journal: &dyn Journal, writes: Vec<crate::store::Write>, events: &[Event]) {
    if !writes.is_empty() {
        journal.record(writes);
    }
    for event in events {
        match event {
            Event::Opened {
                incident,
                inhibited_by,
            } => log::opened(incident, inhibited_by.as_deref()),
            Event::Resolved(incident) => log::resolved(incident),
        }
    }
}

/// How long until `due` (zero if past); `None` when nothing is due.
fn until(due: Option<Timestamp>) -> Option<Duration> {
    let due = due?;
    let left = due.duration_since(Timestamp::now());
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// Sleeps for `wait`, or forever when there is nothing to wait for.
async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
