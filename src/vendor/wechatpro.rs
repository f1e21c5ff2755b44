//! The wechatpro open gateway client (社群助手API): online check, blocking second login,
//! offline reason, last login time and the bulk online list.
//!
//! Every call carries the raw `Authorization` header and a form-encoded body; the envelope is
//! `{"message","code","data"}` with `code` the STRING `"1000"` (success) or `"1001"`. A `1001`
//! is offline only when its message says `已离线`: `未知异常`, a timeout or anything else is not
//! an answer. Calls to one endpoint for one device are kept ≥ 1 s apart, as the vendor requires.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::envelope::{
    code_text, lapsed_prompt, malformed_shape, mentions_auth, nested_failure, object, redact,
    redact_text, text_field,
};
use super::http::{Http, credential_header, invalid_settings};
use super::spacing::Spacer;
use super::time::parse_vendor_time;
use super::{
    Auth, BuildError, ClientSettings, DeviceRef, OfflineReason, Probe, ReconnectOutcome,
    SecondLogin, Vendor, VendorError, VendorKind,
};

/// Online status.
const IS_ONLINE: &str = "/open/isOnline";
/// Second login; blocks until the person confirms or the prompt expires.
const LOGIN_AGAIN: &str = "/open/loginAgain";
/// Why the device went offline (call once, right after).
const OFFLINE_REASON: &str = "/open/offlineReason";
/// Device info, `GET /open/workstation/{deviceId}`.
const WORKSTATION: &str = "/open/workstation";
/// Every online device id.
const QUERY_LOGIN_DEVICE: &str = "/open/queryLoginDevice";
/// The success code.
const SUCCESS: &str = "1000";
/// The documented failure code; only it can mean offline.
const FAILURE: &str = "1001";
/// The documented offline message; only a `1001` carrying it means offline.
const OFFLINE_TEXT: &str = "已离线";
/// The vendor's minimum gap between calls to one endpoint for one device.
const MIN_GAP: Duration = Duration::from_secs(1);

/// A wechatpro provider: cheap to clone, safe to print.
#[derive(Clone)]
pub struct WechatproClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    spacer: Spacer,
    authorization: SecretString,
}

/// One wechatpro answer: the effective code and message (a nested failure's, when `nested`).
#[derive(Debug)]
struct Reply {
    code: String,
    message: String,
    data: Value,
    nested: bool,
}

impl WechatproClient {
    /// Builds the client for one wechatpro provider; the Authorization value goes into a
    /// sensitive default header.
    pub fn new(settings: &ClientSettings) -> Result<Self, BuildError> {
        let Auth::Wechatpro { authorization } = &settings.auth else {
            return Err(invalid_settings(
                settings,
                "wechatpro client needs wechatpro credentials",
            ));
        };
        let headers = credential_header(settings, "Authorization", authorization.expose_secret())?;
        Ok(WechatproClient {
            inner: Arc::new(Inner {
                http: Http::new(settings, headers)?,
                spacer: Spacer::new(MIN_GAP),
                authorization: authorization.clone(),
            }),
        })
    }

    /// Lists the device ids the gateway reports online, so the keeper can check a whole fleet
    /// with one call (`GET /open/queryLoginDevice`).
    pub async fn online_devices(&self) -> Result<Vec<String>, VendorError> {
        let http = &self.inner.http;
        let data = self
            .read(QUERY_LOGIN_DEVICE, http.get(QUERY_LOGIN_DEVICE), None)
            .await?
            .into_data()?;
        read_device_ids(&data)
    }

    /// POSTs `deviceId` form-encoded to `endpoint`, spaced per device; `wait` marks a call
    /// that blocks until the person confirms (its own timeout and request slots).
    async fn post_device(
        &self,
        endpoint: &'static str,
        device_id: &str,
        wait: Option<Duration>,
    ) -> Result<Reply, VendorError> {
        let http = &self.inner.http;
        let request = http.post(endpoint).form(&[("deviceId", device_id)]);
        let call = self.read(endpoint, request, wait);
        self.inner.spacer.run(endpoint, device_id, call).await
    }

    /// Sends (as a blocking call when `wait` is given) and reads the envelope; every text is
    /// scrubbed of the Authorization value.
    async fn read(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
        wait: Option<Duration>,
    ) -> Result<Reply, VendorError> {
        let secret = self.inner.authorization.expose_secret();
        let http = &self.inner.http;
        let answer = match wait {
            Some(wait) => http.send_blocking(endpoint, request, wait, &[secret]).await,
            None => http.send(endpoint, request, &[secret]).await,
        };
        answer
            .and_then(|body| parse_reply(endpoint, &body, secret))
            .map_err(|e| redact(e, &[secret]))
    }
}

impl fmt::Debug for WechatproClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatproClient")
            .field("provider", &self.inner.http.provider())
            .field("base_url", &self.inner.http.base_url())
            .finish_non_exhaustive()
    }
}

impl Vendor for WechatproClient {
    fn kind(&self) -> VendorKind {
        VendorKind::Wechatpro
    }

    async fn probe(&self, device: DeviceRef<'_>) -> Probe {
        match self.post_device(IS_ONLINE, device.id, None).await {
            Ok(reply) => read_probe(reply),
            Err(error) => Probe::Unknown(error),
        }
    }

    async fn reconnect(&self, _device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        Err(VendorError::Unsupported("wechatpro has no reconnect"))
    }

