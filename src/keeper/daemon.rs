//! [`run`]: the daemon's life from start-up to the last store write.
//!
//! Start-up, in order: `daemon.started`; the recycle sweep's schedule is checked and started;
//! the store is opened and read (device states, tokens, open incidents, pending deliveries);
//! the store writer and the ledger start; every provider is built and every device's runner
//! spawned; one sweep runs at once; `daemon.ready`. Then reload requests are applied until the
//! shutdown token is cancelled. Shutdown, in order: `daemon.stopping`; the sweep stops; the
//! runners stop (each persists its final state) within `shutdown_grace`; the last probe marks
//! and the stopped heartbeat are written; the ledger drains what the runners sent; the writer
//! commits everything and closes; `daemon.stopped`.
//!
//! The service manager hears `READY=1` with `daemon.ready`, `RELOADING=1`/`READY=1` around
//! every reload and `STOPPING=1` with `daemon.stopping`. The supervisor loop ([`serve`])
//! ticks: each tick marks the shared health alive, refreshes the fleet summary, sends
//! `WATCHDOG=1` (so a wedged loop stops the pings rather than a free-running timer hiding it)
//! and, every 15 s, writes the heartbeat and the probe marks `status` reads.

use std::mem;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::liveness::{ProbeMarks, Recorder};
use super::restore::restore;
use super::supervisor::{Shared, Supervisor};
use super::sweep::{SWEEP_SCHEDULE, Sweeper};
use super::{KeeperError, Reload, RunOptions};
use crate::admin::Admin;
use crate::config::Config;
use crate::health::Health;
use crate::logging::List;
use crate::notify::{Notifications, NotifierSet};
use crate::service::{Message, Service, monotonic_usec};
use crate::store::{Store, Writer, WriterTask};

/// Runs the keeper until `options.shutdown` is cancelled, applying reloads as they come.
/// Returns once the state is persisted; an error means it could not start (store, stored
/// state, provider client) or could not commit its last writes.
pub async fn run(options: RunOptions) -> Result<(), KeeperError> {
    let RunOptions {
        config,
        shutdown,
        reloads,
        health,
        service,
    } = options;
    tracing::info!(
        event = "daemon.started",
        version = env!("CARGO_PKG_VERSION"),
        devices = config.devices.len(),
        providers = config.providers.len(),
        open_files = crate::limits::open_files(),
        "session-keeper starting"
    );
    if !config.secrets_read {
        return Err(KeeperError::SecretsNotRead);
    }
    log_warnings(&config);
    let grace = config.daemon.shutdown_grace;
    let (sweeper, admin) = begin(&config, &health, service.tick_period()).await?;
    let running = match start(config, &sweeper).await {
        Ok(running) => running,
        Err(e) => {
            sweeper.stop().await;
            admin.stop(grace).await;
            return Err(e);
        }
    };
    let Running {
        mut supervisor,
        ledger,
        writer_task,
        recorder,
    } = running;
    sweeper.sweep_now();
    health.mark_store_open();
    tracing::info!(
        event = "daemon.ready",
        devices = supervisor.device_count(),
        "state store open and every device runner started"
    );
    let mut liveness = Liveness {
        health,
        service,
        configs: admin.configs(),
        shown: String::new(),
        recorder,
    };
    liveness.ready(&supervisor);
    serve(&mut supervisor, &shutdown, reloads, &mut liveness).await;
    liveness.service.notify(&Message::Stopping);
    tracing::info!(event = "daemon.stopping", "stopping: persisting state");
    let grace = supervisor.config().daemon.shutdown_grace;
    sweeper.stop().await;
    supervisor.shutdown(grace).await;
    liveness.recorder.stopped(Timestamp::now());
    ledger.stop(grace).await;
    let closed = close(writer_task).await;
    admin.stop(grace).await;
    tracing::info!(event = "daemon.stopped", "session-keeper stopped");
    closed
}

/// Starts the recycle sweep's schedule, then the admin side (its server when
/// `daemon.admin_listen` is set, and the first probe round's watcher); a bind error stops
/// the sweep and ends start-up.
async fn begin(
    config: &Config,
    health: &Health,
    tick: std::time::Duration,
) -> Result<(Sweeper, Admin), KeeperError> {
    let sweeper = Sweeper::start(SWEEP_SCHEDULE).await?;
    match Admin::start(config, health, tick).await {
        Ok(admin) => Ok((sweeper, admin)),
        Err(e) => {
            sweeper.stop().await;
            Err(e.into())
        }
    }
}

/// What runs between start-up and shutdown.
struct Running {
    supervisor: Supervisor,
    ledger: Ledger,
    writer_task: WriterTask,
    recorder: Recorder,
}

/// Opens and reads the store, starts the writer, the ledger and every runner.
async fn start(config: Config, sweeper: &Sweeper) -> Result<Running, KeeperError> {
    let store = Store::open(&config.daemon.state_dir)?;
    let mut restored = restore(&store, &config)?;
    let (writer, writer_task) = Writer::spawn(store);
    writer.write_all(mem::take(&mut restored.writes));
    let ledger = Ledger::start(&config, &mut restored, &writer);
    let probes = ProbeMarks::default();
    let recorder = Recorder::new(probes.clone(), writer.clone(), Timestamp::now());
    let shared = Shared {
        notifications: ledger.notifications.clone(),
        writer,
        sweeps: sweeper.source(),
        fleet: super::fleet::Fleet::default(),
        probes,
    };
    let grace = config.daemon.shutdown_grace;
    match Supervisor::start(config, restored, shared) {
        Ok(supervisor) => Ok(Running {
            supervisor,
            ledger,
            writer_task,
            recorder,
        }),
        Err(e) => {
            ledger.stop(grace).await;
            // Already logged if it fails; the start-up error is the one to report.
            let _ = close(writer_task).await;
            Err(e)
        }
    }
}

