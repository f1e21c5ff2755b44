//! The `/_sim/` control API, the call log and scenario events.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use session_keeper::sim::{DevicePatch, DeviceSpec, DeviceView, SecondLoginMode};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json, status_json};
use crate::support::{TestSim, eventually, start_sim};

/// Sends a control request (JSON body if given); returns status and JSON answer.
async fn control(sim: &TestSim, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = client().request(method, sim.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    status_json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn health_and_device_upserts() {
    let sim = start_sim("").await;
    let health = control(&sim, Method::GET, "/_sim/health", None).await;
    assert_eq!(health, (200, json!({"ok": true})));
    let one = json!({"vendor": "gewe", "id": "wx_1", "online": false, "reconnect": "fail"});
    let answer = control(&sim, Method::POST, "/_sim/devices", Some(one)).await;
    assert_eq!(answer, (200, json!({"upserted": 1})));
    let many = json!([
        {"vendor": "wkteam", "id": "wxid_a", "w_id": "w-a"},
        {"vendor": "shrise", "id": "PC-1", "last_login": "2026-11-20T08:00:00Z"}
    ]);
    let answer = control(&sim, Method::POST, "/_sim/devices", Some(many)).await;
    assert_eq!(answer, (200, json!({"upserted": 2})));

    let (_, list) = control(&sim, Method::GET, "/_sim/devices", None).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["wx_1", "wxid_a", "PC-1"]);
    let (status, view) = control(&sim, Method::GET, "/_sim/devices/gewe/wx_1", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["online"].clone(), view["reconnect"].clone()),
        (json!(false), json!("fail"))
    );
    assert_eq!(
        (view["recycled"].clone(), view["confirm_after"].clone()),
        (json!(false), json!("5s"))
    );
    assert_eq!(view["pending_confirm_at"], Value::Null);
    assert_eq!(view["w_id"], Value::Null);
    let (_, wk) = control(&sim, Method::GET, "/_sim/devices/wkteam/wxid_a", None).await;
    assert_eq!(wk["w_id"], "w-a");
}

#[tokio::test]
async fn patch_and_person_login() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n[[device]]\nvendor = \"wkteam\"\nid = \"wxid_a\"\nw_id = \"w-a\"\nonline = false\n").await;
    let patch = json!({"online": false, "offline_reason": "你已退出微信", "slow": "1s"});
    let (status, view) = control(&sim, Method::PATCH, "/_sim/devices/gewe/wx_1", Some(patch)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["online"].clone(), view["slow"].clone()),
        (json!(false), json!("1s"))
    );
    assert_eq!(view["offline_reason"], "你已退出微信");
    let clear = Some(json!({"offline_reason": null}));
    let (_, view) = control(&sim, Method::PATCH, "/_sim/devices/gewe/wx_1", clear).await;
    assert_eq!(view["offline_reason"], Value::Null);

    let (status, view) = control(
        &sim,
        Method::POST,
        "/_sim/devices/wkteam/wxid_a/login",
        None,
    )
    .await;
    assert_eq!((status, view["online"].clone()), (200, json!(true)));
    assert_ne!(view["w_id"], "w-a", "a person's login rotates the wId");
    let in_process = sim.sim.device(VendorKind::Wkteam, "wxid_a").unwrap();
    assert_eq!(in_process.w_id.as_deref(), view["w_id"].as_str());
}

/// The status and `error` text of a control answer.
async fn error_of(sim: &TestSim, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
    let (status, answer) = control(sim, method, path, body).await;
    (
        status,
        answer["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn unknown_devices_are_404_and_unknown_vendors_400() {
    let sim = start_sim("").await;
    let (status, error) = error_of(&sim, Method::GET, "/_sim/devices/gewe/nope", None).await;
    assert_eq!(status, 404);
    assert!(error.contains("nope"), "{error}");
    let (status, error) = error_of(&sim, Method::GET, "/_sim/devices/icq/x", None).await;
    assert_eq!(status, 400);
    assert!(error.contains("icq"), "{error}");
    let patch = Some(json!({}));
    assert_eq!(
        error_of(&sim, Method::PATCH, "/_sim/devices/gewe/ghost", patch)
            .await
            .0,
        404
    );
    let login = "/_sim/devices/gewe/ghost/login";
    assert_eq!(error_of(&sim, Method::POST, login, None).await.0, 404);
    assert_eq!(
        error_of(&sim, Method::DELETE, "/_sim/faults/icq", None)
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_problem() {
    let sim = start_sim("[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n").await;
    let cases = [
        (
            Method::PATCH,
            "/_sim/devices/gewe/wx_1",
            json!({"onlne": true}),
            "onlne",
        ),
        (
            Method::POST,
            "/_sim/devices",
            json!({"vendor": "gewe", "id": "a", "w_id": "w"}),
            "w_id",
        ),
        (
            Method::POST,
            "/_sim/devices",
            json!([{"vendor": "gewe"}]),
            "id",
        ),
        (
            Method::PUT,
            "/_sim/faults/gewe",
            json!({"fault": "boom"}),
            "boom",
        ),
    ];
    for (method, path, body, named) in cases {
        let (status, error) = error_of(&sim, method, path, Some(body)).await;
        assert_eq!(status, 400, "{path}: {error}");
        assert!(error.contains(named), "{path}: {error}");
    }
    let raw = client()
        .post(sim.url("/_sim/devices"))
        .body("[1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let (status, error) = error_of(&sim, Method::GET, "/_sim/calls?since=x", None).await;
    assert_eq!(status, 400);
    assert!(error.contains("since"), "{error}");
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

const EVENTS: &str = r#"
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
"#;

#[tokio::test]
async fn scenario_events_fire_on_time() {
    let sim = start_sim(EVENTS).await;
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

/// Every example scenario under `etc/sim/` loads, and the README's example has one device per
/// vendor plus its range (so the README's curl examples have devices to talk to).
#[test]
fn example_scenarios_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/sim");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let scenario = session_keeper::sim::Scenario::load(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                scenario.device_count() > 0,
                "{} has no devices",
                path.display()
            );
            loaded += 1;
        }
    }
    assert!(loaded > 0, "no scenario examples in {}", dir.display());
    let example = session_keeper::sim::Scenario::load(&dir.join("scenario.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(example.device_count(), 4 + 100);
}
