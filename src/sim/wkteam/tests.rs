//! Unit tests of the WKTeam rules, on the simulator's state with a hand-driven clock.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::*;
use crate::sim::Scenario;

const AUTH: &[u8] = b"sim-wkteam-auth";

fn sim() -> Shared {
    Shared::new(
        Scenario::from_toml(
            r#"
[[device]]
vendor = "wkteam"
id = "wxid_on"
w_id = "w-on"
[[device]]
vendor = "wkteam"
id = "wxid_off"
w_id = "w-off"
online = false
offline_reason = "在 iPad 设备上登录"
last_login = "2026-11-20T08:00:00Z"
[[device]]
vendor = "wkteam"
id = "wxid_refuse"
online = false
second_login = "refuse"
[[device]]
vendor = "wkteam"
id = "wxid_nested"
online = false
second_login = "refuse_nested"
"#,
        )
        .unwrap(),
    )
}

fn t0() -> Timestamp {
    "2026-11-21T00:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn call(sim: &Shared, op: Op, body: Value, now: Timestamp) -> Decision {
    let body: Body = serde_json::from_value(body).unwrap();
    decide(sim, op, Some(AUTH), Some(&body), now)
}

fn now_value(decision: Decision) -> Value {
    match decision {
        Decision::Now(value) => value,
        other => panic!("expected an immediate answer, got {other:?}"),
    }
}

fn is_online(sim: &Shared, w_id: &str, now: Timestamp) -> Value {
    now_value(call(sim, Op::IsOnline, json!({"wId": w_id}), now))
}

#[test]
fn auth_and_parameters() {
    let sim = sim();
    let body = Body::default();
    let v = now_value(decide(&sim, Op::IsOnline, Some(b"x"), Some(&body), t0()));
    assert_eq!(
        v,
        json!({"message": "Authorization无效", "code": "1001", "data": null})
    );
    assert_eq!(
        now_value(decide(&sim, Op::IsOnline, Some(AUTH), None, t0()))["code"],
        "1001"
    );
    let v = now_value(call(&sim, Op::IsOnline, json!({}), t0()));
    assert_eq!(v["message"], "参数错误：wId不能为空");
    let v = now_value(call(&sim, Op::SecondLogin, json!({"wcId": ""}), t0()));
    assert_eq!(v["message"], "参数错误：wcId不能为空");
}

#[test]
fn is_online_takes_the_current_w_id_only() {
    let sim = sim();
    let v = is_online(&sim, "w-on", t0());
    assert_eq!(
        v,
        json!({"message": "成功", "code": "1000", "data": {"isOnline": true}})
    );
    let v = is_online(&sim, "w-off", t0());
    assert_eq!(
        v,
        json!({"message": "成功", "code": "1000", "data": {"isOnline": false}})
    );
    let v = is_online(&sim, "wxid_on", t0());
    assert_eq!(
        v,
        json!({"message": "wId不存在或已失效", "code": "1001", "data": null})
    );
    let q = now_value(call(&sim, Op::QueryLoginWx, json!({}), t0()));
    assert_eq!(q["data"], json!([{"wcId": "wxid_on", "wId": "w-on"}]));
}

#[test]
fn second_login_blocks_and_the_confirmation_rotates_the_w_id() {
    let sim = sim();
    let decision = call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_off", "type": 2}),
        t0(),
    );
    assert_eq!(
        decision,
        Decision::SecondLogin {
            wc_id: "wxid_off".to_owned(),
            until: at(5)
        },
        "held until the person confirms (5 s by default)"
    );
    assert_eq!(logged_in_account(&sim, "wxid_off", at(4)), None);
    assert_eq!(
        is_online(&sim, "w-off", at(4))["data"]["isOnline"],
        false,
        "the old wId is current until the confirmation"
    );
    let v = logged_in_account(&sim, "wxid_off", at(5)).unwrap();
    assert_eq!(v["code"], "1000");
    assert_eq!(v["message"], "二次登录成功");
    assert_eq!(v["data"]["wcId"], "wxid_off");
    assert_eq!(v["data"]["status"], 2);
    let new = v["data"]["wId"].as_str().unwrap().to_owned();
    assert_ne!(new, "w-off");
    assert_eq!(
        is_online(&sim, "w-off", at(6))["message"],
        "wId不存在或已失效"
    );
    assert_eq!(is_online(&sim, &new, at(6))["data"]["isOnline"], true);
    let again = now_value(call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_off"}),
        at(6),
    ));
    assert_eq!(
        again,
        json!({"message": "微信已在线", "code": "1001", "data": null})
    );
}