/// The ledger task and what stops it.
struct Ledger {
    notifications: Notifications,
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Ledger {
    fn start(config: &Config, restored: &mut super::restore::Restored, writer: &Writer) -> Ledger {
        let tracker = TaskTracker::new();
        let stop = CancellationToken::new();
        let resumed = mem::take(&mut restored.ledger);
        let notifications = Notifications::start(
            NotifierSet::of(config),
            resumed,
            writer.clone(),
            &tracker,
            stop.clone(),
        );
        Ledger {
            notifications,
            tracker,
            stop,
        }
    }

    /// Stops the ledger after it recorded what it was sent; in-flight deliveries stay pending.
    async fn stop(self, grace: std::time::Duration) {
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                event = "daemon.stop_abandoned",
                "notifications did not stop within shutdown_grace; abandoned"
            );
        }
    }
}

async fn close(writer_task: WriterTask) -> Result<(), KeeperError> {
    writer_task.close().await.map_err(|e| {
        tracing::error!(event = "store.write_failed", error = %e, "state store did not close cleanly");
        KeeperError::from(e)
    })
}

/// What the supervisor loop reports to: the shared health and the service manager.
struct Liveness {
    health: Health,
    service: Service,
    /// The configuration the admin server reads devices by: replaced after every reload.
    configs: watch::Sender<Arc<Config>>,
    /// The summary last shown, so `STATUS=` is sent only when it changes.
    shown: String,
    /// Writes the heartbeat and the probe marks for `status`.
    recorder: Recorder,
}

impl Liveness {
    /// `READY=1` with the fleet summary: after start-up and after every reload.
    fn ready(&mut self, supervisor: &Supervisor) {
        self.configs
            .send_replace(Arc::new(supervisor.config().clone()));
        let summary = supervisor.summary();
        self.shown = summary.clone();
        self.service.notify(&Message::Ready {
            status: Some(summary),
        });
    }

    /// One turn of the supervisor loop: alive now, the summary if it changed, `WATCHDOG=1`.
    fn tick(&mut self, supervisor: &Supervisor) {
        let now = Timestamp::now();
        self.health.tick(now);
        self.recorder.tick(now);
        let summary = supervisor.summary();
        let status = (summary != self.shown).then(|| {
            self.shown = summary.clone();
            summary
        });
        if self.service.watchdog().is_some() {
            self.service.notify(&Message::Watchdog { status });
        } else if let Some(status) = status {
            self.service.notify(&Message::Status(status));
        }
    }
}

/// The supervisor loop: ticks (health, summary, watchdog) and applies reload requests, each
/// between `RELOADING=1` and `READY=1`, until shutdown.
async fn serve(
    supervisor: &mut Supervisor,
    shutdown: &CancellationToken,
    mut reloads: mpsc::Receiver<Reload>,
    liveness: &mut Liveness,
) {
    let mut ticker = tokio::time::interval(liveness.service.tick_period());
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut open = true;
    loop {
        let request = tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                liveness.tick(supervisor);
                continue;
            }
            request = reloads.recv(), if open => request,
        };
        match request {
            Some(request) => {
                liveness.service.notify(&Message::Reloading {
                    monotonic_usec: monotonic_usec(),
                });
                reload(supervisor, request).await;
                liveness.ready(supervisor);
            }
            None => open = false,
        }
    }
}

/// One reload: read and validate (for a file), then apply as a diff; any failure keeps the
/// running configuration.
async fn reload(supervisor: &mut Supervisor, request: Reload) {
    let config = match request {
        Reload::File(path) => match Config::load(&path, &|name| std::env::var(name).ok()) {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(
                    event = "config.reload_failed",
                    path = %path.display(),
                    error = %e,
                    "invalid configuration; the running one stays"
                );
                return;
            }
        },
        Reload::Config(config) => *config,
    };
    if !config.secrets_read {
        tracing::error!(
            event = "config.reload_failed",
            "a configuration loaded without its secrets cannot run; the running one stays"
        );
        return;
    }
    log_warnings(&config);
    warn_restart_only(supervisor.config(), &config);
    match supervisor.reload(config).await {
        Ok(plan) => tracing::info!(
            event = "config.reloaded",
            added = ?List(&plan.devices_added),
            removed = ?List(&plan.devices_removed),
            restarted = ?List(&plan.devices_restarted),
            providers_rebuilt = ?List(&plan.providers_changed),
            devices = supervisor.device_count(),
            "configuration reloaded"
        ),
        Err(e) => tracing::error!(
            event = "config.reload_failed",
            error = %e,
            "configuration cannot be applied; the running one stays"
        ),
    }
}

/// `config.warning` for each warning of `config` (what `check-config` prints).
fn log_warnings(config: &Config) {
    for warning in &config.warnings {
        tracing::warn!(
            event = "config.warning",
            key = warning.key.as_deref().unwrap_or(""),
            line = warning.line,
            "{}",
            warning.message
        );
    }
}

/// Daemon settings a running process cannot adopt: say so rather than ignore them silently.
fn warn_restart_only(old: &Config, new: &Config) {
    let (o, n) = (&old.daemon, &new.daemon);
    for (key, changed) in [
        ("state_dir", o.state_dir != n.state_dir),
        ("admin_listen", o.admin_listen != n.admin_listen),
        ("log_format", o.log_format != n.log_format),
    ] {
        if changed {
            tracing::warn!(
                event = "config.restart_needed",
                key = %format!("daemon.{key}"),
                "this setting changed but takes effect only after a restart"
            );
        }
    }
}
