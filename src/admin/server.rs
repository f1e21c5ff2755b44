//! The admin HTTP server: the router and its life as a tracked task that stops on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::exposition::{self, Fleet};
use super::{AdminError, metrics, rules};
use crate::config::Config;
use crate::health::Health;
use crate::keeper::status::{self, StatusError};
use crate::store::Store;

/// What every handler reads.
#[derive(Clone)]
struct App {
    /// The configuration now (replaced on reload).
    config: watch::Receiver<Arc<Config>>,
    health: Health,
    /// How stale the supervisor's last tick may be.
    stale_after: Duration,
}

/// Binds `listen` and serves until `stop` is cancelled; returns the bound address.
pub(super) async fn start(
    listen: SocketAddr,
    config: watch::Receiver<Arc<Config>>,
    health: Health,
    stale_after: Duration,
    tracker: &TaskTracker,
    stop: CancellationToken,
) -> Result<SocketAddr, AdminError> {
    let bind = |e: std::io::Error| AdminError::Bind {
        address: listen,
        message: e.to_string(),
    };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(bind)?;
    let bound = listener.local_addr().map_err(bind)?;
    let router = router(App {
        config,
        health,
        stale_after,
    });
    tracker.spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(event = "admin.failed", error = %e, "admin HTTP server stopped");
        }
    });
    Ok(bound)
}

fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/v1/devices", get(devices))
        .with_state(app)
}

fn verdict(result: Result<(), String>) -> Response {
    match result {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn healthz(State(app): State<App>) -> Response {
    verdict(rules::live(&app.health, Timestamp::now(), app.stale_after))
}

async fn readyz(State(app): State<App>) -> Response {
    verdict(rules::ready(&app.health))
}

async fn devices(State(app): State<App>) -> Response {
    let config = Arc::clone(&*app.config.borrow());
    match read_fleet(config).await {
        Ok(fleet) => (
            [(header::CONTENT_TYPE, "application/json")],
            status::to_json(&fleet.devices),
        )
            .into_response(),
        Err(why) => unavailable(&why),
    }
}

async fn metrics_text(State(app): State<App>) -> Response {
    let config = Arc::clone(&*app.config.borrow());
    match read_fleet(config).await {
        Ok(fleet) => {
            let counters = metrics::global().snapshot();
            let text = exposition::render(&counters, &fleet, Timestamp::now());
            ([(header::CONTENT_TYPE, exposition::CONTENT_TYPE)], text).into_response()
        }
        Err(why) => unavailable(&why),
    }
}

fn unavailable(why: &str) -> Response {
    tracing::warn!(event = "admin.store_unreadable", error = %why, "cannot read the state store");
    (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response()
}

/// The store read-only, off the async threads: every configured device and the open
/// incidents' kinds.
async fn read_fleet(config: Arc<Config>) -> Result<Fleet, String> {
    let read = tokio::task::spawn_blocking(move || fleet(&config));
    match read.await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("store read failed: {e}")),
    }
}

fn fleet(config: &Config) -> Result<Fleet, StatusError> {
    let Some(store) = Store::open_read_only(&config.daemon.state_dir)? else {
        return Ok(Fleet {
            devices: status::build(config, &[], &[])?,
            open_incidents: Vec::new(),
        });
    };
    let rows = store.devices()?;
    let open = store.open_incidents()?;
    Ok(Fleet {
        devices: status::build(config, &rows, &open)?,
        open_incidents: open
            .iter()
            .filter(|r| r.resolved_at.is_none())
            .map(|r| r.key.kind)
            .collect(),
    })
}
