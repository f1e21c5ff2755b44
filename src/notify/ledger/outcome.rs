//! What one ledger decision produces: store writes, messages for the notifiers' workers, and
//! events to log. The ledger task applies them in that order.

use std::sync::Arc;

use crate::store::{DeliveryRecord, IncidentRecord, Write};

/// One message to one notifier: the incident as it stood when the message was decided and the
/// delivery row that tracks it (its `notifier`, `transition` and `seq`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// The incident, shared by the messages of one decision.
    pub incident: Arc<IncidentRecord>,
    /// The row recording this message's fate.
    pub delivery: DeliveryRecord,
}

/// Something worth a log line (`incident.opened`, `incident.resolved`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A new incident.
    Opened {
        /// The incident.
        incident: Arc<IncidentRecord>,
        /// The id of the open provider incident that keeps it from being sent to at least one
        /// of its notifiers (one told of that incident), if any.
        inhibited_by: Option<String>,
    },
    /// An open incident resolved.
    Resolved(Arc<IncidentRecord>),
}

/// What one decision produced: the store writes (one batch), the messages to deliver and the
/// events to log.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Writes to apply in one transaction, before any message goes out.
    pub writes: Vec<Write>,
    /// Messages for the notifiers' workers, in order per notifier.
    pub messages: Vec<Message>,
    /// Log events.
    pub events: Vec<Event>,
}

impl Outcome {
    /// Records a new pending delivery and queues its message.
    pub(super) fn deliver(&mut self, incident: &Arc<IncidentRecord>, delivery: DeliveryRecord) {
        self.writes.push(Write::Delivery(delivery.clone()));
        self.messages.push(Message {
            incident: Arc::clone(incident),
            delivery,
        });
    }
}
