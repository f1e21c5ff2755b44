//! The pure half of the `sd_notify` protocol: where `$NOTIFY_SOCKET` points, whether
//! `$WATCHDOG_USEC` asks us for pings, and the text of each message (newline-separated
//! `KEY=VALUE` assignments, one datagram per message).

use std::path::PathBuf;
use std::time::Duration;

use super::ServiceError;

/// The supervisor loop's tick when no watchdog is set: often enough for `/healthz` and the
/// `STATUS=` line to stay fresh, rare enough to cost nothing.
pub const DEFAULT_TICK: Duration = Duration::from_secs(5);

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    /// A socket in the file system.
    Path(PathBuf),
    /// A Linux abstract socket (`@name` in the variable, without the `@`).
    Abstract(Vec<u8>),
}

/// `$NOTIFY_SOCKET` as systemd sets it: an absolute path or `@` and an abstract name.
pub fn parse_notify_socket(value: &str) -> Result<NotifyTarget, ServiceError> {
    if let Some(name) = value.strip_prefix('@') {
        if name.is_empty() {
            return Err(ServiceError::Address("empty abstract socket name".into()));
        }
        return Ok(NotifyTarget::Abstract(name.as_bytes().to_vec()));
    }
    if value.starts_with('/') {
        return Ok(NotifyTarget::Path(PathBuf::from(value)));
    }
    Err(ServiceError::Address(format!(
        "{value:?} is neither an absolute path nor @name"
    )))
}

/// The watchdog interval from `$WATCHDOG_USEC`, when it is set, positive, and meant for us:
/// `$WATCHDOG_PID`, when set, must be `our_pid` (a child that inherited the variables must
/// not ping for its parent).
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, our_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(our_pid)
    {
        return None;
    }
    Some(Duration::from_micros(usec))
}

/// The supervisor loop's tick: half the watchdog interval (systemd's advice), else
/// [`DEFAULT_TICK`].
pub fn tick_period(watchdog: Option<Duration>) -> Duration {
    match watchdog {
        Some(interval) => (interval / 2).max(Duration::from_millis(1)),
        None => DEFAULT_TICK,
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Start-up or a reload finished; `status` is the fleet summary.
    Ready {
        /// The `STATUS=` line, if any.
        status: Option<String>,
    },
    /// A reload starts; `monotonic_usec` is `CLOCK_MONOTONIC` now, as `notify-reload` wants.
    Reloading {
        /// Microseconds of `CLOCK_MONOTONIC`.
        monotonic_usec: u64,
    },
    /// Shutdown starts.
    Stopping,
    /// The supervisor loop is alive; `status` carries a changed fleet summary.
    Watchdog {
        /// The `STATUS=` line, if it changed.
        status: Option<String>,
    },
    /// Only a new fleet summary (no watchdog configured).
    Status(String),
}

impl Message {
    /// The datagram's text.
    pub fn render(&self) -> String {
        let status = |s: &Option<String>| s.as_deref().map(status_line);
        let lines: Vec<String> = match self {
            Message::Ready { status: s } => std::iter::once("READY=1".to_owned())
                .chain(status(s))
                .collect(),
            Message::Reloading { monotonic_usec } => vec![
                "RELOADING=1".to_owned(),
                format!("MONOTONIC_USEC={monotonic_usec}"),
            ],
            Message::Stopping => vec!["STOPPING=1".to_owned()],
            Message::Watchdog { status: s } => std::iter::once("WATCHDOG=1".to_owned())
                .chain(status(s))
                .collect(),
            Message::Status(s) => vec![status_line(s)],
        };
        lines.join("\n")
    }
}

/// `STATUS=` and `text` on one line (a newline would start a new assignment).
fn status_line(text: &str) -> String {
    format!("STATUS={}", text.replace(['\n', '\r'], " "))
}

/// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares `MONOTONIC_USEC` with.
pub fn monotonic_usec() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let micros = u64::try_from(now.tv_nsec).unwrap_or(0) / 1_000;
    secs.saturating_mul(1_000_000).saturating_add(micros)
}
