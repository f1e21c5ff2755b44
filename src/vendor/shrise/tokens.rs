//! The shrise token pair held by the client: read for every call, renewed at most once per
//! rejection however many calls saw it, and published on a watch channel at every rotation so
//! the keeper can store it durably.
//!
//! Every reader takes a [`Ticket`] with the token: the pair's generation (bumped by each
//! successful refresh) and the refresh attempt count. A caller whose token was rejected asks
//! [`Tokens::renew`] with its ticket: if the generation moved, someone already refreshed and
//! the caller just retries with the new token; if only the attempt count moved, a refresh was
//! tried and failed meanwhile and the caller gets that failure instead of trying again.

use std::future::Future;

use jiff::Timestamp;
use secrecy::SecretString;
use tokio::sync::{Mutex, watch};

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
    attempts: u64,
}

/// The pair, its counters and the update channel.
pub(super) struct Tokens {
    state: Mutex<State>,
    updates: watch::Sender<TokenPair>,
}

struct State {
    pair: TokenPair,
    generation: u64,
    attempts: u64,
    last_failure: Option<VendorError>,
}

impl Tokens {
    /// Starts from the pair the keeper passed in.
    pub(super) fn new(pair: TokenPair) -> Tokens {
        let (updates, _) = watch::channel(pair.clone());
        Tokens {
            state: Mutex::new(State {
                pair,
                generation: 0,
                attempts: 0,
                last_failure: None,
            }),
            updates,
        }
    }

    /// A receiver seeing the current pair now and every rotation after.
    pub(super) fn subscribe(&self) -> watch::Receiver<TokenPair> {
        self.updates.subscribe()
    }

    /// The current pair.
    pub(super) async fn pair(&self) -> TokenPair {
        self.state.lock().await.pair.clone()
    }

    /// The access token to send, with the ticket to present if it is rejected.
    pub(super) async fn access(&self) -> (SecretString, Ticket) {
        let state = self.state.lock().await;
        let ticket = Ticket {
            generation: state.generation,
            attempts: state.attempts,
        };
        (state.pair.access.clone(), ticket)
    }

    /// After the access token read with `ticket` was rejected: the access token to retry
    /// with. Calls `refresh` (with the current pair) only when nobody refreshed or tried to
    /// since that read; concurrent callers wait for the one refresh and share its outcome.
    pub(super) async fn renew<F, Fut>(
        &self,
        ticket: Ticket,
        refresh: F,
    ) -> Result<SecretString, VendorError>
    where
        F: FnOnce(TokenPair) -> Fut,
        Fut: Future<Output = Result<Renewed, VendorError>>,
    {
        let mut state = self.state.lock().await;
        if state.generation != ticket.generation {
            return Ok(state.pair.access.clone());
        }
        if state.attempts != ticket.attempts {
            return Err(state.last_failure.clone().unwrap_or_else(|| {
                VendorError::CredentialsRejected("token refresh failed".into())
            }));
        }
        self.attempt(&mut state, refresh)
            .await
            .map(|pair| pair.access)
    }

    /// Refreshes now, whatever the state (proactive refresh before expiry).
    pub(super) async fn force<F, Fut>(&self, refresh: F) -> Result<TokenPair, VendorError>
    where
        F: FnOnce(TokenPair) -> Fut,
        Fut: Future<Output = Result<Renewed, VendorError>>,
    {
        let mut state = self.state.lock().await;
        self.attempt(&mut state, refresh).await
    }

    /// One refresh attempt under the lock; on success the new pair is stored and published.
    async fn attempt<F, Fut>(&self, state: &mut State, refresh: F) -> Result<TokenPair, VendorError>
    where
        F: FnOnce(TokenPair) -> Fut,
        Fut: Future<Output = Result<Renewed, VendorError>>,
    {
        state.attempts += 1;
        match refresh(state.pair.clone()).await {
            Ok(renewed) => {
                state.pair.access = renewed.access;
                state.pair.access_expires = renewed.access_expires;
                if let Some((refresh, expires)) = renewed.refresh {
                    state.pair.refresh = refresh;
                    state.pair.refresh_expires = expires;
                }
                state.generation += 1;
                state.last_failure = None;
                self.updates.send_replace(state.pair.clone());
                Ok(state.pair.clone())
            }
            Err(error) => {
                state.last_failure = Some(error.clone());
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pair(access: &str, refresh: &str) -> TokenPair {
        TokenPair {
            access: SecretString::from(access),
            access_expires: None,
            refresh: SecretString::from(refresh),
            refresh_expires: None,
        }
    }

    fn renewed(access: &str) -> Renewed {
        Renewed {
            access: SecretString::from(access),
            access_expires: None,
            refresh: None,
        }
    }

    #[tokio::test]
    async fn one_refresh_for_many_rejections_of_one_token() {
        let tokens = Arc::new(Tokens::new(pair("a1", "r1")));
        let calls = Arc::new(AtomicUsize::new(0));
        let (_, ticket) = tokens.access().await;
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (tokens, calls) = (Arc::clone(&tokens), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                let refresh = |_| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok(renewed("a2"))
                };
                tokens
                    .renew(ticket, refresh)
                    .await
                    .map(|a| a.expose_secret().to_owned())
            }));
        }
        for task in tasks {
            let access = task
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            assert_eq!(access.as_deref(), Ok("a2"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failed_refresh_is_shared_then_a_fresh_read_may_retry() {
        let tokens = Tokens::new(pair("a1", "r1"));
        let (_, ticket) = tokens.access().await;
        let rejected = VendorError::CredentialsRejected("token refresh rejected: x".into());
        let first = tokens
            .renew(ticket, |_| async { Err(rejected.clone()) })
            .await;
        assert_eq!(first.err(), Some(rejected.clone()));
        // A caller holding the same ticket gets the failure without another attempt.
        let second = tokens
            .renew(ticket, |_| async { Ok(renewed("never")) })
            .await;
        assert_eq!(second.err(), Some(rejected));
        // A caller that read the token after the failure may try again.
        let (_, fresh) = tokens.access().await;
        let third = tokens.renew(fresh, |_| async { Ok(renewed("a2")) }).await;
        assert_eq!(
            third.ok().map(|a| a.expose_secret().to_owned()).as_deref(),
            Some("a2")
        );
    }

    #[tokio::test]
    async fn rotation_is_published_and_keeps_or_replaces_the_refresh_token() {
        let tokens = Tokens::new(pair("a1", "r1"));
        let mut updates = tokens.subscribe();
        let forced = tokens.force(|old| async move {
            assert_eq!(old.refresh.expose_secret(), "r1");
            Ok(renewed("a2"))
        });
        assert!(forced.await.is_ok());
        assert!(updates.has_changed().unwrap_or(false));
        let seen = updates.borrow_and_update().clone();
        assert_eq!(
            (seen.access.expose_secret(), seen.refresh.expose_secret()),
            ("a2", "r1")
        );
        let both = Renewed {
            refresh: Some((SecretString::from("r2"), None)),
            ..renewed("a3")
        };
        assert!(tokens.force(|_| async { Ok(both) }).await.is_ok());
        let now = tokens.pair().await;
        assert_eq!(
            (now.access.expose_secret(), now.refresh.expose_secret()),
            ("a3", "r2")
        );
        assert_eq!(updates.borrow().access.expose_secret(), "a3");
    }
}
