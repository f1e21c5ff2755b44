//! The WKTeam 微控 / E云管家 client: online check by login instance (`wId`), second login
//! (which rotates the `wId`), offline reason and the bulk list of logged-in accounts, shared
//! by the provider's devices (`wkteam/accounts.rs`) to find an account's current wId.
//!
//! JSON POSTs with the raw `Authorization` header; envelope `{"message","code","data"}` with
//! `code` documented as an integer but sent as a string in every example: both are accepted.
//! A call succeeds only when the outer code is 1000 AND a `code` nested in `data` (if any) is
//! 1000 too: WKTeam reports some failures as `{"code":"1000","data":{"code":"1001",...}}`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::envelope::{
    code_text, lapsed_prompt, malformed_shape, mentions_auth, nested_failure, object, redact,
    text_field,
};
use super::http::{Http, credential_header, invalid_settings};
use super::{
    Auth, BuildError, ClientSettings, DeviceRef, OfflineReason, Probe, ReconnectOutcome,
    SecondLogin, Vendor, VendorError, VendorKind,
};

/// Online status of one login instance.
const IS_ONLINE: &str = "/isOnline";
/// Second login; may block until the person confirms, then answers with the NEW wId.
const SECOND_LOGIN: &str = "/secondLogin";
/// Offline reasons (at most one call per account per 12 h).
const OFFLINE_REASON: &str = "/offlineReason";
/// Every logged-in account with its current wId.
const QUERY_LOGIN_WX: &str = "/queryLoginWx";
/// The success code (outer and nested).
const SUCCESS: &str = "1000";

/// A WKTeam provider: cheap to clone, safe to print.
#[derive(Clone)]
pub struct WkteamClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    second_login_type: Option<i64>,
    authorization: SecretString,
    accounts: accounts::Accounts,
}

impl WkteamClient {
    /// Builds the client for one WKTeam provider; the Authorization value goes into a
    /// sensitive default header.
    pub fn new(settings: &ClientSettings) -> Result<Self, BuildError> {
        let Auth::Wkteam {
            authorization,
            second_login_type,
        } = &settings.auth
        else {
            return Err(invalid_settings(
                settings,
                "wkteam client needs wkteam credentials",
            ));
        };
        let headers = credential_header(settings, "Authorization", authorization.expose_secret())?;
        Ok(WkteamClient {
            inner: Arc::new(Inner {
                http: Http::new(settings, headers)?,
                second_login_type: *second_login_type,
                authorization: authorization.clone(),
                accounts: accounts::Accounts::default(),
            }),
        })
    }

    /// Lists every logged-in account as `(wcId, wId)` (`POST /queryLoginWx`), so the keeper
    /// can rediscover a device's current wId after it rotated elsewhere (a QR login, another
    /// tool's second login).
    pub async fn logged_in(&self) -> Result<Vec<(String, String)>, VendorError> {
        let data = self.call(QUERY_LOGIN_WX, json!({}), None).await?;
        read_logged_in(&data)
    }

    /// The account `wc_id`'s current wId if the provider lists it as logged in, `None` if it
    /// does not: from a listing asked for at most `max_age` ago (zero: a new one), shared by
    /// every device of the provider that needs one at the same time.
    pub async fn find_account(
        &self,
        wc_id: &str,
        max_age: Duration,
    ) -> Result<Option<String>, VendorError> {
        let listing = self
            .inner
            .accounts
            .current(max_age, || self.logged_in())
            .await?;
        Ok(listing.get(wc_id).cloned())
    }

    /// Posts `body` to `endpoint` (as a blocking call when `wait` is given) and returns `data`
    /// of a successful answer; error texts are scrubbed of the Authorization value.
    async fn call(
        &self,
        endpoint: &'static str,
        body: Value,
        wait: Option<Duration>,
    ) -> Result<Value, VendorError> {
        let http = &self.inner.http;
        let secret = self.inner.authorization.expose_secret();
        let request = http.post(endpoint).json(&body);
        let answer = match wait {
            Some(wait) => http.send_blocking(endpoint, request, wait, &[secret]).await,
            None => http.send(endpoint, request, &[secret]).await,
        };
        answer
            .and_then(|answer| read_envelope(endpoint, &answer))
            .map_err(|e| redact(e, &[secret]))
    }
}

impl fmt::Debug for WkteamClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WkteamClient")
            .field("provider", &self.inner.http.provider())
            .field("base_url", &self.inner.http.base_url())
            .field("second_login_type", &self.inner.second_login_type)
            .finish_non_exhaustive()
    }
}

impl Vendor for WkteamClient {
    fn kind(&self) -> VendorKind {
        VendorKind::Wkteam
    }

    async fn probe(&self, device: DeviceRef<'_>) -> Probe {
        let Some(w_id) = device.w_id else {
            return Probe::Unknown(VendorError::Unsupported("wkteam device has no wId"));
        };
        match self.call(IS_ONLINE, json!({ "wId": w_id }), None).await {
            Ok(data) => read_probe(&data),
            Err(error) => Probe::Unknown(error),
        }
    }

    async fn reconnect(&self, _device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        Err(VendorError::Unsupported("wkteam has no reconnect"))
    }

