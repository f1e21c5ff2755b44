//! The admin side of the daemon (`daemon.admin_listen`): `/healthz`, `/readyz`, `/metrics`
//! and `/v1/devices` over HTTP, the metrics registry the keeper records into, the first
//! probe round's readiness, and the `health` command's check.
//!
//! - [`metrics`]: the process-wide counters and the probe latency histogram;
//! - `exposition.rs`: the Prometheus text format, gauges read from the store at scrape time;
//! - `rules.rs`: when `/healthz` and `/readyz` say 200;
//! - `server.rs`: the axum router, a tracked task stopped on shutdown;
//! - [`client`]: `session-keeper health`.

pub mod client;
pub mod exposition;
mod listener;
pub mod metrics;
pub mod rules;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::health::Health;

/// How often the first-round watcher looks whether every device has had its first probe.
const FIRST_ROUND_CHECK: Duration = Duration::from_millis(100);

/// Why the admin side failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// `daemon.admin_listen` cannot be bound (in use, not a local address, no permission).
    #[error("cannot listen on daemon.admin_listen {address}: {message}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// What the OS said.
        message: String,
    },
    /// `session-keeper health` did not get a 200.
    #[error("health check failed: {0}")]
    Check(String),
}

/// The running admin side: the server (when configured) and the first-round watcher, both
/// tracked so shutdown waits for them.
#[derive(Debug)]
pub struct Admin {
    address: Option<SocketAddr>,
    /// The configuration the server reads devices by; the keeper replaces it on reload.
    configs: watch::Sender<Arc<Config>>,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Admin {
    /// Starts the server on `daemon.admin_listen` (logging `admin.listening` with the bound
    /// address, which differs from the configured one for port 0) and the watcher that marks
    /// the first probe round done once every device configured now has had a probe. `tick`
    /// is the supervisor loop's tick period, which `/healthz` allows for.
    pub async fn start(
        config: &Config,
        health: &Health,
        tick: Duration,
    ) -> Result<Admin, AdminError> {
        let tracker = TaskTracker::new();
        let stop = CancellationToken::new();
        let mut address = None;
        let (configs, current) = watch::channel(Arc::new(config.clone()));
        if let Some(listen) = config.daemon.admin_listen {
            let shared = current;
            let stale_after = rules::stale_after(tick);
            let (health, stop) = (health.clone(), stop.clone());
            let cap = crate::limits::admin_connection_cap(crate::limits::open_files(), config);
            let listen = server::Listen {
                address: listen,
                cap,
            };
            let bound = server::start(listen, shared, health, stale_after, &tracker, stop).await?;
            let guarded = config.daemon.admin_token.is_some();
            tracing::info!(
                event = "admin.listening",
                address = %bound,
                max_connections = cap,
                token_required = guarded,
                "admin HTTP server listening on {bound}"
            );
            address = Some(bound);
        }
        let devices: Vec<String> = config.devices.iter().map(|d| d.name.clone()).collect();
        let now = configs.subscribe();
        tracker.spawn(first_round(devices, now, health.clone(), stop.clone()));
        Ok(Admin {
            address,
            configs,
            tracker,
            stop,
        })
    }

    /// Where the server listens (the bound port when port 0 was configured); `None` without
    /// `daemon.admin_listen`.
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    /// Where the keeper hands the server each reloaded configuration, so `/v1/devices` and
    /// `/metrics` list the devices configured now.
    pub fn configs(&self) -> watch::Sender<Arc<Config>> {
        self.configs.clone()
    }

    /// Stops the server and the watcher and waits for both, at most `grace`: a client
    /// holding a connection open must not hold up the daemon's exit.
    pub async fn stop(self, grace: Duration) {
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                event = "admin.failed",
                "admin HTTP connections still open after shutdown_grace; abandoned"
            );
        }
    }
}

/// Marks the first probe round done once each of `devices` (configured at start) still
/// configured `now` has completed a probe: a device removed by a reload before its first
/// probe must not keep the daemon unready for good.
async fn first_round(
    devices: Vec<String>,
    now: watch::Receiver<Arc<Config>>,
    health: Health,
    stop: CancellationToken,
) {
    loop {
        let still: Vec<String> = {
            let config = now.borrow();
            devices
                .iter()
                .filter(|name| config.devices.iter().any(|d| &d.name == *name))
                .cloned()
                .collect()
        };
        if metrics::global().all_probed(still.iter().map(String::as_str)) {
            health.mark_first_round_done();
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(FIRST_ROUND_CHECK) => {}
        }
    }
}

#[cfg(test)]
mod tests;
