//! The only place that touches OS signals (DESIGN.md §8).
//!
//! The first SIGTERM or SIGINT cancels the shutdown token, so every task winds down and state
//! is persisted (the keeper logs `daemon.stopping`); a second one exits the process at once,
//! for an operator who cannot wait. With [`daemon_signals`], every SIGHUP asks for a reload.

use std::thread::JoinHandle;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
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
/// SIGHUP keeps its default action (the simulator has nothing to reload).
pub fn shutdown_on_signals(shutdown: CancellationToken) -> Result<SignalGuard, SignalError> {
    install(shutdown, None)
}

/// Like [`shutdown_on_signals`], and calls `on_reload` (on the signal thread; it must not
/// block) for every SIGHUP.
pub fn daemon_signals(
    shutdown: CancellationToken,
    on_reload: impl Fn() + Send + 'static,
) -> Result<SignalGuard, SignalError> {
    install(shutdown, Some(Box::new(on_reload)))
}

fn install(
    shutdown: CancellationToken,
    on_reload: Option<Box<dyn Fn() + Send>>,
) -> Result<SignalGuard, SignalError> {
    let mut wanted = vec![SIGTERM, SIGINT];
    if on_reload.is_some() {
        wanted.push(SIGHUP);
    }
    let mut signals = Signals::new(wanted)?;
    let handle = signals.handle();
    let thread = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    tracing::debug!(
                        event = "daemon.signal",
                        signal,
                        "SIGHUP received: reload requested"
                    );
                    if let Some(reload) = &on_reload {
                        reload();
                    }
                    continue;
                }
                if shutdown.is_cancelled() {
                    tracing::warn!(
                        event = "daemon.stopped",
                        signal,
                        "second signal: exiting now"
                    );
                    std::process::exit(128 + signal);
                }
                tracing::debug!(
                    event = "daemon.signal",
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
