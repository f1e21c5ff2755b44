//! The generic webhook's JSON body, exactly as DESIGN.md §5 fixes it: the same keys in the
//! same order, timestamps as RFC 3339 UTC to the second (`2026-11-21T08:00:01Z`).
//!
//! A payload is built from the incident as the ledger recorded it, the delivery it belongs to
//! and the moment of the attempt, so a retried message carries the time it was actually sent.
//!
//! A resolved payload carries one key more than the contract's example, after `detail`:
//! `resolution`, why it resolved (`recovered`, `removed`, `superseded`; see
//! [`crate::incident::Resolution`]). A firing payload is the example key for key.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::incident::{IncidentKind, Resolution, Severity, Subject};
use crate::store::{DeliveryRecord, IncidentRecord, Transition};
use crate::vendor::VendorKind;

/// The contract's `schema` value; a receiver switches on it.
pub const SCHEMA: &str = "session-keeper.alert.v1";

/// One webhook message. Field order is the contract's key order (serde keeps it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload<'a> {
    schema: &'static str,
    status: Transition,
    kind: IncidentKind,
    severity: Severity,
    incident_id: &'a str,
    device: Option<&'a str>,
    provider: &'a str,
    vendor: VendorKind,
    vendor_id: Option<&'a str>,
    labels: &'a BTreeMap<String, String>,
    summary: &'a str,
    opened_at: String,
    resolved_at: Option<String>,
    sent_at: String,
    repeat: u32,
    detail: &'a serde_json::Value,
    /// Resolved payloads only: why (rows resolved by an older build read as recovered).
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<Resolution>,
}

impl<'a> Payload<'a> {
    /// The message `delivery` carries about `incident`, sent at `sent_at`.
    ///
    /// `resolved_at` is only set on the resolved message: a firing message that was queued
    /// before the incident resolved still says what it said when it was decided.
    pub fn new(
        incident: &'a IncidentRecord,
        delivery: &DeliveryRecord,
        sent_at: Timestamp,
    ) -> Payload<'a> {
        let device = match &incident.key.subject {
            Subject::Device(name) => Some(name.as_str()),
            Subject::Provider(_) => None,
        };
        let (resolved_at, resolution) = match delivery.transition {
            Transition::Resolved => (
                incident.resolved_at.map(rfc3339),
                Some(incident.resolution.unwrap_or(Resolution::Recovered)),
            ),
            Transition::Firing => (None, None),
        };
        Payload {
            schema: SCHEMA,
            status: delivery.transition,
            kind: incident.key.kind,
            severity: incident.key.kind.severity(),
            incident_id: &incident.id,
            device,
            provider: &incident.context.provider,
            vendor: incident.context.vendor,
            vendor_id: incident.context.vendor_id.as_deref(),
            labels: &incident.context.labels,
            summary: &incident.summary,
            opened_at: rfc3339(incident.opened_at),
            resolved_at,
            sent_at: rfc3339(sent_at),
            repeat: delivery.seq,
            detail: &incident.detail,
            resolution,
        }
    }

    /// The request body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// A timestamp the way the contract writes it: UTC, whole seconds, `Z`.
