//! The GeWe client (geweapi.com cloud and self-hosted Gewechat): online check, reconnect,
//! dialog (second) login and following that login with checkLogin, in GeWe's
//! `{"ret","msg","data"}` dialect.
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
/// Where a login started by dialogLogin or a QR code stands.
const CHECK_LOGIN: &str = "/login/checkLogin";
/// GeWe's one success code.
const SUCCESS: &str = "200";

/// Where a GeWe login (a dialog login or a QR code) stands, from `/login/checkLogin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginState {
    /// Nobody has acted yet (`status` 0).
    Waiting,
    /// The code was scanned, confirmation pending (`status` 1).
    Scanned,
    /// The account is logged in (`status` 2).
    LoggedIn,
}

/// One `/login/checkLogin` answer: the state and how long the login stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCheck {
    /// Where the login stands.
    pub state: LoginState,
    /// `expiredTime`: how long until the login lapses, when GeWe said.
    pub expires_in: Option<Duration>,
}

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

    /// Asks where a login started by `dialogLogin` (or a QR code) stands: `/login/checkLogin
    /// {appId, uuid}` with the `uuid` the start returned ([`SecondLogin::login_uuid`]), so the
    /// keeper can tell "still waiting for the person" from "logged in" without probing.
    pub async fn check_login(&self, app_id: &str, uuid: &str) -> Result<LoginCheck, VendorError> {
        let body = json!({ "appId": app_id, "uuid": uuid });
        let data = self.call(CHECK_LOGIN, body).await?.into_data()?;
        read_login_check(&data)
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
        let data = self.call(DIALOG_LOGIN, body).await?.into_data()?;
        Ok(SecondLogin {
            new_w_id: None,
            login_uuid: read_login_uuid(&data),
        })
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

/// dialogLogin: `data.uuid`, when there is one (the prompt was shown either way).
fn read_login_uuid(data: &Value) -> Option<String> {
    let uuid = data.get("uuid")?.as_str()?.trim();
    (!uuid.is_empty()).then(|| uuid.to_owned())
}

/// checkLogin: `data.status` 0, 1 or 2 (string or integer) and `expiredTime` in seconds.
fn read_login_check(data: &Value) -> Result<LoginCheck, VendorError> {
    let state = match data.get("status").and_then(code_text).as_deref() {
        Some("0") => LoginState::Waiting,
        Some("1") => LoginState::Scanned,
        Some("2") => LoginState::LoggedIn,
        _ => {
            let what = format!("{CHECK_LOGIN}: data.status is not 0, 1 or 2");
            return Err(malformed_shape(&what, data));
        }
    };
    let expires_in = match data.get("expiredTime") {
        None | Some(Value::Null) => None,
        // A lapsed login may report a negative count: nothing is left then.
        Some(value) => match code_text(value).and_then(|s| s.parse::<i64>().ok()) {
            Some(secs) => Some(Duration::from_secs(secs.max(0).unsigned_abs())),
            None => {
                let what = format!("{CHECK_LOGIN}: expiredTime is not a count of seconds");
                return Err(malformed_shape(&what, data));
            }
        },
    };
    Ok(LoginCheck { state, expires_in })
}

#[cfg(test)]
mod tests;
