//! The words incidents are made of (DESIGN.md §5), shared by the keeper that raises them, the
//! ledger that dedupes and delivers them, and the store that keeps them across restarts.
//!
//! The keeper only says "this incident is open now" or "resolved now" for a key; the ledger
//! ([`crate::notify`]) decides whether that is news (opened once, sent once per notifier,
//! repeated per `repeat_interval`, resolved once) and what goes on the wire.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::vendor::VendorKind;

/// The incident kinds of DESIGN.md §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// The ladder is exhausted (or may not be climbed): a person must do a QR login.
    ManualLoginRequired,
    /// The device passed its recycle deadline: the vendor recycled it, it must be reset.
    DeviceRecycled,
    /// The recycle deadline is near (one message per `recycle_warn_before` milestone).
    RecycleWarning,
    /// A provider rejected our credentials (per provider).
    CredentialsInvalid,
    /// Calls to a provider kept failing for its `unreachable_after` (per provider).
    ProviderUnreachable,
}

impl IncidentKind {
    /// Every kind, for parsing and tests.
    pub const ALL: [IncidentKind; 5] = [
        IncidentKind::ManualLoginRequired,
        IncidentKind::DeviceRecycled,
        IncidentKind::RecycleWarning,
        IncidentKind::CredentialsInvalid,
        IncidentKind::ProviderUnreachable,
    ];

    /// The contract spelling (payload `kind`, status `open_incidents`).
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::ManualLoginRequired => "manual_login_required",
            IncidentKind::DeviceRecycled => "device_recycled",
            IncidentKind::RecycleWarning => "recycle_warning",
            IncidentKind::CredentialsInvalid => "credentials_invalid",
            IncidentKind::ProviderUnreachable => "provider_unreachable",
        }
    }

    /// Parses the contract spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<IncidentKind> {
        IncidentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How urgent the kind is, fixed by the contract.
    pub fn severity(self) -> Severity {
        match self {
            IncidentKind::RecycleWarning | IncidentKind::ProviderUnreachable => Severity::Warning,
            IncidentKind::ManualLoginRequired
            | IncidentKind::DeviceRecycled
            | IncidentKind::CredentialsInvalid => Severity::Critical,
        }
    }

    /// True for the kinds raised about a whole provider rather than one device.
    pub fn is_provider_wide(self) -> bool {
        matches!(
            self,
            IncidentKind::CredentialsInvalid | IncidentKind::ProviderUnreachable
        )
    }
}

impl fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an incident is: critical goes out at once, warnings may wait (quiet hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something will be lost soon unless a person acts.
    Warning,
    /// A person must act now.
    Critical,
}

impl Severity {
    /// The contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Why an incident resolved: the `resolution` of a resolved payload. A person reading
/// "resolved" must never take a device that was merely dropped from the watch list for one that
/// is back online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The condition ended: the device is online again, the provider answers again, its
    /// credentials are accepted again, the recycle deadline moved away.
    Recovered,
    /// The device, or its provider, left the configuration (or the device moved to another
    /// provider): it is no longer watched, whatever its state.
    Removed,
    /// A `recycle_warning` replaced by the `device_recycled` it warned of.
    Superseded,
}

impl Resolution {
    /// Every resolution, for parsing and tests.
    pub const ALL: [Resolution; 3] = [
        Resolution::Recovered,
        Resolution::Removed,
        Resolution::Superseded,
    ];

    /// The contract spelling (payload `resolution`).
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Recovered => "recovered",
            Resolution::Removed => "removed",
            Resolution::Superseded => "superseded",
        }
    }

    /// Parses the contract spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an incident is about: one device, or a whole provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "name", rename_all = "lowercase")]
pub enum Subject {
    /// A device, by its configured name.
    Device(String),
    /// A provider, by its configured name.
    Provider(String),
}

impl Subject {
    /// The device or provider name (the first part of an incident id).
    pub fn name(&self) -> &str {
        match self {
            Subject::Device(name) | Subject::Provider(name) => name,
        }
    }
}

/// The identity of an open incident: at most one is open per subject and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IncidentKey {
    /// The device or provider it is about.
    pub subject: Subject,
    /// What happened.
    pub kind: IncidentKind,
}

impl IncidentKey {
    /// The contract `incident_id`: `<subject>/<kind>/<opened_at, RFC 3339 UTC to the second>`.
    pub fn incident_id(&self, opened_at: Timestamp) -> String {
        format!(
            "{}/{}/{}",
            self.subject.name(),
            self.kind,
            opened_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

/// Who an incident concerns and whom to tell: everything a payload needs besides the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentContext {
    /// The provider's configured name (for device incidents, the device's provider).
    pub provider: String,
    /// The provider's vendor.
    pub vendor: VendorKind,
    /// The device's vendor id; `None` for provider incidents.
    pub vendor_id: Option<String>,
    /// The device's labels; empty for provider incidents.
    pub labels: BTreeMap<String, String>,
    /// The notifier names to tell.
    pub notify: Vec<String>,
}

/// What the keeper tells the ledger. The ledger decides whether it is news.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentChange {
    /// The condition holds now. Opens the incident if none is open for the key; for an open
    /// one it only refreshes summary and detail, unless `escalate` is set (a new recycle
    /// milestone), which sends the open incident again with the new detail.
    Open {
        /// Which incident.
        key: IncidentKey,
        /// Who it concerns and whom to tell (shared: a runner sends the same one each time).
        context: Arc<IncidentContext>,
        /// One line a person understands.
        summary: String,
        /// What the kind needs (`deadline`/`remaining`, `steps`/`offline_reason`).
        detail: serde_json::Value,
        /// Send again even though it is already open.
        escalate: bool,
        /// When the condition was observed.
        at: Timestamp,
    },
    /// The condition no longer holds; resolves the open incident for the key, if any.
    Resolve {
        /// Which incident.
        key: IncidentKey,
        /// When the condition was observed to end.
        at: Timestamp,
        /// Why it ended.
        resolution: Resolution,
    },
}

impl IncidentChange {
    /// The key the change is about.
    pub fn key(&self) -> &IncidentKey {
        match self {
            IncidentChange::Open { key, .. } | IncidentChange::Resolve { key, .. } => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_have_contract_severities() {
        for kind in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            IncidentKind::ManualLoginRequired.severity(),
            Severity::Critical
        );
        assert_eq!(IncidentKind::DeviceRecycled.severity(), Severity::Critical);
        assert_eq!(
            IncidentKind::CredentialsInvalid.severity(),
            Severity::Critical
        );
        assert_eq!(IncidentKind::RecycleWarning.severity(), Severity::Warning);
        assert_eq!(
            IncidentKind::ProviderUnreachable.severity(),
            Severity::Warning
        );
        assert!(IncidentKind::CredentialsInvalid.is_provider_wide());
        assert!(!IncidentKind::RecycleWarning.is_provider_wide());
    }

    #[test]
    fn resolutions_round_trip_in_their_contract_spelling() {
        for resolution in Resolution::ALL {
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
            let json = serde_json::to_string(&resolution).unwrap();
            assert_eq!(json, format!("\"{resolution}\""));
        }
        assert_eq!(Resolution::parse("online"), None);
    }

    #[test]
    fn incident_id_is_subject_kind_and_opening_second() {
        let key = IncidentKey {
            subject: Subject::Device("sales-01".into()),
            kind: IncidentKind::ManualLoginRequired,
        };
        let at: Timestamp = "2026-11-21T08:00:00.734Z".parse().unwrap();
        assert_eq!(
            key.incident_id(at),
            "sales-01/manual_login_required/2026-11-21T08:00:00Z"
        );
    }
}
