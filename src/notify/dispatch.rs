//! The notifiers' outboxes: a delivery worker per notifier, and a held queue for a notifier
//! whose channel cannot be built (its messages stay pending in the store, nothing lost).
//!
//! Every kind is built through [`AnyChannel::build`]; its worker paces it ([`Pacing`], from
//! the notifier and `daemon.timezone`). On reload a notifier whose channel or pacing settings
//! changed gets a new outbox that takes over the old one's undelivered messages and memory
//! (the rate limit's recent sends, the backoffs); a removed notifier's undelivered messages
//! are recorded as dropped. A retired worker first finishes and records its attempt in flight
//! (bounded by the notifier's `timeout`, 5 minutes at most), so no message is sent twice; the
//! new worker waits for that handover in its own task, and messages arriving meanwhile queue
//! behind the handed-back ones. The ledger task never waits for an attempt.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use jiff::tz::TimeZone;

use super::channel::{AnyChannel, Channel};
use super::journal::Journal;
use super::ledger::Message;
use super::pacing::Pacing;
use super::worker::{Handback, Links, Worker};
use super::{NotifierSet, log};
use crate::config::{Email, Notifier};
use crate::store::{DeliveryState, Write};

/// How the outboxes are built.
pub(crate) struct Plumbing {
    /// What workers share with the ledger task.
    pub links: Links,
    /// Where workers are spawned (the daemon awaits it).
    pub tracker: TaskTracker,
    /// Cancelled when the daemon stops; every worker's token is a child of it.
    pub stop: CancellationToken,
    /// Tests: every worker delivers to this recorder instead of its channel.
    #[cfg(test)]
    pub recorder: Option<super::tests::Recorder>,
}

/// One notifier's outbox.
enum Outbox {
    /// A running worker.
    Live {
        inbox: mpsc::UnboundedSender<Message>,
        cancel: CancellationToken,
        retire: CancellationToken,
        worker: JoinHandle<Handback>,
    },
    /// The messages of a notifier whose channel cannot be built, kept in order.
    Held(VecDeque<Message>),
}

/// What a new worker starts from.
enum Start {
    /// These messages (not yet counted as outstanding) and this memory.
    Now(Handback),
    /// What a retired worker hands back once its attempt in flight is recorded (its messages
    /// are already counted as outstanding).
    After(JoinHandle<Handback>),
}

/// A notifier's channel, built.
enum Built {
    /// The channel of its kind (boxed: it is far larger than a recorder).
    Channel(Box<AnyChannel>),
    /// Tests: a recorder standing in for every channel.
    #[cfg(test)]
    Recorder(super::tests::Recorder),
}

/// Every configured notifier's outbox.
pub(crate) struct Dispatcher {
    plumbing: Plumbing,
    timezone: TimeZone,
    outboxes: BTreeMap<String, (Notifier, Outbox)>,
}

impl Dispatcher {
    /// Outboxes for `notifiers` (workers spawned on the tracker).
    pub(crate) fn new(plumbing: Plumbing, notifiers: &NotifierSet) -> Dispatcher {
        let mut dispatcher = Dispatcher {
            plumbing,
            timezone: notifiers.timezone.clone(),
            outboxes: BTreeMap::new(),
        };
        for notifier in &notifiers.notifiers {
            let outbox = dispatcher.open_now(notifier, VecDeque::new());
            dispatcher
                .outboxes
                .insert(notifier.name.clone(), (notifier.clone(), outbox));
        }
        dispatcher
    }

    /// Hands each message to its notifier's outbox; a message for a notifier that is gone is
    /// recorded as dropped.
    pub(crate) fn dispatch(&mut self, messages: Vec<Message>) {
        let mut dropped = Vec::new();
        for message in messages {
            match self.outboxes.get_mut(&message.delivery.notifier) {
                Some((_, Outbox::Held(queue))) => queue.push_back(message),
                Some((_, Outbox::Live { inbox, .. })) => {
                    self.plumbing.links.outstanding.send_modify(|n| *n += 1);
                    if let Err(lost) = inbox.send(message) {
                        // The worker ended (it only does when cancelled); the delivery stays
                        // pending in the store and is resumed on the next start.
                        self.plumbing
                            .links
                            .outstanding
                            .send_modify(|n| *n = n.saturating_sub(1));
                        drop(lost);
                    }
                }
                None => dropped.push(message),
            }
        }
        self.drop_messages(dropped);
    }

