//! GeWe over HTTP exactly as its docs describe it: `POST` JSON + `X-GEWE-TOKEN`, envelope
//! `{"ret","msg","data"}`, HTTP 200 for every answer.

use std::time::Duration;

use serde_json::{Value, json};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json};
use crate::support::{TestSim, eventually, start_sim};

const SCENARIO: &str = r#"
confirm_window = "5s"
[[device]]
vendor = "gewe"
id = "wx_on"
[[device]]
vendor = "gewe"
id = "wx_off"
online = false
confirm_after = "200ms"
[[device]]
vendor = "gewe"
id = "wx_phantom"
online = false
phantom_online = true
reconnect = "not_needed"
[[device]]
vendor = "gewe"
id = "wx_refuse"
online = false
reconnect = "fail"
second_login = "refuse"
"#;

async fn post(sim: &TestSim, endpoint: &str, token: &str, body: Value) -> Value {
    let r = client()
        .post(format!("{}{endpoint}", sim.gewe_base()))
        .header("X-GEWE-TOKEN", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    ok_json(r).await
}

async fn gewe(sim: &TestSim, endpoint: &str, body: Value) -> Value {
    post(sim, endpoint, "sim-gewe-token", body).await
}

#[tokio::test]
async fn token_and_parameter_errors() {
    let sim = start_sim(SCENARIO).await;
    let v = post(
        &sim,
        "/login/checkOnline",
        "wrong-token",
        json!({"appId": "wx_on"}),
    )
    .await;
    assert_eq!(
        v,
        json!({"ret": 500, "msg": "HTTP HEADER: X-GEWE-TOKEN=wrong-token 不可用或已过期"})
    );
    let r = client()
        .post(format!("{}/login/checkOnline", sim.gewe_base()))
        .header("X-GEWE-TOKEN", "sim-gewe-token")
        .body("appId=wx_on")
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await, json!({"ret": 500, "msg": "参数错误"}));
    let v = gewe(&sim, "/login/checkOnline", json!({"appId": "wx_nope"})).await;
    assert_eq!(
        v,
        json!({"ret": 500, "msg": "获取失败", "data": {"code": "-1", "msg": "[wx_nope]设备不存在"}})
    );
}

#[tokio::test]
async fn check_online_on_both_prefixes() {
    let sim = start_sim(SCENARIO).await;
    let v = gewe(&sim, "/login/checkOnline", json!({"appId": "wx_on"})).await;
    assert_eq!(v, json!({"ret": 200, "msg": "操作成功", "data": true}));
    assert_eq!(
        gewe(&sim, "/login/checkOnline", json!({"appId": "wx_off"})).await["data"],
        false
    );
    assert_eq!(
        gewe(&sim, "/login/checkOnline", json!({"appId": "wx_phantom"})).await["data"],
        true
    );
    let r = client()
        .post(sim.url("/v2/api/login/checkOnline"))
        .header("X-GEWE-TOKEN", "sim-gewe-token")
        .json(&json!({"appId": "wx_on"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["data"], true);
}

#[tokio::test]
async fn reconnection_answers() {
    let sim = start_sim(SCENARIO).await;
    let not_needed = json!({"ret": 500, "msg": "当前账号状态正常，无需重连"});
    assert_eq!(
        gewe(&sim, "/login/reconnection", json!({"appId": "wx_on"})).await,
        not_needed
    );
    assert_eq!(
        gewe(&sim, "/login/reconnection", json!({"appId": "wx_phantom"})).await,
        not_needed
    );
    let failed = gewe(&sim, "/login/reconnection", json!({"appId": "wx_refuse"})).await;
    assert_eq!(failed, json!({"ret": 500, "msg": "重连失败，请重新登录"}));
    let ok = gewe(&sim, "/login/reconnection", json!({"appId": "wx_off"})).await;
    assert_eq!(ok, json!({"ret": 200, "msg": "操作成功"}));
    assert!(sim.sim.device(VendorKind::Gewe, "wx_off").unwrap().online);
}

#[tokio::test]
async fn dialog_login_then_the_person_confirms() {
    let sim = start_sim(SCENARIO).await;
    let v = gewe(&sim, "/login/dialogLogin", json!({"appId": "wx_off"})).await;
    assert_eq!(v, json!({"ret": 500, "msg": "regionId不能为空"}));
    let v = gewe(
        &sim,
        "/login/dialogLogin",
        json!({"appId": "wx_refuse", "regionId": "320000"}),
    )
    .await;
    assert_eq!(v, json!({"ret": 500, "msg": "二次登录失败，请扫码登录"}));
    let v = gewe(
        &sim,
        "/login/dialogLogin",
        json!({"appId": "wx_on", "regionId": "320000"}),
    )
    .await;
    assert_eq!(v, json!({"ret": 500, "msg": "微信已登录，请勿重复登录。"}));
    let v = gewe(
        &sim,
        "/login/dialogLogin",
        json!({"appId": "wx_off", "regionId": "320000"}),
    )
    .await;
    assert_eq!(
        (v["ret"].clone(), v["msg"].clone()),
        (json!(200), json!("操作成功"))
    );
    assert_eq!(v["data"]["appId"], "wx_off");
    assert!(v["data"]["uuid"].is_string());
    let confirmed = || async {
        gewe(&sim, "/login/checkOnline", json!({"appId": "wx_off"})).await["data"] == true
    };
    eventually(
        "the prompt is confirmed",
        Duration::from_secs(10),
        confirmed,
    )
    .await;
}

#[tokio::test]
async fn qr_login_and_logout() {
    let sim = start_sim(SCENARIO).await;
    let qr = gewe(
        &sim,
        "/login/getLoginQrCode",
        json!({"appId": "wx_off", "type": "ipad", "regionId": "320000"}),
    )
    .await;
    assert_eq!(qr["ret"], 200);
    for key in ["appId", "qrData", "qrImgBase64", "uuid"] {
        assert!(qr["data"][key].is_string(), "missing {key}: {qr}");
    }
    let uuid = qr["data"]["uuid"].clone();
    let waiting = gewe(
        &sim,
        "/login/checkLogin",
        json!({"appId": "wx_off", "uuid": uuid}),
    )
    .await;
    assert_eq!(waiting["data"]["status"], 0);
    assert!(
        waiting["data"]["expiredTime"]
            .as_u64()
            .is_some_and(|s| s <= 240)
    );
    let r = client()
        .post(sim.url("/_sim/devices/gewe/wx_off/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["online"], true);
    let done = gewe(
        &sim,
        "/login/checkLogin",
        json!({"appId": "wx_off", "uuid": uuid}),
    )
    .await;
    assert_eq!(done["data"]["status"], 2);
    assert!(done["data"]["loginInfo"]["wxid"].is_string());
    let out = gewe(&sim, "/login/logout", json!({"appId": "wx_off"})).await;
    assert_eq!(out, json!({"ret": 200, "msg": "操作成功"}));
    assert_eq!(
        gewe(&sim, "/login/checkOnline", json!({"appId": "wx_off"})).await["data"],
        false
    );
}
