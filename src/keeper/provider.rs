//! The pure health record of one provider: is it reachable, are our credentials accepted, and
//! may a call go out now. No clock reads and no randomness: the caller passes `now` and a
//! random unit for the backoff jitter, so every rule is a plain unit test.
//!
//! Rules:
//! - **Unreachable**, damped (`provider/reach.rs`): the provider is unreachable once it has
//!   been failing (most calls in each second a provider fault: transport error, timeout,
//!   unexpected HTTP status, malformed answer) for [`Damping::open_after`] with at least
//!   [`MIN_FAULTS`] faults, and reachable again once it has been healthy (at most a tenth of
//!   the calls faults) for [`Damping::close_after`]. By default that is two and one of the
//!   provider's shortest poll interval: a one-device provider opens at its third failing probe
//!   in a row (every wake is jittered late, so three probes span at least two intervals) and
//!   resolves after a poll interval of answers. Nothing is skipped while unreachable: probes
//!   keep running (they are how recovery shows) and their answers are unknown, so no ladder
//!   starts.
//! - **Credentials.** A rejection opens `credentials_invalid` and closes the gate: calls are
//!   skipped until `retry_at`, then exactly one trial call goes out. Backoff starts at
//!   [`FIRST_BACKOFF`], doubles after each rejected trial up to [`MAX_BACKOFF`], each delay
//!   jittered by ±[`BACKOFF_SPREAD`]. A trial that meets a provider fault tells nothing about
//!   the credentials: the next trial waits the same backoff again. The first accepted call
//!   resolves it. Calls admitted before the credentials were found invalid (stragglers in
//!   flight) neither resolve nor extend the backoff: every admission carries the epoch it was
//!   admitted in.

mod reach;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::jitter::spread;
use crate::vendor::VendorError;

pub use reach::MIN_FAULTS;
use reach::{Flip, Reachability};

/// How long a provider must fail before `provider_unreachable` opens, and be healthy before it
/// resolves (the provider's `unreachable_after` and `reachable_after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damping {
    /// Failing at least this long opens the incident.
    pub open_after: Duration,
    /// Healthy at least this long resolves it.
    pub close_after: Duration,
}

impl Damping {
    /// The default for a provider whose shortest poll interval is `poll`: failing for two
    /// polls, healthy for one.
    pub fn for_poll(poll: Duration) -> Damping {
        Damping {
            open_after: poll.saturating_mul(2),
            close_after: poll,
        }
    }
}
/// The first wait after rejected credentials.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
/// The longest wait between credential trials.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// Every backoff is scaled by a factor in `1 ± BACKOFF_SPREAD`.
pub const BACKOFF_SPREAD: f64 = 0.2;

/// What one call to the provider tells about the provider as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The vendor answered with our credentials accepted (including "device gone" or a
    /// refusal about the device: the provider itself works).
    Answered,
    /// The provider could not be reached or answered garbage.
    Fault,
    /// The vendor rejected our credentials.
    Rejected,
    /// Tells nothing about the provider (our own concurrency bound, a rate limit).
    Neutral,
}

impl Outcome {
    /// Classifies a call's result.
    pub fn of<T>(result: &Result<T, VendorError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Answered,
            Err(error) => Outcome::of_error(error),
        }
    }

    /// Classifies a call's error.
    pub fn of_error(error: &VendorError) -> Outcome {
        if error.is_provider_fault() {
            Outcome::Fault
        } else if error.is_credentials() {
            Outcome::Rejected
        } else if matches!(
            error,
            VendorError::Busy { .. } | VendorError::RateLimited(_)
        ) {
            Outcome::Neutral
        } else {
            Outcome::Answered
        }
    }
}

/// Whether a call may go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead; report the outcome with this ticket.
    Call(Ticket),
    /// The credentials are being backed off from: do not call.
    Skip {
        /// When the next trial call may go out.
        retry_at: Timestamp,
    },
}

/// Proof of admission: the credentials epoch the call was admitted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    epoch: u64,
    trial: bool,
}

impl Ticket {
    /// A ticket for a call that did not pass through [`ProviderHealth::admit`] (the shrise
    /// token refresh, which the client runs itself).
    pub fn unadmitted() -> Ticket {
        Ticket {
            epoch: u64::MAX,
            trial: false,
        }
    }
}

/// A change of the provider's health, to become an incident change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    /// Open `provider_unreachable`.
    Unreachable,
    /// Resolve `provider_unreachable`.
    Reachable,
    /// Open `credentials_invalid`.
    CredentialsInvalid,
    /// Resolve `credentials_invalid`.
    CredentialsValid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Backoff {
    delay: Duration,
    retry_at: Timestamp,
    trial_out: bool,
}

/// One provider's health; see the module docs for the rules.
#[derive(Debug, Clone)]
pub struct ProviderHealth {
    reach: Reachability,
    epoch: u64,
    credentials: Option<Backoff>,
}

