//! Tracing set-up: JSON lines for log monitoring, or human text (DESIGN.md §6).
//!
//! Logs go to stderr so stdout stays free for command output (`sim` prints its address there).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// A global subscriber was already installed (only happens when called twice).
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// The format to use when the config does not say: text for a person at a terminal, JSON for
/// everything else (systemd, Docker, log shippers).
pub fn resolve_format(configured: Option<LogFormat>) -> LogFormat {
    configured.unwrap_or_else(|| {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    })
}

/// The filter without `RUST_LOG`: our events at info; the cron scheduler's chatter about its
/// own start-up only when something is wrong.
const DEFAULT_FILTER: &str = "info,tokio_cron_scheduler=warn";

/// Installs the global subscriber. The level comes from `RUST_LOG` (default: info, see
/// [`DEFAULT_FILTER`]).
pub fn init(format: LogFormat) -> Result<(), LoggingError> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
    result.map_err(|e| LoggingError::Install(e.to_string()))
}
