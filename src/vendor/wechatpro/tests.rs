//! Unit tests of the wechatpro envelope and answer readers.

use super::*;
use crate::vendor::ReasonCategory;
use serde_json::json;

const SECRET: &str = "wp-SECRET-authorization-0123";

fn reply(raw: &str) -> Result<Reply, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    parse_reply(IS_ONLINE, &body, SECRET)
}

fn probe(raw: &str) -> Probe {
    reply(raw).map_or_else(Probe::Unknown, read_probe)
}

fn failure(raw: &str) -> Option<VendorError> {
    reply(raw).and_then(Reply::into_data).err()
}

#[test]
fn code_1000_is_online_string_or_integer() {
    for raw in [
        r#"{"message":"在线","code":"1000","data":null}"#,
        r#"{"message":"在线","code":1000}"#,
    ] {
        assert!(
            matches!(probe(raw), Probe::Online { last_login: None }),
            "{raw}"
        );
    }
}

#[test]
fn code_1001_offline_only_when_the_message_says_so() {
    let off = probe(r#"{"message":"已离线","code":"1001","data":null}"#);
    assert!(
        matches!(&off, Probe::Offline { message: Some(m), .. } if m == "已离线"),
        "{off:?}"
    );
}

#[test]
fn code_1001_unknown_exception_is_unknown_not_offline() {
    let p = probe(r#"{"message":"未知异常","code":"1001","data":null}"#);
    assert!(
        matches!(p, Probe::Unknown(VendorError::VendorUnknown(_))),
        "{p:?}"
    );
    // Even a text naming both stays unknown.
    let p = probe(r#"{"message":"未知异常，可能已离线","code":"1001"}"#);
    assert!(
        matches!(p, Probe::Unknown(VendorError::VendorUnknown(_))),
        "{p:?}"
    );
}

#[test]
fn code_1001_other_messages_are_unknown_with_a_class() {
    let cases = [
        ("请求过于频繁，请稍后再试", "rate_limited"),
        ("Authorization 认证失败", "credentials"),
        ("invalid Token", "credentials"),
        ("设备不存在", "device_gone"),
        ("参数错误：deviceId不能为空", "refused"),
    ];
    let class = |e: &VendorError| match e {
        VendorError::RateLimited(_) => "rate_limited",
        VendorError::CredentialsRejected(_) => "credentials",
        VendorError::DeviceGone(_) => "device_gone",
        VendorError::Refused { .. } => "refused",
        _ => "other",
    };
    for (message, expected) in cases {
        let raw = json!({"message": message, "code": "1001", "data": null}).to_string();
        match probe(&raw) {
            Probe::Unknown(e) => assert_eq!(class(&e), expected, "{message}: {e:?}"),
            other => panic!("{message}: expected unknown, got {other:?}"),
        }
    }
}

#[test]
fn code_1001_offline_needs_the_documented_text() {
    for message in ["离线检测失败", "离线", "设备离线状态未知"] {
        let raw = json!({"code": "1001", "message": message}).to_string();
        let p = probe(&raw);
        assert!(
            matches!(p, Probe::Unknown(VendorError::Refused { .. })),
            "{message}: {p:?}"
        );
    }
}

#[test]
fn nested_failure_in_1000_is_a_failure() {
    let raw = r#"{"message":"成功","code":"1000","data":{"code":"1001","message":"二次登录失败，请使用扫码登录"}}"#;
    let expected = VendorError::Refused {
        code: "1001".into(),
        message: "二次登录失败，请使用扫码登录".into(),
    };
    assert_eq!(failure(raw), Some(expected));
    let raw = r#"{"code":1000,"data":{"code":"1000","wcId":"wxid_1"}}"#;
    assert_eq!(failure(raw), None);
    // A nested 1001 is a failure, but never the documented offline answer.
    let p = probe(r#"{"code":"1000","data":{"code":"1001","message":"已离线"}}"#);
    assert!(
        matches!(p, Probe::Unknown(VendorError::Refused { .. })),
        "{p:?}"
    );
}

#[test]
fn echoed_authorization_is_scrubbed_from_every_message() {
    let off = probe(&json!({"code": "1001", "message": format!("已离线 {SECRET}")}).to_string());
    assert!(
        matches!(&off, Probe::Offline { message: Some(m), .. } if m == "已离线 [redacted]"),
        "{off:?}"
    );
    let raw = json!({"code": "1001", "message": format!("Authorization {SECRET} 认证失败")});
    let err = failure(&raw.to_string());
    let expected = VendorError::CredentialsRejected("Authorization [redacted] 认证失败".into());
    assert_eq!(err, Some(expected));
    let raw = json!({"code": "1000", "data": {"code": 1001, "message": format!("x {SECRET}")}});
    let shown = format!("{:?}", failure(&raw.to_string()));
    assert!(!shown.contains(SECRET), "{shown}");
}

#[test]
fn offline_word_with_another_code_is_not_offline() {
    let p = probe(r#"{"message":"已离线","code":"500"}"#);
    assert!(
        matches!(p, Probe::Unknown(VendorError::Refused { .. })),
        "{p:?}"
    );
}

#[test]
fn second_login_refusals_are_classified() {
    let refused =
        failure(r#"{"message":"二次登录失败，请使用扫码登录","code":"1001","data":null}"#);
    let expected = VendorError::Refused {
        code: "1001".into(),
        message: "二次登录失败，请使用扫码登录".into(),
    };
    assert_eq!(refused, Some(expected));
    let online = failure(r#"{"message":"微信已在线","code":"1001"}"#);
    assert_eq!(
        online,
        Some(VendorError::AlreadyLoggedIn("微信已在线".into()))
    );
}

#[test]
fn offline_reason_text_null_and_garbage() {
    let reason = read_reason(&json!({"reason": "在 iPad 设备上登录"}));
    let reason = reason.ok().flatten().map(|r| r.category);
    assert_eq!(reason, Some(ReasonCategory::OtherDevice));
    assert_eq!(read_reason(&json!({"reason": null})), Ok(None));
    assert_eq!(read_reason(&json!(null)), Ok(None));
    assert!(matches!(
        read_reason(&json!({"reason": 5})),
        Err(VendorError::Malformed(_))
    ));
}

#[test]
fn last_login_is_china_time() {
    let data = json!({"deviceId":"d1","wechatStatus":0,"lastLoginTime":"2026-11-20 16:00:00"});
    let expected = "2026-11-20T08:00:00Z".parse::<Timestamp>().ok();
    assert_eq!(read_last_login(&data), Ok(expected));
    assert_eq!(read_last_login(&json!({"lastLoginTime": ""})), Ok(None));
    let bad = read_last_login(&json!({"lastLoginTime": "soon"}));
    assert!(matches!(bad, Err(VendorError::Malformed(_))), "{bad:?}");
}

#[test]
fn device_ids_list() {
    let ids = read_device_ids(&json!({"deviceIds": ["a", "b"], "total": 2}));
    assert_eq!(ids, Ok(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(read_device_ids(&json!(null)), Ok(Vec::new()));
    let bad = read_device_ids(&json!({"deviceIds": [1]}));
    assert!(matches!(bad, Err(VendorError::Malformed(_))), "{bad:?}");
}

#[test]
fn non_envelopes_are_malformed() {
    for raw in [r#"{"message":"x"}"#, r#"[]"#, r#"{"code":null}"#] {
        assert!(
            matches!(reply(raw), Err(VendorError::Malformed(_))),
            "{raw}"
        );
    }
}