    async fn second_login(
        &self,
        device: DeviceRef<'_>,
        wait: Duration,
    ) -> Result<SecondLogin, VendorError> {
        let reply = self.post_device(LOGIN_AGAIN, device.id, Some(wait)).await?;
        reply.into_data().map_err(lapsed_prompt)?;
        Ok(SecondLogin::default())
    }

    async fn offline_reason(
        &self,
        device: DeviceRef<'_>,
    ) -> Result<Option<OfflineReason>, VendorError> {
        let data = self
            .post_device(OFFLINE_REASON, device.id, None)
            .await?
            .into_data()?;
        read_reason(&data)
    }

    async fn last_login(&self, device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        let request = self.inner.http.get_with_segment(WORKSTATION, device.id);
        let call = self.read(WORKSTATION, request, None);
        let data = self
            .inner
            .spacer
            .run(WORKSTATION, device.id, call)
            .await?
            .into_data()?;
        read_last_login(&data)
    }
}

/// Reads the `{"message","code","data"}` envelope; `code` may be a string or an integer. A
/// failure nested in a `1000` (as WKTeam sends them) replaces the outer code and message.
/// Every message is scrubbed of `secret` here, before anything (an offline message, an error)
/// can quote it.
fn parse_reply(endpoint: &str, body: &Value, secret: &str) -> Result<Reply, VendorError> {
    let fields = object(body, endpoint)?;
    let Some(code) = fields.get("code").and_then(code_text) else {
        return Err(malformed_shape(&format!("{endpoint}: no code"), body));
    };
    let scrub = |text: String| redact_text(&text, &[secret]);
    let data = fields.get("data").cloned().unwrap_or(Value::Null);
    if code == SUCCESS
        && let Some((code, message)) = nested_failure(&data, SUCCESS)
    {
        return Ok(Reply {
            code,
            message: scrub(message),
            data: Value::Null,
            nested: true,
        });
    }
    Ok(Reply {
        code,
        message: scrub(text_field(fields, &["message", "msg"])),
        data,
        nested: false,
    })
}

impl Reply {
    /// `data` when the call succeeded (at both levels), else the classified failure.
    fn into_data(self) -> Result<Value, VendorError> {
        if self.code == SUCCESS {
            Ok(self.data)
        } else {
            Err(self.failure())
        }
    }

    /// What a failure code means, by its message. `未知异常` comes first: it must never be
    /// read as anything the keeper acts on.
    fn failure(self) -> VendorError {
        let m = self.message;
        if m.contains("未知异常") {
            VendorError::VendorUnknown(m)
        } else if m.contains("频繁") {
            VendorError::RateLimited(m)
        } else if mentions_auth(&m) {
            VendorError::CredentialsRejected(m)
        } else if m.contains("设备不存在") {
            VendorError::DeviceGone(m)
        } else if m.contains("已在线") || m.contains("已登录") {
            VendorError::AlreadyLoggedIn(m)
        } else {
            VendorError::Refused {
                code: self.code,
                message: m,
            }
        }
    }
}

/// isOnline: `1000` is online; offline ONLY when a top-level `1001` plain refusal says
/// `已离线` (the documented text); any other `1001` is not an answer.
fn read_probe(reply: Reply) -> Probe {
    let documented_offline = !reply.nested && reply.code == FAILURE;
    match reply.into_data() {
        Ok(_) => Probe::Online { last_login: None },
        Err(VendorError::Refused { message, .. })
            if documented_offline && message.contains(OFFLINE_TEXT) =>
        {
            Probe::Offline {
                message: Some(message),
                last_login: None,
            }
        }
        Err(error) => Probe::Unknown(error),
    }
}

/// offlineReason: `data.reason` text, or `None` when the vendor has none.
fn read_reason(data: &Value) -> Result<Option<OfflineReason>, VendorError> {
    let reason = match data {
        Value::Null => &Value::Null,
        Value::Object(fields) => fields.get("reason").unwrap_or(&Value::Null),
        other => {
            return Err(malformed_shape(
                &format!("{OFFLINE_REASON}: data is not an object"),
                other,
            ));
        }
    };
    match reason {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(OfflineReason::classify(text))),
        other => Err(malformed_shape(
            &format!("{OFFLINE_REASON}: reason is not a string"),
            other,
        )),
    }
}

/// workstation: `data.lastLoginTime` (naive China time), `None` when absent or empty.
fn read_last_login(data: &Value) -> Result<Option<Timestamp>, VendorError> {
    let Some(fields) = data.as_object() else {
        return Err(malformed_shape(
            &format!("{WORKSTATION}: data is not an object"),
            data,
        ));
    };
    match fields.get("lastLoginTime") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(value) => parse_vendor_time(value).map(Some).ok_or_else(|| {
            malformed_shape(&format!("{WORKSTATION}: unreadable lastLoginTime"), value)
        }),
    }
}

/// queryLoginDevice: `data.deviceIds`, a list of strings (no data means none online).
fn read_device_ids(data: &Value) -> Result<Vec<String>, VendorError> {
    let bad = || malformed_shape(&format!("{QUERY_LOGIN_DEVICE}: no deviceIds list"), data);
    let ids = match data {
        Value::Null => return Ok(Vec::new()),
        Value::Object(fields) => match fields.get("deviceIds") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(ids)) => ids,
            Some(_) => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    ids.iter()
        .map(|id| id.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}

#[cfg(test)]
mod tests;
