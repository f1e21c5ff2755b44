//! The shrise token keeper: one task per shrise provider.
//!
//! - Every rotation the client publishes (a proactive refresh here, or the refresh-once-and-
//!   retry the client does on a rejected call) is written to the store, so a restart never
//!   starts from a pair the platform already retired, and logged as `token.refreshed` with its
//!   expiry (never the token).
//! - A refresh is scheduled about two thirds into the access token's remaining lifetime
//!   (±10 % jitter). With no known expiry there is no proactive refresh; the client still
//!   refreshes once on a rejection.
//! - A failed refresh logs `token.refresh_failed` and is retried with exponential backoff
//!   (30 s doubling to 30 min, ±20 % jitter). Its outcome goes to the provider's gate: a
//!   refusal opens `credentials_invalid`, a transport failure counts toward
//!   `provider_unreachable`, a success resolves either.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::gate::Gate;
use super::provider::{BACKOFF_SPREAD, FIRST_BACKOFF, MAX_BACKOFF, Ticket};
use crate::jitter::{Jitter, spread};
use crate::store::{Write, Writer};
use crate::vendor::TokenPair;
use crate::vendor::shrise::ShriseClient;

/// The share of the remaining lifetime after which a refresh is due.
const REFRESH_AT: f64 = 2.0 / 3.0;
/// Jitter of the proactive refresh time.
const REFRESH_SPREAD: f64 = 0.1;

/// Everything the token keeper task owns.
pub(crate) struct Keeper {
    /// The provider's name (store key, log field).
    pub(crate) provider: String,
    /// The provider's client, which owns the live pair.
    pub(crate) client: ShriseClient,
    /// The provider's gate, told about refresh outcomes.
    pub(crate) gate: Arc<Gate>,
    /// Where rotated pairs go.
    pub(crate) writer: Writer,
    /// Cancelled to stop the task.
    pub(crate) stop: CancellationToken,
}

/// Spawns the keeper on `tracker`.
pub(crate) fn spawn(tracker: &TaskTracker, keeper: Keeper) -> JoinHandle<()> {
    tracker.spawn(keeper.run())
}

/// When to refresh `pair` proactively, as a wait from `now`; `None` without a known expiry.
pub(crate) fn refresh_wait(pair: &TokenPair, now: Timestamp, unit: f64) -> Option<Duration> {
    let expires = pair.access_expires?;
    let remaining = Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO);
    Some(spread(remaining.mul_f64(REFRESH_AT), REFRESH_SPREAD, unit))
}

fn rfc3339(t: Option<Timestamp>) -> String {
    t.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Keeper {
    async fn run(self) {
        let mut updates = self.client.token_updates();
        let mut jitter = Jitter::new();
        let mut backoff = FIRST_BACKOFF;
        let mut wait = {
            let pair = updates.borrow_and_update();
            refresh_wait(&pair, Timestamp::now(), jitter.unit())
        };
        loop {
            let due = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                changed = updates.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let pair = updates.borrow_and_update().clone();
                    self.stored(pair.clone());
                    backoff = FIRST_BACKOFF;
                    wait = refresh_wait(&pair, Timestamp::now(), jitter.unit());
                }
                () = due => {
                    let Some(failed) = self.refresh().await else { break };
                    wait = if failed {
                        let next = spread(backoff, BACKOFF_SPREAD, jitter.unit());
                        backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
                        Some(next)
                    } else {
                        // The new pair arrives on `updates`, which schedules the next refresh.
                        None
                    };
                }
            }
        }
    }

    /// Writes a rotated pair and logs it.
    fn stored(&self, pair: TokenPair) {
        tracing::info!(
            event = "token.refreshed",
            provider = %self.provider,
            access_expires = %rfc3339(pair.access_expires),
            refresh_expires = %rfc3339(pair.refresh_expires),
            "shrise token pair rotated and stored"
        );
        self.writer.write(Write::Tokens {
            provider: self.provider.clone(),
            pair,
        });
    }

    /// One proactive refresh, raced against shutdown: `None` when stopped, else whether it
    /// failed.
    async fn refresh(&self) -> Option<bool> {
        let result = tokio::select! {
            biased;
            _ = self.stop.cancelled() => return None,
            result = self.client.refresh_tokens() => result,
        };
        let now = Timestamp::now();
        self.gate
            .record(Ticket::unadmitted(), result.as_ref().err(), now);
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        crate::admin::metrics::global().token_refresh(&self.provider, outcome);
        match result {
            Ok(_) => Some(false),
            Err(error) => {
                tracing::warn!(
                    event = "token.refresh_failed",
                    provider = %self.provider,
                    error = %error,
                    "shrise token refresh failed; retrying with backoff"
                );
                Some(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn pair(expires: Option<Timestamp>) -> TokenPair {
        TokenPair {
            access: "a".into(),
            access_expires: expires,
            refresh: "r".into(),
            refresh_expires: None,
        }
    }

    #[test]
    fn refresh_is_due_two_thirds_into_the_remaining_lifetime() {
        let now = Timestamp::from_second(1_800_000_000).unwrap_or_else(|e| panic!("{e}"));
        let expires = now + SignedDuration::from_secs(90 * 60);
        let wait = refresh_wait(&pair(Some(expires)), now, 0.5);
        assert_eq!(wait, Some(Duration::from_secs(60 * 60)));
        let early = refresh_wait(&pair(Some(expires)), now, 0.0);
        assert_eq!(early, Some(Duration::from_secs(54 * 60)));
        let late = refresh_wait(&pair(Some(expires)), now, 0.999_999);
        assert!(late.is_some_and(|w| w < Duration::from_secs(66 * 60)));
    }

    #[test]
    fn an_expired_token_is_refreshed_at_once_and_no_expiry_means_no_schedule() {
        let now = Timestamp::from_second(1_800_000_000).unwrap_or_else(|e| panic!("{e}"));
        let past = now - SignedDuration::from_secs(10);
        assert_eq!(
            refresh_wait(&pair(Some(past)), now, 0.5),
            Some(Duration::ZERO)
        );
        assert_eq!(refresh_wait(&pair(None), now, 0.5), None);
    }
}
