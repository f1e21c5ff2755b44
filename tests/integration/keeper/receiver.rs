//! A fake webhook receiver on 127.0.0.1:0: records every JSON body it is posted and answers
//! 200.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::serve_on_loopback;

#[derive(Clone, Default)]
struct Shared {
    bodies: Arc<Mutex<Vec<Value>>>,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    stop: CancellationToken,
}

async fn hook(State(shared): State<Shared>, axum::Json(body): axum::Json<Value>) -> StatusCode {
    shared
        .bodies
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(body);
    StatusCode::OK
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Receiver {
        let shared = Shared::default();
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(shared.clone());
        let (addr, stop) = serve_on_loopback(app).await;
        Receiver { addr, shared, stop }
    }

    /// The URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Every body received so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared
            .bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The bodies about `device` with this `status` and `kind`.
    pub fn messages(&self, device: &str, status: &str, kind: &str) -> Vec<Value> {
        self.bodies()
            .into_iter()
            .filter(|b| b["device"] == device && b["status"] == status && b["kind"] == kind)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
