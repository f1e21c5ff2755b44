//! The GeWe client (geweapi.com cloud and self-hosted Gewechat): online check, reconnect and
//! dialog (second) login, in GeWe's `{"ret","msg","data"}` dialect.
//!
//! Every call is a JSON POST with the `X-GEWE-TOKEN` header; success is `ret == 200` and the
//! HTTP status is 200 either way. Failures all come as `ret: 500` and are told apart by their
//! text. GeWe echoes a rejected token back in its message, so every text is scrubbed of it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::envelope::{code_text, malformed_shape, object, redact, redact_text, text_field};
use super::http::{Http, credential_header, invalid_settings};
use super::{
    Auth, BuildError, ClientSettings, DeviceRef, OfflineReason, Probe, ReconnectOutcome,
    SecondLogin, Vendor, VendorError, VendorKind,
};

/// Online status: `data` is a bool.
const CHECK_ONLINE: &str = "/login/checkOnline";
/// Reconnect without the phone.
const RECONNECTION: &str = "/login/reconnection";
/// Second login: the phone shows a confirm dialog.
const DIALOG_LOGIN: &str = "/login/dialogLogin";
/// GeWe's one success code.
const SUCCESS: &str = "200";

/// A GeWe provider: cheap to clone, safe to print.
#[derive(Clone)]
pub struct GeweClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    token: SecretString,
}

/// One GeWe answer: `ret` as text, the message (token scrubbed) and `data`.
#[derive(Debug)]
struct Reply {
    ret: String,
    msg: String,
    data: Value,
}

impl GeweClient {
    /// Builds the client for one GeWe provider; the token goes into a sensitive default header.
    pub fn new(settings: &ClientSettings) -> Result<Self, BuildError> {
        let Auth::Gewe { token } = &settings.auth else {
            return Err(invalid_settings(
                settings,
                "gewe client needs gewe credentials",
            ));
        };
        let headers = credential_header(settings, "X-GEWE-TOKEN", token.expose_secret())?;
        Ok(GeweClient {
            inner: Arc::new(Inner {
                http: Http::new(settings, headers)?,
                token: token.clone(),
            }),
        })
    }

    /// Posts `body` to `endpoint` and reads the envelope; every error text is token-free.
    async fn call(&self, endpoint: &'static str, body: Value) -> Result<Reply, VendorError> {
        let http = &self.inner.http;
        let token = self.inner.token.expose_secret();
        let request = http.post(endpoint).json(&body);
        let answer = http.send(endpoint, request, &[token]).await;
        answer
            .and_then(|body| parse_reply(endpoint, &body, token))
            .map_err(|e| redact(e, &[token]))
    }
}

impl fmt::Debug for GeweClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeweClient")
            .field("provider", &self.inner.http.provider())
            .field("base_url", &self.inner.http.base_url())
            .finish_non_exhaustive()
    }
}

impl Vendor for GeweClient {
    fn kind(&self) -> VendorKind {
        VendorKind::Gewe
    }

    async fn probe(&self, device: DeviceRef<'_>) -> Probe {
        match self.call(CHECK_ONLINE, json!({ "appId": device.id })).await {
            Ok(reply) => read_probe(reply),
            Err(error) => Probe::Unknown(error),
        }
    }

    async fn reconnect(&self, device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        let reply = self
            .call(RECONNECTION, json!({ "appId": device.id }))
            .await?;
        read_reconnect(reply)
    }

    async fn second_login(
        &self,
        device: DeviceRef<'_>,
        _wait: Duration,
    ) -> Result<SecondLogin, VendorError> {
        // dialogLogin answers at once (the dialog is confirmed later), so the provider timeout
        // applies rather than `wait`.
        let Some(region_id) = device.region_id else {
            return Err(VendorError::Unsupported("gewe dialogLogin needs region_id"));
        };
        let body = json!({ "appId": device.id, "regionId": region_id });
        self.call(DIALOG_LOGIN, body).await?.into_data()?;
        Ok(SecondLogin { new_w_id: None })
    }

    async fn offline_reason(
        &self,
        _device: DeviceRef<'_>,
    ) -> Result<Option<OfflineReason>, VendorError> {
        Err(VendorError::Unsupported(
            "gewe has no offline reason endpoint",
        ))
    }

    async fn last_login(&self, _device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        Err(VendorError::Unsupported("gewe has no last login endpoint"))
    }
}

