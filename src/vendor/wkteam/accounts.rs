//! The provider's list of logged-in accounts (`queryLoginWx`), shared by all its devices.
//!
//! A device that must look its account up (its wId may have rotated) asks for a listing no
//! older than it can use: one asked for after its own answer came (`max_age` zero), or one at
//! most a poll interval old. One request runs at a time per provider; everyone who needed a
//! listing while it ran and can use it takes its answer, so a provider-wide outage costs one
//! or two `queryLoginWx` calls, not one per device.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::vendor::VendorError;

/// wcId → its current wId, as one listing said.
pub(super) type Listing = Arc<HashMap<String, String>>;

/// The last listing and when it was asked for; the lock serialises the requests.
#[derive(Debug, Default)]
pub(super) struct Accounts {
    last: Mutex<Option<Answered>>,
}

#[derive(Debug)]
struct Answered {
    asked_at: Instant,
    listing: Result<Listing, VendorError>,
}

impl Accounts {
    /// The listing asked for at most `max_age` ago, fetching one with `fetch` when there is
    /// none. Cancel-safe: a caller dropped mid-request leaves the last listing as it was.
    pub(super) async fn current<F, Fut>(
        &self,
        max_age: Duration,
        fetch: F,
    ) -> Result<Listing, VendorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<(String, String)>, VendorError>>,
    {
        // None: the process is younger than `max_age`, so any listing will do.
        let needed = Instant::now().checked_sub(max_age);
        let mut last = self.last.lock().await;
        let usable = |a: &&Answered| needed.is_none_or(|n| a.asked_at >= n);
        if let Some(answered) = last.as_ref().filter(usable) {
            return answered.listing.clone();
        }
        let asked_at = Instant::now();
        let listing = fetch()
            .await
            .map(|pairs| Arc::new(pairs.into_iter().collect::<HashMap<_, _>>()));
        *last = Some(Answered {
            asked_at,
            listing: listing.clone(),
        });
        listing
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn pairs() -> Vec<(String, String)> {
        vec![("wxid_1".to_owned(), "w-2".to_owned())]
    }

    #[tokio::test(start_paused = true)]
    async fn devices_that_need_a_listing_at_once_share_one_request() {
        let accounts = Arc::new(Accounts::default());
        let requests = Arc::new(AtomicUsize::new(0));
        let fetch = |requests: Arc<AtomicUsize>| async move {
            requests.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(pairs())
        };
        // The first asks; the others need a listing asked for up to a poll interval ago.
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (accounts, requests) = (Arc::clone(&accounts), Arc::clone(&requests));
            let max_age = if i == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs(30)
            };
            tasks.push(tokio::spawn(async move {
                accounts.current(max_age, || fetch(requests)).await
            }));
        }
        for task in tasks {
            let listing = task.await.unwrap().unwrap();
            assert_eq!(listing.get("wxid_1").map(String::as_str), Some("w-2"));
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_need_never_takes_a_listing_asked_for_before_it() {
        let accounts = Accounts::default();
        let requests = AtomicUsize::new(0);
        let fetch = || async {
            requests.fetch_add(1, Ordering::SeqCst);
            Ok(pairs())
        };
        accounts.current(Duration::ZERO, fetch).await.unwrap();
        tokio::time::advance(Duration::from_millis(1)).await;
        accounts.current(Duration::ZERO, fetch).await.unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            2,
            "zero age: a new listing"
        );
        tokio::time::advance(Duration::from_secs(10)).await;
        accounts
            .current(Duration::from_secs(30), fetch)
            .await
            .unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            2,
            "10 s old serves a 30 s need"
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        accounts
            .current(Duration::from_secs(30), fetch)
            .await
            .unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 3, "40 s old does not");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_listing_is_shared_too_and_retried_when_too_old() {
        let accounts = Accounts::default();
        let failing = || async { Err(VendorError::Timeout) };
        let err = accounts.current(Duration::ZERO, failing).await.unwrap_err();
        assert_eq!(err, VendorError::Timeout);
        let shared = accounts
            .current(Duration::from_secs(5), || async { Ok(pairs()) })
            .await;
        assert_eq!(shared.unwrap_err(), VendorError::Timeout);
        tokio::time::advance(Duration::from_secs(6)).await;
        let fresh = accounts
            .current(Duration::from_secs(5), || async { Ok(pairs()) })
            .await;
        assert!(fresh.is_ok());
    }
}
