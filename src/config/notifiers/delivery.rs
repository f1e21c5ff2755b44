//! The delivery policy keys of a `[[notifier]]`: resolved messages, reminders, quiet hours,
//! severity floor, rate limit, grouping, language and the attempt timeout.
//!
//! A key left out keeps the default of [`Notifier::new`], which depends on the kind; this
//! module only says what the file changes.

use std::time::Duration;

use crate::config::locate::KeyPath;
use crate::config::notifier::{Language, Notifier, NotifierKind};
use crate::config::report::Problems;
use crate::config::values::{duration, in_range};
use crate::config::window::Window;
use crate::incident::Severity;

/// The shortest `repeat_interval` besides 0 (never) for programs (webhook, exec): repeating
/// more often is a flood.
const MIN_REPEAT: Duration = Duration::from_secs(1);
/// The shortest `repeat_interval` besides 0 for the channels people read (the chat bots and
/// mail): a reminder more often than once a minute buries a group or an inbox, and runs the
/// bot into its own limit.
const MIN_REPEAT_FOR_PEOPLE: Duration = Duration::from_secs(60);
/// The highest `rate_limit`: past it the limit protects nothing (the chat bots block at 20).
const MAX_RATE_LIMIT: u32 = 1_000;
/// The longest `group_wait`: an alert held longer is late, whatever it saves.
const MAX_GROUP_WAIT: Duration = Duration::from_secs(3_600);
/// The shortest `timeout`: below it even a loopback delivery fails spuriously.
const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// The longest `timeout`: one attempt holding the notifier's queue longer delays every
/// message behind it more than a retry would.
const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The policy keys as written (stage one).
pub(crate) struct Keys {
    pub(crate) send_resolved: Option<bool>,
    pub(crate) repeat_interval: Option<String>,
    pub(crate) quiet_hours: Option<String>,
    pub(crate) min_severity: Option<String>,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) group_wait: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) timeout: Option<String>,
}

/// The keys the file sets, checked; `None` keeps the kind's default.
pub(crate) struct Delivery {
    send_resolved: Option<bool>,
    repeat_interval: Option<Duration>,
    quiet_hours: Option<Window>,
    min_severity: Option<Severity>,
    rate_limit: Option<u32>,
    group_wait: Option<Duration>,
    language: Option<Language>,
    timeout: Option<Duration>,
}

impl Keys {
    /// Checks every key, reporting each problem at its key; `None` when any was wrong.
    /// `kind` is `None` when it is unknown (reported elsewhere): kind checks are skipped.
    pub(crate) fn check(
        self,
        kind: Option<NotifierKind>,
        at: &KeyPath,
        problems: &mut Problems,
    ) -> Option<Delivery> {
        let repeat_interval = repeat_interval(
            self.repeat_interval,
            kind,
            &at.key("repeat_interval"),
            problems,
        );
        let quiet_hours = given(
            self.quiet_hours,
            &at.key("quiet_hours"),
            problems,
            quiet_hours,
        );
        let group_wait = match (self.group_wait, kind) {
            (Some(_), Some(kind)) if !kind.for_people() => {
                never_groups(kind, &at.key("group_wait"), problems);
                Err(())
            }
            (text, _) => given(text, &at.key("group_wait"), problems, group_wait),
        };
        let timeout = given(self.timeout, &at.key("timeout"), problems, timeout);
        let min_severity = given(
            self.min_severity,
            &at.key("min_severity"),
            problems,
            min_severity,
        );
        let language = given(self.language, &at.key("language"), problems, language);
        let rate_limit = rate_limit(self.rate_limit, &at.key("rate_limit"), problems);
        Some(Delivery {
            send_resolved: self.send_resolved,
            repeat_interval: repeat_interval.ok()?,
            quiet_hours: quiet_hours.ok()?.flatten(),
            min_severity: min_severity.ok()?,
            rate_limit: rate_limit?,
            group_wait: group_wait.ok()?,
            language: language.ok()?,
            timeout: timeout.ok()?,
        })
    }
}

impl Delivery {
    /// Writes the keys the file set over the defaults `notifier` was made with.
    pub(crate) fn apply(self, notifier: &mut Notifier) {
        let Delivery {
            send_resolved,
            repeat_interval,
            quiet_hours,
            min_severity,
            rate_limit,
            group_wait,
            language,
            timeout,
        } = self;
        notifier.send_resolved = send_resolved.unwrap_or(notifier.send_resolved);
        notifier.repeat_interval = repeat_interval.unwrap_or(notifier.repeat_interval);
        notifier.quiet_hours = quiet_hours.or(notifier.quiet_hours);
        notifier.min_severity = min_severity.unwrap_or(notifier.min_severity);
        notifier.rate_limit = rate_limit.unwrap_or(notifier.rate_limit);
        notifier.group_wait = group_wait.unwrap_or(notifier.group_wait);
        notifier.language = language.unwrap_or(notifier.language);
        notifier.timeout = timeout.unwrap_or(notifier.timeout);
    }
}

