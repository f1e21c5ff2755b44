//! Stage two: the one validation pass from raw sections to the runtime's types.
//!
//! Every section is checked even when an earlier one failed, so one run reports everything.
//! Items serde refused still lend their names to the cross-checks, so a broken provider does
//! not also make every device that uses it "unknown".

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::devices::{self, Context};
use super::locate::KeyPath;
use super::model::{Daemon, Device, LogFormat, Provider};
use super::notifier::Notifier;
use super::notifiers;
use super::policy::{self, Policy};
use super::providers;
use super::raw::{Entry, RawConfig, RawDaemon, RawPolicy, RawProvider};
use super::report::Problems;
use super::secrets::SecretInput;
use super::values::{in_range, non_empty, opt_duration};
use crate::vendor::VendorKind;
use secrecy::{ExposeSecret, SecretString};

const DEFAULT_STATE_DIR: &str = "/var/lib/session-keeper";
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A stop that waits longer than this looks hung to service managers (systemd's default stop
/// timeout is 90 s; 10 min is already generous).
const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(600);

/// Everything a [`super::Config`] holds besides its source path.
pub(crate) struct Parts {
    pub(crate) daemon: Daemon,
    pub(crate) providers: Vec<Provider>,
    pub(crate) devices: Vec<Device>,
    pub(crate) notifiers: Vec<Notifier>,
}

/// Validates every section; `Some` only when nothing was wrong. `dir` anchors relative
/// `*_file` paths (the config file's directory).
pub(crate) fn run(raw: RawConfig, dir: &Path, problems: &mut Problems) -> Option<Parts> {
    let root = KeyPath::root();
    let daemon = match raw.daemon {
        Some(Entry::Parsed(daemon)) => daemon_section(daemon, &root.key("daemon"), dir, problems),
        Some(Entry::Broken { .. }) => None,
        None => daemon_section(RawDaemon::default(), &root.key("daemon"), dir, problems),
    };
    let (base, policy_ok) = base_policy(raw.policy.as_ref(), problems);
    let provider_names = names(&raw.providers, |p| p.name.as_deref());
    let notifier_names = names(&raw.notifiers, |n| n.name.as_deref());
    unique(&provider_names, "provider", problems);
    unique(&notifier_names, "notifier", problems);
    unique(
        &names(&raw.devices, |d| d.name.as_deref()),
        "device",
        problems,
    );
    let kinds = provider_kinds(&raw.providers, &provider_names);
    devices::same_account(&raw.devices, &kinds, problems);
    let notifier_names: Vec<String> = notifier_names.into_iter().flatten().collect();
    let ctx = Context {
        providers: &kinds,
        notifiers: &notifier_names,
        policy: &base,
        policy_ok,
    };
    let providers = each(raw.providers, "provider", problems, |raw, at, problems| {
        providers::provider(raw, at, dir, problems)
    });
    let notifiers = each(raw.notifiers, "notifier", problems, |raw, at, problems| {
        notifiers::notifier(raw, at, dir, problems)
    });
    let devices = each(raw.devices, "device", problems, |raw, at, problems| {
        devices::device(raw, at, &ctx, problems)
    });
    Some(Parts {
        daemon: daemon?,
        providers: providers?,
        devices: devices?,
        notifiers: notifiers?,
    })
}

/// `[policy]` over the defaults, and whether it was free of problems.
fn base_policy(raw: Option<&Entry<RawPolicy>>, problems: &mut Problems) -> (Policy, bool) {
    match raw {
        Some(Entry::Parsed(policy)) => {
            let at = KeyPath::root().key("policy");
            let before = problems.len();
            let patch = policy::patch(&policy.policy(), &at, problems);
            let base = Policy::default().apply(&patch);
            base.check_merged(&patch, &at, problems);
            (base, problems.len() == before)
        }
        Some(Entry::Broken { .. }) => (Policy::default(), false),
        None => (Policy::default(), true),
    }
}

/// Validates every item of one array; `Some` only when all of them are valid.
fn each<R, T>(
    entries: Vec<Entry<R>>,
    section: &str,
    problems: &mut Problems,
    mut check: impl FnMut(R, &KeyPath, &mut Problems) -> Option<T>,
) -> Option<Vec<T>> {
    let at = KeyPath::root().key(section);
    let checked: Vec<Option<T>> = entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| match entry {
            Entry::Parsed(raw) => check(raw, &at.index(i), problems),
            Entry::Broken { .. } => None,
        })
        .collect();
    checked.into_iter().collect()
}

/// Each item's `name`, parsed or not, in file order.
fn names<R>(entries: &[Entry<R>], name: impl Fn(&R) -> Option<&str>) -> Vec<Option<String>> {
    entries
        .iter()
        .map(|entry| match entry {
            Entry::Parsed(raw) => name(raw).map(str::to_owned),
            Entry::Broken { name } => name.clone(),
        })
        .collect()
}

/// Reports every name used by an earlier item of the same section.
fn unique(names: &[Option<String>], section: &str, problems: &mut Problems) {
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        if let Some(first) = names[..i].iter().position(|n| n.as_ref() == Some(name)) {
            problems.at(
                &KeyPath::root().key(section).index(i).key("name"),
                format!("duplicate {section} name {name:?} (already used by {section}[{first}])"),
            );
        }
    }
}