    /// Applies a new notifier list: removed notifiers' messages are dropped, changed ones
    /// move to a new outbox, unchanged ones keep running. Retired workers finish their attempt
    /// in flight in the background (see the module docs).
    pub(crate) async fn reconfigure(&mut self, notifiers: NotifierSet) {
        let mut old = std::mem::take(&mut self.outboxes);
        let same_zone = self.timezone == notifiers.timezone;
        self.timezone = notifiers.timezone;
        for notifier in &notifiers.notifiers {
            let kept = match old.remove(&notifier.name) {
                Some((before, outbox))
                    if same_zone
                        && same_channel(&before, notifier)
                        && same_pacing(&before, notifier) =>
                {
                    outbox
                }
                Some((_, outbox)) => self.reopen(notifier, outbox).await,
                None => self.open_now(notifier, VecDeque::new()),
            };
            self.outboxes
                .insert(notifier.name.clone(), (notifier.clone(), kept));
        }
        for (_, (_, outbox)) in old {
            self.remove(outbox);
        }
    }

    /// Stops every worker, abandoning in-flight requests; undelivered messages stay pending
    /// in the store.
    pub(crate) async fn stop(self) {
        for (_, (_, outbox)) in self.outboxes {
            close_outbox(&self.plumbing, outbox).await;
        }
    }

    /// An outbox for `notifier` starting with `queue`: a worker, or held messages when its
    /// channel cannot be built.
    fn open_now(&mut self, notifier: &Notifier, queue: VecDeque<Message>) -> Outbox {
        let Some(built) = self.build(notifier) else {
            return Outbox::Held(queue);
        };
        let start = Start::Now(Handback {
            queue,
            ..Handback::default()
        });
        self.spawn_built(built, notifier, start)
    }

    /// The outbox of a changed `notifier`, taking over `outbox`: its worker is retired and
    /// hands its queue and memory to the new one once its attempt in flight is recorded.
    /// Only when the new channel cannot be built is that awaited here (bounded by the old
    /// notifier's timeout), to hold the messages.
    async fn reopen(&mut self, notifier: &Notifier, outbox: Outbox) -> Outbox {
        let (retire, worker) = match outbox {
            Outbox::Held(queue) => return self.open_now(notifier, queue),
            Outbox::Live { retire, worker, .. } => (retire, worker),
        };
        retire.cancel();
        match self.build(notifier) {
            Some(built) => self.spawn_built(built, notifier, Start::After(worker)),
            None => {
                let handback = handed_back(worker).await;
                uncount(&self.plumbing, handback.queue.len());
                Outbox::Held(handback.queue)
            }
        }
    }

    /// The channel of `notifier`, or `None` (logged) when it cannot be built.
    fn build(&self, notifier: &Notifier) -> Option<Built> {
        #[cfg(test)]
        if let Some(recorder) = &self.plumbing.recorder {
            return Some(Built::Recorder(recorder.clone()));
        }
        match AnyChannel::build(notifier, &self.timezone) {
            Ok(channel) => Some(Built::Channel(Box::new(channel))),
            Err(error) => {
                log::unavailable(&notifier.name, &error);
                None
            }
        }
    }

    /// A worker for `notifier` over `built`, from `start`.
    fn spawn_built(&self, built: Built, notifier: &Notifier, start: Start) -> Outbox {
        let pacing = Pacing::of(notifier, &self.timezone);
        match built {
            Built::Channel(channel) => self.spawn(*channel, pacing, start),
            #[cfg(test)]
            Built::Recorder(recorder) => self.spawn(recorder, pacing, start),
        }
    }

    /// Spawns a worker delivering what `start` gives it and what follows through `channel`.
    fn spawn<C: Channel>(&self, channel: C, pacing: Pacing, start: Start) -> Outbox {
        let links = self.plumbing.links.clone();
        let cancel = self.plumbing.stop.child_token();
        let retire = CancellationToken::new();
        let (inbox, receiver) = mpsc::unbounded_channel();
        let worker = Worker {
            channel,
            pacing,
            links,
            cancel: cancel.clone(),
            retire: retire.clone(),
        };
        let worker = match start {
            Start::Now(handback) => {
                let count = handback.queue.len();
                self.plumbing.links.outstanding.send_modify(|n| *n += count);
                self.plumbing.tracker.spawn(worker.run(receiver, handback))
            }
            Start::After(previous) => self.plumbing.tracker.spawn(async move {
                let handback = handed_back(previous).await;
                worker.run(receiver, handback).await
            }),
        };
        Outbox::Live {
            inbox,
            cancel,
            retire,
            worker,
        }
    }

