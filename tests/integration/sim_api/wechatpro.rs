//! wechatpro over HTTP as its docs describe it: form bodies, raw `Authorization`, string
//! codes, the 1 s spacing rule, the blocking `loginAgain` and the `checkLogin` long poll.

use std::time::Duration;

use serde_json::{Value, json};
use session_keeper::vendor::VendorKind;

use super::{client, ok_json};
use crate::support::{TestSim, start_sim};

const SCENARIO: &str = r#"
confirm_window = "1s"
long_poll = "300ms"
[[device]]
vendor = "wechatpro"
id = "dev-on"
last_login = "2026-11-20T08:00:00Z"
[[device]]
vendor = "wechatpro"
id = "dev-off"
online = false
offline_reason = "你已退出微信"
confirm_after = "200ms"
[[device]]
vendor = "wechatpro"
id = "dev-never"
online = false
second_login = "never"
"#;

async fn form(sim: &TestSim, endpoint: &str, device_id: &str) -> Value {
    let r = client()
        .post(format!("{}{endpoint}", sim.root()))
        .header("Authorization", "sim-wechatpro-auth")
        .form(&[("deviceId", device_id), ("province", "广东")])
        .send()
        .await
        .unwrap();
    ok_json(r).await
}

fn fail(message: &str) -> Value {
    json!({"message": message, "code": "1001", "data": null})
}

