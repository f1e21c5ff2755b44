//! Stage two for `[[notifier]]`: kind, the keys that kind uses, and delivery options.
//!
//! Each key is checked where it belongs: the channel keys (url, secret, command, the email
//! keys) here, the policy keys in `delivery`, the SMTP keys in `email`. A key given to a kind
//! that does not use it is an error, so a misplaced key never silently does nothing.

mod delivery;
mod email;
#[cfg(test)]
mod tests;

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::locate::KeyPath;
use super::notifier::{Email, Notifier, NotifierKind};
use super::placeholders;
use super::raw::RawNotifier;
use super::report::Problems;
use super::secrets::{Resolved, SecretInput};
use super::values::{http_url, kind, required_name};

/// Validates one notifier at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn notifier(
    raw: RawNotifier,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Notifier> {
    let (name, kind_text, keys, policy) = split(raw);
    let name = required_name(name, at, "notifier", problems);
    let kind = kind(kind_text.as_deref(), at, &NotifierKind::ALL, problems);
    let delivery = policy.check(kind, at, problems);
    let channel = channel(kind, keys, at, dir, problems)?;
    let mut notifier = Notifier::new(name?, kind?);
    notifier.url = channel.url;
    notifier.secret = channel.secret;
    notifier.command = channel.command;
    notifier.email = channel.email;
    delivery?.apply(&mut notifier);
    Some(notifier)
}

/// The keys that say where messages go, as written.
struct ChannelKeys {
    url: SecretInput,
    secret: SecretInput,
    command: Option<Vec<String>>,
    email: email::Keys,
}

/// Takes a raw notifier apart: name, kind, channel keys, policy keys.
fn split(raw: RawNotifier) -> (Option<String>, Option<String>, ChannelKeys, delivery::Keys) {
    let channel = ChannelKeys {
        url: SecretInput::new("url", raw.url, raw.url_file),
        secret: SecretInput::new("secret", raw.secret, raw.secret_file),
        command: raw.command,
        email: email::Keys {
            smtp_host: raw.smtp_host,
            smtp_port: raw.smtp_port,
            smtp_tls: raw.smtp_tls,
            username: raw.username,
            password: SecretInput::new("password", raw.password, raw.password_file),
            from: raw.from,
            to: raw.to,
        },
    };
    let policy = delivery::Keys {
        send_resolved: raw.send_resolved,
        repeat_interval: raw.repeat_interval,
        quiet_hours: raw.quiet_hours,
        min_severity: raw.min_severity,
        rate_limit: raw.rate_limit,
        group_wait: raw.group_wait,
        language: raw.language,
        timeout: raw.timeout,
    };
    (raw.name, raw.kind, channel, policy)
}

/// The channel keys, checked and resolved.
struct Channel {
    url: Option<SecretString>,
    secret: Option<SecretString>,
    command: Vec<String>,
    email: Option<Email>,
}

/// The keys that fit `kind` (url, secret, command, email), checked and resolved. With the
/// kind unknown, whatever was given is still resolved, so file problems are reported too.
fn channel(
    kind: Option<NotifierKind>,
    keys: ChannelKeys,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Channel> {
    let uses_url = kind.is_none_or(NotifierKind::uses_url);
    let signs = kind.is_none_or(NotifierKind::signs);
    let runs = kind.is_none_or(|k| k == NotifierKind::Exec);
    let mails = kind == Some(NotifierKind::Email);
    let fits = kind.is_none_or(|kind| keys_fit(kind, given(kind, &keys), at, problems));
    let url = keys.url.resolve_given(uses_url, at, dir, problems);
    let url = post_url(url, kind, at, problems);
    let secret = match keys.secret.resolve_given(signs, at, dir, problems) {
        Ok(found) => Some(found.map(|(secret, _)| secret)),
        Err(()) => None,
    };
    let command = exec_command(keys.command.filter(|_| runs), kind, at, problems);
    let email = if mails {
        keys.email.check(at, dir, problems).map(Some)
    } else {
        Some(None)
    };
    kind?;
    let channel = Channel {
        url: url?,
        secret: secret?,
        command: command?,
        email: email?,
    };
    fits.then_some(channel)
}

/// Each channel key as written (`None` when absent), whether `kind` uses it, and the kinds
/// that do, for [`keys_fit`].
fn given(kind: NotifierKind, keys: &ChannelKeys) -> Vec<(Option<String>, bool, &'static str)> {
    let mut given = vec![
        (
            keys.url.written_as(),
            kind.uses_url(),
            "webhook, wecom, dingtalk and feishu",
        ),
        (
            keys.secret.written_as(),
            kind.signs(),
            "dingtalk and feishu",
        ),
        (
            keys.command.as_ref().map(|_| "command".to_owned()),
            kind == NotifierKind::Exec,
            "exec",
        ),
    ];
    for key in keys.email.written() {
        given.push((Some(key), kind == NotifierKind::Email, "email"));
    }
    given
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
        // Loaded without secrets: the url is a stand-in (`${VAR}` or an unread file).
        Ok(Some((url, _))) if problems.secrets_unread() => Some(Some(url)),
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
    given: Vec<(Option<String>, bool, &str)>,
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
pub(crate) fn article(kind: NotifierKind) -> &'static str {
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
        Some(program) => {
            if let Some(why) = not_runnable(program) {
                problems.warn(&at.index(0), why);
            }
            let mut fine = true;
            for (i, arg) in command.iter().enumerate() {
                if let Err(why) = placeholders::check(arg) {
                    problems.at(&at.index(i), why);
                    fine = false;
                }
            }
            fine.then_some(command)
        }
    }
}

/// Why an exec notifier's program cannot run here, if it cannot: a path that is missing, not a
/// file or not executable, or a bare name found nowhere on `PATH`. A warning, not an error:
/// the daemon may run elsewhere (another host, a container) than where the file is checked.
fn not_runnable(program: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &std::path::Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = std::path::Path::new(program);
        return match std::fs::metadata(path) {
            Err(e) => Some(format!(
                "the program {program:?} cannot be found here ({e})"
            )),
            Ok(m) if !m.is_file() => Some(format!("the program {program:?} is not a file")),
            Ok(_) if !executable(path) => Some(format!(
                "the program {program:?} is not executable (chmod +x it)"
            )),
            Ok(_) => None,
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| executable(&dir.join(program)));
    (!found).then(|| format!("the program {program:?} is not on PATH here"))
}