/// Reads the `{"ret","msg","data"}` envelope; `ret` must be an integer code, `msg` a string
/// when present. Messages are scrubbed of `token` here, before anything can quote them.
fn parse_reply(endpoint: &str, body: &Value, token: &str) -> Result<Reply, VendorError> {
    let fields = object(body, endpoint)?;
    let Some(ret) = fields.get("ret").and_then(code_text) else {
        return Err(malformed_shape(&format!("{endpoint}: no ret code"), body));
    };
    if fields
        .get("msg")
        .is_some_and(|m| !m.is_string() && !m.is_null())
    {
        return Err(malformed_shape(
            &format!("{endpoint}: msg is not a string"),
            body,
        ));
    }
    let mut data = fields.get("data").cloned().unwrap_or(Value::Null);
    if let Some(inner) = data.get_mut("msg")
        && let Some(text) = inner.as_str()
    {
        *inner = Value::String(redact_text(text, &[token]));
    }
    Ok(Reply {
        ret,
        msg: redact_text(&text_field(fields, &["msg"]), &[token]),
        data,
    })
}

impl Reply {
    /// `data` when the call succeeded, else the classified failure.
    fn into_data(self) -> Result<Value, VendorError> {
        if self.ret == SUCCESS {
            Ok(self.data)
        } else {
            Err(self.failure())
        }
    }

    /// What a non-200 answer means: rejected token, vanished device, already logged in, or a
    /// plain refusal carrying GeWe's words.
    fn failure(self) -> VendorError {
        let inner_msg = self.data.get("msg").and_then(Value::as_str).unwrap_or("");
        if self.msg.contains("X-GEWE-TOKEN") || self.msg.contains("不可用或已过期") {
            let detail = if self.msg.contains("不可用或已过期") {
                "X-GEWE-TOKEN rejected: 不可用或已过期"
            } else {
                "X-GEWE-TOKEN rejected"
            };
            return VendorError::CredentialsRejected(detail.to_owned());
        }
        if inner_msg.contains("设备不存在") || self.msg.contains("设备不存在") {
            let text = if inner_msg.is_empty() {
                &self.msg
            } else {
                inner_msg
            };
            return VendorError::DeviceGone(text.to_owned());
        }
        if self.msg.contains("微信已登录") {
            return VendorError::AlreadyLoggedIn(self.msg);
        }
        let message = match (self.msg.is_empty(), inner_msg.is_empty()) {
            (_, true) => self.msg,
            (true, false) => inner_msg.to_owned(),
            (false, false) => format!("{}: {inner_msg}", self.msg),
        };
        VendorError::Refused {
            code: self.ret,
            message,
        }
    }
}

/// checkOnline: `data` true is online, false offline, anything else is not an answer.
/// (GeWe's "phantom online" — true while the account is gone — cannot be seen from here; the
/// keeper's ladder treats `无需重连` during an offline spell as a failed rung.)
fn read_probe(reply: Reply) -> Probe {
    match reply.into_data() {
        Ok(Value::Bool(true)) => Probe::Online { last_login: None },
        Ok(Value::Bool(false)) => Probe::Offline {
            message: None,
            last_login: None,
        },
        Ok(other) => Probe::Unknown(malformed_shape(
            &format!("{CHECK_ONLINE}: data is not a bool"),
            &other,
        )),
        Err(error) => Probe::Unknown(error),
    }
}

/// reconnection: 200 is accepted; a failure saying `无需重连` is reported distinctly so the
/// keeper can count it as a failed rung while probes say offline.
fn read_reconnect(reply: Reply) -> Result<ReconnectOutcome, VendorError> {
    if reply.ret != SUCCESS && reply.msg.contains("无需重连") {
        return Ok(ReconnectOutcome::NotNeeded(reply.msg));
    }
    reply.into_data().map(|_| ReconnectOutcome::Accepted)
}

#[cfg(test)]
mod tests {
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
        let raw =
            format!(r#"{{"ret":500,"msg":"HTTP HEADER: X-GEWE-TOKEN={TOKEN} 不可用或已过期"}}"#);
        let Some(err) = data(&raw).err() else {
            panic!("a rejected token is an error");
        };
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(TOKEN), "{shown}");
        let expected =
            VendorError::CredentialsRejected("X-GEWE-TOKEN rejected: 不可用或已过期".into());
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
}
