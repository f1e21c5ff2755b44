//! Stage two for `[[notifier]]`: kind, the keys that kind uses, and delivery options.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::locate::KeyPath;
use super::notifier::{Notifier, NotifierKind};
use super::raw::RawNotifier;
use super::report::Problems;
use super::secrets::{Resolved, SecretInput};
use super::values::{http_url, kind, opt_duration, required_name};
use super::window::Window;

/// The shortest `repeat_interval` besides 0 (never): repeating more often is a flood.
const MIN_REPEAT: Duration = Duration::from_secs(1);

/// Validates one notifier at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn notifier(
    raw: RawNotifier,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Notifier> {
    let name = required_name(raw.name, at, "notifier", problems);
    let kind = kind(raw.kind.as_deref(), at, &NotifierKind::ALL, problems);
    let repeat_interval = repeat_interval(
        raw.repeat_interval.as_deref(),
        &at.key("repeat_interval"),
        problems,
    );
    let quiet_hours = match raw.quiet_hours.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(hours) => Window::parse(hours)
            .map(Some)
            .map_err(|e| problems.at(&at.key("quiet_hours"), e))
            .ok(),
    };
    let url = SecretInput::new("url", raw.url, raw.url_file);
    let secret = SecretInput::new("secret", raw.secret, raw.secret_file);
    let channel = channel(kind, url, secret, raw.command, at, dir, problems);
    let (url, secret, command) = channel?;
    let mut notifier = Notifier::new(name?, kind?);
    notifier.url = url;
    notifier.secret = secret;
    notifier.command = command;
    notifier.send_resolved = raw.send_resolved.unwrap_or(true);
    notifier.repeat_interval = repeat_interval?;
    notifier.quiet_hours = quiet_hours?;
    Some(notifier)
}

/// `repeat_interval`: 0 (never repeat, the default) or at least 1 s.
fn repeat_interval(raw: Option<&str>, at: &KeyPath, problems: &mut Problems) -> Option<Duration> {
    let Some(text) = raw else {
        return Some(Duration::ZERO);
    };
    let parsed = opt_duration(Some(text), at, problems)?;
    if !parsed.is_zero() && parsed < MIN_REPEAT {
        problems.at(
            at,
            "`repeat_interval` must be 0 (never repeat) or at least 1s",
        );
        return None;
    }
    Some(parsed)
}

type Channel = (Option<SecretString>, Option<SecretString>, Vec<String>);

/// The keys that fit `kind` (url, secret, command), checked and resolved. With the kind
/// unknown, whatever was given is still resolved, so file problems are reported too.
fn channel(
    kind: Option<NotifierKind>,
    url: SecretInput,
    secret: SecretInput,
    command: Option<Vec<String>>,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Channel> {
    let uses_url = kind.is_none_or(NotifierKind::uses_url);
    let signs = kind.is_none_or(NotifierKind::signs);
    let runs = kind.is_none_or(|k| k == NotifierKind::Exec);
    let given = [
        (
            url.written_as(),
            uses_url,
            "webhook, wecom, dingtalk and feishu",
        ),
        (secret.written_as(), signs, "dingtalk and feishu"),
        (command.as_ref().map(|_| "command".to_owned()), runs, "exec"),
    ];
    let fits = kind.is_none_or(|kind| keys_fit(kind, given, at, problems));
    let url = url.resolve_given(uses_url, at, dir, problems);
    let url = post_url(url, kind, at, problems);
    let secret = match secret.resolve_given(signs, at, dir, problems) {
        Ok(found) => Some(found.map(|(secret, _)| secret)),
        Err(()) => None,
    };
    let command = exec_command(command.filter(|_| runs), kind, at, problems);
    kind?;
    let channel = (url?, secret?, command?);
    fits.then_some(channel)
}

/// The URL a notifier posts to: an http(s) URL, required when the kind posts.
fn post_url(
    url: Resolved,
    kind: Option<NotifierKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Option<SecretString>> {
    match url {
        Err(()) => None,
        Ok(None) => match kind.filter(|k| k.uses_url()) {
            Some(kind) => {
                problems.at(
                    &at.key("url"),
                    format!(
                        "missing required key `url` (or `url_file`): a {kind} notifier posts to it"
                    ),
                );
                None
            }
            None => Some(None),
        },
        Ok(Some((url, key))) => match http_url(url.expose_secret()) {
            Ok(_) => Some(Some(url)),
            Err(why) => {
                problems.at(&at.key(&key), format!("bad url: {why}"));
                None
            }
        },
    }
}

/// Reports each given key (as written) that `kind` does not use; true when all fit.
fn keys_fit(
    kind: NotifierKind,
    given: [(Option<String>, bool, &str); 3],
    at: &KeyPath,
    problems: &mut Problems,
) -> bool {
    let mut fit = true;
    for (key, fits, owners) in given {
        if let Some(key) = key.filter(|_| !fits) {
            fit = false;
            problems.at(
                &at.key(&key),
                format!(
                    "`{key}` does not apply to {} {kind} notifier (it is for {owners})",
                    article(kind)
                ),
            );
        }
    }
    fit
}

/// "a" or "an", for messages that name a kind.
fn article(kind: NotifierKind) -> &'static str {
    if kind.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The command an exec notifier runs: required for exec, empty for the other kinds.
fn exec_command(
    command: Option<Vec<String>>,
    kind: Option<NotifierKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let at = at.key("command");
    let Some(command) = command else {
        if kind == Some(NotifierKind::Exec) {
            problems.at(
                &at,
                "missing required key `command`: an exec notifier runs it",
            );
            return None;
        }
        return Some(Vec::new());
    };
    match command.first() {
        None => {
            problems.at(&at, "must not be empty: give the program and its arguments");
            None
        }
        Some(program) if program.trim().is_empty() => {
            problems.at(&at.index(0), "the program must not be empty");
            None
        }
        Some(_) => Some(command),
    }
}
