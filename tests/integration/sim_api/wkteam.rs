//! WKTeam over HTTP as its docs describe it: JSON bodies, raw `Authorization`, string codes,
//! the rotating wId, nested second-login failures, the 12 h offline-reason limit.

use std::time::Duration;

use serde_json::{Value, json};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json};
use crate::support::{TestSim, start_sim};

const SCENARIO: &str = r#"
long_poll = "20s"
[[device]]
vendor = "wkteam"
id = "wxid_on"
w_id = "w-on"
[[device]]
vendor = "wkteam"
id = "wxid_off"
w_id = "w-off"
online = false
offline_reason = "你已退出微信"
confirm_after = "200ms"
[[device]]
vendor = "wkteam"
id = "wxid_nested"
online = false
second_login = "refuse_nested"
"#;

async fn wk(sim: &TestSim, endpoint: &str, body: Value) -> Value {
    let r = client()
        .post(sim.url(endpoint))
        .header("Authorization", "sim-wkteam-auth")
        .json(&body)
        .send()
        .await
        .unwrap();
    ok_json(r).await
}

#[tokio::test]
async fn is_online_by_w_id_and_bulk_query() {
    let sim = start_sim(SCENARIO).await;
    let r = client()
        .post(sim.url("/isOnline"))
        .header("Authorization", "nope")
        .json(&json!({"wId": "w-on"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok_json(r).await,
        json!({"message": "Authorization无效", "code": "1001", "data": null})
    );
    let on = wk(&sim, "/isOnline", json!({"wId": "w-on"})).await;
    assert_eq!(
        on,
        json!({"message": "成功", "code": "1000", "data": {"isOnline": true}})
    );
    let off = wk(&sim, "/isOnline", json!({"wId": "w-off"})).await;
    assert_eq!(
        off,
        json!({"message": "成功", "code": "1000", "data": {"isOnline": false}})
    );
    let gone = wk(&sim, "/isOnline", json!({"wId": "w-unknown"})).await;
    assert_eq!(
        gone,
        json!({"message": "wId不存在或已失效", "code": "1001", "data": null})
    );
    let list = wk(&sim, "/queryLoginWx", json!({})).await;
    assert_eq!(list["data"], json!([{"wcId": "wxid_on", "wId": "w-on"}]));
}

#[tokio::test]
async fn second_login_rotates_the_w_id() {
    let sim = start_sim(SCENARIO).await;
    let v = wk(&sim, "/secondLogin", json!({"wcId": "wxid_off", "type": 2})).await;
    assert_eq!(
        (v["message"].clone(), v["code"].clone()),
        (json!("二次登录成功"), json!("1000"))
    );
    let new = v["data"]["wId"].as_str().unwrap().to_owned();
    assert_ne!(new, "w-off");
    assert_eq!(v["data"]["wcId"], "wxid_off");
    // The old wId is dead at once; the new one comes online once the person confirms.
    assert_eq!(
        wk(&sim, "/isOnline", json!({"wId": "w-off"})).await["code"],
        "1001"
    );
    let online =
        || async { wk(&sim, "/isOnline", json!({"wId": &new})).await["data"]["isOnline"] == true };
    crate::support::eventually("the new wId comes online", Duration::from_secs(10), online).await;
    assert_eq!(
        sim.sim
            .device(VendorKind::Wkteam, "wxid_off")
            .unwrap()
            .w_id
            .as_deref(),
        Some(new.as_str())
    );
}

#[tokio::test]
async fn second_login_failures_plain_and_nested() {
    let sim = start_sim(SCENARIO).await;
    assert_eq!(
        wk(&sim, "/secondLogin", json!({"wcId": "wxid_on"})).await["message"],
        "微信已在线"
    );
    assert_eq!(
        wk(&sim, "/secondLogin", json!({"wcId": "wxid_ghost"})).await["message"],
        "账号不存在"
    );
    let nested = wk(&sim, "/secondLogin", json!({"wcId": "wxid_nested"})).await;
    assert_eq!(
        nested,
        json!({"message": "成功", "code": "1000", "data": {"code": "1001", "message": "二次登录失败，请重新扫码登录"}})
    );
    let patch = json!({"second_login": "refuse"});
    let r = client()
        .patch(sim.url("/_sim/devices/wkteam/wxid_nested"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    let view = ok_json(r).await;
    assert_eq!(
        (view["id"].clone(), view["second_login"].clone()),
        (json!("wxid_nested"), json!("refuse")),
        "{view}"
    );
    let plain = wk(&sim, "/secondLogin", json!({"wcId": "wxid_nested"})).await;
    assert_eq!(
        plain,
        json!({"message": "失败", "code": "1001", "data": null})
    );
}

#[tokio::test]
async fn offline_reason_once_per_twelve_hours() {
    let sim = start_sim(SCENARIO).await;
    let v = wk(&sim, "/offlineReason", json!({"wcId": "wxid_off"})).await;
    assert_eq!(
        v,
        json!({"message": "成功", "code": "1000", "data": [{"wcId": "wxid_off", "reason": "你已退出微信"}]})
    );
    let again = wk(&sim, "/offlineReason", json!({"wcId": "wxid_off"})).await;
    assert_eq!(
        again,
        json!({"message": "调用频繁，12小时内只能调用一次", "code": "1001", "data": null})
    );
}

#[tokio::test]
async fn ipad_login_long_poll_completes_on_a_person_login() {
    let sim = start_sim(SCENARIO).await;
    let qr = wk(&sim, "/iPadLogin", json!({"wcId": "wxid_off"})).await;
    let w_id = qr["data"]["wId"].as_str().unwrap().to_owned();
    assert!(qr["data"]["qrCodeUrl"].is_string());
    let poll = tokio::spawn({
        let url = sim.url("/getIPadLoginInfo");
        let w_id = w_id.clone();
        async move {
            let r = client()
                .post(url)
                .header("Authorization", "sim-wkteam-auth")
                .json(&json!({"wId": w_id}))
                .send()
                .await
                .unwrap();
            ok_json(r).await
        }
    });
    let arrived = || async { sim.calls_to("/getIPadLoginInfo").len() == 1 };
    crate::support::eventually("the poll arrives", Duration::from_secs(10), arrived).await;
    let r = client()
        .post(sim.url("/_sim/devices/wkteam/wxid_off/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await["w_id"], w_id.as_str());
    let done = poll.await.unwrap();
    assert_eq!(done["code"], "1000");
    assert_eq!(done["data"]["wId"], w_id.as_str());
    assert_eq!(
        wk(&sim, "/isOnline", json!({"wId": w_id})).await["data"]["isOnline"],
        true
    );
}