impl ProviderHealth {
    /// A healthy provider with these spans.
    pub fn new(damping: Damping) -> ProviderHealth {
        ProviderHealth {
            reach: Reachability::new(damping.open_after, damping.close_after, false),
            epoch: 0,
            credentials: None,
        }
    }

    /// A provider resuming after a restart or a rebuild, with the incidents still open for it:
    /// an open `provider_unreachable` resolves once it has been healthy for `close_after`;
    /// open `credentials_invalid` allows one trial call at once and resolves when it is
    /// accepted.
    pub fn resume(
        damping: Damping,
        unreachable: bool,
        credentials_invalid: bool,
        now: Timestamp,
    ) -> ProviderHealth {
        let mut health = ProviderHealth::new(damping);
        health.reach = Reachability::new(damping.open_after, damping.close_after, unreachable);
        if credentials_invalid {
            health.epoch = 1;
            health.credentials = Some(Backoff {
                delay: FIRST_BACKOFF,
                retry_at: now,
                trial_out: false,
            });
        }
        health
    }

    /// Adopts new spans (a reload changed the provider or its devices' poll intervals).
    pub fn set_damping(&mut self, damping: Damping) {
        self.reach
            .set_spans(damping.open_after, damping.close_after);
    }

    /// True while `provider_unreachable` holds.
    pub fn is_unreachable(&self) -> bool {
        self.reach.is_unreachable()
    }

    /// True while `credentials_invalid` holds.
    pub fn credentials_invalid(&self) -> bool {
        self.credentials.is_some()
    }

    /// May a call go out at `now`? While the credentials are backed off, only one trial call
    /// goes out once `retry_at` has passed.
    pub fn admit(&mut self, now: Timestamp) -> Admission {
        let epoch = self.epoch;
        match &mut self.credentials {
            None => Admission::Call(Ticket {
                epoch,
                trial: false,
            }),
            Some(backoff) if now >= backoff.retry_at && !backoff.trial_out => {
                backoff.trial_out = true;
                Admission::Call(Ticket { epoch, trial: true })
            }
            Some(backoff) => Admission::Skip {
                retry_at: backoff.retry_at,
            },
        }
    }

    /// Records the outcome of a call admitted with `ticket`; `unit` in `[0, 1)` jitters a new
    /// backoff. Returns the health changes, in order.
    pub fn record(
        &mut self,
        ticket: Ticket,
        outcome: Outcome,
        now: Timestamp,
        unit: f64,
    ) -> Vec<HealthChange> {
        let mut changes = Vec::new();
        self.reachability(outcome, now, &mut changes);
        self.credentials_rule(ticket, outcome, now, unit, &mut changes);
        changes
    }

    fn reachability(&mut self, outcome: Outcome, now: Timestamp, changes: &mut Vec<HealthChange>) {
        if outcome == Outcome::Neutral {
            return;
        }
        match self.reach.count(outcome == Outcome::Fault, now) {
            Some(Flip::Unreachable) => changes.push(HealthChange::Unreachable),
            Some(Flip::Reachable) => changes.push(HealthChange::Reachable),
            None => {}
        }
    }

    fn credentials_rule(
        &mut self,
        ticket: Ticket,
        outcome: Outcome,
        now: Timestamp,
        unit: f64,
        changes: &mut Vec<HealthChange>,
    ) {
        let current = ticket.epoch == self.epoch || ticket == Ticket::unadmitted();
        match (outcome, self.credentials.as_mut()) {
            (Outcome::Rejected, None) => {
                self.epoch += 1;
                self.credentials = Some(Backoff {
                    delay: FIRST_BACKOFF,
                    retry_at: later(now, spread(FIRST_BACKOFF, BACKOFF_SPREAD, unit)),
                    trial_out: false,
                });
                changes.push(HealthChange::CredentialsInvalid);
            }
            (Outcome::Rejected, Some(backoff)) if current => {
                backoff.delay = backoff.delay.saturating_mul(2).min(MAX_BACKOFF);
                backoff.retry_at = later(now, spread(backoff.delay, BACKOFF_SPREAD, unit));
                backoff.trial_out = false;
            }
            (Outcome::Answered, Some(_)) if current => {
                self.credentials = None;
                changes.push(HealthChange::CredentialsValid);
            }
            (Outcome::Fault | Outcome::Neutral, Some(backoff)) if ticket.trial && current => {
                backoff.retry_at = later(now, spread(backoff.delay, BACKOFF_SPREAD, unit));
                backoff.trial_out = false;
            }
            _ => {}
        }
    }
}

/// `now + wait`, saturating.
fn later(now: Timestamp, wait: Duration) -> Timestamp {
    SignedDuration::try_from(wait)
        .ok()
        .and_then(|wait| now.checked_add(wait).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
#[path = "provider/tests.rs"]
mod tests;
