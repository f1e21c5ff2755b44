//! The shared wrapper around a provider's [`ProviderHealth`]: every runner of the provider's
//! devices asks it before a call and reports the outcome after, and it turns health changes
//! into provider incidents (`provider_unreachable`, `credentials_invalid`) for the ledger.
//! Their detail carries the error and the names of the provider's devices (`devices`), so a
//! message can say which devices are affected.

use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use serde_json::json;

use super::provider::{Admission, Damping, HealthChange, Outcome, ProviderHealth, Ticket};
use crate::incident::{
    IncidentChange, IncidentContext, IncidentKey, IncidentKind, Resolution, Subject,
};
use crate::jitter::Jitter;
use crate::notify::Notifications;
use crate::vendor::VendorError;

/// One provider's gate, shared (behind an `Arc`) by its runners and its token keeper.
#[derive(Debug)]
pub(crate) struct Gate {
    provider: String,
    notifications: Notifications,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    health: ProviderHealth,
    jitter: Jitter,
    context: Arc<IncidentContext>,
    /// The provider's configured devices, sorted.
    devices: Arc<[String]>,
}

impl Gate {
    /// A gate for `provider` starting from `health`; provider incidents carry `context` and
    /// name `devices` (the provider's devices, sorted) in their detail.
    pub(crate) fn new(
        provider: String,
        health: ProviderHealth,
        context: Arc<IncidentContext>,
        devices: Arc<[String]>,
        notifications: Notifications,
    ) -> Gate {
        Gate {
            provider,
            notifications,
            inner: Mutex::new(Inner {
                health,
                jitter: Jitter::new(),
                context,
                devices,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock guards plain data; a panic elsewhere cannot leave it half-updated.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// May a call go out now? `Err` carries the error to answer instead (rejected
    /// credentials being backed off), which never consumes a ladder attempt.
    pub(crate) fn admit(&self, now: Timestamp) -> Result<Ticket, VendorError> {
        match self.lock().health.admit(now) {
            Admission::Call(ticket) => Ok(ticket),
            Admission::Skip { retry_at } => Err(VendorError::CredentialsRejected(format!(
                "calls to provider {} are paused after rejected credentials until {}",
                self.provider,
                retry_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            ))),
        }
    }

    /// Records the outcome of a call admitted with `ticket`; `error` is the call's error, for
    /// the incident's words.
    pub(crate) fn record(&self, ticket: Ticket, error: Option<&VendorError>, now: Timestamp) {
        let outcome = error.map_or(Outcome::Answered, Outcome::of_error);
        let (changes, context, devices) = {
            let mut inner = self.lock();
            let unit = inner.jitter.unit();
            let changes = inner.health.record(ticket, outcome, now, unit);
            if changes.is_empty() {
                return;
            }
            (
                changes,
                Arc::clone(&inner.context),
                Arc::clone(&inner.devices),
            )
        };
        for change in changes {
            let about = About {
                context: &context,
                devices: &devices,
                error,
            };
            self.notifications.send(self.incident(change, &about, now));
        }
    }

    /// Records that a call admitted with `ticket` was abandoned (shutdown, restart): it tells
    /// nothing, but a trial call must not hold the gate shut.
    pub(crate) fn abandon(&self, ticket: Ticket, now: Timestamp) {
        let mut inner = self.lock();
        let unit = inner.jitter.unit();
        // A neutral outcome never changes the provider's health.
        let _ = inner.health.record(ticket, Outcome::Neutral, now, unit);
    }

    /// What is left open, so a rebuilt gate can resume it.
    pub(crate) fn open_flags(&self) -> (bool, bool) {
        let inner = self.lock();
        (
            inner.health.is_unreachable(),
            inner.health.credentials_invalid(),
        )
    }

    /// Adopts a reloaded configuration's context, devices and damping spans.
    pub(crate) fn reconfigure(
        &self,
        context: Arc<IncidentContext>,
        devices: Arc<[String]>,
        damping: Damping,
    ) {
        let mut inner = self.lock();
        inner.context = context;
        inner.devices = devices;
        inner.health.set_damping(damping);
    }

    /// Resolves whatever this gate holds open (the provider left the configuration).
    pub(crate) fn close(&self, now: Timestamp) {
        let (unreachable, credentials) = self.open_flags();
        for (open, kind) in [
            (unreachable, IncidentKind::ProviderUnreachable),
            (credentials, IncidentKind::CredentialsInvalid),
        ] {
            if open {
                self.notifications.send(IncidentChange::Resolve {
                    key: self.key(kind),
                    at: now,
                    resolution: Resolution::Removed,
                });
            }
        }
    }

    fn key(&self, kind: IncidentKind) -> IncidentKey {
        IncidentKey {
            subject: Subject::Provider(self.provider.clone()),
            kind,
        }
    }

    fn incident(&self, change: HealthChange, about: &About<'_>, at: Timestamp) -> IncidentChange {
        let error_text = about.error.map(ToString::to_string);
        let (kind, summary) = match change {
            HealthChange::Reachable => {
                return IncidentChange::Resolve {
                    key: self.key(IncidentKind::ProviderUnreachable),
                    at,
                    resolution: Resolution::Recovered,
                };
            }
            HealthChange::CredentialsValid => {
                return IncidentChange::Resolve {
                    key: self.key(IncidentKind::CredentialsInvalid),
                    at,
                    resolution: Resolution::Recovered,
                };
            }
            HealthChange::Unreachable => (
                IncidentKind::ProviderUnreachable,
                format!(
                    "provider {} is unreachable: calls have kept failing; its devices count \
                     as unknown and no recovery starts until it answers",
                    self.provider
                ),
            ),
            HealthChange::CredentialsInvalid => (
                IncidentKind::CredentialsInvalid,
                format!(
                    "provider {} rejected our credentials; calls back off until they are \
                     accepted again",
                    self.provider
                ),
            ),
        };
        IncidentChange::Open {
            key: self.key(kind),
            context: Arc::clone(about.context),
            summary,
            detail: json!({ "error": error_text, "devices": about.devices }),
            escalate: false,
            at,
        }
    }
}

/// What a provider incident says besides its kind: whom to tell, the provider's devices and
/// the call's error.
struct About<'a> {
    context: &'a Arc<IncidentContext>,
    devices: &'a [String],
    error: Option<&'a VendorError>,
}
