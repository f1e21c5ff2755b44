//! Unit tests of the GeWe rules, on the simulator's state with a hand-driven clock.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::*;
use crate::sim::Scenario;

const TOKEN: &[u8] = b"sim-gewe-token";

fn sim() -> Shared {
    Shared::new(
        Scenario::from_toml(
            r#"
confirm_window = "3m"
recycle_after = "20d"
[[device]]
vendor = "gewe"
id = "on"
[[device]]
vendor = "gewe"
id = "off"
online = false
last_login = "2026-11-01T00:00:00Z"
[[device]]
vendor = "gewe"
id = "phantom"
online = false
phantom_online = true
reconnect = "not_needed"
[[device]]
vendor = "gewe"
id = "stubborn"
online = false
reconnect = "fail"
second_login = "refuse"
[[device]]
vendor = "gewe"
id = "ignored"
online = false
second_login = "never"
"#,
        )
        .unwrap(),
    )
}

fn t0() -> Timestamp {
    "2026-11-02T00:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn call(sim: &Shared, op: Op, body: Value, now: Timestamp) -> Value {
    let body: Body = serde_json::from_value(body).unwrap();
    answer(sim, op, Some(TOKEN), Some(&body), now)
}

fn online(sim: &Shared, id: &str, now: Timestamp) -> bool {
    sim.store.view(VendorKind::Gewe, id, now).unwrap().online
}

#[test]
fn bad_token_is_echoed_and_bad_bodies_are_parameter_errors() {
    let sim = sim();
    let body = Body::default();
    let v = answer(&sim, Op::CheckOnline, Some(b"nope"), Some(&body), t0());
    assert_eq!(
        v,
        json!({"ret": 500, "msg": "HTTP HEADER: X-GEWE-TOKEN=nope 不可用或已过期"})
    );
    let v = answer(&sim, Op::CheckOnline, None, Some(&body), t0());
    assert_eq!(v["msg"], "HTTP HEADER: X-GEWE-TOKEN= 不可用或已过期");
    assert_eq!(
        answer(&sim, Op::CheckOnline, Some(TOKEN), None, t0())["msg"],
        "参数错误"
    );
    assert_eq!(
        call(&sim, Op::CheckOnline, json!({}), t0())["msg"],
        "参数错误"
    );
    let v = call(&sim, Op::Logout, json!({"appId": "wx_ghost"}), t0());
    assert_eq!(
        v,
        json!({"ret": 500, "msg": "获取失败", "data": {"code": "-1", "msg": "[wx_ghost]设备不存在"}})
    );
}

#[test]
fn check_online_reports_phantoms_as_online() {
    let sim = sim();
    let online = call(&sim, Op::CheckOnline, json!({"appId": "on"}), t0());
    assert_eq!(online, json!({"ret": 200, "msg": "操作成功", "data": true}));
    assert_eq!(
        call(&sim, Op::CheckOnline, json!({"appId": "off"}), t0())["data"],
        false
    );
    assert_eq!(
        call(&sim, Op::CheckOnline, json!({"appId": "phantom"}), t0())["data"],
        true
    );
}

#[test]
fn reconnection_outcomes() {
    let sim = sim();
    let not_needed = json!({"ret": 500, "msg": "当前账号状态正常，无需重连"});
    assert_eq!(
        call(&sim, Op::Reconnection, json!({"appId": "on"}), t0()),
        not_needed
    );
    assert_eq!(
        call(&sim, Op::Reconnection, json!({"appId": "phantom"}), t0()),
        not_needed
    );
    assert!(!online(&sim, "phantom", t0()));
    let failed = call(&sim, Op::Reconnection, json!({"appId": "stubborn"}), t0());
    assert_eq!(failed, json!({"ret": 500, "msg": "重连失败，请重新登录"}));
    let ok = call(&sim, Op::Reconnection, json!({"appId": "off"}), at(5));
    assert_eq!(ok, json!({"ret": 200, "msg": "操作成功"}));
    let view = sim.store.view(VendorKind::Gewe, "off", at(5)).unwrap();
    assert!(view.online);
    assert_eq!(view.last_login, at(5));
}

#[test]
fn reconnection_fails_once_recycled() {
    let sim = sim();
    let late = at(20 * 86_400);
    let failed = call(&sim, Op::Reconnection, json!({"appId": "off"}), late);
    assert_eq!(failed["msg"], "重连失败，请重新登录");
}