#[tokio::test]
async fn auth_and_parameter_errors() {
    let sim = start_sim(SCENARIO).await;
    let http = client();
    let r = http
        .post(sim.url("/open/isOnline"))
        .header("Authorization", "Bearer sim-wechatpro-auth")
        .form(&[("deviceId", "dev-on")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await, fail("Authorization 认证失败"));
    let r = http
        .post(sim.url("/open/isOnline"))
        .header("Authorization", "sim-wechatpro-auth")
        .json(&json!({"deviceId": "dev-on"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(r).await, fail("参数错误：deviceId不能为空"));
    assert_eq!(
        form(&sim, "/open/isOnline", "ghost").await,
        fail("设备不存在")
    );
}

#[tokio::test]
async fn is_online_and_the_one_second_spacing_rule() {
    let sim = start_sim(SCENARIO).await;
    let online = form(&sim, "/open/isOnline", "dev-on").await;
    assert_eq!(
        online,
        json!({"message": "在线", "code": "1000", "data": null})
    );
    // Immediately again: refused (and not executed). On a badly overloaded machine the two
    // calls could land a second apart; the call log's arrival times tell, so retry then.
    let mut refused = false;
    for _ in 0..5 {
        let again = form(&sim, "/open/isOnline", "dev-on").await;
        let calls = sim.calls_to("/open/isOnline");
        let [.., before, last] = calls.as_slice() else {
            panic!("calls missing from the log: {calls:?}");
        };
        if last.at.duration_since(before.at) < jiff::SignedDuration::from_millis(900) {
            assert_eq!(again, fail("请求过于频繁，请稍后再试"));
            refused = true;
            break;
        }
    }
    assert!(refused, "never managed two calls within 900 ms");
    // Another endpoint or another device is not affected.
    assert_eq!(
        form(&sim, "/open/isOnline", "dev-off").await,
        fail("已离线")
    );
    let reason = form(&sim, "/open/offlineReason", "dev-off").await;
    let expected = json!({"message": "成功", "code": "1000", "data": {"reason": "你已退出微信"}});
    assert_eq!(reason, expected);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(form(&sim, "/open/isOnline", "dev-on").await["code"], "1000");
}

#[tokio::test]
async fn login_again_blocks_until_confirmed() {
    let sim = start_sim(SCENARIO).await;
    assert_eq!(
        form(&sim, "/open/loginAgain", "dev-on").await["message"],
        "微信已在线"
    );
    let v = form(&sim, "/open/loginAgain", "dev-off").await;
    assert_eq!(
        (v["message"].clone(), v["code"].clone()),
        (json!("成功"), json!("1000"))
    );
    for key in ["wcId", "wId", "wAccount", "nickName"] {
        assert!(v["data"][key].is_string(), "missing {key}: {v}");
    }
    assert!(
        sim.sim
            .device(VendorKind::Wechatpro, "dev-off")
            .unwrap()
            .online
    );
}

#[tokio::test]
async fn login_again_times_out_when_nobody_confirms() {
    let sim = start_sim(SCENARIO).await;
    let v = form(&sim, "/open/loginAgain", "dev-never").await;
    assert_eq!(v, fail("二次登录超时，请重新扫码登录"));
    assert!(
        !sim.sim
            .device(VendorKind::Wechatpro, "dev-never")
            .unwrap()
            .online
    );
}

#[tokio::test]
async fn workstation_bulk_query_and_reset() {
    let sim = start_sim(SCENARIO).await;
    let r = client()
        .get(sim.url("/open/workstation/dev-on"))
        .header("Authorization", "sim-wechatpro-auth")
        .send()
        .await
        .unwrap();
    let w = ok_json(r).await;
    assert_eq!(w["code"], "1000");
    assert_eq!(w["data"]["deviceId"], "dev-on");
    assert_eq!(w["data"]["wechatStatus"], 1);
    assert_eq!(w["data"]["deviceStatus"], 1);
    assert_eq!(w["data"]["lastLoginTime"], "2026-11-20 16:00:00");
    let r = client()
        .get(sim.url("/open/queryLoginDevice"))
        .header("Authorization", "sim-wechatpro-auth")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok_json(r).await["data"],
        json!({"deviceIds": ["dev-on"], "total": 1})
    );
    let reset = form(&sim, "/open/workstation/resetDevice", "dev-on").await;
    assert_eq!(
        reset,
        json!({"message": "成功", "code": "1000", "data": null})
    );
    assert!(
        !sim.sim
            .device(VendorKind::Wechatpro, "dev-on")
            .unwrap()
            .online
    );
}

#[tokio::test]
async fn check_login_answers_waiting_when_the_long_poll_ends() {
    let sim = start_sim(SCENARIO).await;
    assert_eq!(
        form(&sim, "/open/checkLogin", "dev-off").await,
        fail("请先获取登录二维码")
    );
    let qr = form(&sim, "/open/getLoginQrCode", "dev-off").await;
    assert!(qr["data"]["qrCodeUrl"].is_string() && qr["data"]["qrData"].is_string());
    // The first checkLogin started this endpoint's 1 s spacing clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        form(&sim, "/open/checkLogin", "dev-off").await,
        fail("等待扫码")
    );
}

#[tokio::test]
async fn check_login_long_poll_completes_when_a_person_scans() {
    let sim = start_sim(&SCENARIO.replace("long_poll = \"300ms\"", "long_poll = \"20s\"")).await;
    assert_eq!(
        form(&sim, "/open/getLoginQrCode", "dev-off").await["code"],
        "1000"
    );
    let poll = tokio::spawn({
        let url = sim.url("/open/checkLogin");
        async move {
            let r = client()
                .post(url)
                .header("Authorization", "sim-wechatpro-auth")
                .form(&[("deviceId", "dev-off")])
                .send()
                .await
                .unwrap();
            ok_json(r).await
        }
    });
    let arrived = || async { sim.calls_to("/open/checkLogin").len() == 1 };
    crate::support::eventually("the poll arrives", Duration::from_secs(10), arrived).await;
    sim.sim.login(VendorKind::Wechatpro, "dev-off").unwrap();
    let done = poll.await.unwrap();
    assert_eq!(
        (done["message"].clone(), done["code"].clone()),
        (json!("成功"), json!("1000"))
    );
    assert!(done["data"]["wcId"].is_string());
}

/// A blocking `loginAgain` answers success as soon as the device is online, however it got
/// there, instead of holding until the prompt would have been confirmed.
#[tokio::test]
async fn login_again_answers_once_the_device_comes_online_another_way() {
    let sim = start_sim(
        r#"
confirm_window = "60s"
[[device]]
vendor = "wechatpro"
id = "by-login"
online = false
confirm_after = "50s"
[[device]]
vendor = "wechatpro"
id = "by-patch"
online = false
confirm_after = "50s"
"#,
    )
    .await;
    for id in ["by-login", "by-patch"] {
        let request = form(&sim, "/open/loginAgain", id);
        let drive = async {
            let prompted = || async {
                let view = sim.sim.device(VendorKind::Wechatpro, id).unwrap();
                view.pending_confirm_at.is_some()
            };
            crate::support::eventually("the prompt shows", Duration::from_secs(10), prompted).await;
            if id == "by-login" {
                sim.sim.login(VendorKind::Wechatpro, id).unwrap();
            } else {
                let r = client()
                    .patch(sim.url(&format!("/_sim/devices/wechatpro/{id}")))
                    .json(&json!({"online": true}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(ok_json(r).await["online"], true);
            }
        };
        // The client gives up after 20 s: far less than the 50 s the confirmation would take.
        let (answer, ()) = tokio::join!(request, drive);
        assert_eq!(
            (answer["message"].clone(), answer["code"].clone()),
            (json!("成功"), json!("1000")),
            "{id}: {answer}"
        );
        assert_eq!(answer["data"]["wcId"], format!("wxid_{id}"));
    }
}
