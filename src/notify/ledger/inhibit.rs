//! Inhibition: while a provider is unreachable or rejects our credentials, its devices'
//! `manual_login_required` incidents say nothing people can act on (the devices cannot be
//! told apart from the provider's outage), so they are opened and recorded but not sent; the
//! provider incident is the one message. When the last such provider incident resolves, the
//! device incidents still open get their first message. Nothing is stored for it: it is
//! derived from the open incidents, so a restart keeps it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;

use super::{Ledger, Outcome};
use crate::incident::{IncidentKey, IncidentKind, Subject};
use crate::store::IncidentRecord;

/// Which notifiers hold back which providers' device logins right now: provider P is held
/// for notifier N while an inhibiting incident of P is open and is itself told to N (a
/// notifier that never hears of the outage, e.g. `min_severity = "critical"` under a
/// `provider_unreachable`, keeps getting the device messages). Published to the workers, so
/// messages already queued when an inhibitor opens wait too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Inhibitions {
    /// Notifier name → the providers held for it.
    held: BTreeMap<String, BTreeSet<String>>,
}

impl Inhibitions {
    /// Whether `notifier` holds back device logins of `provider`.
    pub(crate) fn holds(&self, notifier: &str, provider: &str) -> bool {
        self.held
            .get(notifier)
            .is_some_and(|providers| providers.contains(provider))
    }

    /// Whether a `message` to `notifier` is held: a device's manual login whose provider is
    /// held for it.
    pub(crate) fn holds_message(&self, notifier: &str, record: &IncidentRecord) -> bool {
        inhibitable(record) && self.holds(notifier, &record.context.provider)
    }
}

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
    /// Which notifiers hold which providers' device logins back now: provider P for notifier
    /// N while an inhibiting incident of P is open with a lane to N (N was told of it). Walks
    /// only the open provider incidents (they sort after every device incident), so it stays
    /// cheap with thousands of devices open; the ledger task publishes it after each decision.
    pub(crate) fn inhibitions(&self) -> Inhibitions {
        let first_provider = IncidentKey {
            subject: Subject::Provider(String::new()),
            kind: IncidentKind::ManualLoginRequired,
        };
        let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (key, open) in self.open.range(first_provider..) {
            let Subject::Provider(provider) = &key.subject else {
                continue;
            };
            if !INHIBITORS.contains(&key.kind) {
                continue;
            }
            for notifier in open.lanes.keys() {
                held.entry(notifier.clone())
                    .or_default()
                    .insert(provider.clone());
            }
        }
        Inhibitions { held }
    }

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