#[test]
fn dialog_login_prompts_and_the_person_confirms_later() {
    let sim = sim();
    let missing = call(&sim, Op::DialogLogin, json!({"appId": "off"}), t0());
    assert_eq!(missing, json!({"ret": 500, "msg": "regionId不能为空"}));
    let v = call(
        &sim,
        Op::DialogLogin,
        json!({"appId": "off", "regionId": "320000"}),
        t0(),
    );
    assert_eq!(v["ret"], 200);
    assert_eq!(v["data"]["appId"], "off");
    assert_eq!(v["data"]["uuid"].as_str().map(str::len), Some(36));
    let view = sim.store.view(VendorKind::Gewe, "off", at(4)).unwrap();
    assert_eq!(view.pending_confirm_at, Some(at(5)));
    assert!(!view.online);
    assert!(online(&sim, "off", at(5)));
    let again = call(
        &sim,
        Op::DialogLogin,
        json!({"appId": "off", "regionId": 320000}),
        at(6),
    );
    assert_eq!(
        again,
        json!({"ret": 500, "msg": "微信已登录，请勿重复登录。"})
    );
}

#[test]
fn dialog_login_uuid_is_followed_with_check_login() {
    let sim = sim();
    let body = json!({"appId": "off", "regionId": "320000"});
    let started = call(&sim, Op::DialogLogin, body, t0());
    let uuid = started["data"]["uuid"].as_str().unwrap().to_owned();
    let check = |now| {
        call(
            &sim,
            Op::CheckLogin,
            json!({"appId": "off", "uuid": &uuid}),
            now,
        )
    };
    let waiting = check(at(4));
    assert_eq!(waiting["data"]["status"], 0);
    // The prompt is confirmed at +5 s.
    let done = check(at(6));
    assert_eq!(done["data"]["status"], 2);
    assert_eq!(done["data"]["loginInfo"]["wxid"], "wxid_off");
}

#[test]
fn dialog_login_refusals_and_unconfirmed_prompts() {
    let sim = sim();
    let body = |id: &str| json!({"appId": id, "regionId": "1"});
    let refused = json!({"ret": 500, "msg": "二次登录失败，请扫码登录"});
    assert_eq!(call(&sim, Op::DialogLogin, body("stubborn"), t0()), refused);
    assert_eq!(
        call(&sim, Op::DialogLogin, body("off"), at(20 * 86_400)),
        refused
    );
    assert_eq!(
        call(&sim, Op::DialogLogin, body("ignored"), t0())["ret"],
        200
    );
    let view = sim
        .store
        .view(VendorKind::Gewe, "ignored", at(179))
        .unwrap();
    assert_eq!(view.pending_confirm_at, None);
    assert!(!online(&sim, "ignored", at(1000)));
}

#[test]
fn qr_login_completes_when_a_person_logs_in() {
    let sim = sim();
    let on = call(
        &sim,
        Op::GetLoginQrCode,
        json!({"appId": "on", "type": "ipad"}),
        t0(),
    );
    assert_eq!(on["msg"], "微信已登录，请勿重复登录。");
    let qr = call(
        &sim,
        Op::GetLoginQrCode,
        json!({"appId": "off", "type": "ipad"}),
        t0(),
    );
    let uuid = qr["data"]["uuid"].as_str().unwrap().to_owned();
    assert!(qr["data"]["qrData"].as_str().unwrap().contains(&uuid));
    assert!(
        qr["data"]["qrImgBase64"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png")
    );
    let waiting = call(
        &sim,
        Op::CheckLogin,
        json!({"appId": "off", "uuid": &uuid}),
        at(10),
    );
    assert_eq!(waiting["data"]["status"], 0);
    assert_eq!(waiting["data"]["expiredTime"], 230);
    let wrong = call(
        &sim,
        Op::CheckLogin,
        json!({"appId": "off", "uuid": "x"}),
        at(10),
    );
    assert_eq!(wrong["ret"], 500);
    assert!(sim.person_login(VendorKind::Gewe, "off", at(20)).is_some());
    let done = call(
        &sim,
        Op::CheckLogin,
        json!({"appId": "off", "uuid": &uuid}),
        at(21),
    );
    assert_eq!(done["data"]["status"], 2);
    assert_eq!(done["data"]["loginInfo"]["wxid"], "wxid_off");
}

#[test]
fn logout_takes_the_device_offline() {
    let sim = sim();
    assert_eq!(
        call(&sim, Op::Logout, json!({"appId": "on"}), t0()),
        json!({"ret": 200, "msg": "操作成功"})
    );
    assert!(!online(&sim, "on", t0()));
}
