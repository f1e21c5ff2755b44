//! Unit tests of the token bookkeeping with stand-in refresh calls; the backoff tests run on
//! tokio's paused clock and move it by hand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::oneshot;

use super::*;

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

fn refused() -> VendorError {
    VendorError::CredentialsRejected("token refresh rejected: code 401: refreshToken已失效".into())
}

/// Renews with a fresh ticket through a stand-in that counts its calls and answers `answer`;
/// returns the access token to retry with.
async fn renew_counting(
    tokens: &Tokens,
    calls: &Arc<AtomicUsize>,
    answer: Result<&'static str, VendorError>,
) -> Result<String, VendorError> {
    let (_, ticket) = tokens.access();
    let calls = Arc::clone(calls);
    let refresh = move |_| async move {
        calls.fetch_add(1, Ordering::SeqCst);
        answer.map(renewed)
    };
    let pair = tokens.renew(ticket, refresh).await?;
    Ok(pair.access.expose_secret().to_owned())
}

fn count(calls: &AtomicUsize) -> usize {
    calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn one_refresh_for_many_rejections_of_one_token() {
    let tokens = Tokens::new(pair("a1", "r1"));
    let calls = Arc::new(AtomicUsize::new(0));
    let (_, ticket) = tokens.access();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (tokens, calls) = (tokens.clone(), Arc::clone(&calls));
        tasks.push(tokio::spawn(async move {
            let refresh = |_| async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(renewed("a2"))
            };
            let pair = tokens.renew(ticket, refresh).await;
            pair.map(|p| p.access.expose_secret().to_owned())
        }));
    }
    for task in tasks {
        let access = task.await.map_err(|e| e.to_string());
        assert_eq!(access, Ok(Ok("a2".to_owned())));
    }
    assert_eq!(count(&calls), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refused_refresh_token_backs_off_exponentially() {
    let tokens = Tokens::new(pair("a1", "r1"));
    let calls = Arc::new(AtomicUsize::new(0));
    let attempt = || renew_counting(&tokens, &calls, Err(refused()));
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(count(&calls), 1, "retried at once");
    // The first wait is 30 s less up to a quarter: at least 22.5 s, at most 30 s.
    tokio::time::advance(Duration::from_secs(20)).await;
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(count(&calls), 1, "retried within 20 s");
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(count(&calls), 2, "not retried after 31 s");
    // The second wait is 60 s less up to a quarter: at least 45 s.
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(
        count(&calls),
        2,
        "retried within 31 s of the second refusal"
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(attempt().await, Err(refused()));
    assert_eq!(count(&calls), 3, "not retried after 61 s");
}

#[tokio::test(start_paused = true)]
async fn a_replaced_pair_may_refresh_at_once() {
    let tokens = Tokens::new(pair("a1", "r1"));
    let calls = Arc::new(AtomicUsize::new(0));
    let (_, stale) = tokens.access();
    assert_eq!(
        renew_counting(&tokens, &calls, Err(refused())).await,
        Err(refused())
    );
    let mut updates = tokens.subscribe();
    tokens.replace(pair("a9", "r9"));
    assert_eq!(updates.borrow_and_update().access.expose_secret(), "a9");
    // A caller still holding the old ticket just retries with the replacement.
    let retry = tokens
        .renew(stale, |_| async { Ok(renewed("never")) })
        .await;
    assert_eq!(
        retry.map(|p| p.access.expose_secret().to_owned()),
        Ok("a9".to_owned())
    );
    // A rejection of the replacement may refresh without waiting out the old backoff.
    let renewal = renew_counting(&tokens, &calls, Ok("a10")).await;
    assert_eq!(renewal, Ok("a10".to_owned()));
    assert_eq!(count(&calls), 2);
}

#[tokio::test(start_paused = true)]
async fn other_failures_keep_their_error_and_back_off_briefly() {
    let tokens = Tokens::new(pair("a1", "r1"));
    let calls = Arc::new(AtomicUsize::new(0));
    let timeout = || renew_counting(&tokens, &calls, Err(VendorError::Timeout));
    assert_eq!(timeout().await, Err(VendorError::Timeout));
    assert_eq!(timeout().await, Err(VendorError::Timeout));
    assert_eq!(count(&calls), 1, "retried at once after a timeout");
    tokio::time::advance(Duration::from_secs(6)).await;
    let refusal = || renew_counting(&tokens, &calls, Err(refused()));
    assert_eq!(refusal().await, Err(refused()));
    assert_eq!(count(&calls), 2, "not retried 6 s after a timeout");
    // The timeout did not count as a refusal: this is the FIRST refusal's wait (≤ 30 s).
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(refusal().await, Err(refused()));
    assert_eq!(count(&calls), 3);
}

#[tokio::test]
async fn a_cancelled_caller_loses_no_rotation() {
    let tokens = Tokens::new(pair("a1", "r1"));
    let mut updates = tokens.subscribe();
    let (release, released) = oneshot::channel::<()>();
    let (_, ticket) = tokens.access();
    let renewal = tokens.renew(ticket, move |_| async move {
        let _ = released.await;
        Ok(renewed("a2"))
    });
    // Poll the caller once (it starts the refresh), then drop it mid-refresh.
    tokio::select! {
        biased;
        outcome = renewal => panic!("the refresh cannot be done yet: {:?}", outcome.err()),
        () = tokio::task::yield_now() => {}
    }
    // A second caller with the same ticket shares the running refresh instead of starting one.
    let second = tokens.renew(ticket, |_| async { Ok(renewed("never")) });
    let _ = release.send(());
    let second = second.await.map(|p| p.access.expose_secret().to_owned());
    assert_eq!(second, Ok("a2".to_owned()));
    let published = tokio::time::timeout(Duration::from_secs(10), updates.changed()).await;
    assert!(matches!(published, Ok(Ok(()))), "{published:?}");
    assert_eq!(updates.borrow().access.expose_secret(), "a2");
    assert_eq!(tokens.pair().access.expose_secret(), "a2");
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
    let now = tokens.pair();
    assert_eq!(
        (now.access.expose_secret(), now.refresh.expose_secret()),
        ("a3", "r2")
    );
    assert_eq!(updates.borrow().access.expose_secret(), "a3");
}
