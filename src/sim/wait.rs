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
    let deadline = deadline_after(limit);
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

/// The instant `limit` from now; a limit too far out to represent never comes, which a
/// deadline ~30 years ahead stands in for (`Instant + Duration` would panic on overflow).
fn deadline_after(limit: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(limit)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// What stands in for "never" (tokio's own sleep uses the same horizon).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Sleeps for `duration` unless the server shuts down first (then `false`). Huge durations
/// are safe: tokio caps them itself.
pub(crate) async fn sleep(app: &App, duration: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        () = app.cancel.cancelled() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_limits_do_not_overflow() {
        let now = tokio::time::Instant::now();
        let far = deadline_after(Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365 * 10));
        let near = deadline_after(Duration::from_secs(1));
        assert!(near > now && near <= tokio::time::Instant::now() + Duration::from_secs(1));
    }
}
