//! `session-keeper notify-test`: sends the clearly marked test message through the configured
//! notifiers (all, or one by name) and reports each one's result, the first thing an operator
//! does after configuring a bot.
//!
//! It builds each channel exactly as the daemon does and sends [`Outgoing::Test`] once, with
//! no retry, so a failure shows at once; the state store is never opened. Reports and errors
//! name notifiers and kinds only: the channels' error texts never carry a URL, key or password.

use std::fmt;

use jiff::Timestamp;
use tokio::task::JoinSet;

use super::channel::{AnyChannel, Channel, Outgoing};
use super::{NotifierSet, NotifyError};
use crate::config::{Notifier, NotifierKind};

/// Why `notify-test` could not test anything.
#[derive(Debug, thiserror::Error)]
pub enum NotifyCheckError {
    /// `--notifier` names no configured notifier.
    #[error("no notifier is named {name:?}; configured: {}", known.join(", "))]
    UnknownNotifier {
        /// The name asked for.
        name: String,
        /// The configured names, in file order.
        known: Vec<String>,
    },
    /// The configuration has no `[[notifier]]` at all.
    #[error("no notifier is configured: add a [[notifier]] to test")]
    NoNotifiers,
}

impl NotifyCheckError {
    /// True when the command line asked for something the configuration lacks (`--notifier`
    /// with an unknown name): a usage error (exit 2), not a failed delivery.
    pub fn is_usage(&self) -> bool {
        matches!(self, NotifyCheckError::UnknownNotifier { .. })
    }
}

/// One notifier's result: what an operator reads to know whether that bot works.
#[derive(Debug)]
pub struct TestReport {
    /// The notifier's name.
    pub notifier: String,
    /// Its channel.
    pub kind: NotifierKind,
    /// `Ok` once the receiver accepted the test message; else why not.
    pub result: Result<(), NotifyError>,
}

impl TestReport {
    /// True when the test message was delivered.
    pub fn sent(&self) -> bool {
        self.result.is_ok()
    }
}

/// `ops (wecom): sent` or `pager (exec): failed: the command failed: exited with status 1`.
impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): ", self.notifier, self.kind)?;
        match &self.result {
            Ok(()) => f.write_str("sent"),
            Err(error) => write!(f, "failed: {error}"),
        }
    }
}

/// Sends the test message through every notifier of `set`, or only the one named `only`, all
/// at once; the reports come back in configuration order. Must run inside a tokio runtime.
pub async fn test_notifiers(
    set: &NotifierSet,
    only: Option<&str>,
) -> Result<Vec<TestReport>, NotifyCheckError> {
    let chosen = choose(&set.notifiers, only)?;
    let sent_at = Timestamp::now();
    let mut sends = JoinSet::new();
    for (index, notifier) in chosen.into_iter().enumerate() {
        let notifier = notifier.clone();
        let timezone = set.timezone.clone();
        sends.spawn(async move {
            let result = match AnyChannel::build(&notifier, &timezone) {
                Ok(channel) => {
                    let test = Outgoing::Test {
                        notifier: &notifier.name,
                    };
                    channel.deliver(test, sent_at).await
                }
                Err(error) => Err(error),
            };
            let report = TestReport {
                notifier: notifier.name,
                kind: notifier.kind,
                result,
            };
            (index, report)
        });
    }
    let mut reports: Vec<(usize, TestReport)> = sends.join_all().await;
    reports.sort_by_key(|(index, _)| *index);
    Ok(reports.into_iter().map(|(_, report)| report).collect())
}

/// The notifiers to test: all, or the one named `only`.
fn choose<'a>(
    notifiers: &'a [Notifier],
    only: Option<&str>,
) -> Result<Vec<&'a Notifier>, NotifyCheckError> {
    if notifiers.is_empty() {
        return Err(NotifyCheckError::NoNotifiers);
    }
    let Some(name) = only else {
        return Ok(notifiers.iter().collect());
    };
    match notifiers.iter().find(|n| n.name == name) {
        Some(notifier) => Ok(vec![notifier]),
        None => Err(NotifyCheckError::UnknownNotifier {
            name: name.to_owned(),
            known: notifiers.iter().map(|n| n.name.clone()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests;