#[test]
fn a_rotated_w_id_reads_offline_when_the_device_says_so() {
    let sim = sim();
    {
        let mut shelf = sim.store.lock(VendorKind::Wkteam);
        let device = shelf.get("wxid_off", t0()).unwrap();
        device.behaviour.stale_w_id = StaleWId::Offline;
        shelf.set_w_id("wxid_off", Arc::from("w-new"));
    }
    assert_eq!(
        is_online(&sim, "w-off", t0()),
        json!({"message": "成功", "code": "1000", "data": {"isOnline": false}})
    );
    assert_eq!(
        is_online(&sim, "never-issued", t0())["message"],
        "wId不存在或已失效"
    );
}

#[test]
fn second_login_refusals_plain_nested_and_recycled() {
    let sim = sim();
    let ghost = now_value(call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_ghost"}),
        t0(),
    ));
    assert_eq!(ghost["message"], "账号不存在");
    let plain = json!({"message": "失败", "code": "1001", "data": null});
    let refused = now_value(call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_refuse"}),
        t0(),
    ));
    assert_eq!(refused, plain);
    let nested = now_value(call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_nested"}),
        t0(),
    ));
    assert_eq!(
        nested,
        json!({"message": "成功", "code": "1000",
            "data": {"code": "1001", "message": "二次登录失败，请重新扫码登录"}})
    );
    let recycled_at: Timestamp = "2026-12-10T08:00:00Z".parse().unwrap();
    let old = now_value(call(
        &sim,
        Op::SecondLogin,
        json!({"wcId": "wxid_off"}),
        recycled_at,
    ));
    assert_eq!(old, plain);
    assert_eq!(
        is_online(&sim, "w-off", recycled_at)["code"],
        "1000",
        "no rotation on refusal"
    );
}

#[test]
fn offline_reason_answers_once_per_twelve_hours() {
    let sim = sim();
    let v = now_value(call(
        &sim,
        Op::OfflineReason,
        json!({"wcId": "wxid_off"}),
        t0(),
    ));
    assert_eq!(
        v,
        json!({"message": "成功", "code": "1000",
            "data": [{"wcId": "wxid_off", "reason": "在 iPad 设备上登录"}]})
    );
    let limited =
        json!({"message": "调用频繁，12小时内只能调用一次", "code": "1001", "data": null});
    let again = now_value(call(
        &sim,
        Op::OfflineReason,
        json!({"wcId": "wxid_off"}),
        at(43_199),
    ));
    assert_eq!(again, limited);
    let other = now_value(call(
        &sim,
        Op::OfflineReason,
        json!({"wcId": "wxid_on"}),
        at(1),
    ));
    assert_eq!(other["data"][0]["reason"], Value::Null);
    let later = now_value(call(
        &sim,
        Op::OfflineReason,
        json!({"wcId": "wxid_off"}),
        at(43_200),
    ));
    assert_eq!(later["code"], "1000");
}

#[test]
fn ipad_login_long_polls_and_the_login_adopts_its_w_id() {
    let sim = sim();
    let busy = now_value(call(&sim, Op::IPadLogin, json!({"wcId": "wxid_on"}), t0()));
    assert_eq!(busy["message"], "微信已在线");
    let v = now_value(call(&sim, Op::IPadLogin, json!({"wcId": "wxid_off"}), t0()));
    let w_id = v["data"]["wId"].as_str().unwrap().to_owned();
    assert!(v["data"]["qrCodeUrl"].is_string());
    assert_eq!(
        is_online(&sim, "w-off", t0())["code"],
        "1000",
        "old wId lives until login"
    );
    let poll = call(&sim, Op::GetIPadLoginInfo, json!({"wId": &w_id}), at(1));
    let expected = Decision::LongPoll {
        wc_id: "wxid_off".to_owned(),
        w_id: w_id.clone(),
    };
    assert_eq!(poll, expected);
    assert_eq!(ipad_outcome(&sim, "wxid_off", &w_id, at(1)), None);
    sim.person_login(VendorKind::Wkteam, "wxid_off", at(2));
    let done = ipad_outcome(&sim, "wxid_off", &w_id, at(2)).unwrap();
    assert_eq!(done["data"]["wId"], w_id.as_str());
    assert_eq!(is_online(&sim, &w_id, at(3))["data"]["isOnline"], true);
    assert_eq!(is_online(&sim, "w-off", at(3))["code"], "1001");
    let info = now_value(call(
        &sim,
        Op::GetIPadLoginInfo,
        json!({"wId": &w_id}),
        at(3),
    ));
    assert_eq!(info["data"]["wcId"], "wxid_off");
}

#[test]
fn a_person_login_without_qr_rotates_the_w_id() {
    let sim = sim();
    let view = sim
        .person_login(VendorKind::Wkteam, "wxid_on", at(1))
        .unwrap();
    let new = view.w_id.unwrap();
    assert_ne!(new, "w-on");
    assert_eq!(is_online(&sim, "w-on", at(2))["code"], "1001");
    assert_eq!(is_online(&sim, &new, at(2))["data"]["isOnline"], true);
}
