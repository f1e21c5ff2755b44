//! The shrise token pair held by the client: read for every call, renewed at most once per
//! rejection however many calls saw it, never renewed again too soon after a failed refresh,
//! and published on a watch channel at every change so the keeper can store it durably.
//!
//! Every reader takes a [`Ticket`] (the pair's generation, bumped by each refresh or
//! replacement) with the token. A caller whose token was rejected asks [`Tokens::renew`]: if
//! the generation moved, it just retries with the newer pair; if a refresh is running, it waits
//! for that one; if the last refresh failed and its backoff has not passed, it gets that
//! failure without a call; otherwise it starts the refresh.
//!
//! The refresh exchange runs in a spawned task that stores (and publishes) its outcome before
//! anyone can observe it: a caller that is cancelled mid-refresh loses nothing, and a pair the
//! platform rotated is never dropped on the floor. The state lock is never held across an
//! await, so no caller waits for a request slot while holding it.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jiff::Timestamp;
use secrecy::SecretString;
use tokio::sync::watch;
use tokio::time::Instant;

use super::backoff;
use crate::vendor::{TokenPair, VendorError};

/// What a successful refresh call returned.
pub(super) struct Renewed {
    /// The new access token and its expiry.
    pub(super) access: SecretString,
    pub(super) access_expires: Option<Timestamp>,
    /// A new refresh token, when the platform rotated that too.
    pub(super) refresh: Option<(SecretString, Option<Timestamp>)>,
}

/// Which pair a caller read, to tell a fresh rejection from one already dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ticket {
    generation: u64,
}

/// The pair, its refresh bookkeeping and the update channel; cheap to clone (shared inside).
#[derive(Clone)]
pub(super) struct Tokens {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    updates: watch::Sender<TokenPair>,
}

struct State {
    pair: TokenPair,
    generation: u64,
    /// Refusals of the refresh token in a row (reset by a new pair).
    refusals: u32,
    /// The last refresh failure and when a refresh may be tried again.
    failure: Option<Failure>,
    /// Set while a refresh task runs; turns `true` once it has stored its outcome.
    in_flight: Option<watch::Receiver<bool>>,
}

struct Failure {
    error: VendorError,
    retry_at: Instant,
}

/// What a caller with a rejected token does next.
enum Step {
    /// Use this (newer) pair.
    Current(TokenPair),
    /// The last refresh failed and its backoff has not passed.
    Failed(VendorError),
    /// A refresh is running: wait for it, then look again.
    Wait(watch::Receiver<bool>),
    /// Refresh this pair (of this generation), signalling completion on the sender.
    Start(TokenPair, u64, watch::Sender<bool>),
}

