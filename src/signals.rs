//! The only place that touches OS signals (DESIGN.md §8).
//!
//! The first SIGTERM or SIGINT cancels the shutdown token, so every task winds down and state
//! is persisted; a second one exits the process at once, for an operator who cannot wait.

use std::thread::JoinHandle;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use tokio_util::sync::CancellationToken;

/// Why signal handling could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// The OS refused to register the handlers.
    #[error("cannot install signal handlers: {0}")]
    Install(#[from] std::io::Error),
}

/// Keeps the signal thread alive; dropping it unregisters the handlers and joins the thread.
#[derive(Debug)]
pub struct SignalGuard {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            // The thread only loops over the signal iterator; a panic there is already reported.
            let _ = thread.join();
        }
    }
}

/// Cancels `shutdown` on the first SIGTERM/SIGINT; exits with 128 + signal on the second.
pub fn shutdown_on_signals(shutdown: CancellationToken) -> Result<SignalGuard, SignalError> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let handle = signals.handle();
    let thread = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if shutdown.is_cancelled() {
                    tracing::warn!(
                        event = "daemon.stopped",
                        signal,
                        "second signal: exiting now"
                    );
                    std::process::exit(128 + signal);
                }
                tracing::info!(
                    event = "daemon.stopping",
                    signal,
                    "signal received: shutting down"
                );
                shutdown.cancel();
            }
        })?;
    Ok(SignalGuard {
        handle,
        thread: Some(thread),
    })
}
