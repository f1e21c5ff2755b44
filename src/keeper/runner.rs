//! One device's runner: the async shell around its pure [`Machine`].
//!
//! The loop sleeps until the machine's next wake (delayed by up to 2 % of the poll interval,
//! never earlier, so a fleet drifts apart and the machine never sees an early wake), or until
//! a recycle sweep, or until shutdown. Each event's actions run in order as a work queue:
//! a vendor call's answer is fed straight back to the machine and the actions that produces
//! run next, before the rest of the queue. Every vendor call passes the provider's gate and
//! is raced against shutdown (`runner/calls.rs`). When the runner stops it persists the
//! device's state once more (the machine persists `last_online_at` only on transitions) and
//! hands the state back to the supervisor, which restarts a changed device from it.

mod calls;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::machine::{Action, DeviceState, Event, Level, Machine, Note};
use super::providers::ProviderRt;
use crate::config::Device;
use crate::incident::{IncidentChange, IncidentContext, IncidentKey, Subject};
use crate::jitter::Jitter;
use crate::notify::Notifications;
use crate::store::{DeviceRow, Write, Writer};

/// How much later than asked a wake may fire, as a share of the poll interval.
const WAKE_JITTER: f64 = 0.02;

/// Everything a runner is started with.
pub(crate) struct Runner {
    /// The device's configuration.
    pub(crate) device: Device,
    /// Its machine, resuming the stored or carried-over state.
    pub(crate) machine: Machine,
    /// Its provider.
    pub(crate) primary: Arc<ProviderRt>,
    /// Its kick check: the shrise provider and the `deviceNumber`.
    pub(crate) kick: Option<(Arc<ProviderRt>, String)>,
    /// The ledger.
    pub(crate) notifications: Notifications,
    /// The store writer.
    pub(crate) writer: Writer,
    /// Recycle sweeps.
    pub(crate) sweeps: watch::Receiver<u64>,
    /// The fleet board, told the state word with every persisted transition.
    pub(crate) fleet: super::fleet::Fleet,
    /// Where every probe of the device is marked (written for `status` in batches).
    pub(crate) probes: super::liveness::ProbeMarks,
    /// Cancelled to stop this runner.
    pub(crate) cancel: CancellationToken,
}

/// The running loop's own state.
struct Live {
    setup: Runner,
    context: Arc<IncidentContext>,
    /// The wake last handled: a machine that names it (or an earlier one) again is given a
    /// poll interval rather than a busy loop.
    last_wake: Option<Timestamp>,
    jitter: Jitter,
    /// Whether this runner's first probe was reported for readiness (once, not per probe).
    first_probe_reported: bool,
}

impl Runner {
    /// Runs until cancelled; returns the final state.
    pub(crate) async fn run(self) -> DeviceState {
        let context = Arc::new(IncidentContext {
            provider: self.device.provider.clone(),
            vendor: self.device.kind,
            vendor_id: Some(self.device.id.clone()),
            labels: self.device.labels.clone(),
            notify: self.device.notify.clone(),
        });
        let mut live = Live {
            setup: self,
            context,
            last_wake: None,
            jitter: Jitter::new(),
            first_probe_reported: false,
        };
        live.main_loop().await;
        live.persist();
        live.state()
    }
}

impl Live {
    async fn main_loop(&mut self) {
        loop {
            let wait = self.until_wake();
            let sweeps = &mut self.setup.sweeps;
            let event = tokio::select! {
                biased;
                _ = self.setup.cancel.cancelled() => return,
                changed = sweeps.changed() => match changed {
                    Ok(()) => Event::Sweep,
                    // The sweep job is gone (shutting down): only wakes from now on.
                    Err(_) => {
                        tokio::select! {
                            _ = self.setup.cancel.cancelled() => return,
                            _ = tokio::time::sleep(wait) => Event::Wake,
                        }
                    }
                },
                _ = tokio::time::sleep(wait) => Event::Wake,
            };
            if matches!(event, Event::Wake) {
                self.last_wake = Some(self.setup.machine.next_wake());
            }
            if !self.feed(event).await {
                return;
            }
        }
    }

    /// The wait until the machine's next wake, plus jitter.
    fn until_wake(&mut self) -> Duration {
        let poll = self.setup.device.policy.poll_interval;
        let due = self.setup.machine.next_wake();
        let jitter = self.jitter.up_to(poll.mul_f64(WAKE_JITTER));
        if self.last_wake.is_some_and(|last| due <= last) {
            return poll + jitter;
        }
        let wait = Duration::try_from(due.duration_since(Timestamp::now())).unwrap_or_default();
        wait + jitter
    }

