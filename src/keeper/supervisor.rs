//! The supervisor: owns the providers and one runner task per device, spreads the devices'
//! first wakes over their poll interval, applies reloads as a diff (`supervisor/reload.rs`)
//! and stops everything within the shutdown grace.
//!
//! Runners are spawned on a `TaskTracker`; each has its own cancellation token so a reload
//! can stop one device without touching the others. A stopped runner hands back its state,
//! which restarts the device (a changed configuration) or is parked (a removed device, in case
//! it comes back).

mod reload;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::KeeperError;
use super::fleet::Fleet;
use super::machine::{DeviceState, Machine, Settings};
use super::providers::{Build, ProviderSlot};
use super::restore::Restored;
use super::runner::Runner;
use crate::config::{Config, Device};
use crate::incident::{IncidentChange, IncidentKey, IncidentKind, Resolution, Subject};
use crate::jitter::Jitter;
use crate::notify::Notifications;
use crate::store::Writer;
use crate::vendor::VendorKind;

/// How much a first wake may be pushed past its even slot, as a share of the poll interval.
const FIRST_WAKE_JITTER: f64 = 0.02;

/// A running device.
struct RunnerSlot {
    device: Device,
    cancel: CancellationToken,
    handle: JoinHandle<DeviceState>,
}

/// The shared handles every runner gets.
#[derive(Clone)]
pub(crate) struct Shared {
    /// The ledger.
    pub(crate) notifications: Notifications,
    /// The store writer.
    pub(crate) writer: Writer,
    /// The recycle sweep's channel.
    pub(crate) sweeps: Arc<watch::Sender<u64>>,
    /// The fleet board runners report their state words to.
    pub(crate) fleet: Fleet,
    /// Where runners mark their probes.
    pub(crate) probes: super::liveness::ProbeMarks,
}

/// Providers, runners and the states of devices not running.
pub(crate) struct Supervisor {
    config: Config,
    shared: Shared,
    providers: BTreeMap<String, ProviderSlot>,
    runners: BTreeMap<String, RunnerSlot>,
    parked: HashMap<String, (String, DeviceState)>,
    tracker: TaskTracker,
    jitter: Jitter,
}

impl Supervisor {
    /// Builds every provider and starts every device, first wakes spread evenly over each
    /// device's poll interval in configuration order.
    pub(crate) fn start(
        config: Config,
        restored: Restored,
        shared: Shared,
    ) -> Result<Supervisor, KeeperError> {
        let now = Timestamp::now();
        let tracker = TaskTracker::new();
        let mut providers = BTreeMap::new();
        let mut tokens = restored.tokens;
        for p in &config.providers {
            let build = Build {
                config: &config,
                tokens: tokens.remove(&p.name),
                health: restored
                    .provider_flags
                    .get(&p.name)
                    .copied()
                    .unwrap_or_default(),
                notifications: &shared.notifications,
            };
            let mut slot = ProviderSlot::build(p, build, now)?;
            slot.start(&tracker, &shared.writer);
            providers.insert(p.name.clone(), slot);
        }
        let mut supervisor = Supervisor {
            config,
            shared,
            providers,
            runners: BTreeMap::new(),
            parked: restored.states,
            tracker,
            jitter: Jitter::new(),
        };
        let devices = supervisor.config.devices.clone();
        for (i, device) in devices.iter().enumerate() {
            let unit = supervisor.jitter.unit();
            let offset = first_offset(i, devices.len(), device.policy.poll_interval, unit);
            let state = supervisor.state_for(device, now);
            supervisor.spawn(device, state, later(now, offset));
        }
        supervisor.resolve_unwatched(&restored.provider_flags, now);
        Ok(supervisor)
    }

    /// What was left open by devices and providers removed from the configuration while the
    /// daemon was down: resolved as `removed` (the devices' states stay parked, in case they
    /// come back).
    fn resolve_unwatched(&self, provider_flags: &BTreeMap<String, (bool, bool)>, now: Timestamp) {
        for (name, (_, state)) in &self.parked {
            self.resolve_all(name, state, now);
        }
        for (provider, (unreachable, credentials)) in provider_flags {
            if self.config.provider(provider).is_some() {
                continue;
            }
            for (open, kind) in [
                (*unreachable, IncidentKind::ProviderUnreachable),
                (*credentials, IncidentKind::CredentialsInvalid),
            ] {
                if open {
                    self.shared.notifications.send(IncidentChange::Resolve {
                        key: IncidentKey {
                            subject: Subject::Provider(provider.clone()),
                            kind,
                        },
                        at: now,
                        resolution: Resolution::Removed,
                    });
                }
            }
        }
    }

    /// How many devices run.
    pub(crate) fn device_count(&self) -> usize {
        self.runners.len()
    }

    /// The one-line summary of the running devices' states.
    pub(crate) fn summary(&self) -> String {
        self.shared.fleet.summary(self.runners.keys())
    }

    /// The configuration running now.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The parked state of `device` when it was stored under the same provider, else a fresh
    /// one (a device moved to another provider starts over; what its old state held open is
    /// resolved).
    fn state_for(&mut self, device: &Device, now: Timestamp) -> DeviceState {
        match self.parked.remove(&device.name) {
            Some((provider, state)) if provider == device.provider => state,
            Some((_, old)) => {
                self.resolve_all(&device.name, &old, now);
                DeviceState::new(now, device.w_id.clone())
            }
            None => DeviceState::new(now, device.w_id.clone()),
        }
    }