impl Tokens {
    /// Starts from the pair the keeper passed in.
    pub(super) fn new(pair: TokenPair) -> Tokens {
        let (updates, _) = watch::channel(pair.clone());
        let state = State {
            pair,
            generation: 0,
            refusals: 0,
            failure: None,
            in_flight: None,
        };
        Tokens {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                updates,
            }),
        }
    }

    /// A receiver seeing the current pair now and every change after.
    pub(super) fn subscribe(&self) -> watch::Receiver<TokenPair> {
        self.shared.updates.subscribe()
    }

    /// The current pair.
    pub(super) fn pair(&self) -> TokenPair {
        self.lock().pair.clone()
    }

    /// The access token to send, with the ticket to present if it is rejected.
    pub(super) fn access(&self) -> (SecretString, Ticket) {
        let state = self.lock();
        let ticket = Ticket {
            generation: state.generation,
        };
        (state.pair.access.clone(), ticket)
    }

    /// Puts a new pair in place (the keeper got one elsewhere, e.g. after an SMS login): a new
    /// generation, so a refused refresh token no longer holds anything back. Published too.
    pub(super) fn replace(&self, pair: TokenPair) {
        let mut state = self.lock();
        state.pair = pair;
        state.generation += 1;
        state.refusals = 0;
        state.failure = None;
        self.shared.updates.send_replace(state.pair.clone());
    }

    /// After the pair read with `ticket` was rejected: the pair to retry with. Calls `refresh`
    /// (with the current pair) only when nobody refreshed since that read, no refresh is
    /// running, and no failed refresh is still backing off.
    pub(super) async fn renew<F, Fut>(
        &self,
        ticket: Ticket,
        refresh: F,
    ) -> Result<TokenPair, VendorError>
    where
        F: FnOnce(TokenPair) -> Fut,
        Fut: Future<Output = Result<Renewed, VendorError>> + Send + 'static,
    {
        loop {
            match self.step(ticket) {
                Step::Current(pair) => return Ok(pair),
                Step::Failed(error) => return Err(error),
                Step::Wait(mut done) => {
                    // An error means the task ended without settling; `step` clears it.
                    let _ = done.wait_for(|settled| *settled).await;
                }
                Step::Start(pair, generation, done) => {
                    return self.run(refresh(pair), generation, done).await;
                }
            }
        }
    }

    /// Refreshes now (before the access token expires), unless a refresh is running (its
    /// outcome is shared) or a failed one is still backing off.
    pub(super) async fn force<F, Fut>(&self, refresh: F) -> Result<TokenPair, VendorError>
    where
        F: FnOnce(TokenPair) -> Fut,
        Fut: Future<Output = Result<Renewed, VendorError>> + Send + 'static,
    {
        let (_, ticket) = self.access();
        self.renew(ticket, refresh).await
    }

    /// Decides, under the lock, what a caller holding `ticket` does next.
    fn step(&self, ticket: Ticket) -> Step {
        let mut state = self.lock();
        if state.generation != ticket.generation {
            return Step::Current(state.pair.clone());
        }
        if let Some(done) = &state.in_flight {
            if done.has_changed().is_ok() {
                return Step::Wait(done.clone());
            }
            state.in_flight = None;
        }
        if let Some(failure) = &state.failure
            && Instant::now() < failure.retry_at
        {
            return Step::Failed(failure.error.clone());
        }
        let (done, settled) = watch::channel(false);
        state.in_flight = Some(settled);
        Step::Start(state.pair.clone(), state.generation, done)
    }

    /// Runs `refresh` in its own task, which stores the outcome whatever happens to the caller.
    async fn run<Fut>(
        &self,
        refresh: Fut,
        generation: u64,
        done: watch::Sender<bool>,
    ) -> Result<TokenPair, VendorError>
    where
        Fut: Future<Output = Result<Renewed, VendorError>> + Send + 'static,
    {
        let tokens = self.clone();
        let task = tokio::spawn(async move {
            let outcome = refresh.await;
            tokens.settle(outcome, generation, done)
        });
        match task.await {
            Ok(result) => result,
            Err(e) => Err(VendorError::Transport(format!(
                "token refresh task failed: {e}"
            ))),
        }
    }

    /// Stores a refresh outcome for the pair of `generation`: a new pair is kept and published,
    /// a failure is kept with its backoff. If the pair was replaced meanwhile, the replacement
    /// stands and is what the caller gets.
    fn settle(
        &self,
        outcome: Result<Renewed, VendorError>,
        generation: u64,
        done: watch::Sender<bool>,
    ) -> Result<TokenPair, VendorError> {
        let mut state = self.lock();
        state.in_flight = None;
        let result = if state.generation != generation {
            Ok(state.pair.clone())
        } else {
            match outcome {
                Ok(renewed) => Ok(self.rotate(&mut state, renewed)),
                Err(error) => {
                    back_off(&mut state, &error);
                    Err(error)
                }
            }
        };
        drop(state);
        done.send_replace(true);
        result
    }

    /// Puts a refreshed pair in place and publishes it.
    fn rotate(&self, state: &mut State, renewed: Renewed) -> TokenPair {
        state.pair.access = renewed.access;
        state.pair.access_expires = renewed.access_expires;
        if let Some((refresh, expires)) = renewed.refresh {
            state.pair.refresh = refresh;
            state.pair.refresh_expires = expires;
        }
        state.generation += 1;
        state.refusals = 0;
        state.failure = None;
        self.shared.updates.send_replace(state.pair.clone());
        state.pair.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Records a failed refresh: a refusal of the token backs off exponentially, anything else
/// (transport, timeout, a busy platform) briefly and without counting as a refusal.
fn back_off(state: &mut State, error: &VendorError) {
    let nominal = if error.is_credentials() {
        state.refusals = state.refusals.saturating_add(1);
        backoff::after_refusals(state.refusals)
    } else {
        backoff::after_other_failure()
    };
    let delay = backoff::jittered(nominal, backoff::jitter());
    state.failure = Some(Failure {
        error: error.clone(),
        retry_at: Instant::now() + delay,
    });
}

#[cfg(test)]
mod tests;
