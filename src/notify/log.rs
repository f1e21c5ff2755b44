//! The ledger's log lines (DESIGN.md §6): `incident.opened`, `incident.resolved`,
//! `notify.sent`, `notify.failed`, each with `device` (device incidents only), `provider`,
//! `incident_id` and, for deliveries, `notifier`, `shape` (`one`, `group` or `digest`: how
//! the message went out) and `batch_size` (how many messages that send carried). Never a URL or a secret: notifier URLs may
//! carry keys, so only the notifier's name is logged, and error texts come scrubbed.

use crate::incident::Subject;
use crate::store::{DeliveryRecord, IncidentRecord, Transition};

use super::NotifyError;
use super::channel::Shape;

/// The device name of a device incident, `None` for a provider incident.
fn device(incident: &IncidentRecord) -> Option<&str> {
    match &incident.key.subject {
        Subject::Device(name) => Some(name),
        Subject::Provider(_) => None,
    }
}

fn shape(shape: Shape) -> &'static str {
    match shape {
        Shape::One => "one",
        Shape::Group => "group",
        Shape::Digest => "digest",
    }
}

fn status(transition: Transition) -> &'static str {
    match transition {
        Transition::Firing => "firing",
        Transition::Resolved => "resolved",
    }
}

/// `incident.opened`; `inhibited_by` names the open provider incident that keeps it from
/// being sent for now.
pub(crate) fn opened(incident: &IncidentRecord, inhibited_by: Option<&str>) {
    tracing::warn!(
        event = "incident.opened",
        device = device(incident),
        provider = incident.context.provider,
        incident_id = incident.id,
        kind = incident.key.kind.as_str(),
        severity = incident.key.kind.severity().as_str(),
        inhibited_by,
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

/// `notify.sent`: one message delivered, in a send of `size` messages put together as
/// `how`.
pub(crate) fn sent(incident: &IncidentRecord, delivery: &DeliveryRecord, how: Shape, size: usize) {
    tracing::info!(
        event = "notify.sent",
        device = device(incident),
        provider = incident.context.provider,
        notifier = delivery.notifier,
        incident_id = incident.id,
        status = status(delivery.transition),
        repeat = delivery.seq,
        attempt = delivery.attempts,
        shape = shape(how),
        batch_size = size,
        "{} message delivered to notifier {}",
        status(delivery.transition),
        delivery.notifier
    );
}

/// `notify.failed`: one attempt failed (of a send of `size` messages put together as
/// `how`); the worker retries.
pub(crate) fn failed(
    incident: &IncidentRecord,
    delivery: &DeliveryRecord,
    error: &NotifyError,
    how: Shape,
    size: usize,
) {
    tracing::warn!(
        event = "notify.failed",
        device = device(incident),
        provider = incident.context.provider,
        notifier = delivery.notifier,
        incident_id = incident.id,
        status = status(delivery.transition),
        attempt = delivery.attempts,
        shape = shape(how),
        batch_size = size,
        error = %error,
        "delivery to notifier {} failed; retrying",
        delivery.notifier
    );
}

/// `notify.failed` once for a notifier whose channel cannot be built; its messages are kept
/// pending.
pub(crate) fn unavailable(notifier: &str, error: &NotifyError) {
    tracing::warn!(
        event = "notify.failed",
        notifier,
        error = %error,
        "notifier {notifier} cannot deliver; its messages are kept"
    );
}
