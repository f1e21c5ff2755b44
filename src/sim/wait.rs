//! Waiting inside a call: long polls that finish early when a person logs in, and plain
//! waits; both give up when the server shuts down.

use std::time::Duration;

use serde_json::Value;

use super::App;

/// How a wait ended.
#[derive(Debug)]
pub(crate) enum Waited<T> {
    /// The awaited thing happened.
    Done(T),
    /// The time limit passed first.
    TimedOut,
    /// The server is shutting down: drop the connection.
    Cancelled,
}

/// Re-runs `check` now and after every person login until it yields an answer or `limit`
/// passes. `check` locks what it needs itself; nothing is held while waiting.
pub(crate) async fn long_poll(
    app: &App,
    limit: Duration,
    mut check: impl FnMut() -> Option<Value>,
) -> Waited<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = app.sim.logins.notified();
        tokio::pin!(notified);
        // Register before checking, so a login between the check and the wait is not missed.
        notified.as_mut().enable();
        if let Some(answer) = check() {
            return Waited::Done(answer);
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => return Waited::TimedOut,
            () = app.cancel.cancelled() => return Waited::Cancelled,
        }
    }
}

/// Sleeps for `duration` unless the server shuts down first (then `false`).
pub(crate) async fn sleep(app: &App, duration: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        () = app.cancel.cancelled() => false,
    }
}
