//! Unit tests of the wechatpro rules, on the simulator's state with a hand-driven clock.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::*;
use crate::sim::Scenario;

const AUTH: &[u8] = b"sim-wechatpro-auth";

fn sim() -> Shared {
    Shared::new(
        Scenario::from_toml(
            r#"
[[device]]
vendor = "wechatpro"
id = "on"
last_login = "2026-11-20T08:00:00Z"
[[device]]
vendor = "wechatpro"
id = "off"
online = false
offline_reason = "你已退出微信"
last_login = "2026-11-20T08:00:00Z"
[[device]]
vendor = "wechatpro"
id = "never"
online = false
second_login = "never"
[[device]]
vendor = "wechatpro"
id = "refuse"
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

fn at_ms(ms: i64) -> Timestamp {
    t0() + SignedDuration::from_millis(ms)
}

fn call(sim: &Shared, op: DeviceOp, id: &str, now: Timestamp) -> Decision {
    decide(
        sim,
        op,
        Some(AUTH),
        Some(&Form::with_device(id.to_owned())),
        now,
    )
}

fn now_value(decision: Decision) -> Value {
    match decision {
        Decision::Now(value) => value,
        other => panic!("expected an immediate answer, got {other:?}"),
    }
}

#[test]
fn auth_parameters_and_unknown_devices() {
    let sim = sim();
    let form = Form::with_device("on".to_owned());
    let v = now_value(decide(
        &sim,
        DeviceOp::IsOnline,
        Some(b"x"),
        Some(&form),
        t0(),
    ));
    assert_eq!(
        v,
        json!({"message": "Authorization 认证失败", "code": "1001", "data": null})
    );
    let v = now_value(decide(&sim, DeviceOp::IsOnline, Some(AUTH), None, t0()));
    assert_eq!(
        v,
        json!({"message": "参数错误：deviceId不能为空", "code": "1001", "data": null})
    );
    let empty = Form::default();
    let v = now_value(decide(
        &sim,
        DeviceOp::IsOnline,
        Some(AUTH),
        Some(&empty),
        t0(),
    ));
    assert_eq!(v["message"], "参数错误：deviceId不能为空");
    let v = now_value(call(&sim, DeviceOp::IsOnline, "ghost", t0()));
    assert_eq!(
        v,
        json!({"message": "设备不存在", "code": "1001", "data": null})
    );
}

#[test]
fn is_online_answers_and_the_one_second_spacing() {
    let sim = sim();
    let online = now_value(call(&sim, DeviceOp::IsOnline, "on", at_ms(0)));
    assert_eq!(
        online,
        json!({"message": "在线", "code": "1000", "data": null})
    );
    let busy = now_value(call(&sim, DeviceOp::IsOnline, "on", at_ms(999)));
    assert_eq!(
        busy,
        json!({"message": "请求过于频繁，请稍后再试", "code": "1001", "data": null})
    );
    let other_endpoint = now_value(call(&sim, DeviceOp::OfflineReason, "on", at_ms(999)));
    assert_eq!(other_endpoint["code"], "1000");
    assert_eq!(
        now_value(call(&sim, DeviceOp::IsOnline, "on", at_ms(1999)))["code"],
        "1000"
    );
    let offline = now_value(call(&sim, DeviceOp::IsOnline, "off", at_ms(0)));
    assert_eq!(
        offline,
        json!({"message": "已离线", "code": "1001", "data": null})
    );
}

#[test]
fn a_refused_call_is_not_executed() {
    let sim = sim();
    now_value(call(&sim, DeviceOp::ResetDevice, "on", at_ms(0)));
    sim.patch(VendorKind::Wechatpro, "on", online_patch());
    let busy = now_value(call(&sim, DeviceOp::ResetDevice, "on", at_ms(500)));
    assert_eq!(busy["message"], "请求过于频繁，请稍后再试");
    assert!(
        sim.store
            .view(VendorKind::Wechatpro, "on", at_ms(500))
            .unwrap()
            .online
    );
}

/// A patch that sets a device online (a raw state change).
fn online_patch() -> crate::sim::DevicePatch {
    crate::sim::DevicePatch {
        online: Some(true),
        ..Default::default()
    }
}

#[test]
fn login_again_waits_for_the_confirmation() {
    let sim = sim();
    let online = now_value(call(&sim, DeviceOp::LoginAgain, "on", t0()));
    assert_eq!(online["message"], "微信已在线");
    let decision = call(&sim, DeviceOp::LoginAgain, "off", t0());
    let until = t0() + SignedDuration::from_secs(5);
    assert_eq!(
        decision,
        Decision::LoginAgain {
            id: "off".to_owned(),
            until
        }
    );
    let v = login_again_outcome(&sim, "off", until);
    assert_eq!(v["code"], "1000");
    assert_eq!(v["message"], "成功");
    assert_eq!(v["data"]["wcId"], "wxid_off");
    assert!(v["data"]["wId"].is_string() && v["data"]["nickName"].is_string());
}

#[test]
fn login_again_times_out_or_is_refused() {
    let sim = sim();
    let decision = call(&sim, DeviceOp::LoginAgain, "never", t0());
    let until = t0() + SignedDuration::from_secs(180);
    assert_eq!(
        decision,
        Decision::LoginAgain {
            id: "never".to_owned(),
            until
        }
    );
    let v = login_again_outcome(&sim, "never", until);
    assert_eq!(
        v,
        json!({"message": "二次登录超时，请重新扫码登录", "code": "1001", "data": null})
    );
    let refused = now_value(call(&sim, DeviceOp::LoginAgain, "refuse", t0()));
    let expected = json!({"message": "二次登录失败，请使用扫码登录", "code": "1001", "data": null});
    assert_eq!(refused, expected);
    let recycled_at = "2026-12-10T08:00:00Z".parse().unwrap();
    assert_eq!(
        now_value(call(&sim, DeviceOp::LoginAgain, "off", recycled_at)),
        expected
    );
}

#[test]
fn reset_clears_recycling() {
    let sim = sim();
    let recycled_at: Timestamp = "2026-12-10T08:00:00Z".parse().unwrap();
    assert!(
        sim.store
            .view(VendorKind::Wechatpro, "off", recycled_at)
            .unwrap()
            .recycled
    );
    let v = now_value(call(&sim, DeviceOp::ResetDevice, "off", recycled_at));
    assert_eq!(v, json!({"message": "成功", "code": "1000", "data": null}));
    let view = sim
        .store
        .view(VendorKind::Wechatpro, "off", recycled_at)
        .unwrap();
    assert!(!view.recycled && !view.online);
    let later = recycled_at + SignedDuration::from_secs(2);
    assert!(matches!(
        call(&sim, DeviceOp::LoginAgain, "off", later),
        Decision::LoginAgain { .. }
    ));
}

#[test]
fn offline_reason_workstation_and_bulk_query() {
    let sim = sim();
    let v = now_value(call(&sim, DeviceOp::OfflineReason, "off", t0()));
    assert_eq!(
        v,
        json!({"message": "成功", "code": "1000", "data": {"reason": "你已退出微信"}})
    );
    assert_eq!(
        now_value(call(&sim, DeviceOp::OfflineReason, "on", t0()))["data"]["reason"],
        Value::Null
    );
    let w = now_value(call(&sim, DeviceOp::Workstation, "off", t0()));
    assert_eq!(w["data"]["deviceId"], "off");
    assert_eq!(w["data"]["wechatStatus"], 0);
    assert_eq!(w["data"]["deviceStatus"], 1);
    assert_eq!(w["data"]["lastLoginTime"], "2026-11-20 16:00:00");
    assert!(w["data"]["expireTime"].as_str().unwrap().len() == 19);
    sim.patch(VendorKind::Wechatpro, "never", online_patch());
    let q = now_value(decide(&sim, Op::QueryLoginDevice, Some(AUTH), None, t0()));
    assert_eq!(q["data"], json!({"deviceIds": ["never", "on"], "total": 2}));
}

#[test]
fn qr_login_long_polls_until_a_person_logs_in() {
    let sim = sim();
    let early = now_value(call(&sim, DeviceOp::CheckLogin, "off", at_ms(0)));
    assert_eq!(early["code"], "1001");
    let qr = now_value(call(&sim, DeviceOp::GetLoginQrCode, "off", at_ms(0)));
    assert!(qr["data"]["qrCodeUrl"].is_string() && qr["data"]["qrData"].is_string());
    let poll = call(&sim, DeviceOp::CheckLogin, "off", at_ms(1000));
    assert_eq!(
        poll,
        Decision::LongPoll {
            id: "off".to_owned()
        }
    );
    assert_eq!(qr_outcome(&sim, "off", at_ms(1000)), None);
    sim.person_login(VendorKind::Wechatpro, "off", at_ms(2000));
    let done = qr_outcome(&sim, "off", at_ms(2000)).unwrap();
    assert_eq!(done["code"], "1000");
    assert_eq!(done["data"]["wcId"], "wxid_off");
}

#[test]
fn china_time_is_utc_plus_eight() {
    let ts: Timestamp = "2026-12-31T20:30:05Z".parse().unwrap();
    assert_eq!(china_time(ts), "2027-01-01 04:30:05");
}

#[test]
fn every_device_endpoint_has_its_own_spacing_clock() {
    let ops = [
        DeviceOp::IsOnline,
        DeviceOp::LoginAgain,
        DeviceOp::OfflineReason,
        DeviceOp::Workstation,
        DeviceOp::ResetDevice,
        DeviceOp::GetLoginQrCode,
        DeviceOp::CheckLogin,
    ];
    let mut slots: Vec<usize> = ops.iter().map(|op| op.spacing_slot()).collect();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), ops.len());
    assert!(
        slots
            .iter()
            .all(|s| *s < crate::sim::state::SPACED_ENDPOINTS)
    );
    // The fleet call holds no device's clock: many in a row all answer.
    let sim = sim();
    for _ in 0..3 {
        let q = now_value(decide(&sim, Op::QueryLoginDevice, Some(AUTH), None, t0()));
        assert_eq!(q["code"], "1000");
    }
}