    /// Retires a removed notifier's outbox: once its attempt in flight is recorded, what it
    /// had not delivered is recorded as dropped (in the background).
    fn remove(&self, outbox: Outbox) {
        match outbox {
            Outbox::Held(queue) => drop_messages(&*self.plumbing.links.journal, queue.into()),
            Outbox::Live { retire, worker, .. } => {
                retire.cancel();
                let journal = Arc::clone(&self.plumbing.links.journal);
                let outstanding = self.plumbing.links.outstanding.clone();
                self.plumbing.tracker.spawn(async move {
                    let handback = handed_back(worker).await;
                    let count = handback.queue.len();
                    drop_messages(&*journal, handback.queue.into());
                    outstanding.send_modify(|n| *n = n.saturating_sub(count));
                });
            }
        }
    }

    /// Records `messages` as dropped (their notifier is gone).
    fn drop_messages(&self, messages: Vec<Message>) {
        drop_messages(&*self.plumbing.links.journal, messages);
    }
}

/// What a worker handed back; a worker that panicked loses only its in-memory queue and
/// memory: the store still holds those deliveries as pending.
async fn handed_back(worker: JoinHandle<Handback>) -> Handback {
    worker.await.unwrap_or_default()
}

/// Takes `count` messages off the outstanding count.
fn uncount(plumbing: &Plumbing, count: usize) {
    plumbing
        .links
        .outstanding
        .send_modify(|n| *n = n.saturating_sub(count));
}

/// Records `messages` as dropped (their notifier is gone).
fn drop_messages(journal: &dyn Journal, messages: Vec<Message>) {
    let writes = messages
        .into_iter()
        .map(|message| {
            let mut delivery = message.delivery;
            delivery.state = DeliveryState::Dropped;
            Write::Delivery(delivery)
        })
        .collect::<Vec<_>>();
    if !writes.is_empty() {
        journal.record(writes);
    }
}

/// Stops an outbox at once (the daemon stops): cancels its worker, abandoning its attempt in
/// flight, and waits for it to hand back its queue (still pending in the store).
async fn close_outbox(plumbing: &Plumbing, outbox: Outbox) {
    if let Outbox::Live { cancel, worker, .. } = outbox {
        cancel.cancel();
        let handback = handed_back(worker).await;
        uncount(plumbing, handback.queue.len());
    }
}

/// True when `a` and `b` deliver the same way (so a reload can keep `a`'s worker running).
fn same_channel(a: &Notifier, b: &Notifier) -> bool {
    a.kind == b.kind
        && same_secret(&a.url, &b.url)
        && same_secret(&a.secret, &b.secret)
        && a.command == b.command
        && a.timeout == b.timeout
        && a.language == b.language
        && same_email(a.email.as_ref(), b.email.as_ref())
}

/// True when `a` and `b` pace their messages the same way (the zone is compared apart).
fn same_pacing(a: &Notifier, b: &Notifier) -> bool {
    a.quiet_hours == b.quiet_hours && a.rate_limit == b.rate_limit && a.group_wait == b.group_wait
}

fn same_secret(a: &Option<SecretString>, b: &Option<SecretString>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    }
}

fn same_email(a: Option<&Email>, b: Option<&Email>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.host == b.host
                && a.port == b.port
                && a.tls == b.tls
                && a.username == b.username
                && same_secret(&a.password, &b.password)
                && a.from == b.from
                && a.to == b.to
        }
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{Language, NotifierKind, Window};

    fn kept(a: &Notifier, b: &Notifier) -> bool {
        same_channel(a, b) && same_pacing(a, b)
    }

    #[test]
    fn a_reload_keeps_a_worker_only_when_its_channel_and_pacing_are_the_same() {
        let mut bot = Notifier::new("bot", NotifierKind::Wecom);
        bot.url = Some(SecretString::from("https://example.invalid/send?key=k"));
        assert!(kept(&bot, &bot.clone()));
        let mut resolved_off = bot.clone();
        resolved_off.send_resolved = false;
        assert!(
            kept(&bot, &resolved_off),
            "the ledger's setting, not the worker's"
        );

        let changes: [fn(&mut Notifier); 7] = [
            |n| n.rate_limit = 5,
            |n| n.group_wait = Duration::ZERO,
            |n| n.quiet_hours = Window::parse("23:00-08:00").ok(),
            |n| n.timeout = Duration::from_secs(3),
            |n| n.language = Language::En,
            |n| n.secret = Some(SecretString::from("s")),
            |n| n.url = Some(SecretString::from("https://example.invalid/send?key=other")),
        ];
        for change in changes {
            let mut changed = bot.clone();
            change(&mut changed);
            assert!(!kept(&bot, &changed), "{changed:?}");
        }
    }
}
