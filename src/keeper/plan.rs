//! A reload as a diff: which providers and devices are added, removed or changed between two
//! configurations. Pure, so every rule is a unit test.
//!
//! - A provider changed when anything its client or gate is built from changed (URL, limits,
//!   credentials, blackout windows).
//! - A device restarts (keeping its in-memory state) when its own configuration changed, when
//!   a provider it calls (its own or its kick check's) was rebuilt, or when the daemon's time
//!   zone changed (every window is read in it).
//! - Unchanged devices keep running untouched.

use std::collections::BTreeSet;

use super::fingerprint;
use crate::config::Config;

/// What a reload changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Providers only in the new configuration.
    pub(crate) providers_added: Vec<String>,
    /// Providers only in the old configuration.
    pub(crate) providers_removed: Vec<String>,
    /// Providers in both, built differently.
    pub(crate) providers_changed: Vec<String>,
    /// Devices only in the new configuration.
    pub(crate) devices_added: Vec<String>,
    /// Devices only in the old configuration.
    pub(crate) devices_removed: Vec<String>,
    /// Devices in both that must restart (with their state).
    pub(crate) devices_restarted: Vec<String>,
    /// The notifiers differ.
    pub(crate) notifiers_changed: bool,
}

#[cfg(test)]
impl Plan {
    /// True when the reload changes nothing that runs.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Plan::default()
    }
}

/// Compares `old` with `new`.
pub(crate) fn plan(old: &Config, new: &Config) -> Plan {
    let mut plan = Plan::default();
    for p in &new.providers {
        match old.provider(&p.name) {
            None => plan.providers_added.push(p.name.clone()),
            Some(o) if fingerprint::provider(o) != fingerprint::provider(p) => {
                plan.providers_changed.push(p.name.clone());
            }
            Some(_) => {}
        }
    }
    for p in &old.providers {
        if new.provider(&p.name).is_none() {
            plan.providers_removed.push(p.name.clone());
        }
    }
    let rebuilt: BTreeSet<&str> = plan.providers_changed.iter().map(String::as_str).collect();
    let zone_changed = old.daemon.timezone_name != new.daemon.timezone_name;
    for d in &new.devices {
        let Some(o) = old.devices.iter().find(|o| o.name == d.name) else {
            plan.devices_added.push(d.name.clone());
            continue;
        };
        let calls_rebuilt = rebuilt.contains(d.provider.as_str())
            || d.kick_check
                .as_ref()
                .is_some_and(|k| rebuilt.contains(k.provider.as_str()));
        if o != d || calls_rebuilt || zone_changed {
            plan.devices_restarted.push(d.name.clone());
        }
    }
    for d in &old.devices {
        if !new.devices.iter().any(|n| n.name == d.name) {
            plan.devices_removed.push(d.name.clone());
        }
    }
    let prints =
        |c: &Config| -> Vec<u64> { c.notifiers.iter().map(fingerprint::notifier).collect() };
    plan.notifiers_changed = prints(old) != prints(new);
    plan
}

#[cfg(test)]
#[path = "plan/tests.rs"]
mod tests;