pub fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::incident::{IncidentContext, IncidentKey};
    use crate::store::DeliveryState;

    fn incident() -> IncidentRecord {
        let opened_at: Timestamp = "2026-11-21T08:00:00.250Z".parse().unwrap();
        let key = IncidentKey {
            subject: Subject::Device("sales-01".into()),
            kind: IncidentKind::ManualLoginRequired,
        };
        let context = Arc::new(IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: Some("wx_abc123".into()),
            labels: BTreeMap::from([("owner".to_owned(), "ops-team".to_owned())]),
            notify: vec!["ops".into()],
        });
        IncidentRecord {
            id: key.incident_id(opened_at),
            key,
            context: (*context).clone(),
            summary: "sales-01 needs a QR login: reconnect failed, second login not confirmed"
                .into(),
            detail: json!({}),
            opened_at,
            resolved_at: None,
            resolution: None,
            escalations: 0,
        }
    }

    fn delivery(transition: Transition, seq: u32) -> DeliveryRecord {
        DeliveryRecord {
            incident_id: incident().id,
            notifier: "ops".into(),
            transition,
            seq,
            state: DeliveryState::Pending,
            attempts: 0,
            created_at: "2026-11-21T08:00:00Z".parse().unwrap(),
            sent_at: None,
            last_error: None,
        }
    }

    /// The literal example of DESIGN.md §5.
    const CONTRACT_EXAMPLE: &str = r#"{
      "schema": "session-keeper.alert.v1",
      "status": "firing",
      "kind": "manual_login_required",
      "severity": "critical",
      "incident_id": "sales-01/manual_login_required/2026-11-21T08:00:00Z",
      "device": "sales-01",
      "provider": "gewe-cloud",
      "vendor": "gewe",
      "vendor_id": "wx_abc123",
      "labels": {"owner": "ops-team"},
      "summary": "sales-01 needs a QR login: reconnect failed, second login not confirmed",
      "opened_at": "2026-11-21T08:00:00Z",
      "resolved_at": null,
      "sent_at": "2026-11-21T08:00:01Z",
      "repeat": 0,
      "detail": {}
    }"#;

    #[test]
    fn firing_payload_is_the_contract_example_key_for_key_in_order() {
        let incident = incident();
        let sent_at = "2026-11-21T08:00:01.900Z".parse().unwrap();
        let payload = Payload::new(&incident, &delivery(Transition::Firing, 0), sent_at);
        let actual: serde_json::Value =
            serde_json::from_slice(&payload.to_bytes().unwrap()).unwrap();
        let expected: serde_json::Value = serde_json::from_str(CONTRACT_EXAMPLE).unwrap();
        assert_eq!(actual, expected);
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&actual), keys(&expected));
    }

    #[test]
    fn resolved_payload_carries_resolved_at_and_a_provider_incident_has_no_device() {
        let mut incident = incident();
        incident.key = IncidentKey {
            subject: Subject::Provider("gewe-cloud".into()),
            kind: IncidentKind::ProviderUnreachable,
        };
        incident.context.vendor_id = None;
        incident.context.labels.clear();
        incident.detail = json!({"calls": 3});
        incident.resolved_at = Some("2026-11-21T09:30:00Z".parse().unwrap());
        incident.resolution = Some(Resolution::Recovered);
        let sent_at = "2026-11-21T09:30:02Z".parse().unwrap();
        let resolved = Payload::new(&incident, &delivery(Transition::Resolved, 0), sent_at);
        let value = serde_json::to_value(&resolved).unwrap();
        assert_eq!(value["resolution"], "recovered");
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys.last(),
            Some(&"resolution"),
            "after the contract's keys"
        );
        assert_eq!(value["status"], "resolved");
        assert_eq!(value["kind"], "provider_unreachable");
        assert_eq!(value["severity"], "warning");
        assert_eq!(value["device"], serde_json::Value::Null);
        assert_eq!(value["vendor_id"], serde_json::Value::Null);
        assert_eq!(value["labels"], json!({}));
        assert_eq!(value["resolved_at"], "2026-11-21T09:30:00Z");
        assert_eq!(value["sent_at"], "2026-11-21T09:30:02Z");
        assert_eq!(value["detail"], json!({"calls": 3}));

        let late_firing = Payload::new(&incident, &delivery(Transition::Firing, 2), sent_at);
        let value = serde_json::to_value(&late_firing).unwrap();
        assert_eq!(value["status"], "firing");
        assert_eq!(value["resolved_at"], serde_json::Value::Null);
        assert_eq!(value["repeat"], 2);
        assert!(
            value.get("resolution").is_none(),
            "firing payloads stay the contract's"
        );
    }

    #[test]
    fn a_device_removed_from_the_configuration_resolves_as_removed() {
        let mut incident = incident();
        incident.resolved_at = Some("2026-11-21T09:30:00Z".parse().unwrap());
        incident.resolution = Some(Resolution::Removed);
        let sent_at = "2026-11-21T09:30:02Z".parse().unwrap();
        let value = serde_json::to_value(Payload::new(
            &incident,
            &delivery(Transition::Resolved, 0),
            sent_at,
        ))
        .unwrap();
        assert_eq!(value["resolution"], "removed");
        // A row resolved by a build before `resolution` existed reads as recovered.
        incident.resolution = None;
        let value = serde_json::to_value(Payload::new(
            &incident,
            &delivery(Transition::Resolved, 0),
            sent_at,
        ))
        .unwrap();
        assert_eq!(value["resolution"], "recovered");
    }
}
