//! Stage two for `[[provider]]`: kind, URL, limits, blackouts and the kind's credentials.

use std::path::Path;
use std::time::Duration;

use reqwest::header::HeaderName;
use secrecy::SecretString;

use super::locate::KeyPath;
use super::model::Provider;
use super::raw::RawProvider;
use super::report::Problems;
use super::secrets::SecretInput;
use super::values::{base_url, kind, opt_duration, required, required_text};
use super::window::Window;
use crate::vendor::{Auth, ClientSettings, TokenPair, VendorKind};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
const DEFAULT_MAX_IN_FLIGHT: usize = 32;

/// Validates one provider at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn provider(
    raw: RawProvider,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Provider> {
    let name = required_text(raw.name.clone(), at, "name", problems);
    let kind = kind(raw.kind.as_deref(), at, &VendorKind::ALL, problems);
    let base_url = required(raw.base_url.as_deref(), at, "base_url", problems).and_then(|url| {
        base_url(url)
            .map_err(|e| problems.at(&at.key("base_url"), e))
            .ok()
    });
    let timeout = opt_duration(raw.timeout.as_deref(), &at.key("timeout"), problems)
        .unwrap_or(DEFAULT_TIMEOUT);
    if timeout.is_zero() {
        problems.at(&at.key("timeout"), "`timeout` must be greater than 0");
    }
    let max_in_flight = raw.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    if max_in_flight == 0 {
        problems.at(
            &at.key("max_in_flight"),
            "`max_in_flight` must be at least 1",
        );
    }
    let blackout = windows(raw.blackout.as_deref(), &at.key("blackout"), problems);
    let auth = kind.and_then(|kind| auth(kind, raw, at, dir, problems));
    let settings = ClientSettings {
        name: name.clone()?,
        base_url: base_url?,
        timeout,
        max_in_flight,
        auth: auth?,
    };
    Some(Provider {
        name: name?,
        settings,
        blackout: blackout?,
    })
}

/// Parses a list of windows (blackouts), reporting each bad item at its index.
pub(crate) fn windows(
    raw: Option<&[String]>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Vec<Window>> {
    let mut list = Vec::new();
    let mut ok = true;
    for (i, item) in raw.unwrap_or_default().iter().enumerate() {
        match Window::parse(item) {
            Ok(window) => list.push(window),
            Err(e) => {
                problems.at(&at.index(i), e);
                ok = false;
            }
        }
    }
    ok.then_some(list)
}

const GEWE: &[VendorKind] = &[VendorKind::Gewe];
const AUTHORIZATION: &[VendorKind] = &[VendorKind::Wechatpro, VendorKind::Wkteam];
const WKTEAM: &[VendorKind] = &[VendorKind::Wkteam];
const SHRISE: &[VendorKind] = &[VendorKind::Shrise];

/// Builds the credentials `kind` needs, after checking every kind-specific key fits it.
fn auth(
    kind: VendorKind,
    raw: RawProvider,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Auth> {
    let fits = keys_fit(kind, &raw, at, problems);
    let credential = |key, value, file, problems: &mut Problems| {
        needed(SecretInput::new(key, value, file), kind, at, dir, problems)
    };
    let auth = match kind {
        VendorKind::Gewe => Auth::Gewe {
            token: credential("token", raw.token, raw.token_file, problems)?,
        },
        VendorKind::Wechatpro => Auth::Wechatpro {
            authorization: credential(
                "authorization",
                raw.authorization,
                raw.authorization_file,
                problems,
            )?,
        },
        VendorKind::Wkteam => Auth::Wkteam {
            authorization: credential(
                "authorization",
                raw.authorization,
                raw.authorization_file,
                problems,
            )?,
            second_login_type: raw.second_login_type,
        },
        VendorKind::Shrise => shrise(
            credential(
                "access_token",
                raw.access_token,
                raw.access_token_file,
                problems,
            ),
            credential(
                "refresh_token",
                raw.refresh_token,
                raw.refresh_token_file,
                problems,
            ),
            raw.token_header,
            raw.token_prefix,
            &at.key("token_header"),
            problems,
        )?,
    };
    fits.then_some(auth)
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

/// A credential the kind requires: resolved, or reported as missing.
fn needed(
    input: SecretInput,
    kind: VendorKind,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<SecretString> {
    if input.written_as().is_none() {
        let key = input.key;
        problems.at(
            &at.key(key),
            format!("missing required key `{key}` (or `{key}_file`): a {kind} provider needs it"),
        );
        return None;
    }
    input.resolve(at, dir, problems)
}

fn shrise(
    access: Option<SecretString>,
    refresh: Option<SecretString>,
    header: Option<String>,
    prefix: Option<String>,
    header_at: &KeyPath,
    problems: &mut Problems,
) -> Option<Auth> {
    let header = header.unwrap_or_else(|| "Authorization".to_owned());
    if HeaderName::from_bytes(header.as_bytes()).is_err() {
        problems.at(
            header_at,
            format!("bad token_header {header:?}: not a valid HTTP header name"),
        );
        return None;
    }
    Some(Auth::Shrise {
        tokens: TokenPair {
            access: access?,
            access_expires: None,
            refresh: refresh?,
            refresh_expires: None,
        },
        header,
        prefix: prefix.unwrap_or_else(|| "Bearer ".to_owned()),
    })
}
