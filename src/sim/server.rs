//! Binding and serving: one hyper HTTP/1 connection task per client, tracked so shutdown can
//! wait for all of them.
//!
//! `axum::serve` cannot drop a connection mid-request, which the `close` fault needs, so each
//! connection is served by hyper directly through a service that turns the [`reply::abort`]
//! marker into a service error: hyper then closes the socket without writing a response.
//! Shutdown is graceful: stop accepting, let idle keep-alive connections close, end held
//! calls (timeouts, long polls, blocking second logins) by dropping their connection, and
//! drop any connection still open 2 s later (a client stuck mid-request), so the server task
//! always finishes.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::{App, SimError, Simulator, control, events, gewe, reply, shrise, wechatpro, wkteam};

/// How long a connection may take to finish once shutdown starts; then it is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The service error that makes hyper drop a connection unanswered.
#[derive(Debug)]
struct Aborted;

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed by the simulator (close fault or shutdown)")
    }
}

impl std::error::Error for Aborted {}

fn router(app: App) -> Router {
    Router::new()
        .merge(gewe::routes())
        .merge(wechatpro::routes())
        .merge(wkteam::routes())
        .merge(shrise::routes())
        .merge(control::routes())
        .with_state(app)
}

impl Simulator {
    /// Binds, returns the bound address; serves until `shutdown` is cancelled. The join handle
    /// finishes once every connection has closed, at most about 2 s after cancellation. The scenario's timed events start with the
    /// first `bind` (their times count from here).
    pub async fn bind(
        self,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Result<(SocketAddr, JoinHandle<()>), SimError> {
        let bind_error = |source| SimError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let tracker = TaskTracker::new();
        if let Some(timed) = self.shared.take_events() {
            tracker.spawn(events::run(self.shared.clone(), timed, shutdown.clone()));
        }
        let app = App {
            sim: self.shared.clone(),
            cancel: shutdown.clone(),
        };
        let routes = router(app);
        tracing::info!(event = "sim.listening", addr = %local, "simulator listening");
        let handle = tokio::spawn(accept(listener, routes, shutdown, tracker));
        Ok((local, handle))
    }
}

async fn accept(
    listener: TcpListener,
    routes: Router,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tracker.spawn(connection(stream, routes.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(event = "sim.accept_failed", error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
    tracing::info!(event = "sim.stopped", "simulator stopped");
}

async fn connection(stream: TcpStream, routes: Router, shutdown: CancellationToken) {
    // Latency matters more than packet count for small JSON answers.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(event = "sim.nodelay_failed", error = %e, "cannot set TCP_NODELAY");
    }
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let routes = routes.clone();
        async move {
            let response = match routes.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if reply::is_abort(&response) {
                Err(Aborted)
            } else {
                Ok::<_, Aborted>(response)
            }
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            // A client stuck half-way through its request headers or body would hold a
            // graceful shutdown forever: after the grace, drop the connection.
            match tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::debug!(event = "sim.connection_dropped", "connection dropped at shutdown");
                    return;
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(event = "sim.connection_ended", error = %e, "connection ended with an error");
    }
}
