//! Tracing set-up: JSON lines for log monitoring, or human text (DESIGN.md §6).
//!
//! Logs go to stderr so stdout stays free for command output (`sim` prints its address there).
//! JSON lines are written by `logging/json.rs`: every line has an `event`, lists are arrays.
//! Under journald (systemd connects stderr to the journal and says so in `JOURNAL_STREAM`),
//! text lines carry no timestamp of their own: the journal stamps every line already.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// A global subscriber was already installed (only happens when called twice).
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// How lines are rendered: decided once at start-up from the format and where stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One JSON object per line, always with `timestamp` (the DESIGN.md §6 contract).
    Json,
    /// Human text. `timestamps` is false under journald, which stamps lines itself; `ansi`
    /// (colours) only for a terminal, so files and the journal get no escape codes.
    Text {
        /// Whether each line starts with its own timestamp.
        timestamps: bool,
        /// Whether levels are coloured.
        ansi: bool,
    },
}

/// The format to use when the config does not say: text for a person at a terminal, JSON for
/// everything else (systemd, Docker, log shippers).
pub fn resolve_format(configured: Option<LogFormat>) -> LogFormat {
    choose_format(configured, std::io::stderr().is_terminal())
}

/// [`resolve_format`] without the environment, so the rule can be tested: the configured
/// format wins; otherwise text on a terminal and JSON when stderr is not one.
pub fn choose_format(configured: Option<LogFormat>, stderr_is_tty: bool) -> LogFormat {
    match configured {
        Some(format) => format,
        None if stderr_is_tty => LogFormat::Text,
        None => LogFormat::Json,
    }
}

/// The rendering for `format`: JSON as is; text without timestamps when stderr is the
/// journal, and coloured only on a terminal.
pub fn style(format: LogFormat, under_journald: bool, stderr_is_tty: bool) -> Style {
    match format {
        LogFormat::Json => Style::Json,
        LogFormat::Text => Style::Text {
            timestamps: !under_journald,
            ansi: stderr_is_tty && !under_journald,
        },
    }
}

/// True when `journal_stream` (the `JOURNAL_STREAM` value, `"DEV:INODE"` in decimal) names the
/// file stderr is: the sd-journal convention, so a variable inherited by a child whose stderr
/// was redirected elsewhere does not count.
pub fn is_journal_stream(journal_stream: Option<&str>, stderr: Option<(u64, u64)>) -> bool {
    let (Some(value), Some(stderr)) = (journal_stream, stderr) else {
        return false;
    };
    let Some((dev, ino)) = value.trim().split_once(':') else {
        return false;
    };
    match (dev.parse::<u64>(), ino.parse::<u64>()) {
        (Ok(dev), Ok(ino)) => (dev, ino) == stderr,
        _ => false,
    }
}

/// The device and inode of stderr (fstat on fd 2), or `None` if it cannot be examined.
fn stderr_identity() -> Option<(u64, u64)> {
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The filter without `RUST_LOG`: our events at info; the cron scheduler's chatter about its
/// own start-up only when something is wrong.
const DEFAULT_FILTER: &str = "info,tokio_cron_scheduler=warn";

/// Installs the global subscriber. The level comes from `RUST_LOG` (default: info, see
/// [`DEFAULT_FILTER`]); text drops its timestamps when stderr is the journal.
pub fn init(format: LogFormat) -> Result<(), LoggingError> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let journal = std::env::var("JOURNAL_STREAM").ok();
    let under_journald = is_journal_stream(journal.as_deref(), stderr_identity());
    let style = style(format, under_journald, std::io::stderr().is_terminal());
    subscriber(style, filter, std::io::stderr)
        .try_init()
        .map_err(|e| LoggingError::Install(e.to_string()))
}

/// The subscriber for `style`, writing to `writer`: shared by [`init`] and the tests, so the
/// tests see exactly the lines the daemon writes.
pub fn subscriber<W>(
    style: Style,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match style {
        Style::Json => Box::new(builder.event_format(json::JsonLines).finish()),
        Style::Text {
            timestamps: true,
            ansi,
        } => Box::new(builder.with_target(false).with_ansi(ansi).finish()),
        Style::Text {
            timestamps: false,
            ansi,
        } => Box::new(
            builder
                .with_target(false)
                .with_ansi(ansi)
                .without_time()
                .finish(),
        ),
    }
}

mod json;

pub use json::List;

#[cfg(test)]
#[path = "logging/tests.rs"]
mod tests;
