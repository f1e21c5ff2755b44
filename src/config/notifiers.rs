//! Stage two for `[[notifier]]`: kind, the keys that kind uses, and delivery options.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::locate::KeyPath;
use super::model::{Notifier, NotifierKind};
use super::raw::RawNotifier;
use super::report::Problems;
use super::secrets::SecretInput;
use super::values::{http_url, kind, opt_duration, required_text};
use super::window::Window;

/// Validates one notifier at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn notifier(
    raw: RawNotifier,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Notifier> {
    let name = required_text(raw.name, at, "name", problems);
    let kind = kind(raw.kind.as_deref(), at, &NotifierKind::ALL, problems);
    let repeat_interval = opt_duration(
        raw.repeat_interval.as_deref(),
        &at.key("repeat_interval"),
        problems,
    );
    let repeat_interval = match raw.repeat_interval {
        None => Some(Duration::ZERO),
        Some(_) => repeat_interval,
    };
    let quiet_hours = match raw.quiet_hours.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(hours) => Window::parse(hours)
            .map(Some)
            .map_err(|e| problems.at(&at.key("quiet_hours"), e))
            .ok(),
    };
    let url = SecretInput::new("url", raw.url, raw.url_file);
    let secret = SecretInput::new("secret", raw.secret, raw.secret_file);
    let (url, secret, command) = match kind {
        Some(kind) => channel(kind, url, secret, raw.command, at, dir, problems)?,
        None => return None,
    };
    Some(Notifier {
        name: name?,
        kind: kind?,
        url,
        secret,
        command,
        send_resolved: raw.send_resolved.unwrap_or(true),
        repeat_interval: repeat_interval?,
        quiet_hours: quiet_hours?,
    })
}

type Channel = (Option<SecretString>, Option<SecretString>, Vec<String>);

/// The keys that fit `kind` (url, secret, command), checked and resolved.
fn channel(
    kind: NotifierKind,
    url: SecretInput,
    secret: SecretInput,
    command: Option<Vec<String>>,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Channel> {
    let given = [
        (
            url.written_as(),
            kind.uses_url(),
            "webhook, wecom, dingtalk and feishu",
        ),
        (secret.written_as(), kind.signs(), "dingtalk and feishu"),
        (
            command.as_ref().map(|_| "command".to_owned()),
            kind == NotifierKind::Exec,
            "exec",
        ),
    ];
    if !keys_fit(kind, given, at, problems) {
        return None;
    }
    if kind == NotifierKind::Exec {
        return exec_command(command, at, problems).map(|command| (None, None, command));
    }
    let url_key = url.written_as();
    let url = url.resolve(at, dir, problems);
    let secret_given = secret.written_as().is_some();
    let secret = secret.resolve(at, dir, problems);
    let Some(url_key) = url_key else {
        problems.at(
            &at.key("url"),
            format!("missing required key `url` (or `url_file`): a {kind} notifier posts to it"),
        );
        return None;
    };
    let url = url?;
    if let Err(why) = http_url(url.expose_secret()) {
        problems.at(&at.key(&url_key), format!("bad url: {why}"));
        return None;
    }
    if secret_given && secret.is_none() {
        return None;
    }
    Some((Some(url), secret, Vec::new()))
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

fn exec_command(
    command: Option<Vec<String>>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let at = at.key("command");
    let Some(command) = command else {
        problems.at(
            &at,
            "missing required key `command`: an exec notifier runs it",
        );
        return None;
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
