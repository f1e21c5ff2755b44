//! Stage two for `[[device]]`: name, provider and the ids its vendor needs, kick check,
//! notifiers, labels and the merged policy.

use std::collections::BTreeMap;

use super::locate::KeyPath;
use super::model::{Device, KickCheck};
use super::policy::{self, Policy};
use super::raw::Entry;
use super::raw::{RawDevice, RawKickCheck};
use super::report::Problems;
use super::values::{label_key, non_empty, required, required_name, required_text};
use crate::vendor::VendorKind;

/// What devices are checked against: the names defined elsewhere in the file.
pub(crate) struct Context<'a> {
    /// Provider name → kind (`None` when that provider is too broken to tell).
    pub(crate) providers: &'a BTreeMap<String, Option<VendorKind>>,
    /// Every notifier name, in file order.
    pub(crate) notifiers: &'a [String],
    /// `[policy]` over the defaults.
    pub(crate) policy: &'a Policy,
    /// False when `[policy]` itself was refused: cross-key checks would then compare against
    /// values the user did not write.
    pub(crate) policy_ok: bool,
}

/// Validates one device at `at`; `None` when anything about it is wrong (all reported).
pub(crate) fn device(
    raw: RawDevice,
    at: &KeyPath,
    ctx: &Context<'_>,
    problems: &mut Problems,
) -> Option<Device> {
    let name = required_name(raw.name.clone(), at, "device", problems);
    let (provider, kind) =
        provider_of(raw.provider.as_deref(), &at.key("provider"), ctx, problems).unzip();
    let kind = kind.flatten();
    let id = id(raw.id.clone(), kind, at, problems);
    let w_id = w_id(raw.w_id.clone(), kind, at, problems);
    let region_id = vendor_only(
        raw.region_id.clone(),
        "region_id",
        VendorKind::Gewe,
        kind,
        at,
        problems,
    );
    if kind == Some(VendorKind::Gewe) && matches!(region_id, Some(None)) {
        problems.warn(
            at,
            "this GeWe device has no `region_id`: GeWe's dialogLogin needs it, so second login \
             can never run and every offline that a reconnect cannot fix goes straight to \
             manual_login_required; set `region_id` (e.g. \"320000\") to enable it",
        );
    }
    let kick_check = match raw.kick_check.as_ref() {
        Some(kick) => kick_check(kick, &at.key("kick_check"), ctx, problems).map(Some),
        None => Some(None),
    };
    let notify = notify(raw.notify.as_deref(), &at.key("notify"), ctx, problems);
    let policy = device_policy(&raw, at, ctx, problems);
    let labels = labels(raw.labels.unwrap_or_default(), &at.key("labels"), problems);
    Some(Device {
        name: name?,
        provider: provider?,
        kind: kind?,
        id: id?,
        w_id: w_id?,
        region_id: region_id?,
        kick_check: kick_check?,
        notify: notify?,
        labels: labels?,
        policy: policy?,
    })
}

