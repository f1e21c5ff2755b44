//! The per-provider request slots: `max_in_flight` bounds concurrent requests, a call finding
//! no free slot within the provider timeout is `Busy` (our limit, not the provider's fault),
//! and calls that block until a person confirms have slots of their own so probes never
//! starve behind them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use super::{json_answer, received, settings, settings_for};
use crate::vendor::gewe::GeweClient;
use crate::vendor::wechatpro::WechatproClient;
use crate::vendor::{Auth, ClientSettings, DeviceRef, Probe, Vendor, VendorError};

/// How long the counting server holds each request.
const HOLD: Duration = Duration::from_millis(200);

/// Requests in progress right now and the most ever seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// A GeWe-shaped server that answers every checkOnline after [`HOLD`], counting concurrency.
async fn counting_server(gauge: Arc<Gauge>) -> String {
    let handler = move || {
        let gauge = Arc::clone(&gauge);
        async move {
            let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(HOLD).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            axum::Json(json!({"ret": 200, "msg": "ok", "data": true}))
        }
    };
    let router = Router::new().route("/login/checkOnline", post(handler));
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => panic!("cannot bind: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => panic!("no local address: {e}"),
    };
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn max_in_flight_bounds_concurrent_requests() {
    let gauge = Arc::new(Gauge::default());
    let base_url = counting_server(Arc::clone(&gauge)).await;
    let auth = Auth::Gewe { token: "t".into() };
    let settings = ClientSettings {
        max_in_flight: 2,
        ..settings_for(&base_url, auth)
    };
    let client = match GeweClient::new(&settings) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    };
    let probes: Vec<_> = (0..6)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.probe(DeviceRef::new(&format!("wx_{i}"))).await })
        })
        .collect();
    for probe in probes {
        let probe = probe.await.map_err(|e| e.to_string());
        assert!(matches!(probe, Ok(Probe::Online { .. })), "{probe:?}");
    }
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "{peak} requests were in flight at once"
    );
}

/// A wechatpro client with `max_in_flight` slots and a provider timeout of `timeout`.
fn wechatpro(server: &MockServer, max_in_flight: usize, timeout: Duration) -> WechatproClient {
    let auth = Auth::Wechatpro {
        authorization: "wp-auth".into(),
    };
    let settings = ClientSettings {
        max_in_flight,
        timeout,
        ..settings(server, "", auth)
    };
    match WechatproClient::new(&settings) {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

/// Mounts a loginAgain that answers only after a minute (the person never confirms) and an
/// isOnline that answers at once.
async fn mount_slow_login_again(server: &MockServer) {
    let confirmed = json!({"message": "成功", "code": "1000", "data": null});
    Mock::given(method("POST"))
        .and(path("/open/loginAgain"))
        .respond_with(json_answer(confirmed).set_delay(Duration::from_secs(60)))
        .mount(server)
        .await;
    let online = json!({"message": "在线", "code": "1000", "data": null});
    Mock::given(method("POST"))
        .and(path("/open/isOnline"))
        .respond_with(json_answer(online))
        .mount(server)
        .await;
}

/// Starts a loginAgain for each of `ids` in the background and returns once the server has
/// received every one of them (each then holds a blocking slot).
async fn hold_login_agains(
    server: &MockServer,
    client: &WechatproClient,
    ids: &[&str],
) -> Vec<tokio::task::JoinHandle<()>> {
    let tasks = ids
        .iter()
        .map(|id| {
            let (client, id) = (client.clone(), id.to_string());
            tokio::spawn(async move {
                let wait = Duration::from_secs(120);
                let _ = client.second_login(DeviceRef::new(&id), wait).await;
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let held = received(server).await;
        let login_agains = held.iter().filter(|r| r.url.path() == "/open/loginAgain");
        if login_agains.count() == ids.len() {
            return tasks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loginAgain calls never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn probes_go_through_while_login_again_holds_every_blocking_slot() {
    let server = MockServer::start().await;
    mount_slow_login_again(&server).await;
    let client = wechatpro(&server, 2, Duration::from_secs(1));
    let held = hold_login_agains(&server, &client, &["dev-1", "dev-2"]).await;
    let probe = client.probe(DeviceRef::new("dev-3")).await;
    assert!(matches!(probe, Probe::Online { .. }), "{probe:?}");
    held.iter().for_each(|task| task.abort());
}

#[tokio::test]
async fn no_free_slot_within_the_timeout_is_busy_not_a_provider_fault() {
    let server = MockServer::start().await;
    mount_slow_login_again(&server).await;
    let client = wechatpro(&server, 1, Duration::from_millis(300));
    let held = hold_login_agains(&server, &client, &["dev-1"]).await;
    let second = client
        .second_login(DeviceRef::new("dev-2"), Duration::from_secs(120))
        .await;
    let expected = VendorError::Busy {
        slots: 1,
        waited: Duration::from_millis(300),
    };
    assert_eq!(second, Err(expected.clone()));
    assert!(!expected.is_provider_fault());
    let sent = received(&server).await;
    let login_agains = sent.iter().filter(|r| r.url.path() == "/open/loginAgain");
    assert_eq!(login_agains.count(), 1, "the busy call was sent anyway");
    held.iter().for_each(|task| task.abort());
}
