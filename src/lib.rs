//! session-keeper: keeps WeChat accounts logged in on iPad/PC-protocol API gateways.
//!
//! Layout (data flows one way: config → keeper → vendor client → HTTP):
//! - [`admin`]: the admin HTTP server (`/healthz`, `/readyz`, `/metrics`, `/v1/devices`) and
//!   the metrics registry;
//! - [`cli`]: the command line (clap definitions only);
//! - [`config`]: raw TOML → validated [`config::Config`], the only config the runtime sees;
//! - [`console`]: standard output that a closed pipe ends quietly;
//! - [`vendor`]: one client per gateway behind the [`vendor::Vendor`] trait;
//! - [`keeper`]: the supervisor, the device runners and the pure per-device machine;
//! - [`incident`]: the incident kinds and keys shared by keeper, ledger and store;
//! - [`notify`]: the incident ledger and the notification channels;
//! - [`store`]: durable state in SQLite;
//! - [`demo`]: the narrated simulator + keeper walk-through (`session-keeper demo`);
//! - [`sim`]: the vendor simulator used by the demo, the tests and the benchmarks;
//! - [`signals`]: the only place that touches OS signals;
//! - [`logging`]: tracing set-up (JSON or text);
//! - [`limits`]: the open-file limit, raised at start, and the admin connection cap it allows;
//! - [`service`]: the service manager (systemd's `sd_notify`: ready, reload, watchdog, status).

pub mod admin;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod health;
pub mod incident;
mod jitter;
pub mod keeper;
pub mod limits;
pub mod logging;
pub mod notify;
pub mod service;
pub mod signals;
pub mod sim;
pub mod store;
pub mod vendor;
