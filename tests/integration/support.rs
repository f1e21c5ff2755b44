//! Helpers shared by the integration test modules: a real simulator on `127.0.0.1:0`.
//!
//! ```ignore
//! let sim = support::start_sim(r#"
//!     [[device]]
//!     vendor = "gewe"
//!     id = "wx_1"
//!     online = false
//! "#).await;
//! // Point a client at it: gewe wants the API prefix, the other vendors the bare root.
//! let gewe_base = sim.gewe_base();      // http://127.0.0.1:PORT/gewe/v2/api
//! let other_base = sim.root();          // http://127.0.0.1:PORT
//! // Drive it in process (same effect as the /_sim/ HTTP API) ...
//! sim.sim.login(VendorKind::Gewe, "wx_1")?;
//! // ... and assert on what the client sent.
//! assert_eq!(sim.calls_to("/login/checkOnline").len(), 1);
//! ```
//!
//! Default credentials (unless the scenario's `[credentials]` overrides them): gewe token
//! `sim-gewe-token`; wechatpro `Authorization: sim-wechatpro-auth`; wkteam
//! `Authorization: sim-wkteam-auth`; shrise access `sim-shrise-access`, refresh
//! `sim-shrise-refresh`, mobile `13800000000`, SMS code `123456`, sent as
//! `Authorization: Bearer <access>`. Default timings: confirm window 3 min, long poll 5 s,
//! recycle after 20 days — tests should set short ones (e.g. `confirm_window = "2s"`,
//! `long_poll = "300ms"`, device `confirm_after = "200ms"`).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use session_keeper::sim::{CallRecord, Scenario, Simulator};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A simulator serving on a free loopback port, stopped when dropped.
pub struct TestSim {
    /// The simulator itself, for in-process control: `upsert_device`, `patch_device`,
    /// `login`, `device`, `set_vendor_fault`, `calls`, `clear_calls`.
    pub sim: Simulator,
    /// Where it listens (`127.0.0.1:PORT`).
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

/// Starts a simulator with the given scenario TOML (`""` = no devices, default credentials)
/// on `127.0.0.1:0`. Panics with the parse error if the scenario is invalid.
pub async fn start_sim(scenario_toml: &str) -> TestSim {
    let scenario = match Scenario::from_toml(scenario_toml) {
        Ok(scenario) => scenario,
        Err(e) => panic!("test scenario is invalid: {e}"),
    };
    let sim = Simulator::new(scenario);
    let shutdown = CancellationToken::new();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let (addr, server) = match sim.clone().bind(loopback, shutdown.clone()).await {
        Ok(bound) => bound,
        Err(e) => panic!("cannot start the simulator: {e}"),
    };
    TestSim {
        sim,
        addr,
        shutdown,
        server: Some(server),
    }
}

impl TestSim {
    /// `http://127.0.0.1:PORT` followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The base URL for wechatpro, wkteam and shrise clients: `http://127.0.0.1:PORT`.
    pub fn root(&self) -> String {
        self.url("")
    }

    /// The base URL for a GeWe client: `http://127.0.0.1:PORT/gewe/v2/api`.
    pub fn gewe_base(&self) -> String {
        self.url("/gewe/v2/api")
    }

    /// The logged calls to one vendor endpoint (without prefix, e.g. `/login/checkOnline`,
    /// `/open/isOnline`, `/isOnline`, `/wx/pc/check-login-status/{deviceNumber}`).
    pub fn calls_to(&self, endpoint: &str) -> Vec<CallRecord> {
        self.sim.calls_to(endpoint)
    }

    /// Stops the simulator and waits until every connection has closed (held calls are
    /// dropped). Dropping a `TestSim` also stops it, without waiting.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take()
            && let Err(e) = server.await
        {
            panic!("simulator task failed: {e}");
        }
    }
}

impl Drop for TestSim {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `check` every 20 ms until it is true; panics naming `what` after `limit`. For state
/// that changes in real time (scenario events, confirmations): give generous limits.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {limit:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Serves `app` on a free loopback port until the returned token is cancelled: the fake
/// receivers (webhook, chat bots) the daemon delivers to.
pub async fn serve_on_loopback(app: axum::Router) -> (SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap_or_else(|e| panic!("cannot bind a fake receiver: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("no local address: {e}"));
    let stop = CancellationToken::new();
    let until = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { until.cancelled().await })
            .await;
    });
    (addr, stop)
}
