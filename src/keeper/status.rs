//! The `status` command's view (DESIGN.md §7): one entry per configured device, read from the
//! state store opened read-only, so it works whether the daemon runs or not.
//!
//! Each entry: `name`, `provider`, `state` (the machine's phase word), `since`,
//! `last_online_at`, `recycle_deadline` (RFC 3339 UTC to the second, or null) and
//! `open_incidents`: the kinds open for the device itself plus the provider-wide ones
//! (`credentials_invalid`, `provider_unreachable`) of the providers it calls, sorted. Then
//! two more: `last_probe_at`, when the daemon last probed it, and `stale`: true when the entry
//! may be out of date (the daemon is not running, or has not probed the device for more than
//! three of its poll intervals). A configured device with no stored row yet is `unknown` with
//! nulls. Nothing secret is read.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::liveness::FLUSH_EVERY;
use super::machine::DeviceState;
use crate::config::{Config, Device};
use crate::incident::Subject;
use crate::store::{DeviceRow, Heartbeat, IncidentRecord, Store, StoreError};

mod table;

pub use table::{daemon_note, table};

/// Why the status cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The store cannot be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored device state cannot be read.
    #[error("state store holds an unreadable state for device {device}: {message}")]
    StoredState {
        /// The device.
        device: String,
        /// What serde said.
        message: String,
    },
}

/// One device as `status` shows it; field order is the contract's, then the two of liveness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    /// The configured name.
    pub name: String,
    /// The configured provider.
    pub provider: String,
    /// `online`, `suspect`, `offline`, `recovering`, `awaiting_confirm`, `login_required`,
    /// `recycled` or `unknown`.
    pub state: &'static str,
    /// When the state began.
    pub since: Option<String>,
    /// When the device was last seen online (or the vendor's later last-login time).
    pub last_online_at: Option<String>,
    /// When the vendor will recycle it unless it logs in.
    pub recycle_deadline: Option<String>,
    /// The kinds of the incidents open for it.
    pub open_incidents: Vec<&'static str>,
    /// When the daemon last probed it (written every 15 s, so up to that much behind).
    pub last_probe_at: Option<String>,
    /// The entry may be out of date: the daemon is not running, or has not probed the device
    /// for more than three poll intervals.
    pub stale: bool,
}

/// What the store says of the daemon itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonSeen {
    /// No heartbeat: no daemon of this build has run on the store yet.
    NeverRan,
    /// It wrote its heartbeat recently.
    Running {
        /// When it last did.
        heard_at: Timestamp,
    },
    /// It stopped cleanly.
    Stopped {
        /// When.
        at: Timestamp,
    },
    /// Its heartbeat is too old: it crashed, hung, or its clock jumped.
    Silent {
        /// When it was last heard from.
        heard_at: Timestamp,
    },
}

impl DaemonSeen {
    /// From the stored heartbeat, judged at `now`: silent after three missed writes.
    pub fn judge(heartbeat: Option<Heartbeat>, now: Timestamp) -> DaemonSeen {
        let Some(beat) = heartbeat else {
            return DaemonSeen::NeverRan;
        };
        if let Some(at) = beat.stopped_at {
            return DaemonSeen::Stopped { at };
        }
        let age = now.duration_since(beat.at).unsigned_abs();
        if beat.at > now || age <= FLUSH_EVERY.saturating_mul(3) {
            DaemonSeen::Running { heard_at: beat.at }
        } else {
            DaemonSeen::Silent { heard_at: beat.at }
        }
    }

    /// True while the daemon is running and heard from.
    pub fn is_running(self) -> bool {
        matches!(self, DaemonSeen::Running { .. })
    }
}

/// Every configured device's status, whether a store existed, and what it says of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One per configured device, in configuration order.
    pub devices: Vec<DeviceStatus>,
    /// False when `state_dir` holds no store yet (every device is then `unknown`).
    pub store_found: bool,
    /// The daemon, as its heartbeat tells.
    pub daemon: DaemonSeen,
}

/// What the store holds for the status view.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// Device rows.
    pub rows: Vec<DeviceRow>,
    /// Open incidents.
    pub open: Vec<IncidentRecord>,
    /// Last probe per device.
    pub probes: HashMap<String, Timestamp>,
    /// The daemon's heartbeat.
    pub heartbeat: Option<Heartbeat>,
}

