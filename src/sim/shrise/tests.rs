//! Unit tests of the shrise token rules, on the simulator's state with a hand-driven clock.

use axum::http::HeaderValue;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::*;
use crate::sim::Scenario;

fn sim(extra: &str) -> Shared {
    let text = format!(
        "[credentials]\nshrise_access_ttl = \"1h\"\nshrise_refresh_ttl = \"1d\"\n{extra}\n\
         [[device]]\nvendor = \"shrise\"\nid = \"PC-1\"\nlast_login = \"2026-11-20T08:00:00.5Z\"\n"
    );
    Shared::new(Scenario::from_toml(&text).unwrap())
}

fn bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    h
}

fn later(sim: &Shared, secs: i64) -> Timestamp {
    sim.created + SignedDuration::from_secs(secs)
}

#[test]
fn the_scenario_token_works_until_it_expires() {
    let sim = sim("");
    let (status, v) =
        check_login_status(&sim, &bearer("sim-shrise-access"), "PC-1", later(&sim, 1));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v,
        json!({"code": 0, "msg": "success",
            "data": {"isLogin": true, "lastLoginTime": "2026-11-20T08:00:00Z"}})
    );
    let (status, v) =
        check_login_status(&sim, &bearer("sim-shrise-access"), "PC-9", later(&sim, 1));
    assert_eq!(
        (status, v),
        (
            StatusCode::OK,
            json!({"code": 404, "msg": "设备不存在", "data": null})
        )
    );
    let (status, v) = check_login_status(
        &sim,
        &bearer("sim-shrise-access"),
        "PC-1",
        later(&sim, 3600),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(v, json!({"code": 401, "msg": "token已过期", "data": null}));
    let (status, _) = check_login_status(&sim, &HeaderMap::new(), "PC-1", later(&sim, 1));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn code_mode_rejects_inside_http_200_and_header_is_configurable() {
    let sim = sim("shrise_reject = \"code\"\nshrise_header = \"X-Token\"\nshrise_prefix = \"\"");
    let (status, v) =
        check_login_status(&sim, &bearer("sim-shrise-access"), "PC-1", later(&sim, 1));
    assert_eq!((status, v["code"].clone()), (StatusCode::OK, json!(401)));
    let mut h = HeaderMap::new();
    h.insert("x-token", HeaderValue::from_static("sim-shrise-access"));
    let (_, v) = check_login_status(&sim, &h, "PC-1", later(&sim, 1));
    assert_eq!(v["code"], 0);
}

#[test]
fn refresh_rotates_the_access_token() {
    let sim = sim("");
    let body = json!({"accessToken": "whatever", "refreshToken": "sim-shrise-refresh"}).to_string();
    let v = refresh_answer(&sim, body.as_bytes(), later(&sim, 10));
    assert_eq!(v["code"], 0);
    let new = v["data"]["value"].as_str().unwrap().to_owned();
    let expire: Timestamp = v["data"]["expire"].as_str().unwrap().parse().unwrap();
    assert_eq!(expire.as_second(), later(&sim, 3610).as_second());
    let (status, _) =
        check_login_status(&sim, &bearer("sim-shrise-access"), "PC-1", later(&sim, 11));
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old access token is dead"
    );
    let (_, v) = check_login_status(&sim, &bearer(&new), "PC-1", later(&sim, 11));
    assert_eq!(v["code"], 0);
    let expired = refresh_answer(&sim, body.as_bytes(), later(&sim, 86_400));
    assert_eq!(
        expired,
        json!({"code": 401, "msg": "refreshToken已失效", "data": null})
    );
    let wrong = json!({"accessToken": "a", "refreshToken": "b"}).to_string();
    assert_eq!(
        refresh_answer(&sim, wrong.as_bytes(), later(&sim, 1))["code"],
        401
    );
    assert_eq!(refresh_answer(&sim, b"nope", later(&sim, 1))["code"], 1);
    let no_access = json!({"refreshToken": "sim-shrise-refresh"}).to_string();
    let v = refresh_answer(&sim, no_access.as_bytes(), later(&sim, 1));
    assert_eq!(v, json!({"code": 1, "msg": "参数错误", "data": null}));
}

#[test]
fn mobile_login_issues_a_new_pair() {
    let sim = sim("");
    let login = |code: &str| {
        json!({"companyType": 0, "mobile": "13800000000", "productType": 0,
            "source": "pc", "validateNo": code})
        .to_string()
    };
    let partial = json!({"mobile": "13800000000", "validateNo": "123456"}).to_string();
    let v = login_answer(&sim, partial.as_bytes(), later(&sim, 1));
    assert_eq!(v, json!({"code": 1, "msg": "参数错误", "data": null}));
    let wrong = login_answer(&sim, login("000000").as_bytes(), later(&sim, 1));
    assert_eq!(wrong, json!({"code": 1, "msg": "验证码错误", "data": null}));
    let v = login_answer(&sim, login("123456").as_bytes(), later(&sim, 1));
    assert_eq!(v["code"], 0);
    let access = v["data"]["accessToken"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = v["data"]["refreshToken"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        v["data"]["refreshToken"]["expire"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(v["data"]["userInfo"]["mobile"], "13800000000");
    let (status, _) =
        check_login_status(&sim, &bearer("sim-shrise-access"), "PC-1", later(&sim, 2));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, ok) = check_login_status(&sim, &bearer(&access), "PC-1", later(&sim, 2));
    assert_eq!(ok["code"], 0);
    let old = json!({"accessToken": "", "refreshToken": "sim-shrise-refresh"}).to_string();
    assert_eq!(
        refresh_answer(&sim, old.as_bytes(), later(&sim, 2))["code"],
        401
    );
    let new = json!({"accessToken": access, "refreshToken": refresh}).to_string();
    assert_eq!(
        refresh_answer(&sim, new.as_bytes(), later(&sim, 2))["code"],
        0
    );
}