    /// Feeds one event and runs the actions it leads to; false when shutdown interrupted it.
    /// An interrupted call ends the work, but what the machine already decided besides calls
    /// (incidents, logs, persisting) is still carried out, so the ledger and the store agree
    /// with the state the machine hands back.
    async fn feed(&mut self, event: Event) -> bool {
        let mut queue: VecDeque<Action> = self.handle(event).into();
        while let Some(action) = queue.pop_front() {
            let Some(call) = self.local(action) else {
                continue;
            };
            if is_ladder_call(&call) {
                self.commit_before_ladder_call().await;
            }
            let Some(events) = self.call(call).await else {
                for action in queue {
                    // Calls left in the queue are dropped; the machine re-probes on restart.
                    let _ = self.local(action);
                }
                return false;
            };
            let mut next = Vec::new();
            for event in events {
                next.extend(self.handle(event));
            }
            for action in next.into_iter().rev() {
                queue.push_front(action);
            }
        }
        true
    }

    /// A rung's attempt is counted, and the call recorded in flight, in the state persisted
    /// just before it; that state must be on disk before the call, so a crash during a prompt
    /// (wechatpro's blocks for minutes) never sends a second prompt after the restart, and an
    /// interrupted call is finished by the next run. A failed commit is logged by the writer; the
    /// rung still goes out, as holding recovery back for the disk would cost the account more.
    async fn commit_before_ladder_call(&self) {
        if let Err(err) = self.setup.writer.flush().await {
            tracing::error!(
                event = "store.write_failed",
                device = %self.setup.device.name,
                provider = %self.setup.device.provider,
                "the state before a ladder call is not on disk: {err}"
            );
        }
    }

    /// Carries out an action that needs no vendor call; hands a call back.
    fn local(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::Log(note) => self.log(&note),
            Action::Open {
                kind,
                summary,
                detail,
                escalate,
            } => self.setup.notifications.send(IncidentChange::Open {
                key: self.key(kind),
                context: Arc::clone(&self.context),
                summary,
                detail,
                escalate,
                at: Timestamp::now(),
            }),
            Action::Resolve { kind, resolution } => {
                self.setup.notifications.send(IncidentChange::Resolve {
                    key: self.key(kind),
                    at: Timestamp::now(),
                    resolution,
                })
            }
            Action::Persist => self.persist(),
            call => return Some(call),
        }
        None
    }

    fn handle(&mut self, event: Event) -> Vec<Action> {
        self.setup.machine.handle(event, Timestamp::now())
    }

    fn key(&self, kind: crate::incident::IncidentKind) -> IncidentKey {
        IncidentKey {
            subject: Subject::Device(self.setup.device.name.clone()),
            kind,
        }
    }

    /// The state to store: the machine's.
    fn state(&self) -> DeviceState {
        self.setup.machine.state().clone()
    }

    fn persist(&self) {
        let device = &self.setup.device;
        self.setup
            .fleet
            .set(&device.name, self.setup.machine.state().status());
        match serde_json::to_string(&self.state()) {
            Ok(state_json) => self.setup.writer.write(Write::Device(DeviceRow {
                name: device.name.clone(),
                provider: device.provider.clone(),
                state_json,
                updated_at: Timestamp::now(),
            })),
            Err(e) => tracing::error!(
                event = "store.write_failed",
                device = %device.name,
                provider = %device.provider,
                error = %e,
                "cannot encode the device state"
            ),
        }
    }

    fn log(&self, note: &Note) {
        let device = &self.setup.device.name;
        let provider = &self.setup.device.provider;
        let (event, message) = (note.event, &note.message);
        if let Some((step, outcome)) = crate::admin::metrics::ladder_outcome(event) {
            crate::admin::metrics::global().ladder(step, outcome);
        }
        match note.level {
            Level::Info => {
                tracing::info!(event, device = %device, provider = %provider, "{message}")
            }
            Level::Warn => {
                tracing::warn!(event, device = %device, provider = %provider, "{message}")
            }
            Level::Error => {
                tracing::error!(event, device = %device, provider = %provider, "{message}")
            }
        }
    }
}

/// The ladder calls: each goes out only after the state recording it is on disk.
fn is_ladder_call(action: &Action) -> bool {
    matches!(
        action,
        Action::Reconnect
            | Action::SecondLogin { .. }
            | Action::AskOfflineReason
            | Action::AskLastLogin
    )
}