impl Stored {
    /// Reads what the status view needs from an open store.
    pub fn read(store: &Store) -> Result<Stored, StoreError> {
        Ok(Stored {
            rows: store.devices()?,
            open: store.open_incidents()?,
            probes: store.probe_marks()?.into_iter().collect(),
            heartbeat: store.heartbeat()?,
        })
    }
}

/// Reads the store under `config.daemon.state_dir` read-only and builds the report at `now`.
pub fn collect(config: &Config, now: Timestamp) -> Result<Report, StatusError> {
    let (stored, store_found) = match Store::open_read_only(&config.daemon.state_dir)? {
        Some(store) => (Stored::read(&store)?, true),
        None => (Stored::default(), false),
    };
    Ok(Report {
        devices: build(config, &stored, now)?,
        store_found,
        daemon: DaemonSeen::judge(stored.heartbeat, now),
    })
}

/// The report's entries from what the store holds, judged at `now`.
pub fn build(
    config: &Config,
    stored: &Stored,
    now: Timestamp,
) -> Result<Vec<DeviceStatus>, StatusError> {
    let daemon = DaemonSeen::judge(stored.heartbeat, now);
    let rows: HashMap<&str, &DeviceRow> =
        stored.rows.iter().map(|r| (r.name.as_str(), r)).collect();
    config
        .devices
        .iter()
        .map(|device| {
            let row = rows
                .get(device.name.as_str())
                .filter(|r| r.provider == device.provider);
            let state = row
                .map(|row| {
                    serde_json::from_str::<DeviceState>(&row.state_json).map_err(|e| {
                        StatusError::StoredState {
                            device: device.name.clone(),
                            message: e.to_string(),
                        }
                    })
                })
                .transpose()?;
            let probed = stored.probes.get(&device.name).copied();
            let mut entry = entry(device, state.as_ref(), &stored.open);
            entry.last_probe_at = probed.map(rfc3339);
            // A daemon that just started has not written its first marks yet.
            let started = stored.heartbeat.map(|b| b.started_at);
            let watched_since = probed.max(started);
            entry.stale = !daemon.is_running() || !recent(device, watched_since, now);
            Ok(entry)
        })
        .collect()
}

/// Whether `probed` is recent for `device`: within three poll intervals, plus the time the
/// marks may lag behind.
fn recent(device: &Device, probed: Option<Timestamp>, now: Timestamp) -> bool {
    let Some(probed) = probed else {
        return false;
    };
    let allowed = device
        .policy
        .poll_interval
        .saturating_mul(3)
        .saturating_add(FLUSH_EVERY.saturating_mul(2));
    probed >= now || now.duration_since(probed).unsigned_abs() <= allowed.max(Duration::ZERO)
}

fn entry(device: &Device, state: Option<&DeviceState>, open: &[IncidentRecord]) -> DeviceStatus {
    let stamp = |t: Option<Timestamp>| t.map(rfc3339);
    let incidents: BTreeSet<&'static str> = open
        .iter()
        .filter(|r| r.resolved_at.is_none() && concerns(device, &r.key.subject))
        .map(|r| r.key.kind.as_str())
        .collect();
    DeviceStatus {
        name: device.name.clone(),
        provider: device.provider.clone(),
        state: state.map_or("unknown", |s| s.phase.status()),
        since: stamp(state.map(|s| s.since)),
        last_online_at: stamp(state.and_then(|s| s.last_online_at)),
        recycle_deadline: stamp(
            state.and_then(|s| s.recycle_deadline(device.policy.recycle_after)),
        ),
        open_incidents: incidents.into_iter().collect(),
        last_probe_at: None,
        stale: true,
    }
}

/// True when an incident about `subject` concerns `device`.
fn concerns(device: &Device, subject: &Subject) -> bool {
    match subject {
        Subject::Device(name) => *name == device.name,
        Subject::Provider(name) => {
            *name == device.provider
                || device
                    .kick_check
                    .as_ref()
                    .is_some_and(|k| k.provider == *name)
        }
    }
}

/// RFC 3339 UTC to the second, as in every payload.
fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The JSON array of DESIGN.md §7.
pub fn to_json(devices: &[DeviceStatus]) -> String {
    serde_json::to_string_pretty(devices).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
#[path = "status/tests.rs"]
mod tests;
