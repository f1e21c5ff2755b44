//! The keeper: a supervisor that owns shutdown and reload, one runner task per device, and
//! the pure per-device [`machine`] that makes every decision.
//!
//! Layout:
//! - [`run`] (`daemon.rs`): start-up (store, restored state, notifications, providers,
//!   runners, sweep), the reload loop, and the ordered shutdown;
//! - `supervisor.rs` + `plan.rs`: spawns and tracks runners, applies a reload as a diff;
//! - `runner.rs` + `runner/calls.rs`: one device's loop and the vendor calls its machine asks
//!   for, each raced against shutdown;
//! - [`provider`] (pure) + `gate.rs`: provider-wide health (`provider_unreachable`,
//!   `credentials_invalid`) and the backoff gate every call passes;
//! - `tokens.rs`: the shrise token keeper (store rotations, refresh ahead of expiry);
//! - `sweep.rs`: the recycle sweep on a cron schedule;
//! - `fleet.rs`: every running device's state word, for the supervisor loop's summary;
//! - [`liveness`]: the heartbeat and the last probe of each device, written for `status`;
//! - [`status`]: the `status` command's view of the store.

mod daemon;
mod fingerprint;
mod fleet;
mod gate;
pub mod liveness;
pub mod machine;
mod plan;
pub mod provider;
mod providers;
mod restore;
mod runner;
pub mod status;
mod supervisor;
mod sweep;
mod tokens;

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::store::StoreError;
use crate::vendor::BuildError;

pub use daemon::run;
pub use sweep::SWEEP_SCHEDULE;

/// What [`run`] needs: the validated configuration, the shutdown token and where reload
/// requests come from. The `run` command builds it from the file and the OS signals; the demo
/// and the fleet benchmark build it in process.
#[derive(Debug)]
pub struct RunOptions {
    /// The configuration to start with.
    pub config: Config,
    /// Cancelled to stop: runners stop probing, state is persisted, [`run`] returns.
    pub shutdown: CancellationToken,
    /// Reload requests, applied in order as a diff. A closed channel just means no more
    /// reloads.
    pub reloads: mpsc::Receiver<Reload>,
    /// Where the keeper reports liveness (a tick per supervisor loop turn) and readiness.
    pub health: crate::health::Health,
    /// The service manager told about readiness, reloads, shutdown and the supervisor
    /// loop's liveness ([`crate::service::Service::disabled`] when there is none).
    pub service: crate::service::Service,
}

/// A reload request (DESIGN.md §8): where the new configuration comes from.
#[derive(Debug)]
pub enum Reload {
    /// Re-read and validate this file (SIGHUP); an invalid file is logged as
    /// `config.reload_failed` and the running configuration stays.
    File(PathBuf),
    /// Apply this already validated configuration (in-process callers).
    Config(Box<Config>),
}

/// Why the keeper could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// The state store cannot be opened, read or closed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored device state cannot be read (never silently reset).
    #[error(
        "state store holds an unreadable state for device {device}: {message}; \
         move the store aside to start afresh"
    )]
    StoredState {
        /// The device.
        device: String,
        /// What serde said.
        message: String,
    },
    /// A provider's client cannot be built from the configuration.
    #[error(transparent)]
    Client(#[from] BuildError),
    /// The recycle sweep's schedule is not a valid cron expression, or the scheduler failed.
    #[error("recycle sweep: {0}")]
    Sweep(String),
    /// The admin HTTP server cannot start (its address cannot be bound).
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    /// The configuration was loaded without its secrets (for `status`): it cannot run.
    #[error("the configuration was loaded without its secrets; load it with Config::load to run")]
    SecretsNotRead,
}

impl KeeperError {
    /// True when the configuration is at fault (exit 78 rather than 1).
    pub fn is_config(&self) -> bool {
        matches!(self, KeeperError::Client(_) | KeeperError::SecretsNotRead)
    }
}
