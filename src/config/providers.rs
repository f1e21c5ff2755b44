//! Stage two for `[[provider]]`: name, kind, URL, limits, blackouts; the credentials are in
//! `credentials`.

use std::path::Path;
use std::time::Duration;

use super::credentials;
use super::locate::KeyPath;
use super::model::{Provider, Span};
use super::raw::RawProvider;
use super::report::Problems;
use super::values::{base_url, in_range, kind, opt_duration, required, required_name};
use super::window::Window;
use crate::vendor::{ClientSettings, VendorKind};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Below this no gateway answers; a typo (`"15ms"` for `"15s"`) would fail every call.
const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// A request held longer than this is dead; longer timeouts only delay recovery.
const MAX_TIMEOUT: Duration = Duration::from_secs(3_600);
const DEFAULT_MAX_IN_FLIGHT: usize = 32;
/// Failing for two polls opens `provider_unreachable`: three failed probes in a row of a
/// one-device provider.
const DEFAULT_UNREACHABLE_ROUNDS: u32 = 2;
/// Healthy for one poll resolves it.
const DEFAULT_REACHABLE_ROUNDS: u32 = 1;
/// More polls than this is a typo: the incident would never open.
const MAX_SPAN_ROUNDS: u32 = 1_000;
/// A span under a second is within one bucket of calls: no damping at all.
const MIN_SPAN: Duration = Duration::from_secs(1);
/// A span over a day hides a dead gateway for longer than anyone wants.
const MAX_SPAN: Duration = Duration::from_secs(86_400);
/// More concurrent requests than this to one gateway is a typo, and would exhaust sockets.
const MAX_IN_FLIGHT: usize = 10_000;

/// Validates one provider at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn provider(
    raw: RawProvider,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Provider> {
    let name = required_name(raw.name.clone(), at, "provider", problems);
    let kind = kind(raw.kind.as_deref(), at, &VendorKind::ALL, problems);
    let base_url = required(raw.base_url.as_deref(), at, "base_url", problems).and_then(|url| {
        base_url(url)
            .map_err(|e| problems.at(&at.key("base_url"), e))
            .ok()
    });
    let timeout = timeout(raw.timeout.as_deref(), &at.key("timeout"), problems);
    let max_in_flight = max_in_flight(raw.max_in_flight, &at.key("max_in_flight"), problems);
    let blackout = windows(raw.blackout.as_deref(), &at.key("blackout"), problems);
    let unreachable_after = span(
        raw.unreachable_after.as_ref(),
        (at, "unreachable_after"),
        Span::Rounds(DEFAULT_UNREACHABLE_ROUNDS),
        problems,
    );
    let reachable_after = span(
        raw.reachable_after.as_ref(),
        (at, "reachable_after"),
        Span::Rounds(DEFAULT_REACHABLE_ROUNDS),
        problems,
    );
    let auth = credentials::auth(kind, raw, at, dir, problems);
    let settings = ClientSettings {
        name: name.clone()?,
        base_url: base_url?,
        timeout: timeout?,
        max_in_flight: max_in_flight?,
        auth: auth?,
    };
    Some(Provider {
        name: name?,
        settings,
        blackout: blackout?,
        unreachable_after: unreachable_after?,
        reachable_after: reachable_after?,
    })
}

/// `unreachable_after` / `reachable_after` (`key` of the provider at `at`): a number of polls
/// (1 to 1,000) or a duration (1 s to 1 day).
fn span(
    raw: Option<&toml::Value>,
    (at, key): (&KeyPath, &str),
    default: Span,
    problems: &mut Problems,
) -> Option<Span> {
    let at = at.key(key);
    let parsed = match raw {
        None => return Some(default),
        Some(toml::Value::Integer(n)) => match u32::try_from(*n) {
            Ok(n) if (1..=MAX_SPAN_ROUNDS).contains(&n) => Ok(Span::Rounds(n)),
            _ => Err(format!(
                "`{key}` = {n} polls is out of range: between 1 and {MAX_SPAN_ROUNDS}"
            )),
        },
        Some(toml::Value::String(text)) => {
            let d = opt_duration(Some(text), &at, problems)?;
            in_range(d, key, MIN_SPAN, MAX_SPAN).map(Span::Duration)
        }
        Some(other) => Err(format!(
            "`{key}`: expected a number of polls (e.g. 3) or a duration (e.g. \"90s\"), found a {}",
            other.type_str()
        )),
    };
    parsed.map_err(|e| problems.at(&at, e)).ok()
}

/// `timeout`: 100 ms to 1 h, default 15 s.
fn timeout(raw: Option<&str>, at: &KeyPath, problems: &mut Problems) -> Option<Duration> {
    let Some(text) = raw else {
        return Some(DEFAULT_TIMEOUT);
    };
    let parsed = opt_duration(Some(text), at, problems)?;
    in_range(parsed, "timeout", MIN_TIMEOUT, MAX_TIMEOUT)
        .map_err(|e| problems.at(at, e))
        .ok()
}

/// `max_in_flight`: 1 to 10,000, default 32.
fn max_in_flight(raw: Option<usize>, at: &KeyPath, problems: &mut Problems) -> Option<usize> {
    let n = raw.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    if (1..=MAX_IN_FLIGHT).contains(&n) {
        Some(n)
    } else {
        problems.at(
            at,
            format!("`max_in_flight` must be between 1 and {MAX_IN_FLIGHT}"),
        );
        None
    }
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
