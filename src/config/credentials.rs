//! A provider's credentials: which keys fit its kind, reading them (inline or `*_file`), and
//! checking that the HTTP client will be able to send them.
//!
//! Every given credential is resolved even when the provider's kind is unknown or another key
//! is wrong, so one run reports a missing secret file together with everything else. Messages
//! name keys and files, never a value.

use std::path::Path;

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::locate::KeyPath;
use super::raw::RawProvider;
use super::report::Problems;
use super::secrets::{Resolved, SecretInput};
use crate::vendor::{Auth, TokenPair, VendorKind};

const GEWE: &[VendorKind] = &[VendorKind::Gewe];
const AUTHORIZATION: &[VendorKind] = &[VendorKind::Wechatpro, VendorKind::Wkteam];
const WKTEAM: &[VendorKind] = &[VendorKind::Wkteam];
const SHRISE: &[VendorKind] = &[VendorKind::Shrise];

/// Headers the HTTP client manages itself: a token sent as one of them would corrupt the
/// request.
const RESERVED_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
];

/// What is said about a credential that cannot be an HTTP header value (never the value).
const NOT_A_HEADER_VALUE: &str =
    "contains a character not allowed in an HTTP header (a newline?); the value is not shown";

/// A resolved credential and the key it was written as (`token` or `token_file`).
type Found = (SecretString, String);

