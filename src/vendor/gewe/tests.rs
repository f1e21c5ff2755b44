//! Unit tests of the GeWe envelope, failure classification and answer readers.

use super::*;

const TOKEN: &str = "tok-SECRET-123";

/// The envelope as `parse_reply` reads it: no outer scrubbing, so the tests see whether
/// the reader itself keeps the token out.
fn reply(raw: &str) -> Result<Reply, VendorError> {
    let body: Value =
        serde_json::from_str(raw).map_err(|e| VendorError::Malformed(e.to_string()))?;
    parse_reply(CHECK_ONLINE, &body, TOKEN)
}

fn data(raw: &str) -> Result<Value, VendorError> {
    reply(raw).and_then(Reply::into_data)
}

#[test]
fn check_online_true_false_and_non_bool() {
    let probe = |raw| reply(raw).map(read_probe).map_err(Probe::Unknown);
    let on = probe(r#"{"ret":200,"msg":"操作成功","data":true}"#);
    assert!(
        matches!(on, Ok(Probe::Online { last_login: None })),
        "{on:?}"
    );
    let off = probe(r#"{"ret":200,"msg":"操作成功","data":false}"#);
    assert!(
        matches!(off, Ok(Probe::Offline { message: None, .. })),
        "{off:?}"
    );
    for raw in [
        r#"{"ret":200,"msg":"操作成功"}"#,
        r#"{"ret":200,"data":"true"}"#,
    ] {
        let odd = probe(raw);
        assert!(
            matches!(odd, Ok(Probe::Unknown(VendorError::Malformed(_)))),
            "{odd:?}"
        );
    }
}

#[test]
fn rejected_token_is_credentials_and_never_echoed() {
    let raw = format!(r#"{{"ret":500,"msg":"HTTP HEADER: X-GEWE-TOKEN={TOKEN} 不可用或已过期"}}"#);
    let Some(err) = data(&raw).err() else {
        panic!("a rejected token is an error");
    };
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    let expected = VendorError::CredentialsRejected("X-GEWE-TOKEN rejected: 不可用或已过期".into());
    assert_eq!(err, expected);
}

#[test]
fn token_echoed_in_other_texts_is_scrubbed() {
    let raw = format!(r#"{{"ret":500,"msg":"odd {TOKEN}","data":{{"msg":"x {TOKEN}"}}}}"#);
    let err = data(&raw).err();
    let shown = format!(
        "{:?} {}",
        err,
        err.as_ref().map(ToString::to_string).unwrap_or_default()
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(matches!(err, Some(VendorError::Refused { ref code, .. }) if code == "500"));
    let raw = format!(r#"{{"ret":"oops {TOKEN}"}}"#);
    let shown = format!("{:?}", reply(&raw).err());
    assert!(
        shown.contains("Malformed") && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[test]
fn device_gone_reads_the_nested_msg() {
    let raw = r#"{"ret":500,"msg":"获取失败","data":{"code":"-1","msg":"[wx_1]设备不存在"}}"#;
    assert_eq!(
        data(raw).err(),
        Some(VendorError::DeviceGone("[wx_1]设备不存在".into()))
    );
}

#[test]
fn already_logged_in_is_distinct() {
    let raw = r#"{"ret":500,"msg":"微信已登录，请勿重复登录。"}"#;
    let err = data(raw).err();
    assert_eq!(
        err,
        Some(VendorError::AlreadyLoggedIn(
            "微信已登录，请勿重复登录。".into()
        ))
    );
}

#[test]
fn other_failures_are_refused_with_code_and_text() {
    let err = data(r#"{"ret":500,"msg":"重连失败，请重新登录"}"#).err();
    let expected = VendorError::Refused {
        code: "500".into(),
        message: "重连失败，请重新登录".into(),
    };
    assert_eq!(err, Some(expected));
}

#[test]
fn reconnect_outcomes() {
    let ok = reply(r#"{"ret":200,"msg":"操作成功"}"#).and_then(read_reconnect);
    assert_eq!(ok, Ok(ReconnectOutcome::Accepted));
    let raw = r#"{"ret":500,"msg":"当前账号状态正常，无需重连"}"#;
    let not_needed = reply(raw).and_then(read_reconnect);
    assert_eq!(
        not_needed,
        Ok(ReconnectOutcome::NotNeeded(
            "当前账号状态正常，无需重连".into()
        ))
    );
    let failed = reply(r#"{"ret":500,"msg":"重连失败"}"#).and_then(read_reconnect);
    assert!(
        matches!(failed, Err(VendorError::Refused { .. })),
        "{failed:?}"
    );
}

#[test]
fn non_envelopes_are_malformed() {
    for raw in [
        r#"[1,2]"#,
        r#"{"msg":"no ret"}"#,
        r#"{"ret":200,"msg":5}"#,
        r#""text""#,
    ] {
        let err = reply(raw).err();
        assert!(
            matches!(err, Some(VendorError::Malformed(_))),
            "{raw}: {err:?}"
        );
    }
}

#[test]
fn login_check_reads_status_and_seconds_left() {
    let check = |data: Value| read_login_check(&data);
    let waiting = check(json!({"uuid": "u", "status": 0, "expiredTime": 230}));
    let expected = LoginCheck {
        state: LoginState::Waiting,
        expires_in: Some(Duration::from_secs(230)),
    };
    assert_eq!(waiting, Ok(expected));
    let done = check(json!({"status": "2", "expiredTime": -3, "loginInfo": {"wxid": "w"}}));
    let expected = LoginCheck {
        state: LoginState::LoggedIn,
        expires_in: Some(Duration::ZERO),
    };
    assert_eq!(done, Ok(expected));
    let scanned = check(json!({"status": 1}));
    assert_eq!(
        scanned.map(|c| (c.state, c.expires_in)),
        Ok((LoginState::Scanned, None))
    );
    for data in [
        json!({"status": 3}),
        json!({"expiredTime": 5}),
        json!({"status": 0, "expiredTime": "soon"}),
        json!(null),
    ] {
        let err = check(data.clone());
        assert!(
            matches!(err, Err(VendorError::Malformed(_))),
            "{data}: {err:?}"
        );
    }
}

#[test]
fn dialog_login_uuid_is_kept_when_present() {
    assert_eq!(
        read_login_uuid(&json!({"appId": "wx_1", "uuid": " u-1 "})).as_deref(),
        Some("u-1")
    );
    assert_eq!(read_login_uuid(&json!({"appId": "wx_1"})), None);
    assert_eq!(read_login_uuid(&json!({"uuid": ""})), None);
    assert_eq!(read_login_uuid(&Value::Null), None);
}
