//! Unit tests of the shrise envelope, status and refresh-answer readers and of how refusals
//! of each endpoint are classified.

use serde_json::json;

use super::refresh::{read_renewed, refresh_failure, refusal};
use super::*;

fn envelope(raw: &str) -> Result<Value, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    read_envelope(CHECK_LOGIN_STATUS, &body, status_failure)
}

fn refresh_envelope(raw: &str) -> Result<Value, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    read_envelope(TOKEN_REFRESH, &body, refusal).map_err(refresh_failure)
}

#[test]
fn code_zero_is_success() {
    let data = envelope(r#"{"code":0,"msg":"success","data":{"isLogin":true}}"#);
    assert_eq!(data.ok(), Some(json!({"isLogin": true})));
    let data = envelope(r#"{"code":"00","msg":"success","data":null}"#);
    assert_eq!(data.ok(), Some(Value::Null));
}

#[test]
fn rejected_token_codes_and_words_are_credentials() {
    for raw in [
        r#"{"code":401,"msg":"token已过期","data":null}"#,
        r#"{"code":403,"msg":"forbidden"}"#,
        r#"{"code":1,"msg":"认证失败"}"#,
        r#"{"code":1,"msg":"未授权"}"#,
        r#"{"code":1,"msg":"Token invalid"}"#,
        r#"{"code":1,"msg":"令牌无效"}"#,
    ] {
        let err = envelope(raw).err();
        assert!(
            matches!(err, Some(VendorError::CredentialsRejected(_))),
            "{raw}: {err:?}"
        );
    }
}

#[test]
fn device_words_on_check_login_status_are_not_credentials() {
    // On check-login-status these describe the DEVICE: refreshing the token would not help.
    for msg in ["设备未登录", "登录已过期", "设备登录已失效"] {
        let raw = json!({"code": 1, "msg": msg}).to_string();
        let expected = VendorError::Refused {
            code: "1".into(),
            message: msg.into(),
        };
        assert_eq!(envelope(&raw).err(), Some(expected), "{msg}");
    }
}

#[test]
fn other_codes_are_classified() {
    let err = envelope(r#"{"code":404,"msg":"设备不存在","data":null}"#).err();
    assert_eq!(err, Some(VendorError::DeviceGone("设备不存在".into())));
    let err = envelope(r#"{"code":500,"msg":"系统繁忙"}"#).err();
    let expected = VendorError::Refused {
        code: "500".into(),
        message: "系统繁忙".into(),
    };
    assert_eq!(err, Some(expected));
    assert!(matches!(
        envelope(r#"{"msg":"x"}"#),
        Err(VendorError::Malformed(_))
    ));
}

#[test]
fn refresh_refusals_of_the_pair_are_credentials() {
    for raw in [
        r#"{"code":401,"msg":"refreshToken已失效"}"#,
        r#"{"code":403,"msg":"forbidden"}"#,
        r#"{"code":1,"msg":"令牌已过期"}"#,
        r#"{"code":1,"msg":"登录已失效"}"#,
        r#"{"code":1,"msg":"认证失败"}"#,
        r#"{"code":1,"msg":"invalid token"}"#,
    ] {
        let err = refresh_envelope(raw).err();
        assert!(
            matches!(&err, Some(VendorError::CredentialsRejected(m)) if m.starts_with("token refresh rejected: ")),
            "{raw}: {err:?}"
        );
    }
    let http = refresh_failure(VendorError::CredentialsRejected(
        "x: http status 401".into(),
    ));
    assert_eq!(
        http,
        VendorError::CredentialsRejected("token refresh rejected: x: http status 401".into())
    );
}

#[test]
fn other_refresh_refusals_and_transport_are_not_credentials() {
    let busy = refresh_envelope(r#"{"code":500,"msg":"系统繁忙"}"#).err();
    let expected = VendorError::Refused {
        code: "500".into(),
        message: "token refresh: 系统繁忙".into(),
    };
    assert_eq!(busy, Some(expected));
    assert_eq!(refresh_failure(VendorError::Timeout), VendorError::Timeout);
    let transport = refresh_failure(VendorError::HttpStatus(502));
    assert!(transport.is_provider_fault());
    let shown = format!(
        "{:?}",
        refresh_failure(VendorError::Malformed("body: NEWTOKEN".into()))
    );
    assert!(!shown.contains("NEWTOKEN"), "{shown}");
}

#[test]
fn status_reads_is_login_and_last_login() {
    let data = json!({"isLogin": false, "lastLoginTime": "2019-08-24T14:15:22Z"});
    let expected = LoginStatus {
        is_login: false,
        last_login: "2019-08-24T14:15:22Z".parse().ok(),
    };
    assert_eq!(read_status(&data), Ok(expected));
    let data = json!({"isLogin": true, "lastLoginTime": null});
    assert_eq!(
        read_status(&data).map(|s| (s.is_login, s.last_login)),
        Ok((true, None))
    );
    let data = json!({"isLogin": true, "lastLoginTime": "garbage"});
    assert_eq!(read_status(&data).map(|s| s.last_login), Ok(None));
    assert!(matches!(
        read_status(&json!({"isLogin": "yes"})),
        Err(VendorError::Malformed(_))
    ));
}

/// The access token, its expiry and the refresh token (if any) read from `data`.
type Read = (String, Option<Timestamp>, Option<String>);

fn renewed(data: Value) -> Result<Read, VendorError> {
    let renewed = read_renewed(&data, "Bearer ")?;
    Ok((
        renewed.access.expose_secret().to_owned(),
        renewed.access_expires,
        renewed.refresh.map(|(r, _)| r.expose_secret().to_owned()),
    ))
}

#[test]
fn refresh_answer_documented_shape_keeps_the_refresh_token() {
    let read = renewed(json!({"value": "a2", "expire": "2026-11-21T10:00:00Z"}));
    assert_eq!(
        read,
        Ok(("a2".into(), "2026-11-21T10:00:00Z".parse().ok(), None))
    );
}

#[test]
fn refresh_answer_login_shape_carries_both_tokens() {
    let data = json!({
        "accessToken": {"value": "a2", "expire": ""},
        "refreshToken": {"value": "r2", "expire": "2026-12-21T10:00:00Z"}
    });
    let Ok(renewed) = read_renewed(&data, "Bearer ") else {
        panic!("expected a renewed token");
    };
    assert_eq!(renewed.access.expose_secret(), "a2");
    assert_eq!(renewed.access_expires, None);
    let refresh = renewed
        .refresh
        .map(|(r, e)| (r.expose_secret().to_owned(), e));
    assert_eq!(
        refresh,
        Some(("r2".to_owned(), "2026-12-21T10:00:00Z".parse().ok()))
    );
}

#[test]
fn refresh_answer_flat_shapes_are_not_lost() {
    let expires = "2026-11-21T10:00:00Z".parse().ok();
    let flat = json!({"accessToken": "a2", "refreshToken": "r2", "expire": "2026-11-21T10:00:00Z"});
    assert_eq!(renewed(flat), Ok(("a2".into(), expires, Some("r2".into()))));
    let snake = json!({"access_token": "a3", "refresh_token": {"value": "r3"}});
    assert_eq!(renewed(snake), Ok(("a3".into(), None, Some("r3".into()))));
    assert_eq!(
        renewed(json!({"token": "a4"})),
        Ok(("a4".into(), None, None))
    );
    assert_eq!(renewed(json!("a5")), Ok(("a5".into(), None, None)));
    // An empty nested value does not hide a usable one elsewhere.
    let mixed = json!({"accessToken": {"value": ""}, "value": "a6"});
    assert_eq!(renewed(mixed), Ok(("a6".into(), None, None)));
}

#[test]
fn refresh_answer_without_token_is_malformed_and_not_quoted() {
    for data in [
        json!({"expire": "x"}),
        json!({"value": ""}),
        json!({"accessToken": 5, "refreshToken": "r2"}),
        json!(null),
        json!({"value": "a\nb"}),
    ] {
        let err = read_renewed(&data, "Bearer ").err();
        assert!(
            matches!(err, Some(VendorError::Malformed(_))),
            "{data}: {err:?}"
        );
    }
}