/// Label keys must be non-empty names (they become metrics labels and log fields); values may
/// be any string.
fn labels(
    labels: BTreeMap<String, String>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<BTreeMap<String, String>> {
    let mut ok = true;
    for key in labels.keys() {
        if let Err(e) = label_key(key) {
            problems.at(&at.key(key), e);
            ok = false;
        }
    }
    ok.then_some(labels)
}

/// Reports every device that watches the same account as an earlier one: the same `id` on
/// the same provider, or for wkteam the same `w_id` (the login instance). Two watchers of one
/// account would race each other's recoveries and double every alert.
pub(crate) fn same_account(
    entries: &[Entry<RawDevice>],
    kinds: &BTreeMap<String, Option<VendorKind>>,
    problems: &mut Problems,
) {
    let mut ids = BTreeMap::new();
    let mut w_ids = BTreeMap::new();
    let at = KeyPath::root().key("device");
    for (i, entry) in entries.iter().enumerate() {
        let Entry::Parsed(raw) = entry else { continue };
        // A device naming an unknown provider is reported as such; nothing to compare.
        let Some(provider) = raw.provider.as_deref().filter(|p| kinds.contains_key(*p)) else {
            continue;
        };
        let this = match raw.name.as_deref() {
            Some(name) => format!("device {name:?}"),
            None => "this device".to_owned(),
        };
        let id = raw.id.as_deref().filter(|id| !id.trim().is_empty());
        if let Some(first) = id.and_then(|id| claim(&mut ids, (provider, id), i)) {
            let id = id.unwrap_or_default();
            let first = describe(entries, first);
            let why = format!(
                "{this} watches {id} on provider {provider:?}, which {first} already watches"
            );
            problems.at(&at.index(i).key("id"), why);
        }
        let wkteam = kinds.get(provider) == Some(&Some(VendorKind::Wkteam));
        let w_id = raw
            .w_id
            .as_deref()
            .filter(|w| wkteam && !w.trim().is_empty());
        if let Some(first) = w_id.and_then(|w| claim(&mut w_ids, (provider, w), i)) {
            let w_id = w_id.unwrap_or_default();
            let first = describe(entries, first);
            let why = format!(
                "{this} uses w_id {w_id:?} on provider {provider:?}, which {first} already uses"
            );
            problems.at(&at.index(i).key("w_id"), why);
        }
    }
}

/// Records that item `i` uses `key`; returns the earlier item that did, if any.
fn claim<'a>(
    seen: &mut BTreeMap<(&'a str, &'a str), usize>,
    key: (&'a str, &'a str),
    i: usize,
) -> Option<usize> {
    match seen.entry(key) {
        std::collections::btree_map::Entry::Occupied(first) => Some(*first.get()),
        std::collections::btree_map::Entry::Vacant(slot) => {
            slot.insert(i);
            None
        }
    }
}

/// `device[1] "y"` (or `device[1]` when it has no name), for messages about another device.
fn describe(entries: &[Entry<RawDevice>], i: usize) -> String {
    match entries.get(i) {
        Some(Entry::Parsed(RawDevice {
            name: Some(name), ..
        })) => format!("device[{i}] {name:?}"),
        _ => format!("device[{i}]"),
    }
}

/// Resolves the device's provider: its name and, when known, its kind.
fn provider_of(
    raw: Option<&str>,
    at: &KeyPath,
    ctx: &Context<'_>,
    problems: &mut Problems,
) -> Option<(String, Option<VendorKind>)> {
    let name = raw.or_else(|| {
        problems.at(at, "missing required key `provider`");
        None
    })?;
    match ctx.providers.get(name) {
        Some(kind) => Some((name.to_owned(), *kind)),
        None => {
            problems.at(at, unknown("provider", name, ctx.providers.keys()));
            None
        }
    }
}

/// The message for a reference to a name that is not defined.
fn unknown<'a>(what: &str, name: &str, defined: impl Iterator<Item = &'a String>) -> String {
    let defined: Vec<String> = defined.map(|n| format!("{n:?}")).collect();
    if defined.is_empty() {
        format!("unknown {what} {name:?}: no {what} is defined")
    } else {
        format!("unknown {what} {name:?} (defined: {})", defined.join(", "))
    }
}

