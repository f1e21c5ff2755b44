//! Unit tests of the shrise envelope, status and refresh-answer readers.

use super::*;

fn envelope(raw: &str) -> Result<Value, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    read_envelope(CHECK_LOGIN_STATUS, &body)
}

#[test]
fn code_zero_is_success() {
    let data = envelope(r#"{"code":0,"msg":"success","data":{"isLogin":true}}"#);
    assert_eq!(data.ok(), Some(json!({"isLogin": true})));
}

#[test]
fn rejected_token_codes_and_words_are_credentials() {
    for raw in [
        r#"{"code":401,"msg":"token已过期","data":null}"#,
        r#"{"code":403,"msg":"forbidden"}"#,
        r#"{"code":1,"msg":"登录已失效"}"#,
        r#"{"code":1,"msg":"用户未登录"}"#,
        r#"{"code":1,"msg":"认证失败"}"#,
        r#"{"code":1,"msg":"未授权"}"#,
        r#"{"code":1,"msg":"Token invalid"}"#,
    ] {
        let err = envelope(raw).err();
        assert!(
            matches!(err, Some(VendorError::CredentialsRejected(_))),
            "{raw}: {err:?}"
        );
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

#[test]
fn refresh_answer_documented_shape_keeps_the_refresh_token() {
    let data = json!({"value": "a2", "expire": "2026-11-21T10:00:00Z"});
    let renewed = read_renewed(&data, "Bearer ");
    let Ok(renewed) = renewed else {
        panic!("expected a renewed token");
    };
    assert_eq!(renewed.access.expose_secret(), "a2");
    assert_eq!(renewed.access_expires, "2026-11-21T10:00:00Z".parse().ok());
    assert!(renewed.refresh.is_none());
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
fn refresh_answer_without_token_is_malformed_and_not_quoted() {
    for data in [
        json!({"expire": "x"}),
        json!({"value": ""}),
        json!(null),
        json!({"value": "a\nb"}),
    ] {
        let err = read_renewed(&data, "Bearer ").err();
        assert!(
            matches!(err, Some(VendorError::Malformed(_))),
            "{data}: {err:?}"
        );
    }
    let shown = format!(
        "{:?}",
        refresh_failure(VendorError::Malformed("body: NEWTOKEN".into()))
    );
    assert!(!shown.contains("NEWTOKEN"), "{shown}");
}

#[test]
fn refresh_refusals_are_credentials_but_transport_is_not() {
    let refused = refresh_failure(failure("401".into(), "refreshToken已失效".into()));
    assert_eq!(
        refused,
        VendorError::CredentialsRejected(
            "token refresh rejected: code 401: refreshToken已失效".into()
        )
    );
    assert_eq!(refresh_failure(VendorError::Timeout), VendorError::Timeout);
    let transport = refresh_failure(VendorError::HttpStatus(502));
    assert!(transport.is_provider_fault());
}