    async fn second_login(
        &self,
        device: DeviceRef<'_>,
        wait: Duration,
    ) -> Result<SecondLogin, VendorError> {
        // The documented success answer is a completed login (the new wId), the same shape as
        // wechatpro's blocking loginAgain: the call may last until the person confirms.
        let mut body = json!({ "wcId": device.id });
        if let (Some(kind), Some(fields)) = (self.inner.second_login_type, body.as_object_mut()) {
            fields.insert("type".into(), json!(kind));
        }
        let data = self
            .call(SECOND_LOGIN, body, Some(wait))
            .await
            .map_err(lapsed_prompt)?;
        read_new_w_id(&data).map(|w_id| SecondLogin {
            new_w_id: Some(w_id),
            login_uuid: None,
        })
    }

    async fn offline_reason(
        &self,
        device: DeviceRef<'_>,
    ) -> Result<Option<OfflineReason>, VendorError> {
        let data = self
            .call(OFFLINE_REASON, json!({ "wcId": device.id }), None)
            .await?;
        read_reason(&data, device.id)
    }

    async fn last_login(&self, _device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        Err(VendorError::Unsupported("wkteam has no last login time"))
    }
}

/// Reads the envelope and checks BOTH levels: `data` of a call that truly succeeded, or the
/// classified failure (the nested one when the outer code says success).
fn read_envelope(endpoint: &str, body: &Value) -> Result<Value, VendorError> {
    let fields = object(body, endpoint)?;
    let Some(code) = fields.get("code").and_then(code_text) else {
        return Err(malformed_shape(&format!("{endpoint}: no code"), body));
    };
    if code != SUCCESS {
        return Err(failure(code, text_field(fields, &["message", "msg"])));
    }
    let data = fields.get("data").cloned().unwrap_or(Value::Null);
    match nested_failure(&data, SUCCESS) {
        Some((code, message)) => Err(failure(code, message)),
        None => Ok(data),
    }
}

/// What a failure code means, by its message.
fn failure(code: String, message: String) -> VendorError {
    if message.contains("频繁") {
        VendorError::RateLimited(message)
    } else if mentions_auth(&message) {
        VendorError::CredentialsRejected(message)
    } else if message.contains("不存在") || message.contains("失效") {
        VendorError::DeviceGone(message)
    } else if message.contains("已在线") || message.contains("已登录") {
        VendorError::AlreadyLoggedIn(message)
    } else {
        VendorError::Refused { code, message }
    }
}

/// isOnline: `data.isOnline` true or false (offline is a SUCCESSFUL call saying false).
fn read_probe(data: &Value) -> Probe {
    match data.get("isOnline") {
        Some(Value::Bool(true)) => Probe::Online { last_login: None },
        Some(Value::Bool(false)) => Probe::Offline {
            message: None,
            last_login: None,
        },
        _ => Probe::Unknown(malformed_shape(
            &format!("{IS_ONLINE}: data.isOnline is not a bool"),
            data,
        )),
    }
}

/// secondLogin: the new `data.wId`, which MUST be there (the old one is dead from now on).
fn read_new_w_id(data: &Value) -> Result<String, VendorError> {
    match data.get("wId").and_then(Value::as_str).map(str::trim) {
        Some(w_id) if !w_id.is_empty() => Ok(w_id.to_owned()),
        _ => Err(malformed_shape(
            &format!("{SECOND_LOGIN}: success without the new wId"),
            data,
        )),
    }
}

/// offlineReason: the entry for `wc_id` in the `data` list; `None` when there is none.
fn read_reason(data: &Value, wc_id: &str) -> Result<Option<OfflineReason>, VendorError> {
    let entries = match data {
        Value::Null => return Ok(None),
        Value::Array(entries) => entries,
        other => {
            let what = format!("{OFFLINE_REASON}: data is not a list");
            return Err(malformed_shape(&what, other));
        }
    };
    let entry = entries
        .iter()
        .filter_map(Value::as_object)
        .find(|e| e.get("wcId").and_then(Value::as_str) == Some(wc_id));
    match entry.and_then(|e| e.get("reason")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(OfflineReason::classify(text))),
        Some(other) => {
            let what = format!("{OFFLINE_REASON}: reason is not a string");
            Err(malformed_shape(&what, other))
        }
    }
}

/// queryLoginWx: `[{"wcId","wId"}]` as pairs; no data means nobody is logged in.
fn read_logged_in(data: &Value) -> Result<Vec<(String, String)>, VendorError> {
    let entries = match data {
        Value::Null => return Ok(Vec::new()),
        Value::Array(entries) => entries,
        other => {
            let what = format!("{QUERY_LOGIN_WX}: data is not a list");
            return Err(malformed_shape(&what, other));
        }
    };
    let pair = |entry: &Map<String, Value>| {
        let wc_id = entry.get("wcId").and_then(Value::as_str)?;
        let w_id = entry.get("wId").and_then(Value::as_str)?;
        Some((wc_id.to_owned(), w_id.to_owned()))
    };
    entries
        .iter()
        .map(|entry| {
            entry.as_object().and_then(pair).ok_or_else(|| {
                let what = format!("{QUERY_LOGIN_WX}: entry without wcId and wId");
                malformed_shape(&what, entry)
            })
        })
        .collect()
}

mod accounts;
#[cfg(test)]
mod tests;
