//! The vendor calls a machine asks for: each passes the provider's gate, is raced against
//! shutdown, and comes back as the machine's event.
//!
//! - A call the gate refuses (rejected credentials being backed off) answers at once with a
//!   credentials error: for a probe an unknown answer (it never counts), for a ladder call an
//!   error the machine retries later without spending an attempt.
//! - WKTeam: `FindAccount` looks the account up in the provider's shared listing of logged-in
//!   accounts (`queryLoginWx`, one request serving every device that needs it at once).
//! - GeWe: `FollowLogin` asks `checkLogin` whether the dialog login completed.

use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;

use super::Live;
use crate::admin::metrics::{self, ProbeResult};
use crate::keeper::machine::{Action, Event, Source};
use crate::keeper::providers::ProviderRt;
use crate::vendor::gewe::LoginState;
use crate::vendor::{Client, DeviceRef, Probe, Vendor, VendorError};

impl Live {
    /// Carries out a vendor action; `None` when shutdown interrupted it.
    pub(super) async fn call(&mut self, action: Action) -> Option<Vec<Event>> {
        let provider = Arc::clone(&self.setup.primary);
        let event = match action {
            Action::Probe { kick_check } => return self.probes(kick_check).await,
            Action::Reconnect => {
                let call = provider.client.reconnect(self.device_ref());
                let result = self.gated(&provider, call).await?;
                rung("reconnect", if result.is_ok() { "ok" } else { "failed" });
                Event::Reconnect(result)
            }
            Action::SecondLogin { wait } => {
                let call = provider.client.second_login(self.device_ref(), wait);
                let result = self.gated(&provider, call).await?;
                rung(
                    "second_login",
                    if result.is_ok() { "sent" } else { "failed" },
                );
                Event::SecondLogin(result)
            }
            Action::FollowLogin { uuid } => {
                Event::LoginFollowed(self.follow_login(&provider, &uuid).await?)
            }
            Action::AskOfflineReason => {
                let call = provider.client.offline_reason(self.device_ref());
                Event::OfflineReason(self.gated(&provider, call).await?)
            }
            Action::AskLastLogin => {
                let call = provider.client.last_login(self.device_ref());
                Event::LastLogin(self.gated(&provider, call).await?)
            }
            Action::FindAccount { max_age } => {
                Event::AccountFound(self.find_account(&provider, max_age).await?)
            }
            Action::Log(_) | Action::Open { .. } | Action::Resolve { .. } | Action::Persist => {
                return Some(Vec::new());
            }
        };
        Some(vec![event])
    }

    /// The device as its vendor knows it now (the machine keeps the current WKTeam wId).
    fn device_ref(&self) -> DeviceRef<'_> {
        let device = &self.setup.device;
        DeviceRef {
            id: &device.id,
            w_id: self.setup.machine.state().w_id.as_deref(),
            region_id: device.region_id.as_deref(),
        }
    }

    /// The primary probe, then the kick check when asked for.
    async fn probes(&mut self, kick_check: bool) -> Option<Vec<Event>> {
        let primary = Arc::clone(&self.setup.primary);
        let answer = self.probe_primary(&primary).await?;
        self.setup
            .probes
            .mark(&self.setup.device.name, Timestamp::now());
        if !self.first_probe_reported {
            self.first_probe_reported = true;
            metrics::global().probed(&self.setup.device.name);
        }
        let mut events = vec![Event::Probe {
            source: Source::Primary,
            answer,
        }];
        if kick_check && let Some((kick, number)) = self.setup.kick.clone() {
            let answer = self.gated_probe(&kick, DeviceRef::new(&number)).await?;
            events.push(Event::Probe {
                source: Source::KickCheck,
                answer,
            });
        }
        Some(events)
    }

    async fn probe_primary(&mut self, provider: &ProviderRt) -> Option<Probe> {
        self.gated_probe(provider, self.device_ref()).await
    }

    /// WKTeam `queryLoginWx` (shared by the provider's devices): the account's current wId.
    async fn find_account(
        &self,
        provider: &ProviderRt,
        max_age: std::time::Duration,
    ) -> Option<Result<Option<String>, VendorError>> {
        let Client::Wkteam(client) = &provider.client else {
            return Some(Err(VendorError::Unsupported(
                "only wkteam lists its logged-in accounts",
            )));
        };
        let call = client.find_account(&self.setup.device.id, max_age);
        self.gated(provider, call).await
    }

    /// A probe through `provider`'s gate.
    async fn gated_probe(&self, provider: &ProviderRt, device: DeviceRef<'_>) -> Option<Probe> {
        let ticket = match provider.gate.admit(Timestamp::now()) {
            Ok(ticket) => ticket,
            Err(paused) => return Some(Probe::Unknown(paused)),
        };
        let cancel = &self.setup.cancel;
        let started = std::time::Instant::now();
        let answer = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                provider.gate.abandon(ticket, Timestamp::now());
                return None;
            }
            answer = provider.client.probe(device) => answer,
        };
        let (error, result) = match &answer {
            Probe::Unknown(error) => (Some(error), ProbeResult::Unknown),
            Probe::Online { .. } => (None, ProbeResult::Online),
            Probe::Offline { .. } => (None, ProbeResult::Offline),
        };
        let vendor = provider.client.kind().as_str();
        metrics::global().probe(vendor, result, started.elapsed());
        provider.gate.record(ticket, error, Timestamp::now());
        Some(answer)
    }

    /// Any other call through `provider`'s gate.
    async fn gated<T>(
        &self,
        provider: &ProviderRt,
        call: impl Future<Output = Result<T, VendorError>>,
    ) -> Option<Result<T, VendorError>> {
        let ticket = match provider.gate.admit(Timestamp::now()) {
            Ok(ticket) => ticket,
            Err(paused) => return Some(Err(paused)),
        };
        let cancel = &self.setup.cancel;
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                provider.gate.abandon(ticket, Timestamp::now());
                return None;
            }
            result = call => result,
        };
        provider
            .gate
            .record(ticket, result.as_ref().err(), Timestamp::now());
        Some(result)
    }

    /// GeWe `checkLogin` for a dialog login's uuid: true once the login completed.
    async fn follow_login(
        &self,
        provider: &ProviderRt,
        uuid: &str,
    ) -> Option<Result<bool, VendorError>> {
        let Client::Gewe(client) = &provider.client else {
            return Some(Err(VendorError::Unsupported(
                "only gewe follows a dialog login",
            )));
        };
        let checked = self
            .gated(provider, client.check_login(&self.setup.device.id, uuid))
            .await?;
        Some(checked.map(|check| check.state == LoginState::LoggedIn))
    }
}

/// Counts a ladder rung's call and how it ended.
fn rung(step: &'static str, outcome: &'static str) {
    metrics::global().ladder(step, outcome);
}
