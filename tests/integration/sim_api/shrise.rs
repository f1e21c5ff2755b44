//! shrise over HTTP as its docs describe it: SMS login, token refresh (rotation), and the
//! kick check with the configured header and rejection style.

use serde_json::{Value, json};

use super::{client, ok_json, status_json};
use crate::support::{TestSim, start_sim};

const DEVICE: &str = r#"
[[device]]
vendor = "shrise"
id = "PC-0001"
online = false
last_login = "2026-11-20T08:00:00Z"
"#;

async fn check(sim: &TestSim, header: &str, value: &str) -> (u16, Value) {
    let r = client()
        .get(sim.url("/wx/pc/check-login-status/PC-0001"))
        .header(header, value)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn post(sim: &TestSim, path: &str, body: Value) -> Value {
    ok_json(
        client()
            .post(sim.url(path))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn kick_check_with_the_scenario_token() {
    let sim = start_sim(DEVICE).await;
    let (status, v) = check(&sim, "Authorization", "Bearer sim-shrise-access").await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"code": 0, "msg": "success", "data": {"isLogin": false, "lastLoginTime": "2026-11-20T08:00:00Z"}})
    );
    let (status, v) = check(&sim, "Authorization", "Bearer wrong").await;
    assert_eq!(
        (status, v),
        (
            401,
            json!({"code": 401, "msg": "token已过期", "data": null})
        )
    );
    let r = client()
        .get(sim.url("/wx/pc/check-login-status/PC-9"))
        .bearer_auth("sim-shrise-access")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok_json(r).await,
        json!({"code": 404, "msg": "设备不存在", "data": null})
    );
}

#[tokio::test]
async fn refresh_rotates_the_access_token() {
    let sim = start_sim(DEVICE).await;
    let v = post(
        &sim,
        "/app/auth/token/refresh",
        json!({"accessToken": "sim-shrise-access", "refreshToken": "sim-shrise-refresh"}),
    )
    .await;
    assert_eq!(v["code"], 0);
    let access = v["data"]["value"].as_str().unwrap().to_owned();
    assert!(
        v["data"]["expire"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    assert_eq!(
        check(&sim, "Authorization", "Bearer sim-shrise-access")
            .await
            .0,
        401
    );
    assert_eq!(
        check(&sim, "Authorization", &format!("Bearer {access}"))
            .await
            .1["code"],
        0
    );
    let bad = post(
        &sim,
        "/app/auth/token/refresh",
        json!({"accessToken": access, "refreshToken": "stale"}),
    )
    .await;
    assert_eq!(
        bad,
        json!({"code": 401, "msg": "refreshToken已失效", "data": null})
    );
}

#[tokio::test]
async fn sms_login_issues_a_new_pair() {
    let sim = start_sim(DEVICE).await;
    let login = |code: &str| json!({"companyType": 0, "mobile": "13800000000", "productType": 0, "source": "pc", "validateNo": code});
    let wrong = post(&sim, "/auth/mobile/login", login("000000")).await;
    assert_eq!(wrong, json!({"code": 1, "msg": "验证码错误", "data": null}));
    let v = post(&sim, "/auth/mobile/login", login("123456")).await;
    assert_eq!(v["code"], 0);
    let access = v["data"]["accessToken"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(v["data"]["refreshToken"]["value"].is_string());
    assert!(v["data"]["userInfo"].is_object());
    assert_eq!(
        check(&sim, "Authorization", "Bearer sim-shrise-access")
            .await
            .0,
        401
    );
    assert_eq!(
        check(&sim, "Authorization", &format!("Bearer {access}"))
            .await
            .1["code"],
        0
    );
}

#[tokio::test]
async fn code_style_rejection_and_a_custom_header() {
    let sim = start_sim(&format!(
        "[credentials]\nshrise_reject = \"code\"\nshrise_header = \"X-Access-Token\"\nshrise_prefix = \"\"\n{DEVICE}"
    ))
    .await;
    let (status, v) = check(&sim, "Authorization", "Bearer sim-shrise-access").await;
    assert_eq!((status, v["code"].clone()), (200, json!(401)));
    let (status, v) = check(&sim, "X-Access-Token", "sim-shrise-access").await;
    assert_eq!((status, v["code"].clone()), (200, json!(0)));
}
