//! Unit tests of the WKTeam envelope (both levels) and answer readers.

use super::*;
use crate::vendor::ReasonCategory;

fn envelope(raw: &str) -> Result<Value, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    read_envelope(SECOND_LOGIN, &body)
}

#[test]
fn nested_failure_in_1000_is_a_failure() {
    let raw = r#"{"message":"成功","code":"1000","data":{"code":"1001","message":"二次登录失败，请重新扫码登录"}}"#;
    let expected = VendorError::Refused {
        code: "1001".into(),
        message: "二次登录失败，请重新扫码登录".into(),
    };
    assert_eq!(envelope(raw).err(), Some(expected));
    let raw = r#"{"code":1000,"data":{"code":1001,"msg":"失败了"}}"#;
    assert!(matches!(envelope(raw), Err(VendorError::Refused { .. })));
}

#[test]
fn nested_success_or_absent_code_is_success() {
    for raw in [
        r#"{"code":"1000","data":{"code":"1000","wId":"w"}}"#,
        r#"{"code":"1000","data":{"wId":"w"}}"#,
        r#"{"code":"1000","data":{"code":null,"wId":"w"}}"#,
    ] {
        assert!(envelope(raw).is_ok(), "{raw}");
    }
}

#[test]
fn integer_and_string_codes_both_work() {
    assert_eq!(
        envelope(r#"{"code":1000,"data":{"wId":"w"}}"#).ok(),
        Some(json!({"wId":"w"}))
    );
    let refused = envelope(r#"{"message":"失败","code":1001,"data":null}"#).err();
    let expected = VendorError::Refused {
        code: "1001".into(),
        message: "失败".into(),
    };
    assert_eq!(refused, Some(expected));
}

#[test]
fn failure_classes() {
    let class = |m: &str| failure("1001".into(), m.into());
    assert!(matches!(
        class("Authorization无效"),
        VendorError::CredentialsRejected(_)
    ));
    assert!(matches!(
        class("调用频繁，12小时内只能调用一次"),
        VendorError::RateLimited(_)
    ));
    assert!(matches!(
        class("wId不存在或已失效"),
        VendorError::DeviceGone(_)
    ));
    assert!(matches!(class("账号不存在"), VendorError::DeviceGone(_)));
    assert!(matches!(
        class("微信已在线"),
        VendorError::AlreadyLoggedIn(_)
    ));
    assert!(matches!(class("失败"), VendorError::Refused { .. }));
}

#[test]
fn offline_is_1000_with_is_online_false() {
    let p = read_probe(&json!({"isOnline": false}));
    assert!(matches!(p, Probe::Offline { message: None, .. }), "{p:?}");
    let p = read_probe(&json!({"isOnline": true}));
    assert!(matches!(p, Probe::Online { .. }), "{p:?}");
    let p = read_probe(&json!(null));
    assert!(
        matches!(p, Probe::Unknown(VendorError::Malformed(_))),
        "{p:?}"
    );
}

#[test]
fn second_login_needs_the_new_wid() {
    assert_eq!(
        read_new_w_id(&json!({"wcId":"c","wId":"w2"})),
        Ok("w2".to_owned())
    );
    for data in [json!({"wcId":"c"}), json!({"wId":""}), json!(null)] {
        let err = read_new_w_id(&data);
        assert!(
            matches!(err, Err(VendorError::Malformed(_))),
            "{data}: {err:?}"
        );
    }
}

#[test]
fn offline_reason_picks_this_account() {
    let data = json!([{"wcId":"other","reason":"你已退出微信"},{"wcId":"me","reason":"设备网络异常，请重新登录"}]);
    let reason = read_reason(&data, "me").ok().flatten().map(|r| r.category);
    assert_eq!(reason, Some(ReasonCategory::Network));
    assert_eq!(read_reason(&data, "nobody"), Ok(None));
    assert_eq!(
        read_reason(&json!([{"wcId":"me","reason":null}]), "me"),
        Ok(None)
    );
    assert!(matches!(
        read_reason(&json!({}), "me"),
        Err(VendorError::Malformed(_))
    ));
}

#[test]
fn logged_in_pairs() {
    let data = json!([{"wcId":"c1","wId":"w1"},{"wcId":"c2","wId":"w2"}]);
    let pairs = read_logged_in(&data);
    let expected = vec![
        ("c1".to_owned(), "w1".to_owned()),
        ("c2".to_owned(), "w2".to_owned()),
    ];
    assert_eq!(pairs, Ok(expected));
    assert_eq!(read_logged_in(&Value::Null), Ok(Vec::new()));
    assert!(matches!(
        read_logged_in(&json!([{"wcId":"c1"}])),
        Err(VendorError::Malformed(_))
    ));
}