    /// Resolves every incident `state` says is open for `device`, which is no longer watched
    /// (removed from the configuration, or moved to another provider): `removed`, never
    /// "online again".
    fn resolve_all(&self, device: &str, state: &DeviceState, now: Timestamp) {
        for kind in &state.open_incidents {
            self.shared.notifications.send(IncidentChange::Resolve {
                key: IncidentKey {
                    subject: Subject::Device(device.to_owned()),
                    kind: *kind,
                },
                at: now,
                resolution: Resolution::Removed,
            });
        }
    }

    /// The machine's settings for `device` under the running configuration.
    fn settings(&self, device: &Device) -> Settings {
        // The device's own provider's windows; the machine applies them to both sources.
        let blackout = self
            .config
            .provider(&device.provider)
            .map(|p| p.blackout.clone())
            .unwrap_or_default();
        Settings {
            name: device.name.clone(),
            policy: device.policy.clone(),
            kind: device.kind,
            can_reconnect: device.kind == VendorKind::Gewe,
            can_second_login: match device.kind {
                VendorKind::Gewe => device.region_id.is_some(),
                VendorKind::Wechatpro | VendorKind::Wkteam => true,
                VendorKind::Shrise => false,
            },
            has_kick_check: device.kick_check.is_some(),
            rotating_id: device.kind == VendorKind::Wkteam,
            prompt_blocks: matches!(device.kind, VendorKind::Wechatpro | VendorKind::Wkteam),
            blackout,
            timezone: self.config.daemon.timezone.clone(),
        }
    }

    /// Starts `device`'s runner from `state`, first waking at `first_wake`.
    fn spawn(&mut self, device: &Device, state: DeviceState, first_wake: Timestamp) {
        let Some(primary) = self.providers.get(&device.provider) else {
            tracing::error!(event = "daemon.runner_failed", device = %device.name, provider = %device.provider,
                "device names a provider that is not running; not started");
            return;
        };
        let primary = Arc::clone(&primary.rt);
        let kick = device.kick_check.as_ref().and_then(|k| {
            let slot = self.providers.get(&k.provider)?;
            Some((Arc::clone(&slot.rt), k.device_number.clone()))
        });
        self.shared.fleet.set(&device.name, state.status());
        let machine = Machine::new(self.settings(device), state, first_wake);
        let cancel = CancellationToken::new();
        let runner = Runner {
            device: device.clone(),
            machine,
            primary,
            kick,
            notifications: self.shared.notifications.clone(),
            writer: self.shared.writer.clone(),
            sweeps: self.shared.sweeps.subscribe(),
            fleet: self.shared.fleet.clone(),
            probes: self.shared.probes.clone(),
            cancel: cancel.clone(),
        };
        let handle = self.tracker.spawn(runner.run());
        self.runners.insert(
            device.name.clone(),
            RunnerSlot {
                device: device.clone(),
                cancel,
                handle,
            },
        );
    }

    /// Stops the named runners together and returns their final states.
    async fn stop_runners(&mut self, names: &[String]) -> Vec<(Device, DeviceState)> {
        let slots: Vec<RunnerSlot> = names
            .iter()
            .filter_map(|n| self.runners.remove(n))
            .collect();
        for slot in &slots {
            slot.cancel.cancel();
        }
        let mut states = Vec::with_capacity(slots.len());
        for slot in slots {
            match slot.handle.await {
                Ok(state) => states.push((slot.device, state)),
                Err(e) => {
                    tracing::error!(event = "daemon.runner_failed", device = %slot.device.name, error = %e,
                    "device runner failed; its last stored state stands")
                }
            }
        }
        states
    }

    /// Stops every runner and token keeper, waiting at most `grace` in all; what has not
    /// stopped by then is abandoned (its last stored state stands).
    pub(crate) async fn shutdown(mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        for slot in self.runners.values() {
            slot.cancel.cancel();
        }
        let runners = std::mem::take(&mut self.runners);
        for (name, slot) in runners {
            match tokio::time::timeout_at(deadline, slot.handle).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(event = "daemon.runner_failed", device = %name, error = %e, "device runner failed")
                }
                Err(_) => tracing::warn!(event = "daemon.stop_abandoned", device = %name,
                    "device runner did not stop within shutdown_grace; abandoned"),
            }
        }
        for slot in self.providers.values_mut() {
            if tokio::time::timeout_at(deadline, slot.stop())
                .await
                .is_err()
            {
                tracing::warn!(event = "daemon.stop_abandoned", provider = %slot.rt.name,
                    "token keeper did not stop within shutdown_grace; abandoned");
            }
        }
        self.tracker.close();
    }
}

/// How long after start device `i` of `n` first wakes: its even slot of the poll interval
/// (`i × poll / n`), pushed later by up to [`FIRST_WAKE_JITTER`] of it (`unit` in `[0, 1)`),
/// so a fleet's probes never arrive at once.
fn first_offset(i: usize, n: usize, poll: Duration, unit: f64) -> Duration {
    let share = i as f64 / n.max(1) as f64;
    poll.mul_f64(share) + poll.mul_f64(FIRST_WAKE_JITTER * unit.clamp(0.0, 1.0))
}

/// `now + wait`, saturating.
fn later(now: Timestamp, wait: Duration) -> Timestamp {
    SignedDuration::try_from(wait)
        .ok()
        .and_then(|wait| now.checked_add(wait).ok())
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_wakes_are_spread_evenly_over_the_poll_interval() {
        let poll = Duration::from_secs(10);
        let offsets: Vec<Duration> = (0..4).map(|i| first_offset(i, 4, poll, 0.0)).collect();
        assert_eq!(offsets, [0, 2_500, 5_000, 7_500].map(Duration::from_millis));
        let late = first_offset(3, 4, poll, 0.999);
        assert!(late > Duration::from_millis(7_500) && late < Duration::from_millis(7_700));
        assert_eq!(first_offset(0, 0, poll, 0.0), Duration::ZERO);
    }
}
