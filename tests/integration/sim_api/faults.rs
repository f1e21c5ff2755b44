//! Injected faults over real HTTP: what a client sees for each, per vendor and per device.

use std::time::{Duration, Instant};

use serde_json::json;
use session_keeper::sim::{Fault, FaultSpec};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json};
use crate::support::{TestSim, start_sim};

const DEVICES: &str = r#"
[[device]]
vendor = "gewe"
id = "wx_1"
[[device]]
vendor = "gewe"
id = "wx_own"
fault = "malformed"
[[device]]
vendor = "wechatpro"
id = "dev-1"
[[device]]
vendor = "wkteam"
id = "wxid_1"
w_id = "w-1"
"#;

async fn check_online(
    sim: &TestSim,
    http: &reqwest::Client,
    app_id: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{}/login/checkOnline", sim.gewe_base()))
        .header("X-GEWE-TOKEN", "sim-gewe-token")
        .json(&json!({"appId": app_id}))
        .send()
        .await
}

fn last_status(sim: &TestSim) -> Option<u16> {
    sim.sim.calls(0).last().and_then(|c| c.status)
}

#[tokio::test]
async fn http500_until_cleared_and_device_fault_wins() {
    let sim = start_sim(DEVICES).await;
    let http = client();
    let r = http
        .put(sim.url("/_sim/faults/gewe"))
        .json(&json!({"fault": "http500"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["fault"]["fault"], "http500");
    let r = check_online(&sim, &http, "wx_1").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "Internal Server Error");
    assert_eq!(last_status(&sim), Some(500));

    // The device's own fault wins over the vendor's.
    let r = check_online(&sim, &http, "wx_own").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).is_err());

    // Other vendors are unaffected.
    let r = http
        .post(sim.url("/isOnline"))
        .header("Authorization", "sim-wkteam-auth")
        .json(&json!({"wId": "w-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["data"]["isOnline"], true);

    let r = http
        .delete(sim.url("/_sim/faults/gewe"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["fault"], serde_json::Value::Null);
    let r = check_online(&sim, &http, "wx_1").await.unwrap();
    assert_eq!(ok_json(r).await["data"], true);
}

#[tokio::test]
async fn malformed_is_json_typed_but_not_json() {
    let sim = start_sim(DEVICES).await;
    let r = check_online(&sim, &client(), "wx_own").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body = r.text().await.unwrap();
    assert!(body.starts_with("{\"ret\":200"), "{body}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_is_wechatpro_unknown_and_500_elsewhere() {
    let sim = start_sim(DEVICES).await;
    let http = client();
    let unknown = Some(FaultSpec::new(Fault::Unknown));
    sim.sim
        .set_vendor_fault(VendorKind::Wechatpro, unknown.clone());
    sim.sim.set_vendor_fault(VendorKind::Gewe, unknown);
    let r = http
        .post(sim.url("/open/isOnline"))
        .header("Authorization", "sim-wechatpro-auth")
        .form(&[("deviceId", "dev-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok_json(r).await,
        json!({"message": "未知异常", "code": "1001", "data": null})
    );
    let r = check_online(&sim, &http, "wx_1").await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
}

#[tokio::test]
async fn close_drops_the_connection_without_an_answer() {
    let sim = start_sim(DEVICES).await;
    let http = client();
    let close = Some(FaultSpec::new(Fault::Close));
    sim.sim.set_vendor_fault(VendorKind::Gewe, close);
    let err = check_online(&sim, &http, "wx_1").await.unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let call = sim.sim.calls(0).pop().unwrap();
    assert_eq!(
        (call.endpoint.as_str(), call.status),
        ("/login/checkOnline", None)
    );
    // The server itself is fine: the control API answers and the next call works.
    sim.sim.set_vendor_fault(VendorKind::Gewe, None);
    let r = check_online(&sim, &http, "wx_1").await.unwrap();
    assert_eq!(ok_json(r).await["data"], true);
}

#[tokio::test]
async fn faults_never_touch_the_control_api() {
    let sim = start_sim(DEVICES).await;
    for vendor in VendorKind::ALL {
        sim.sim
            .set_vendor_fault(vendor, Some(FaultSpec::new(Fault::Close)));
    }
    let r = client().get(sim.url("/_sim/health")).send().await.unwrap();
    assert_eq!(ok_json(r).await, json!({"ok": true}));
}

#[tokio::test]
async fn slow_answers_normally_after_the_delay() {
    let sim = start_sim(DEVICES).await;
    let http = client();
    let r = http
        .put(sim.url("/_sim/faults/gewe"))
        .json(&json!({"fault": "slow", "slow": "300ms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let started = Instant::now();
    let r = check_online(&sim, &http, "wx_1").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(ok_json(r).await["data"], true);
    assert_eq!(last_status(&sim), Some(200));
}

#[tokio::test]
async fn timeout_holds_until_the_client_gives_up_and_shutdown_ends_it() {
    let sim = start_sim(DEVICES).await;
    let patch = json!({"fault": "timeout"});
    let r = client()
        .patch(sim.url("/_sim/devices/wkteam/wxid_1"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["fault"], "timeout");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .post(sim.url("/isOnline"))
        .header("Authorization", "sim-wkteam-auth")
        .json(&json!({"wId": "w-1"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // A held call that nobody abandons ends when the simulator shuts down.
    let held = tokio::spawn({
        let url = sim.url("/isOnline");
        async move {
            client()
                .post(url)
                .header("Authorization", "sim-wkteam-auth")
                .json(&json!({"wId": "w-1"}))
                .send()
                .await
        }
    });
    let held_logged = || sim.sim.calls(0).len() == 2;
    crate::support::eventually("the held call arrives", Duration::from_secs(10), || async {
        held_logged()
    })
    .await;
    assert!(
        sim.sim
            .calls(0)
            .iter()
            .all(|c| c.status.is_none() && c.device.as_deref() == Some("wxid_1"))
    );
    sim.shutdown().await;
    let outcome = held.await.unwrap();
    assert!(outcome.is_err(), "the held call got an answer: {outcome:?}");
}
