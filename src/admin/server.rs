//! The admin HTTP server: the router, its bearer-token guard and its life as a tracked task
//! that stops on shutdown; the connections themselves are `listener.rs`'s.
//!
//! `/healthz` and `/readyz` are always open (health checks carry no credentials). With
//! `daemon.admin_token` set, `/metrics` and every `/v1/` route answer 401 unless the request
//! carries `Authorization: Bearer <token>`; the token is read from the configuration now, so
//! a reload that changes it applies at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::exposition::{self, Fleet};
use super::{AdminError, listener, metrics, rules};
use crate::config::Config;
use crate::health::Health;
use crate::keeper::status::{self, StatusError, Stored};
use crate::store::Store;
use secrecy::ExposeSecret;

/// What every handler reads.
#[derive(Clone)]
struct App {
    /// The configuration now (replaced on reload).
    config: watch::Receiver<Arc<Config>>,
    health: Health,
    /// How stale the supervisor's last tick may be.
    stale_after: Duration,
}

/// Where and how the server listens.
pub(super) struct Listen {
    /// The configured address.
    pub(super) address: SocketAddr,
    /// At most this many connections at once.
    pub(super) cap: usize,
}

/// Binds `listen` and serves until `stop` is cancelled; returns the bound address.
pub(super) async fn start(
    listen: Listen,
    config: watch::Receiver<Arc<Config>>,
    health: Health,
    stale_after: Duration,
    tracker: &TaskTracker,
    stop: CancellationToken,
) -> Result<SocketAddr, AdminError> {
    let bind = |e: std::io::Error| AdminError::Bind {
        address: listen.address,
        message: e.to_string(),
    };
    let listener = tokio::net::TcpListener::bind(listen.address)
        .await
        .map_err(bind)?;
    let bound = listener.local_addr().map_err(bind)?;
    let router = router(App {
        config,
        health,
        stale_after,
    });
    tracker.spawn(listener::serve(listener, router, listen.cap, stop));
    Ok(bound)
}

fn router(app: App) -> Router {
    let guarded = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/v1/devices", get(devices))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(guarded)
        .with_state(app)
}

/// Lets a request through when no `admin_token` is configured or it carries the token.
async fn require_token(State(app): State<App>, request: Request, next: Next) -> Response {
    let expected = app
        .config
        .borrow()
        .daemon
        .admin_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned());
    let Some(expected) = expected else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if given.is_some_and(|given| same(given.as_bytes(), expected.as_bytes())) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this endpoint needs the admin token: Authorization: Bearer <daemon.admin_token>\n",
    )
        .into_response()
}

/// Compares in time that does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    let stored = match Store::open_read_only(&config.daemon.state_dir)? {
        Some(store) => Stored::read(&store)?,
        None => Stored::default(),
    };
    Ok(Fleet {
        devices: status::build(config, &stored, Timestamp::now())?,
        open_incidents: stored
            .open
            .iter()
            .filter(|r| r.resolved_at.is_none())
            .map(|r| r.key.kind)
            .collect(),
    })
}
