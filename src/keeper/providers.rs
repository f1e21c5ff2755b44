//! One provider at run time: its client (one connection pool for all its devices), its gate,
//! and for shrise its token keeper; plus the incident context its provider incidents carry.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::gate::Gate;
use super::provider::{Damping, ProviderHealth};
use super::tokens;
use crate::config::{self, Config};
use crate::incident::IncidentContext;
use crate::notify::Notifications;
use crate::store::Writer;
use crate::vendor::{Auth, BuildError, Client, TokenPair};

/// What runners share about a provider.
#[derive(Debug)]
pub(crate) struct ProviderRt {
    /// The provider's name.
    pub(crate) name: String,
    /// The client, one per provider.
    pub(crate) client: Client,
    /// The gate every call passes.
    pub(crate) gate: Arc<Gate>,
}

/// A provider owned by the supervisor.
#[derive(Debug)]
pub(crate) struct ProviderSlot {
    pub(crate) rt: Arc<ProviderRt>,
    keeper: Option<(CancellationToken, JoinHandle<()>)>,
}

/// What building a provider needs besides its configuration.
pub(crate) struct Build<'a> {
    /// The configuration it belongs to (for its devices and notifiers).
    pub(crate) config: &'a Config,
    /// For shrise: the pair to start from (stored or carried over), else the configured one.
    pub(crate) tokens: Option<TokenPair>,
    /// The health to start from.
    pub(crate) health: (bool, bool),
    /// The ledger.
    pub(crate) notifications: &'a Notifications,
}

impl ProviderSlot {
    /// Builds the client and gate; nothing runs yet (see [`ProviderSlot::start`]).
    pub(crate) fn build(
        provider: &config::Provider,
        build: Build<'_>,
        now: Timestamp,
    ) -> Result<ProviderSlot, BuildError> {
        let mut settings = provider.settings.clone();
        if let (Auth::Shrise { tokens, .. }, Some(pair)) = (&mut settings.auth, build.tokens) {
            *tokens = pair;
        }
        let client = Client::new(&settings)?;
        let (unreachable, credentials) = build.health;
        let health = ProviderHealth::resume(
            damping(build.config, provider),
            unreachable,
            credentials,
            now,
        );
        let gate = Gate::new(
            provider.name.clone(),
            health,
            context(build.config, provider),
            devices(build.config, &provider.name),
            build.notifications.clone(),
        );
        Ok(ProviderSlot {
            rt: Arc::new(ProviderRt {
                name: provider.name.clone(),
                client,
                gate: Arc::new(gate),
            }),
            keeper: None,
        })
    }

    /// Starts the token keeper of a shrise provider.
    pub(crate) fn start(&mut self, tracker: &TaskTracker, writer: &Writer) {
        if let Client::Shrise(client) = &self.rt.client {
            let cancel = CancellationToken::new();
            let handle = tokens::spawn(
                tracker,
                tokens::Keeper {
                    provider: self.rt.name.clone(),
                    client: client.clone(),
                    gate: Arc::clone(&self.rt.gate),
                    writer: writer.clone(),
                    stop: cancel.clone(),
                },
            );
            self.keeper = Some((cancel, handle));
        }
    }

    /// Stops the token keeper, if any, and waits for it.
    pub(crate) async fn stop(&mut self) {
        if let Some((cancel, handle)) = self.keeper.take() {
            cancel.cancel();
            if let Err(e) = handle.await {
                tracing::error!(event = "token.keeper_failed", provider = %self.rt.name, error = %e, "token keeper task failed");
            }
        }
    }

    /// Adopts a reloaded configuration that leaves this provider as it is.
    pub(crate) fn reconfigure(&self, config: &Config, provider: &config::Provider) {
        self.rt.gate.reconfigure(
            context(config, provider),
            devices(config, &provider.name),
            damping(config, provider),
        );
    }
}

/// The devices that call `provider`: as their own provider or as their kick check.
fn uses<'a>(config: &'a Config, provider: &'a str) -> impl Iterator<Item = &'a config::Device> {
    config.devices.iter().filter(move |d| {
        d.provider == provider
            || d.kick_check
                .as_ref()
                .is_some_and(|k| k.provider == provider)
    })
}

/// The names of `provider`'s own devices, sorted: the devices its provider incidents name
/// (the same devices whose logins those incidents inhibit; a device that only uses it as its
/// kick check belongs to another provider).
fn devices(config: &Config, provider: &str) -> Arc<[String]> {
    let mut names: Vec<String> = config
        .devices
        .iter()
        .filter(|d| d.provider == provider)
        .map(|d| d.name.clone())
        .collect();
    names.sort();
    names.into()
}

/// The shortest poll interval of the provider's devices (60 s when it has none).
fn poll_interval(config: &Config, provider: &str) -> Duration {
    uses(config, provider)
        .map(|d| d.policy.poll_interval)
        .min()
        .unwrap_or(Duration::from_secs(60))
}

/// The provider's `unreachable_after` / `reachable_after`, polls counted in its shortest
/// poll interval.
fn damping(config: &Config, provider: &config::Provider) -> Damping {
    let poll = poll_interval(config, &provider.name);
    Damping {
        open_after: provider.unreachable_after.resolve(poll),
        close_after: provider.reachable_after.resolve(poll),
    }
}

/// Provider incidents go to every notifier one of its devices uses (every notifier when it
/// has no devices).
fn context(config: &Config, provider: &config::Provider) -> Arc<IncidentContext> {
    let mut notify: BTreeSet<String> = uses(config, &provider.name)
        .flat_map(|d| d.notify.iter().cloned())
        .collect();
    if notify.is_empty() && uses(config, &provider.name).next().is_none() {
        notify = config.notifiers.iter().map(|n| n.name.clone()).collect();
    }
    Arc::new(IncidentContext {
        provider: provider.name.clone(),
        vendor: provider.kind(),
        vendor_id: None,
        labels: Default::default(),
        notify: notify.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONFIG: &str = r#"
[daemon]
state_dir = "/tmp/sk-providers"

[[provider]]
name = "gw"
kind = "gewe"
base_url = "http://127.0.0.1:1/gewe/v2/api"
token = "t"

[[provider]]
name = "pc"
kind = "shrise"
base_url = "http://127.0.0.1:1"
access_token = "a"
refresh_token = "r"

[[device]]
name = "sales-02"
provider = "gw"
id = "wx_2"
kick_check = { provider = "pc", device_number = "PC-1" }

[[device]]
name = "sales-01"
provider = "gw"
id = "wx_1"
"#;

    #[test]
    fn provider_incidents_name_the_providers_own_devices_sorted() {
        let config = Config::from_str(CONFIG, Path::new("/tmp/sk-providers/c.toml"), &|_| None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&*devices(&config, "gw"), ["sales-01", "sales-02"]);
        assert!(
            devices(&config, "pc").is_empty(),
            "a kick check is not a device of pc"
        );
    }
}
