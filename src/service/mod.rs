//! Talking to the service manager (DESIGN.md §8): systemd's `sd_notify` protocol, so a unit of
//! `Type=notify` learns when the keeper is ready, reloading or stopping, gets `WATCHDOG=1`
//! from the supervisor loop, and shows a one-line fleet summary in `systemctl status`.
//!
//! Without `$NOTIFY_SOCKET` (not under systemd, or in a container) every call does nothing.
//! A failed notification never stops the daemon: the first failure is logged, later ones
//! are not (a service manager that went away would otherwise flood the log).
//!
//! - `sd_notify.rs`: the pure part (environment parsing, message formatting);
//! - `summary.rs`: the fleet summary line (`STATUS=`, the admin server's health);
//! - this file: the socket and the [`Service`] handle the daemon calls.

mod sd_notify;
mod summary;

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use sd_notify::{
    DEFAULT_TICK, Message, NotifyTarget, monotonic_usec, parse_notify_socket, tick_period,
    watchdog_interval,
};
pub use summary::fleet_summary;

/// Why a notification could not be sent; logged once, never fatal.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `$NOTIFY_SOCKET` names neither a path nor an abstract socket (`@name`).
    #[error("notify socket address is not usable: {0}")]
    Address(String),
    /// The datagram socket could not be created or the message not sent.
    #[error("cannot notify the service manager: {0}")]
    Send(#[from] std::io::Error),
}

/// The daemon's handle on its service manager: cheap to clone, a no-op when the daemon was
/// not started by one.
#[derive(Debug, Clone, Default)]
pub struct Service {
    inner: Option<Arc<Inner>>,
    watchdog: Option<Duration>,
}

#[derive(Debug)]
struct Inner {
    target: NotifyTarget,
    /// Set after the first failure was logged.
    failed: AtomicBool,
}

impl Service {
    /// A handle that notifies nobody (in-process keepers: the demo, benchmarks).
    pub fn disabled() -> Service {
        Service::default()
    }

    /// The handle `session-keeper run` uses: `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and
    /// `$WATCHDOG_PID` from `env`, checked against our own pid.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Service {
        let target = match env("NOTIFY_SOCKET").as_deref().map(parse_notify_socket) {
            None => None,
            Some(Ok(target)) => Some(target),
            Some(Err(e)) => {
                tracing::warn!(event = "service.notify_failed", error = %e, "not notifying the service manager");
                None
            }
        };
        let watchdog = watchdog_interval(
            env("WATCHDOG_USEC").as_deref(),
            env("WATCHDOG_PID").as_deref(),
            std::process::id(),
        );
        Service {
            inner: target.map(|target| {
                Arc::new(Inner {
                    target,
                    failed: AtomicBool::new(false),
                })
            }),
            watchdog,
        }
    }

    /// The watchdog interval the service manager expects pings within, when it set one.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog.filter(|_| self.inner.is_some())
    }

    /// How often the supervisor loop should tick: half the watchdog interval, else
    /// [`DEFAULT_TICK`].
    pub fn tick_period(&self) -> Duration {
        tick_period(self.watchdog())
    }

    /// Sends `message`; does nothing without a socket, logs only the first failure.
    pub fn notify(&self, message: &Message) {
        let Some(inner) = &self.inner else {
            return;
        };
        if let Err(e) = send(&inner.target, &message.render())
            && !inner.failed.swap(true, Ordering::AcqRel)
        {
            tracing::warn!(
                event = "service.notify_failed",
                error = %e,
                "cannot notify the service manager; further failures are not logged"
            );
        }
    }
}

/// One datagram to the service manager, never blocking the runtime.
fn send(target: &NotifyTarget, text: &str) -> Result<(), ServiceError> {
    let socket = UnixDatagram::unbound()?;
    socket.set_nonblocking(true)?;
    let addr = match target {
        NotifyTarget::Path(path) => SocketAddr::from_pathname(path)?,
        NotifyTarget::Abstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)?
        }
    };
    socket.send_to_addr(text.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