/// Builds the credentials `kind` needs (`None` kind: only resolves what was given, so file
/// problems are still reported), after checking every kind-specific key fits it.
pub(crate) fn auth(
    kind: Option<VendorKind>,
    mut raw: RawProvider,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Auth> {
    let fits = kind.is_none_or(|kind| keys_fit(kind, &raw, at, problems));
    let given = Given::resolve(kind, &mut raw, at, dir, problems);
    let login_type = raw.second_login_type.filter(|_| applies(kind, WKTEAM));
    let second_login_type = second_login_type(login_type, &at.key("second_login_type"), problems);
    let kind = kind?;
    let mut need = |cred, key| needed(cred, key, kind, at, problems);
    let auth = match kind {
        VendorKind::Gewe => Auth::Gewe {
            token: sendable(need(given.token, "token"), "", at, problems)?,
        },
        VendorKind::Wechatpro => Auth::Wechatpro {
            authorization: sendable(need(given.authorization, "authorization"), "", at, problems)?,
        },
        VendorKind::Wkteam => Auth::Wkteam {
            authorization: sendable(need(given.authorization, "authorization"), "", at, problems)?,
            second_login_type: second_login_type?,
        },
        VendorKind::Shrise => {
            let access = need(given.access, "access_token");
            let pair = (access, need(given.refresh, "refresh_token"));
            shrise(pair, raw.token_header, raw.token_prefix, at, problems)?
        }
    };
    fits.then_some(auth)
}

/// True when a key owned by `owners` may apply to a provider of `kind` (unknown: maybe).
fn applies(kind: Option<VendorKind>, owners: &[VendorKind]) -> bool {
    kind.is_none_or(|k| owners.contains(&k))
}

/// Every credential key of one provider, resolved (files read) where it may apply.
struct Given {
    token: Resolved,
    authorization: Resolved,
    access: Resolved,
    refresh: Resolved,
}

impl Given {
    /// Takes the credential keys out of `raw` and resolves them.
    fn resolve(
        kind: Option<VendorKind>,
        raw: &mut RawProvider,
        at: &KeyPath,
        dir: &Path,
        problems: &mut Problems,
    ) -> Given {
        let mut one = |key, value: &mut Option<SecretString>, file: &mut Option<String>, owners| {
            let input = SecretInput::new(key, value.take(), file.take());
            input.resolve_given(applies(kind, owners), at, dir, problems)
        };
        Given {
            token: one("token", &mut raw.token, &mut raw.token_file, GEWE),
            authorization: one(
                "authorization",
                &mut raw.authorization,
                &mut raw.authorization_file,
                AUTHORIZATION,
            ),
            access: one(
                "access_token",
                &mut raw.access_token,
                &mut raw.access_token_file,
                SHRISE,
            ),
            refresh: one(
                "refresh_token",
                &mut raw.refresh_token,
                &mut raw.refresh_token_file,
                SHRISE,
            ),
        }
    }
}

/// A credential the kind requires: resolved, or reported as missing.
fn needed(
    cred: Resolved,
    key: &str,
    kind: VendorKind,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Found> {
    match cred {
        Ok(Some(found)) => Some(found),
        Ok(None) => {
            problems.at(
                &at.key(key),
                format!(
                    "missing required key `{key}` (or `{key}_file`): a {kind} provider needs it"
                ),
            );
            None
        }
        Err(()) => None,
    }
}

/// The secret, if `prefix` + secret is a valid HTTP header value (reported at the key as
/// written otherwise): a secret file with a stray newline inside must fail here, not on
/// every request.
fn sendable(
    cred: Option<Found>,
    prefix: &str,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<SecretString> {
    let (secret, key) = cred?;
    let value = format!("{prefix}{}", secret.expose_secret());
    if HeaderValue::from_str(&value).is_err() {
        problems.at(&at.key(&key), NOT_A_HEADER_VALUE);
        return None;
    }
    Some(secret)
}

/// `second_login_type`: the WKTeam `type` field, a small positive integer (1 to 9).
fn second_login_type(
    raw: Option<i64>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Option<i64>> {
    match raw {
        Some(n) if !(1..=9).contains(&n) => {
            problems.at(
                at,
                format!("`second_login_type` must be between 1 and 9 (got {n})"),
            );
            None
        }
        other => Some(other),
    }
}

/// Reports every key set on the provider that belongs to other kinds; true when none does.
fn keys_fit(kind: VendorKind, raw: &RawProvider, at: &KeyPath, problems: &mut Problems) -> bool {
    let keys = [
        ("token", raw.token.is_some(), GEWE),
        ("token_file", raw.token_file.is_some(), GEWE),
        ("authorization", raw.authorization.is_some(), AUTHORIZATION),
        (
            "authorization_file",
            raw.authorization_file.is_some(),
            AUTHORIZATION,
        ),
        ("access_token", raw.access_token.is_some(), SHRISE),
        ("access_token_file", raw.access_token_file.is_some(), SHRISE),
        ("refresh_token", raw.refresh_token.is_some(), SHRISE),
        (
            "refresh_token_file",
            raw.refresh_token_file.is_some(),
            SHRISE,
        ),
        ("token_header", raw.token_header.is_some(), SHRISE),
        ("token_prefix", raw.token_prefix.is_some(), SHRISE),
        ("second_login_type", raw.second_login_type.is_some(), WKTEAM),
    ];
    let mut fit = true;
    for (key, _, owners) in keys.iter().filter(|(_, set, _)| *set) {
        if !owners.contains(&kind) {
            fit = false;
            let owners: Vec<&str> = owners.iter().map(|k| k.as_str()).collect();
            problems.at(
                &at.key(key),
                format!(
                    "`{key}` does not apply to a {kind} provider (it is for {})",
                    owners.join(" and ")
                ),
            );
        }
    }
    fit
}

/// shrise: the token pair, sent as `<token_header>: <token_prefix><access token>`.
fn shrise(
    (access, refresh): (Option<Found>, Option<Found>),
    header: Option<String>,
    prefix: Option<String>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Auth> {
    let header = header.unwrap_or_else(|| "Authorization".to_owned());
    let header_ok = token_header(&header, &at.key("token_header"), problems);
    let prefix = prefix.unwrap_or_else(|| "Bearer ".to_owned());
    let prefix_ok = HeaderValue::from_str(&prefix).is_ok();
    if !prefix_ok {
        problems.at(&at.key("token_prefix"), NOT_A_HEADER_VALUE);
    }
    let access = if prefix_ok {
        sendable(access, &prefix, at, problems)
    } else {
        None
    };
    let tokens = TokenPair {
        access: access?,
        access_expires: None,
        refresh: refresh?.0,
        refresh_expires: None,
    };
    (header_ok && prefix_ok).then_some(Auth::Shrise {
        tokens,
        header,
        prefix,
    })
}

/// Checks `token_header`: a valid header name that the HTTP client does not set itself.
fn token_header(header: &str, at: &KeyPath, problems: &mut Problems) -> bool {
    let Ok(name) = HeaderName::from_bytes(header.as_bytes()) else {
        problems.at(
            at,
            format!("bad token_header {header:?}: not a valid HTTP header name"),
        );
        return false;
    };
    if RESERVED_HEADERS.contains(&name.as_str()) {
        problems.at(
            at,
            format!(
                "bad token_header {header:?}: the HTTP client sets that header itself; \
                 use the header the gateway reads the token from (default \"Authorization\")"
            ),
        );
        return false;
    }
    true
}
