//! The `/_sim/` control API, the call log and scenario events.

use std::time::Duration;

use serde_json::{Value, json};
use session_keeper::sim::{DevicePatch, DeviceSpec, DeviceView, SecondLoginMode};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json, status_json};
use crate::support::{eventually, start_sim};

#[tokio::test]
async fn health_and_device_lifecycle() {
    let sim = start_sim("").await;
    let http = client();
    let health = ok_json(http.get(sim.url("/_sim/health")).send().await.unwrap()).await;
    assert_eq!(health, json!({"ok": true}));

    let one = json!({"vendor": "gewe", "id": "wx_1", "online": false, "reconnect": "fail"});
    let r = http
        .post(sim.url("/_sim/devices"))
        .json(&one)
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await, json!({"upserted": 1}));
    let many = json!([
        {"vendor": "wkteam", "id": "wxid_a", "w_id": "w-a"},
        {"vendor": "shrise", "id": "PC-1", "last_login": "2026-11-20T08:00:00Z"}
    ]);
    let r = http
        .post(sim.url("/_sim/devices"))
        .json(&many)
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await, json!({"upserted": 2}));

    let list = ok_json(http.get(sim.url("/_sim/devices")).send().await.unwrap()).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["wx_1", "wxid_a", "PC-1"]);
    let view = ok_json(
        http.get(sim.url("/_sim/devices/gewe/wx_1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(view["online"], false);
    assert_eq!(view["reconnect"], "fail");
    assert_eq!(view["recycled"], false);
    assert_eq!(view["pending_confirm_at"], Value::Null);
    assert_eq!(view["w_id"], Value::Null);
    assert_eq!(view["confirm_after"], "5s");
    let wk = ok_json(
        http.get(sim.url("/_sim/devices/wkteam/wxid_a"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wk["w_id"], "w-a");

    let patch = json!({"online": true, "offline_reason": "你已退出微信", "slow": "1s"});
    let r = http
        .patch(sim.url("/_sim/devices/gewe/wx_1"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    let patched = ok_json(r).await;
    assert_eq!(
        (patched["online"].clone(), patched["slow"].clone()),
        (json!(true), json!("1s"))
    );
    assert_eq!(patched["offline_reason"], "你已退出微信");
    let r = http
        .patch(sim.url("/_sim/devices/gewe/wx_1"))
        .json(&json!({"offline_reason": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["offline_reason"], Value::Null);

    let r = http
        .post(sim.url("/_sim/devices/wkteam/wxid_a/login"))
        .send()
        .await
        .unwrap();
    let logged = ok_json(r).await;
    assert_eq!(logged["online"], true);
    assert_ne!(logged["w_id"], "w-a", "a person's login rotates the wId");
    assert_eq!(
        sim.sim.device(VendorKind::Wkteam, "wxid_a").unwrap().w_id,
        logged["w_id"].as_str().map(str::to_owned)
    );
}

#[tokio::test]
async fn bad_control_input_is_named() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n").await;
    let http = client();
    let error_of = |v: &Value| v["error"].as_str().unwrap_or_default().to_owned();

    let (status, body) = status_json(
        http.get(sim.url("/_sim/devices/gewe/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(error_of(&body).contains("nope"), "{body}");
    let (status, body) = status_json(
        http.get(sim.url("/_sim/devices/icq/x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("icq"), "{body}");
    let r = http
        .patch(sim.url("/_sim/devices/gewe/wx_1"))
        .json(&json!({"onlne": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("onlne"), "{body}");
    let r = http
        .patch(sim.url("/_sim/devices/gewe/ghost"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .post(sim.url("/_sim/devices/gewe/ghost/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .post(sim.url("/_sim/devices"))
        .json(&json!({"vendor": "gewe", "id": "a", "w_id": "w"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("w_id"), "{body}");
    let r = http
        .post(sim.url("/_sim/devices"))
        .body("[1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = http
        .put(sim.url("/_sim/faults/gewe"))
        .json(&json!({"fault": "boom"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("boom"), "{body}");
    let (status, body) = status_json(
        http.get(sim.url("/_sim/calls?since=x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("since"), "{body}");
}

#[tokio::test]
async fn call_log_records_vendor_calls_only() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n").await;
    let http = client();
    for path in [
        "/gewe/v2/api/login/checkOnline",
        "/v2/api/login/checkOnline",
    ] {
        let r = http
            .post(sim.url(path))
            .header("X-GEWE-TOKEN", "sim-gewe-token")
            .json(&json!({"appId": "wx_1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(ok_json(r).await["data"], true);
    }
    http.get(sim.url("/_sim/health")).send().await.unwrap();
    let calls = ok_json(http.get(sim.url("/_sim/calls")).send().await.unwrap()).await;
    let calls = calls.as_array().unwrap().clone();
    assert_eq!(calls.len(), 2, "control calls are not logged: {calls:?}");
    let first = &calls[0];
    assert_eq!(first["vendor"], "gewe");
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/gewe/v2/api/login/checkOnline");
    assert_eq!(first["endpoint"], "/login/checkOnline");
    assert_eq!(first["device"], "wx_1");
    assert_eq!(first["status"], 200);
    assert!(first["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(calls[1]["path"], "/v2/api/login/checkOnline");
    let seq = first["seq"].as_u64().unwrap();
    let since = ok_json(
        http.get(sim.url(&format!("/_sim/calls?since={seq}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(since.as_array().map(Vec::len), Some(1));
    assert_eq!(sim.calls_to("/login/checkOnline").len(), 2);

    let cleared = ok_json(http.delete(sim.url("/_sim/calls")).send().await.unwrap()).await;
    assert_eq!(cleared["cleared"], true);
    assert!(sim.sim.calls(0).is_empty());
}

#[tokio::test]
async fn scenario_events_fire_on_time() {
    let sim = start_sim(
        r#"
[[device]]
vendor = "gewe"
id = "wx_1"
[[device]]
vendor = "wkteam"
id = "wxid_b"
online = false
w_id = "w-b"
[[event]]
at = "200ms"
vendor = "gewe"
id = "wx_1"
set = { online = false, offline_reason = "在 iPad 设备上登录" }
[[event]]
at = "300ms"
vendor = "wkteam"
id = "wxid_b"
action = "login"
"#,
    )
    .await;
    let gewe_offline = || async {
        sim.sim
            .device(VendorKind::Gewe, "wx_1")
            .is_some_and(|d| !d.online)
    };
    eventually(
        "the gewe device goes offline",
        Duration::from_secs(10),
        gewe_offline,
    )
    .await;
    let view = sim.sim.device(VendorKind::Gewe, "wx_1").unwrap();
    assert_eq!(view.offline_reason.as_deref(), Some("在 iPad 设备上登录"));
    let wk_online = || async {
        sim.sim
            .device(VendorKind::Wkteam, "wxid_b")
            .is_some_and(|d| d.online)
    };
    eventually(
        "the wkteam person logs in",
        Duration::from_secs(10),
        wk_online,
    )
    .await;
    let view = sim.sim.device(VendorKind::Wkteam, "wxid_b").unwrap();
    assert_ne!(view.w_id.as_deref(), Some("w-b"));
    sim.shutdown().await;
}

#[tokio::test]
async fn in_process_control_matches_the_http_api() {
    let sim = start_sim("").await;
    let mut spec = DeviceSpec::new(VendorKind::Wechatpro, "dev-1");
    spec.online = false;
    sim.sim.upsert_device(spec);
    let unknown = sim
        .sim
        .patch_device(VendorKind::Wechatpro, "ghost", DevicePatch::default());
    assert!(unknown.unwrap_err().to_string().contains("ghost"));
    assert!(
        sim.sim.login(VendorKind::Gewe, "dev-1").is_err(),
        "vendors have separate devices"
    );
    let patch = DevicePatch {
        second_login: Some(SecondLoginMode::Never),
        ..DevicePatch::default()
    };
    sim.sim
        .patch_device(VendorKind::Wechatpro, "dev-1", patch)
        .unwrap();
    let r = client()
        .get(sim.url("/_sim/devices/wechatpro/dev-1"))
        .send()
        .await
        .unwrap();
    let over_http: DeviceView = serde_json::from_value(ok_json(r).await).unwrap();
    assert_eq!(
        Some(over_http.clone()),
        sim.sim.device(VendorKind::Wechatpro, "dev-1")
    );
    assert_eq!(over_http.second_login, SecondLoginMode::Never);
    sim.sim.login(VendorKind::Wechatpro, "dev-1").unwrap();
    assert!(sim.sim.devices().iter().all(|d| d.online));
}
