//! Applying a reload as a diff (DESIGN.md §8): added devices start, removed ones stop,
//! unchanged ones keep running untouched; a device whose configuration changed (or whose
//! provider was rebuilt) restarts from its in-memory state. Everything that can fail (building
//! clients) happens before anything changes, so a failed reload leaves the old configuration
//! running.

use jiff::Timestamp;
use secrecy::ExposeSecret;

use super::Supervisor;
use crate::config::{self, Config};
use crate::keeper::KeeperError;
use crate::keeper::plan::{Plan, plan};
use crate::keeper::providers::{Build, ProviderSlot};
use crate::keeper::restore::configured_pair_writes;
use crate::notify::NotifierSet;
use crate::vendor::{Auth, Client, TokenPair};

impl Supervisor {
    /// Applies `new`; on error nothing changed.
    pub(crate) async fn reload(&mut self, new: Config) -> Result<Plan, KeeperError> {
        let now = Timestamp::now();
        let plan = plan(&self.config, &new);
        let built = self.build_providers(&plan, &new, now).await?;
        let mut stopping = plan.devices_removed.clone();
        stopping.extend(plan.devices_restarted.iter().cloned());
        let stopped = self.stop_runners(&stopping).await;
        for name in &plan.providers_removed {
            if let Some(mut slot) = self.providers.remove(name) {
                slot.stop().await;
                slot.rt.gate.close(now);
            }
        }
        for mut slot in built {
            if let Some(mut old) = self.providers.remove(&slot.rt.name) {
                old.stop().await;
            }
            slot.start(&self.tracker, &self.shared.writer);
            self.providers.insert(slot.rt.name.clone(), slot);
        }
        self.config = new;
        for p in &self.config.providers {
            if let Some(slot) = self.providers.get(&p.name) {
                slot.reconfigure(&self.config, p);
            }
        }
        if plan.notifiers_changed {
            self.shared
                .notifications
                .reconfigure(NotifierSet::of(&self.config));
        }
        self.restart(stopped, now);
        for name in &plan.devices_added {
            let Some(device) = self
                .config
                .devices
                .iter()
                .find(|d| &d.name == name)
                .cloned()
            else {
                continue;
            };
            let state = self.state_for(&device, now);
            let wait = self.jitter.up_to(device.policy.poll_interval);
            self.spawn(&device, state, super::later(now, wait));
        }
        Ok(plan)
    }

    /// Builds the added and changed providers (nothing runs yet); any error leaves everything
    /// as it was.
    async fn build_providers(
        &self,
        plan: &Plan,
        new: &Config,
        now: Timestamp,
    ) -> Result<Vec<ProviderSlot>, KeeperError> {
        let mut built = Vec::new();
        for name in plan.providers_added.iter().chain(&plan.providers_changed) {
            let Some(p) = new.provider(name) else {
                continue;
            };
            let (tokens, health) = self.carry_over(p).await;
            let build = Build {
                config: new,
                tokens,
                health,
                notifications: &self.shared.notifications,
            };
            built.push(ProviderSlot::build(p, build, now)?);
        }
        Ok(built)
    }

    /// Restarts the stopped devices that are still configured; parks the removed ones after
    /// resolving what they held open.
    fn restart(
        &mut self,
        stopped: Vec<(config::Device, crate::keeper::machine::DeviceState)>,
        now: Timestamp,
    ) {
        for (before, mut state) in stopped {
            let Some(device) = self
                .config
                .devices
                .iter()
                .find(|d| d.name == before.name)
                .cloned()
            else {
                self.resolve_all(&before.name, &state, now);
                self.parked
                    .insert(before.name.clone(), (before.provider, state));
                continue;
            };
            if device.w_id != before.w_id {
                // The operator set a new wId: it wins over the stored one.
                state.w_id.clone_from(&device.w_id);
            }
            if device.provider != before.provider {
                self.resolve_all(&device.name, &state, now);
                state = crate::keeper::machine::DeviceState::new(now, device.w_id.clone());
            }
            let wait = self.jitter.up_to(device.policy.poll_interval);
            self.spawn(&device, state, super::later(now, wait));
        }
    }

    /// For a provider being (re)built: the token pair to start from and the health to resume.
    /// A shrise provider whose configured pair is unchanged keeps the live (rotated) pair; a
    /// new configured pair replaces it and is stored.
    async fn carry_over(&self, p: &config::Provider) -> (Option<TokenPair>, (bool, bool)) {
        let old = self.providers.get(&p.name);
        let health = old.map(|s| s.rt.gate.open_flags()).unwrap_or_default();
        let Auth::Shrise {
            tokens: configured, ..
        } = &p.settings.auth
        else {
            return (None, health);
        };
        let old_configured = self
            .config
            .provider(&p.name)
            .and_then(|o| match &o.settings.auth {
                Auth::Shrise { tokens, .. } => Some(tokens),
                _ => None,
            });
        let unchanged = old_configured.is_some_and(|o| {
            o.access.expose_secret() == configured.access.expose_secret()
                && o.refresh.expose_secret() == configured.refresh.expose_secret()
        });
        if let (true, Some(Client::Shrise(client))) = (unchanged, old.map(|s| &s.rt.client)) {
            return (Some(client.tokens().await), health);
        }
        self.shared
            .writer
            .write_all(configured_pair_writes(&p.name, configured));
        (Some(configured.clone()), health)
    }
}
