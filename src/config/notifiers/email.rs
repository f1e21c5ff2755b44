//! The keys of an `email` notifier: the SMTP server, how the connection is secured, the
//! login and the addresses.
//!
//! Addresses are checked with the parser the email channel sends with (lettre's `Mailbox`),
//! so an address that loads is one that can be sent to.

use std::net::IpAddr;
use std::path::Path;

use lettre::message::Mailbox;
use secrecy::SecretString;

use crate::config::locate::KeyPath;
use crate::config::notifier::{Email, SmtpTls};
use crate::config::report::Problems;
use crate::config::secrets::{Resolved, SecretInput};

/// The longest host name DNS allows.
const MAX_HOST_LEN: usize = 253;

/// The email keys as written (stage one).
pub(crate) struct Keys {
    pub(crate) smtp_host: Option<String>,
    pub(crate) smtp_port: Option<u32>,
    pub(crate) smtp_tls: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: SecretInput,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<Vec<String>>,
}

impl Keys {
    /// Every email key the file gives, as written (`password` or `password_file`), for the
    /// "does not apply" check on other kinds.
    pub(crate) fn written(&self) -> Vec<String> {
        let plain = [
            ("smtp_host", self.smtp_host.is_some()),
            ("smtp_port", self.smtp_port.is_some()),
            ("smtp_tls", self.smtp_tls.is_some()),
            ("username", self.username.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
        ];
        let mut keys: Vec<String> = plain
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(key, _)| key.to_owned())
            .collect();
        keys.extend(self.password.written_as());
        keys
    }

    /// Checks an email notifier's keys; `None` when any is wrong (each reported at its key).
    pub(crate) fn check(self, at: &KeyPath, dir: &Path, problems: &mut Problems) -> Option<Email> {
        let tls = match self.smtp_tls.as_deref() {
            None => Some(SmtpTls::Starttls),
            Some(text) => smtp_tls(text)
                .map_err(|e| problems.at(&at.key("smtp_tls"), e))
                .ok(),
        };
        let host = smtp_host(self.smtp_host, &at.key("smtp_host"), problems);
        let port = self
            .smtp_port
            .map(|port| smtp_port(port, &at.key("smtp_port"), problems));
        let password = self.password.resolve_given(true, at, dir, problems);
        let username = match self.username {
            Some(name) if name.trim().is_empty() => {
                problems.at(&at.key("username"), "must not be empty");
                Err(())
            }
            name => Ok(name),
        };
        let login = login(username, password, at, problems);
        let from = required_address(self.from, &at.key("from"), problems);
        let to = recipients(self.to, &at.key("to"), problems);
        let (tls, host, (username, password)) = (tls?, host?, login.ok()?);
        let email = Email {
            port: port.unwrap_or(Some(tls.default_port()))?,
            username,
            password,
            from: from?,
            to: to?,
            host,
            tls,
        };
        clear_text_login(&email, at, problems).then_some(email)
    }
}

/// `smtp_tls`: `starttls`, `tls` or `none`.
fn smtp_tls(text: &str) -> Result<SmtpTls, String> {
    SmtpTls::parse(text).ok_or_else(|| {
        format!(
            "unknown smtp_tls `{text}`, expected `starttls` (the default: plain connection \
             upgraded to TLS, port 587), `tls` (TLS from the first byte, port 465) or `none` \
             (no encryption, port 25: only for a relay on this host or a trusted network)"
        )
    })
}

/// `smtp_host`: required, a host name or IP address (no scheme, no port).
fn smtp_host(host: Option<String>, at: &KeyPath, problems: &mut Problems) -> Option<String> {
    let Some(host) = host else {
        problems.at(
            at,
            "missing required key `smtp_host`: an email notifier sends through this SMTP server",
        );
        return None;
    };
    if host.parse::<IpAddr>().is_ok() || is_host_name(&host) {
        return Some(host);
    }
    problems.at(
        at,
        format!(
            "bad smtp_host {host:?}: expected a host name or IP address, like \
             \"smtp.example.com\" (no scheme; the port goes in `smtp_port`)"
        ),
    );
    None
}

/// True for a DNS host name: dot-separated labels of letters, digits, `-` and `_`, none
/// empty or starting or ending with `-`.
fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// True when `host` is this machine: mail to it never crosses the network.
fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `smtp_port`: 1 to 65535.
fn smtp_port(port: u32, at: &KeyPath, problems: &mut Problems) -> Option<u16> {
    match u16::try_from(port) {
        Ok(port) if port > 0 => Some(port),
        _ => {
            problems.at(at, "`smtp_port` must be between 1 and 65535");
            None
        }
    }
}

/// The login: `username` and a password both or neither (reported at the one given alone).
fn login(
    username: Result<Option<String>, ()>,
    password: Resolved,
    at: &KeyPath,
    problems: &mut Problems,
) -> Result<(Option<String>, Option<SecretString>), ()> {
    match (username?, password?) {
        (Some(_), None) => {
            problems.at(
                &at.key("username"),
                "`username` needs `password` (or `password_file`): the login takes both",
            );
            Err(())
        }
        (None, Some((_, key))) => {
            problems.at(
                &at.key(&key),
                format!("`{key}` needs `username`: the login takes both"),
            );
            Err(())
        }
        (username, password) => Ok((username, password.map(|(secret, _)| secret))),
    }
}

/// Refuses a password sent without encryption to another machine; true when fine.
fn clear_text_login(email: &Email, at: &KeyPath, problems: &mut Problems) -> bool {
    if email.tls != SmtpTls::None || email.password.is_none() || is_loopback(&email.host) {
        return true;
    }
    problems.at(
        &at.key("smtp_tls"),
        format!(
            "`smtp_tls = \"none\"` would send the password in clear text across the network to \
             {:?}: use `starttls` or `tls` (`none` with a login is only for a relay on this host: \
             localhost, 127.0.0.1, ::1)",
            email.host
        ),
    );
    false
}

/// `from`: required, one address.
fn required_address(text: Option<String>, at: &KeyPath, problems: &mut Problems) -> Option<String> {
    let Some(text) = text else {
        problems.at(
            at,
            "missing required key `from`: the sender address of the mail",
        );
        return None;
    };
    address(text, at, problems)
}

/// `to`: required, at least one address, each checked.
fn recipients(
    list: Option<Vec<String>>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let Some(list) = list else {
        problems.at(at, "missing required key `to`: the recipients of the mail");
        return None;
    };
    if list.is_empty() {
        problems.at(at, "must not be empty: give at least one recipient");
        return None;
    }
    let checked: Vec<Option<String>> = list
        .into_iter()
        .enumerate()
        .map(|(i, text)| address(text, &at.index(i), problems))
        .collect();
    checked.into_iter().collect()
}

/// One address, `"Name <user@example.com>"` or `"user@example.com"`, trimmed.
fn address(text: String, at: &KeyPath, problems: &mut Problems) -> Option<String> {
    let text = text.trim();
    match text.parse::<Mailbox>() {
        Ok(_) => Some(text.to_owned()),
        Err(e) => {
            problems.at(
                at,
                format!(
                    "bad address {text:?}: expected \"Name <user@example.com>\" or \
                     \"user@example.com\" ({e})"
                ),
            );
            None
        }
    }
}
