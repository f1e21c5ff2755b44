//! The admin server's connections: accepted by our own loop so that no client can starve the
//! daemon of file descriptors or keep `/healthz` from answering.
//!
//! - **Header-read and idle timeout.** A client has [`HEADER_TIMEOUT`] to send a request's
//!   headers, from the moment it connects and again after every response (hyper's header-read
//!   timer also runs while a kept-alive connection waits for its next request).
//! - **Connection cap.** At most `cap` connections are open (sized by the caller from the
//!   open-file limit). When a new one arrives at the cap, the connection that has been idle
//!   longest (waiting for a request, or for the rest of one) is closed to make room; only when
//!   every connection is busy serving a request is the new one refused. A flood of half-sent
//!   requests therefore only ever holds `cap` descriptors, and a health check, which sends its
//!   request at once, always gets in.
//! - **Accept errors** (out of descriptors after all) back off briefly instead of spinning.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long a client may take to send a request's headers, and stay idle between requests.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long open connections may take to finish once the server stops.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// The pause after a failed accept (EMFILE and the like).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The open connections: whether each is serving a request, and how to close it.
#[derive(Debug, Default)]
struct Board {
    next_id: u64,
    open: HashMap<u64, Slot>,
}

#[derive(Debug)]
struct Slot {
    /// Since when it waits for a request; `None` while it serves one.
    idle_since: Option<Instant>,
    close: CancellationToken,
}

/// The board shared by the accept loop and the connections.
#[derive(Debug, Clone)]
struct Connections {
    board: Arc<Mutex<Board>>,
    cap: usize,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, Board> {
        // The board is plain data; a panic elsewhere cannot leave it half-updated.
        self.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes room for a new connection: its id and close token, or `None` when every open
    /// connection is busy serving a request.
    fn admit(&self) -> Option<(u64, CancellationToken)> {
        let mut board = self.lock();
        if board.open.len() >= self.cap {
            let longest_idle = board
                .open
                .iter()
                .filter_map(|(id, slot)| slot.idle_since.map(|since| (since, *id)))
                .min()?;
            if let Some(slot) = board.open.remove(&longest_idle.1) {
                slot.close.cancel();
            }
        }
        let id = board.next_id;
        board.next_id += 1;
        let close = CancellationToken::new();
        let slot = Slot {
            idle_since: Some(Instant::now()),
            close: close.clone(),
        };
        board.open.insert(id, slot);
        Some((id, close))
    }

    /// Marks connection `id` busy (`true`) or idle.
    fn busy(&self, id: u64, busy: bool) {
        if let Some(slot) = self.lock().open.get_mut(&id) {
            slot.idle_since = (!busy).then(Instant::now);
        }
    }

    fn forget(&self, id: u64) {
        self.lock().open.remove(&id);
    }
}

/// Accepts on `listener` and serves `router` until `stop`, with at most `cap` connections.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    cap: usize,
    stop: CancellationToken,
) {
    let connections = Connections {
        board: Arc::default(),
        cap: cap.max(1),
    };
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => match connections.admit() {
                Some((id, close)) => {
                    let (router, connections, stop) =
                        (router.clone(), connections.clone(), stop.clone());
                    tracker.spawn(async move {
                        connection(stream, router, (id, close), &connections, stop).await;
                        connections.forget(id);
                    });
                }
                None => drop(stream),
            },
            Err(e) => {
                tracing::warn!(event = "admin.accept_failed", error = %e,
                    "cannot accept an admin connection; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// Serves one connection until it ends, is evicted (`close`), or the server stops.
async fn connection(
    stream: TcpStream,
    router: Router,
    (id, close): (u64, CancellationToken),
    connections: &Connections,
    stop: CancellationToken,
) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(event = "admin.nodelay_failed", error = %e, "cannot set TCP_NODELAY");
    }
    let marks = connections.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (router, marks) = (router.clone(), marks.clone());
        async move {
            marks.busy(id, true);
            let response = router.oneshot(request.map(axum::body::Body::new)).await;
            marks.busy(id, false);
            response.map_err(|never: Infallible| match never {})
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(event = "admin.connection_ended", error = %e, "admin connection ended");
            }
        }
        () = close.cancelled() => {}
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(STOP_GRACE, conn.as_mut()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let connections = Connections {
            board: Arc::default(),
            cap: 2,
        };
        let (first, first_close) = connections.admit().unwrap();
        let (second, second_close) = connections.admit().unwrap();
        connections.busy(first, true);
        let (third, _) = connections.admit().unwrap();
        assert!(second_close.is_cancelled(), "the idle one was closed");
        assert!(!first_close.is_cancelled(), "the busy one was kept");
        assert_eq!(connections.lock().open.len(), 2);
        connections.busy(third, true);
        assert!(
            connections.admit().is_none(),
            "every connection busy: refused"
        );
        connections.forget(first);
        assert!(connections.admit().is_some());
        assert_ne!(second, third);
    }
}
