//! The `status` command's view (DESIGN.md §7): one entry per configured device, read from the
//! state store opened read-only, so it works whether the daemon runs or not.
//!
//! Each entry: `name`, `provider`, `state` (the machine's phase word), `since`,
//! `last_online_at`, `recycle_deadline` (RFC 3339 UTC to the second, or null) and
//! `open_incidents`: the kinds open for the device itself plus the provider-wide ones
//! (`credentials_invalid`, `provider_unreachable`) of the providers it calls, sorted. A
//! configured device with no stored row yet is `unknown` with nulls. Nothing secret is read.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::machine::DeviceState;
use crate::config::{Config, Device};
use crate::incident::Subject;
use crate::store::{DeviceRow, IncidentRecord, Store, StoreError};

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

/// One device as `status` shows it; field order is the contract's.
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
}

/// Every configured device's status, and whether a store existed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One per configured device, in configuration order.
    pub devices: Vec<DeviceStatus>,
    /// False when `state_dir` holds no store yet (every device is then `unknown`).
    pub store_found: bool,
}

/// Reads the store under `config.daemon.state_dir` read-only and builds the report.
pub fn collect(config: &Config) -> Result<Report, StatusError> {
    let Some(store) = Store::open_read_only(&config.daemon.state_dir)? else {
        return Ok(Report {
            devices: build(config, &[], &[])?,
            store_found: false,
        });
    };
    let rows = store.devices()?;
    let open = store.open_incidents()?;
    Ok(Report {
        devices: build(config, &rows, &open)?,
        store_found: true,
    })
}

/// The report's entries from stored rows and open incidents.
pub fn build(
    config: &Config,
    rows: &[DeviceRow],
    open: &[IncidentRecord],
) -> Result<Vec<DeviceStatus>, StatusError> {
    config
        .devices
        .iter()
        .map(|device| {
            let row = rows
                .iter()
                .find(|r| r.name == device.name && r.provider == device.provider);
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
            Ok(entry(device, state.as_ref(), open))
        })
        .collect()
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

/// A table for people: times in `zone` (named `zone_name` in the last line).
pub fn table(devices: &[DeviceStatus], zone: &TimeZone, zone_name: &str) -> String {
    let header = [
        "NAME",
        "PROVIDER",
        "STATE",
        "SINCE",
        "LAST ONLINE",
        "RECYCLE BY",
        "INCIDENTS",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = devices.iter().map(|d| cells(d, zone)).collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut text = String::new();
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(text, "{cell:<w$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    let _ = write!(out, "({} devices; times in {zone_name})", devices.len());
    out
}

/// One table row: times in `zone` to the minute, `-` for none.
fn cells(d: &DeviceStatus, zone: &TimeZone) -> [String; 7] {
    let local = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| s.parse::<Timestamp>().ok())
            .map(|t| {
                t.to_zoned(zone.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| "-".to_owned())
    };
    let incidents = if d.open_incidents.is_empty() {
        "-".to_owned()
    } else {
        d.open_incidents.join(",")
    };
    [
        d.name.clone(),
        d.provider.clone(),
        d.state.to_owned(),
        local(&d.since),
        local(&d.last_online_at),
        local(&d.recycle_deadline),
        incidents,
    ]
}

#[cfg(test)]
#[path = "status/tests.rs"]
mod tests;
