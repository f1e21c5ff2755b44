//! Inhibition: while a provider is unreachable or rejects our credentials, its devices'
//! `manual_login_required` incidents say nothing people can act on (the devices cannot be
//! told apart from the provider's outage), so they are opened and recorded but not sent to
//! the notifiers told of the outage; the provider incident is their one message. A notifier
//! that never hears of the outage (not named by its context, or `min_severity = "critical"`
//! under a `provider_unreachable`) keeps getting the device messages: holding them back
//! would leave it with nothing. When the provider incidents holding a notifier resolve, the
//! device incidents still open get their first message to it. Nothing is stored for it: it
//! is derived from the open incidents and their lanes, so a restart keeps it.

use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

use super::{Ledger, OpenIncident, Outcome};
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

    /// Holds device logins of `provider` back from `notifier`.
    pub(super) fn hold(&mut self, notifier: &str, provider: &str) {
        self.held
            .entry(notifier.to_owned())
            .or_default()
            .insert(provider.to_owned());
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

/// Whether incidents of `key` hold back their provider's device logins.
pub(super) fn is_inhibitor(key: &IncidentKey) -> bool {
    matches!(key.subject, Subject::Provider(_)) && INHIBITORS.contains(&key.kind)
}

impl Ledger {
    /// Which notifiers hold back which providers' device logins now: every open inhibitor
    /// holds its provider for each notifier it has a lane to (is told to). Touches the open
    /// provider incidents only, not the devices'.
    pub(crate) fn inhibitions(&self) -> Inhibitions {
        let mut inhibitions = Inhibitions::default();
        // Every provider key sorts at or after this one (name "" and the least kind); with
        // the derived order device keys sort before it, so the devices are not walked.
        let least_kind = IncidentKind::ALL.into_iter().min();
        let Some(kind) = least_kind else {
            return inhibitions;
        };
        let first = IncidentKey {
            subject: Subject::Provider(String::new()),
            kind,
        };
        for (key, open) in self.open.range(first..) {
            let Subject::Provider(provider) = &key.subject else {
                continue;
            };
            if !INHIBITORS.contains(&key.kind) {
                continue;
            }
            for notifier in open.lanes.keys() {
                inhibitions.hold(notifier, provider);
            }
        }
        inhibitions
    }

    /// Runs `each` on every open incident (taken out of the ledger meanwhile), the inhibitors
    /// first: their lanes decide who holds what, so the others get the inhibitions as they
    /// stand once the inhibitors are done.
    pub(super) fn each_open_inhibitors_first(
        &mut self,
        mut each: impl FnMut(&mut Ledger, &mut OpenIncident, &Inhibitions),
    ) {
        let (inhibitors, others): (Vec<IncidentKey>, Vec<IncidentKey>) =
            self.open.keys().cloned().partition(is_inhibitor);
        // An inhibitor is never held itself.
        let none = Inhibitions::default();
        for key in inhibitors {
            if let Some(mut open) = self.open.remove(&key) {
                each(self, &mut open, &none);
                self.open.insert(key, open);
            }
        }
        let inhibitions = self.inhibitions();
        for key in others {
            if let Some(mut open) = self.open.remove(&key) {
                each(self, &mut open, &inhibitions);
                self.open.insert(key, open);
            }
        }
    }

    /// The open provider incident that holds `record` back from at least one notifier it is
    /// for (told to that notifier), if any.
    pub(super) fn inhibitor(&self, record: &IncidentRecord) -> Option<&IncidentRecord> {
        if !inhibitable(record) {
            return None;
        }
        INHIBITORS.iter().find_map(|kind| {
            let key = IncidentKey {
                subject: Subject::Provider(record.context.provider.clone()),
                kind: *kind,
            };
            let open = self.open.get(&key)?;
            let holds = record
                .context
                .notify
                .iter()
                .any(|name| open.lanes.contains_key(name) && self.wants(name, record));
            holds.then_some(&open.record)
        })
    }

    /// Called once `resolved` is no longer open: when it inhibited, the open incidents of its
    /// provider get a lane and a first message for every notifier no longer holding them
    /// and not told yet (lanes already sent keep their clocks and resume their repeats).
    pub(super) fn release(
        &mut self,
        resolved: &IncidentKey,
        now: Timestamp,
        outcome: &mut Outcome,
    ) {
        if !is_inhibitor(resolved) {
            return;
        }
        let provider = resolved.subject.name();
        let held: Vec<IncidentKey> = self
            .open
            .iter()
            .filter(|(_, open)| {
                inhibitable(&open.record) && open.record.context.provider == provider
            })
            .map(|(key, _)| key.clone())
            .collect();
        let inhibitions = self.inhibitions();
        for key in held {
            let Some(mut open) = self.open.remove(&key) else {
                continue;
            };
            self.add_new_lanes(&mut open, &inhibitions, now, outcome);
            self.open.insert(key, open);
        }
    }
}
