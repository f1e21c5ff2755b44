//! The vendor calls a machine asks for: each passes the provider's gate, is raced against
//! shutdown, and comes back as the machine's event.
//!
//! - A call the gate refuses (rejected credentials being backed off) answers at once with a
//!   credentials error: for a probe an unknown answer (it never counts), for a ladder call an
//!   error the machine retries later without spending an attempt.
//! - WKTeam: a probe answered `DeviceGone` means the stored wId rotated elsewhere (a QR login,
//!   another tool's second login). One `queryLoginWx` finds the account's current wId and the
//!   probe is retried with it; an account missing from the logged-in list is offline.
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
            Action::Log(_) | Action::Open { .. } | Action::Resolve { .. } | Action::Persist => {
                return Some(Vec::new());
            }
        };
        Some(vec![event])
    }

    /// The device as its vendor knows it now.
    fn device_ref(&self) -> DeviceRef<'_> {
        let device = &self.setup.device;
        DeviceRef {
            id: &device.id,
            w_id: self
                .w_id
                .as_deref()
                .or(self.setup.machine.state().w_id.as_deref()),
            region_id: device.region_id.as_deref(),
        }
    }

    /// The primary probe, then the kick check when asked for.
    async fn probes(&mut self, kick_check: bool) -> Option<Vec<Event>> {
        let primary = Arc::clone(&self.setup.primary);
        let answer = self.probe_primary(&primary).await?;
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
        let answer = self.gated_probe(provider, self.device_ref()).await?;
        let (Probe::Unknown(VendorError::DeviceGone(_)), Client::Wkteam(client)) =
            (&answer, &provider.client)
        else {
            return Some(answer);
        };
        let current = self.device_ref().w_id.map(str::to_owned);
        let listed = self.gated(provider, client.logged_in()).await?;
        let found = match listed {
            Ok(accounts) => accounts
                .into_iter()
                .find(|(wc_id, _)| *wc_id == self.setup.device.id)
                .map(|(_, w_id)| w_id),
            // Keep the unknown answer: nothing learned.
            Err(_) => return Some(answer),
        };
        match found {
            Some(w_id) if Some(&w_id) != current.as_ref() => {
                tracing::info!(
                    device = %self.setup.device.name,
                    provider = %provider.name,
                    "wId rotated at the vendor; probing again with the current one"
                );
                self.w_id = Some(w_id);
                self.gated_probe(provider, self.device_ref()).await
            }
            Some(_) => Some(answer),
            None => Some(Probe::Offline {
                message: Some("not among the provider's logged-in accounts".to_owned()),
                last_login: None,
            }),
        }
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