/// Provider name → kind, for devices and kick checks (kind `None` when unknown or refused).
fn provider_kinds(
    entries: &[Entry<RawProvider>],
    names: &[Option<String>],
) -> BTreeMap<String, Option<VendorKind>> {
    let mut kinds = BTreeMap::new();
    for (entry, name) in entries.iter().zip(names) {
        let kind = match entry {
            Entry::Parsed(raw) => raw.kind.as_deref().and_then(VendorKind::parse),
            Entry::Broken { .. } => None,
        };
        if let Some(name) = name {
            kinds.entry(name.clone()).or_insert(kind);
        }
    }
    kinds
}

/// `[daemon]` with defaults filled in; a relative `state_dir` is resolved against `dir` (the
/// config file's directory), like `*_file` paths, so it does not depend on where the daemon
/// was started.
fn daemon_section(
    raw: RawDaemon,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Option<Daemon> {
    let before = problems.len();
    let state_dir = match raw.state_dir {
        Some(state) => non_empty(state, &at.key("state_dir"), problems).map(|s| dir.join(s)),
        None => Some(PathBuf::from(DEFAULT_STATE_DIR)),
    };
    let admin_listen = raw
        .admin_listen
        .and_then(|addr| admin_listen(&addr, &at.key("admin_listen"), problems));
    let token = SecretInput::new("admin_token", raw.admin_token, raw.admin_token_file);
    let admin_token = admin_token(token, at, dir, problems);
    if let (Some(addr), Ok(None)) = (admin_listen, &admin_token)
        && !addr.ip().is_loopback()
    {
        problems.warn(
            &at.key("admin_listen"),
            format!(
                "the admin server listens on {addr}, reachable from other hosts, and no \
                 admin_token is set: anyone who can reach it reads /metrics and the device \
                 list; set admin_token (or admin_token_file), or listen on 127.0.0.1"
            ),
        );
    }
    let log_format = raw
        .log_format
        .and_then(|format| log_format(&format, &at.key("log_format"), problems));
    let zone = timezone(raw.timezone, &at.key("timezone"), problems);
    let grace_at = at.key("shutdown_grace");
    let shutdown_grace = opt_duration(raw.shutdown_grace.as_deref(), &grace_at, problems)
        .and_then(|d| {
            in_range(d, "shutdown_grace", Duration::ZERO, MAX_SHUTDOWN_GRACE)
                .map_err(|e| problems.at(&grace_at, e))
                .ok()
        })
        .unwrap_or(DEFAULT_SHUTDOWN_GRACE);
    let (timezone, timezone_name) = zone?;
    (problems.len() == before).then_some(Daemon {
        state_dir: state_dir?,
        admin_listen,
        admin_token: admin_token.ok()?,
        log_format,
        timezone,
        timezone_name,
        shutdown_grace,
    })
}

/// `admin_token` / `admin_token_file`: sent as `Authorization: Bearer <token>`, so it must be
/// visible ASCII without spaces. `Err(())` when given but unusable (reported).
fn admin_token(
    token: SecretInput,
    at: &KeyPath,
    dir: &Path,
    problems: &mut Problems,
) -> Result<Option<SecretString>, ()> {
    let Some((token, key)) = token.resolve_given(true, at, dir, problems)? else {
        return Ok(None);
    };
    let sendable = token.expose_secret().bytes().all(|b| b.is_ascii_graphic());
    if !sendable && !problems.secrets_unread() {
        problems.at(
            &at.key(&key),
            "must be visible ASCII without spaces: clients send it in an `Authorization: \
             Bearer` header (the value is not shown)",
        );
        return Err(());
    }
    Ok(Some(token))
}

fn admin_listen(addr: &str, at: &KeyPath, problems: &mut Problems) -> Option<SocketAddr> {
    addr.parse::<SocketAddr>()
        .map_err(|e| {
            problems.at(
                at,
                format!(
                    "bad admin_listen {addr:?}: expected an IP address and port, like \"127.0.0.1:9464\" ({e})"
                ),
            )
        })
        .ok()
}

fn log_format(format: &str, at: &KeyPath, problems: &mut Problems) -> Option<LogFormat> {
    let parsed = LogFormat::parse(format);
    if parsed.is_none() {
        problems.at(
            at,
            format!(
                "unknown log_format `{format}`, expected `json` or `text` (leave it out for text on a terminal, json otherwise)"
            ),
        );
    }
    parsed
}

/// The zone (checked against the bundled tz database) and its name.
fn timezone(
    raw: Option<String>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<(jiff::tz::TimeZone, String)> {
    let Some(name) = raw else {
        let zone = jiff::tz::TimeZone::system();
        let name = zone.iana_name().unwrap_or("system").to_owned();
        return Some((zone, name));
    };
    match jiff::tz::TimeZone::get(&name) {
        Ok(zone) => Some((zone, name)),
        Err(e) => {
            problems.at(
                at,
                format!(
                    "unknown timezone {name:?}: expected an IANA name like \"Asia/Shanghai\" ({e})"
                ),
            );
            None
        }
    }
}