/// One key's value: parsed, or why not.
type Parsed<T> = Result<T, String>;

/// Parses an optional text key: `Ok(None)` not given, `Err(())` wrong (reported at `at`).
fn given<T>(
    text: Option<String>,
    at: &KeyPath,
    problems: &mut Problems,
    parse: fn(&str) -> Parsed<T>,
) -> Result<Option<T>, ()> {
    match text {
        None => Ok(None),
        Some(text) => parse(&text).map(Some).map_err(|e| problems.at(at, e)),
    }
}

/// `repeat_interval`: 0 (never repeat, the default) or at least [`MIN_REPEAT_FOR_PEOPLE`] for
/// the chat bots and mail, [`MIN_REPEAT`] for programs (and for a kind that is unknown, which
/// is reported elsewhere).
fn repeat_interval(
    text: Option<String>,
    kind: Option<NotifierKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Result<Option<Duration>, ()> {
    let Some(interval) = given(text, at, problems, duration)? else {
        return Ok(None);
    };
    let people = kind.filter(|k| k.for_people());
    let floor = people.map_or(MIN_REPEAT, |_| MIN_REPEAT_FOR_PEOPLE);
    if interval.is_zero() || interval >= floor {
        return Ok(Some(interval));
    }
    problems.at(
        at,
        match people {
            Some(kind) => format!(
                "`repeat_interval` must be 0 (never repeat) or at least 1m on {} {kind} \
                 notifier: people read it, and reminders more often than once a minute bury \
                 the chat or inbox and run into the bot's rate limit",
                super::article(kind)
            ),
            None => "`repeat_interval` must be 0 (never repeat) or at least 1s".to_owned(),
        },
    );
    Err(())
}

/// `quiet_hours`: a window, or `""` for none. A window covering the whole day would hold
/// every warning forever, which `min_severity` says more honestly.
fn quiet_hours(text: &str) -> Parsed<Option<Window>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let window = Window::parse(text)?;
    if window.start() == window.end() {
        return Err(format!(
            "quiet hours {text:?} cover the whole day, so warnings would never be sent: \
             to send only critical incidents, set `min_severity = \"critical\"`"
        ));
    }
    Ok(Some(window))
}

/// `min_severity`: `warning` (every incident) or `critical`.
fn min_severity(text: &str) -> Parsed<Severity> {
    [Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| {
            format!(
                "unknown min_severity `{text}`, expected `warning` (every incident, the default) \
                 or `critical` (only incidents a person must act on now)"
            )
        })
}

/// `language`: `zh` or `en`.
fn language(text: &str) -> Parsed<Language> {
    Language::parse(text).ok_or_else(|| {
        format!("unknown language `{text}`, expected `zh` (Chinese, the default) or `en` (English)")
    })
}

/// `group_wait`: 0 (no grouping) up to [`MAX_GROUP_WAIT`].
fn group_wait(text: &str) -> Parsed<Duration> {
    in_range(
        duration(text)?,
        "group_wait",
        Duration::ZERO,
        MAX_GROUP_WAIT,
    )
}

/// `timeout`: [`MIN_TIMEOUT`] to [`MAX_TIMEOUT`].
fn timeout(text: &str) -> Parsed<Duration> {
    in_range(duration(text)?, "timeout", MIN_TIMEOUT, MAX_TIMEOUT)
}

/// `rate_limit`: messages a minute, 0 (unlimited) up to [`MAX_RATE_LIMIT`].
fn rate_limit(value: Option<u32>, at: &KeyPath, problems: &mut Problems) -> Option<Option<u32>> {
    match value {
        Some(n) if n > MAX_RATE_LIMIT => {
            problems.at(
                at,
                format!(
                    "`rate_limit` must be at most {MAX_RATE_LIMIT} messages a minute (0 = unlimited)"
                ),
            );
            None
        }
        _ => Some(value),
    }
}

/// Reports `group_wait` on a kind that never groups.
fn never_groups(kind: NotifierKind, at: &KeyPath, problems: &mut Problems) {
    problems.at(
        at,
        format!(
            "`group_wait` does not apply to {} {kind} notifier: webhook and exec notifiers \
             feed programs, which get one payload per message, never grouped",
            super::article(kind)
        ),
    );
}
