//! The ledger's log lines (DESIGN.md §6): `incident.opened`, `incident.resolved`,
//! `notify.sent`, `notify.failed`, each with `device` (device incidents only), `provider`,
//! `incident_id` and, for deliveries, `notifier`. Never a URL or a secret: notifier URLs may
//! carry keys, so only the notifier's name is logged, and error texts come scrubbed.

use crate::incident::Subject;
use crate::store::{DeliveryRecord, IncidentRecord, Transition};

use super::NotifyError;

/// The device name of a device incident, `None` for a provider incident.
fn device(incident: &IncidentRecord) -> Option<&str> {
    match &incident.key.subject {
        Subject::Device(name) => Some(name),
        Subject::Provider(_) => None,
    }
}

fn status(transition: Transition) -> &'static str {
    match transition {
        Transition::Firing => "firing",
        Transition::Resolved => "resolved",
    }
}

/// `incident.opened`.
pub(crate) fn opened(incident: &IncidentRecord) {
    tracing::warn!(
        event = "incident.opened",
        device = device(incident),
        provider = incident.context.provider,
        incident_id = incident.id,
        kind = incident.key.kind.as_str(),
        severity = incident.key.kind.severity().as_str(),
        "incident opened: {}",
        incident.summary
    );
}

/// `incident.resolved`.
pub(crate) fn resolved(incident: &IncidentRecord) {
    tracing::info!(
        event = "incident.resolved",
        device = device(incident),
        provider = incident.context.provider,
        incident_id = incident.id,
        kind = incident.key.kind.as_str(),
        "incident resolved"
    );
}

/// `notify.sent`: one message delivered.
pub(crate) fn sent(incident: &IncidentRecord, delivery: &DeliveryRecord) {
    tracing::info!(
        event = "notify.sent",
        device = device(incident),
        provider = incident.context.provider,
        notifier = delivery.notifier,
        incident_id = incident.id,
        status = status(delivery.transition),
        repeat = delivery.seq,
        attempt = delivery.attempts,
        "{} message delivered to notifier {}",
        status(delivery.transition),
        delivery.notifier
    );
}

/// `notify.failed`: one attempt failed; the worker retries.
pub(crate) fn failed(incident: &IncidentRecord, delivery: &DeliveryRecord, error: &NotifyError) {
    tracing::warn!(
        event = "notify.failed",
        device = device(incident),
        provider = incident.context.provider,
        notifier = delivery.notifier,
        incident_id = incident.id,
        status = status(delivery.transition),
        attempt = delivery.attempts,
        error = %error,
        "delivery to notifier {} failed; retrying",
        delivery.notifier
    );
}

/// `notify.failed` once for a notifier whose messages cannot go out at all in this build (or
/// whose channel cannot be built); its messages are kept pending.
pub(crate) fn unavailable(notifier: &str, error: &NotifyError) {
    tracing::warn!(
        event = "notify.failed",
        notifier,
        error = %error,
        "notifier {notifier} cannot deliver; its messages are kept"
    );
}
