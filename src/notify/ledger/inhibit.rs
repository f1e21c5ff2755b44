//! Inhibition: while a provider is unreachable or rejects our credentials, its devices'
//! `manual_login_required` incidents say nothing people can act on (the devices cannot be
//! told apart from the provider's outage), so they are opened and recorded but not sent; the
//! provider incident is the one message. When the last such provider incident resolves, the
//! device incidents still open get their first message. Nothing is stored for it: it is
//! derived from the open incidents, so a restart keeps it.

use std::sync::Arc;

use jiff::Timestamp;

use super::{Ledger, Outcome};
use crate::incident::{IncidentKey, IncidentKind, Subject};
use crate::store::IncidentRecord;

/// The provider incidents that inhibit, in the order [`Ledger::inhibitor`] names them.
const INHIBITORS: [IncidentKind; 2] = [
    IncidentKind::ProviderUnreachable,
    IncidentKind::CredentialsInvalid,
];

/// Whether an inhibitor of its provider holds `record` back: a device's manual login.
fn inhibitable(record: &IncidentRecord) -> bool {
    record.key.kind == IncidentKind::ManualLoginRequired
        && matches!(record.key.subject, Subject::Device(_))
}

impl Ledger {
    /// The open provider incident holding `record` back, if any.
    pub(super) fn inhibitor(&self, record: &IncidentRecord) -> Option<&IncidentRecord> {
        if !inhibitable(record) {
            return None;
        }
        self.inhibitor_of(&record.context.provider)
    }

    /// The open provider incident of `provider` that inhibits its devices' logins, if any.
    fn inhibitor_of(&self, provider: &str) -> Option<&IncidentRecord> {
        INHIBITORS.iter().find_map(|kind| {
            let key = IncidentKey {
                subject: Subject::Provider(provider.to_owned()),
                kind: *kind,
            };
            self.open.get(&key).map(|open| &open.record)
        })
    }

    /// Called once `resolved` is no longer open: when it was its provider's last inhibitor,
    /// the open incidents it held back get a lane and a first message for every notifier not
    /// told yet (lanes already sent keep their clocks and resume their repeats).
    pub(super) fn release(
        &mut self,
        resolved: &IncidentKey,
        now: Timestamp,
        outcome: &mut Outcome,
    ) {
        let Subject::Provider(provider) = &resolved.subject else {
            return;
        };
        if !INHIBITORS.contains(&resolved.kind) || self.inhibitor_of(provider).is_some() {
            return;
        }
        let held: Vec<IncidentKey> = self
            .open
            .iter()
            .filter(|(_, open)| {
                inhibitable(&open.record) && open.record.context.provider == *provider
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in held {
            let Some(mut open) = self.open.remove(&key) else {
                continue;
            };
            let incident = Arc::new(open.record.clone());
            self.add_new_lanes(&mut open, &incident, now, outcome);
            self.open.insert(key, open);
        }
    }
}