/// The vendor id, which every device needs.
fn id(
    raw: Option<String>,
    kind: Option<VendorKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<String> {
    let Some(raw) = raw else {
        let what = match kind {
            Some(VendorKind::Gewe) => ": the gewe appId",
            Some(VendorKind::Wechatpro) => ": the wechatpro deviceId",
            Some(VendorKind::Wkteam) => ": the wkteam wcId",
            Some(VendorKind::Shrise) => ": the shrise deviceNumber",
            None => "",
        };
        problems.at(&at.key("id"), format!("missing required key `id`{what}"));
        return None;
    };
    let raw = non_empty(raw, &at.key("id"), problems)?;
    if let Some(bad) = raw.chars().find(|c| c.is_control()) {
        // A control character would reach the gateway's request and every log line.
        problems.at(
            &at.key("id"),
            format!(
                "must not contain control characters (found U+{:04X}): ids are sent to the \
                 gateway and written to logs",
                u32::from(bad)
            ),
        );
        return None;
    }
    Some(raw)
}

/// A key only one vendor's devices have: `Some(value)` when it fits (or the kind is unknown),
/// `None` (reported) when it is on the wrong kind or blank.
fn vendor_only(
    raw: Option<String>,
    key: &str,
    owner: VendorKind,
    kind: Option<VendorKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Option<String>> {
    let Some(value) = raw else {
        return Some(None);
    };
    if let Some(kind) = kind.filter(|k| *k != owner) {
        problems.at(
            &at.key(key),
            format!("`{key}` does not apply to a {kind} device (only {owner} devices have one)"),
        );
        return None;
    }
    non_empty(value, &at.key(key), problems).map(Some)
}

/// `w_id`: wkteam devices must have it, others must not.
fn w_id(
    raw: Option<String>,
    kind: Option<VendorKind>,
    at: &KeyPath,
    problems: &mut Problems,
) -> Option<Option<String>> {
    let w_id = vendor_only(raw, "w_id", VendorKind::Wkteam, kind, at, problems)?;
    if kind == Some(VendorKind::Wkteam) && w_id.is_none() {
        problems.at(
            &at.key("w_id"),
            "missing required key `w_id`: a wkteam device needs its login instance id (wId)",
        );
        return None;
    }
    Some(w_id)
}

fn kick_check(
    raw: &RawKickCheck,
    at: &KeyPath,
    ctx: &Context<'_>,
    problems: &mut Problems,
) -> Option<KickCheck> {
    let provider = required(raw.provider.clone(), at, "provider", problems);
    let device_number = required_text(raw.device_number.clone(), at, "device_number", problems);
    let provider = provider?;
    match ctx.providers.get(&provider) {
        None => {
            problems.at(
                &at.key("provider"),
                unknown("provider", &provider, ctx.providers.keys()),
            );
            return None;
        }
        Some(Some(kind)) if *kind != VendorKind::Shrise => {
            problems.at(
                &at.key("provider"),
                format!(
                    "kick_check provider {provider:?} is a {kind} provider; a kick check needs a shrise provider"
                ),
            );
            return None;
        }
        Some(_) => {}
    }
    Some(KickCheck {
        provider,
        device_number: device_number?,
    })
}

/// The notifier list: the one given (each defined, none twice) or every notifier.
fn notify(
    raw: Option<&[String]>,
    at: &KeyPath,
    ctx: &Context<'_>,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let Some(raw) = raw else {
        return Some(ctx.notifiers.to_vec());
    };
    let mut ok = true;
    for (i, name) in raw.iter().enumerate() {
        if !ctx.notifiers.contains(name) {
            problems.at(
                &at.index(i),
                unknown("notifier", name, ctx.notifiers.iter()),
            );
            ok = false;
        } else if raw[..i].contains(name) {
            problems.at(&at.index(i), format!("notifier {name:?} is listed twice"));
            ok = false;
        }
    }
    ok.then(|| raw.to_vec())
}

/// `[policy]` with this device's overrides, checked where the device wrote them.
fn device_policy(
    raw: &RawDevice,
    at: &KeyPath,
    ctx: &Context<'_>,
    problems: &mut Problems,
) -> Option<Policy> {
    let before = problems.len();
    let patch = policy::patch(&raw.policy(), at, problems);
    let merged = ctx.policy.apply(&patch);
    if ctx.policy_ok {
        merged.check_merged(&patch, at, problems);
    }
    (problems.len() == before).then_some(merged)
}
