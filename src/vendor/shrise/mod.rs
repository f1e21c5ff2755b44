//! The shrise PC platform client: the kick check (`check-login-status`) with the platform's
//! access/refresh token pair, refreshed once and retried when the platform rejects it.
//!
//! Envelope `{"code": int, "data", "msg"}`, success `code == 0`. How the token is sent is not
//! published: header and prefix come from the settings (default `Authorization: Bearer …`).
//! A rejection is HTTP 401/403, or a non-zero code that is 401/403 or whose message talks
//! about the token; it triggers ONE refresh (shared by every call that saw it) and one retry.
//! PC devices have no reconnect or second login: the keeper only checks and alerts.

mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::watch;

use self::tokens::{Renewed, Tokens};
use super::envelope::{code_text, malformed_shape, mentions_auth, object, redact, text_field};
use super::http::{Http, invalid_settings};
use super::time::parse_vendor_time;
use super::{
    Auth, BuildError, ClientSettings, DeviceRef, OfflineReason, Probe, ReconnectOutcome,
    SecondLogin, TokenPair, Vendor, VendorError, VendorKind,
};

/// The kick check, `GET /wx/pc/check-login-status/{deviceNumber}`.
const CHECK_LOGIN_STATUS: &str = "/wx/pc/check-login-status";
/// Token refresh (no auth header).
const TOKEN_REFRESH: &str = "/app/auth/token/refresh";
/// The success code.
const SUCCESS: &str = "0";
/// Why the ladder rungs are unsupported.
const CHECK_ONLY: &str = "shrise devices are check-and-alert";

/// A shrise provider: cheap to clone, safe to print; owns the live token pair.
#[derive(Clone)]
pub struct ShriseClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    header: HeaderName,
    prefix: String,
    tokens: Tokens,
}

/// What check-login-status says about one device.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LoginStatus {
    is_login: bool,
    last_login: Option<Timestamp>,
}

impl ShriseClient {
    /// Builds the client for one shrise provider, starting from the pair in the settings.
    pub fn new(settings: &ClientSettings) -> Result<Self, BuildError> {
        let Auth::Shrise {
            tokens,
            header,
            prefix,
        } = &settings.auth
        else {
            return Err(invalid_settings(
                settings,
                "shrise client needs shrise credentials",
            ));
        };
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            invalid_settings(settings, format!("{header:?} is not a valid header name"))
        })?;
        if auth_value(prefix, &tokens.access).is_err() {
            return Err(invalid_settings(
                settings,
                "the shrise prefix and access token do not form a valid header value",
            ));
        }
        Ok(ShriseClient {
            inner: Arc::new(Inner {
                http: Http::new(settings, Default::default())?,
                header,
                prefix: prefix.clone(),
                tokens: Tokens::new(tokens.clone()),
            }),
        })
    }

    /// Every token rotation, so the keeper can store the newest pair durably (a restart must
    /// not start from a pair the platform already retired). Holds the current pair at once.
    pub fn token_updates(&self) -> watch::Receiver<TokenPair> {
        self.inner.tokens.subscribe()
    }

    /// Refreshes the access token now (before it expires); the new pair is also published on
    /// [`ShriseClient::token_updates`]. A refusal by the platform is `CredentialsRejected`.
    pub async fn refresh_tokens(&self) -> Result<TokenPair, VendorError> {
        self.inner
            .tokens
            .force(|pair| self.refresh_call(pair))
            .await
    }

    /// The pair the client currently uses.
    pub async fn tokens(&self) -> TokenPair {
        self.inner.tokens.pair().await
    }

    /// check-login-status, refreshing the token once if it is rejected.
    async fn check_login(&self, device_number: &str) -> Result<LoginStatus, VendorError> {
        let (access, ticket) = self.inner.tokens.access().await;
        let data = match self.check_once(device_number, &access).await {
            Err(VendorError::CredentialsRejected(_)) => {
                let renewed = self
                    .inner
                    .tokens
                    .renew(ticket, |pair| self.refresh_call(pair));
                let access = renewed.await?;
                self.check_once(device_number, &access)
                    .await
                    .map_err(|e| match e {
                        VendorError::CredentialsRejected(m) => VendorError::CredentialsRejected(
                            format!("rejected again after a token refresh: {m}"),
                        ),
                        other => other,
                    })?
            }
            other => other?,
        };
        read_status(&data)
    }

    /// One authenticated check-login-status call with `access`.
    async fn check_once(
        &self,
        device_number: &str,
        access: &SecretString,
    ) -> Result<Value, VendorError> {
        let value = auth_value(&self.inner.prefix, access)?;
        let http = &self.inner.http;
        let request = http
            .get_with_segment(CHECK_LOGIN_STATUS, device_number)
            .header(self.inner.header.clone(), value);
        let body = http
            .send(CHECK_LOGIN_STATUS, request, &[access.expose_secret()])
            .await;
        body.and_then(|body| read_envelope(CHECK_LOGIN_STATUS, &body))
            .map_err(|e| redact(e, &[access.expose_secret()]))
    }

    /// One refresh call for `pair`; a platform refusal is `CredentialsRejected`, a transport
    /// failure stays a transport failure (it says nothing about the tokens).
    async fn refresh_call(&self, pair: TokenPair) -> Result<Renewed, VendorError> {
        let (access, refresh) = (pair.access.expose_secret(), pair.refresh.expose_secret());
        let body = json!({ "accessToken": access, "refreshToken": refresh });
        let http = &self.inner.http;
        let answer = http
            .send(
                TOKEN_REFRESH,
                http.post(TOKEN_REFRESH).json(&body),
                &[access, refresh],
            )
            .await;
        let renewed = answer
            .and_then(|body| read_envelope(TOKEN_REFRESH, &body))
            .map_err(refresh_failure)
            .and_then(|data| read_renewed(&data, &self.inner.prefix));
        renewed.map_err(|e| redact(e, &[access, refresh]))
    }
}

impl fmt::Debug for ShriseClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShriseClient")
            .field("provider", &self.inner.http.provider())
            .field("base_url", &self.inner.http.base_url())
            .field("header", &self.inner.header)
            .finish_non_exhaustive()
    }
}

impl Vendor for ShriseClient {
    fn kind(&self) -> VendorKind {
        VendorKind::Shrise
    }

    async fn probe(&self, device: DeviceRef<'_>) -> Probe {
        match self.check_login(device.id).await {
            Ok(LoginStatus {
                is_login: true,
                last_login,
            }) => Probe::Online { last_login },
            Ok(LoginStatus {
                is_login: false,
                last_login,
            }) => Probe::Offline {
                message: None,
                last_login,
            },
            Err(error) => Probe::Unknown(error),
        }
    }

    async fn reconnect(&self, _device: DeviceRef<'_>) -> Result<ReconnectOutcome, VendorError> {
        Err(VendorError::Unsupported(CHECK_ONLY))
    }

    async fn second_login(
        &self,
        _device: DeviceRef<'_>,
        _wait: Duration,
    ) -> Result<SecondLogin, VendorError> {
        Err(VendorError::Unsupported(CHECK_ONLY))
    }

    async fn offline_reason(
        &self,
        _device: DeviceRef<'_>,
    ) -> Result<Option<OfflineReason>, VendorError> {
        Err(VendorError::Unsupported(CHECK_ONLY))
    }

    async fn last_login(&self, device: DeviceRef<'_>) -> Result<Option<Timestamp>, VendorError> {
        self.check_login(device.id).await.map(|s| s.last_login)
    }
}

/// `<prefix><access>` as a sensitive header value.
fn auth_value(prefix: &str, access: &SecretString) -> Result<HeaderValue, VendorError> {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", access.expose_secret()))
        .map_err(|_| VendorError::Malformed("access token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Reads `{"code","data","msg"}`: `data` on code 0, else the classified failure.
fn read_envelope(endpoint: &str, body: &Value) -> Result<Value, VendorError> {
    let fields = object(body, endpoint)?;
    let Some(code) = fields.get("code").and_then(code_text) else {
        return Err(malformed_shape(&format!("{endpoint}: no code"), body));
    };
    if code == SUCCESS {
        return Ok(fields.get("data").cloned().unwrap_or(Value::Null));
    }
    Err(failure(code, text_field(fields, &["msg", "message"])))
}

/// What a non-zero code means. 401/403 or token words are a rejected token (the caller
/// refreshes once); an unknown device is `DeviceGone`.
fn failure(code: String, msg: String) -> VendorError {
    let token_words = ["过期", "失效", "未登录"];
    if code == "401"
        || code == "403"
        || mentions_auth(&msg)
        || token_words.iter().any(|w| msg.contains(w))
    {
        VendorError::CredentialsRejected(format!("code {code}: {msg}"))
    } else if msg.contains("不存在") || code == "404" {
        VendorError::DeviceGone(msg)
    } else if msg.contains("频繁") {
        VendorError::RateLimited(msg)
    } else {
        VendorError::Refused { code, message: msg }
    }
}

/// What a failed refresh call means. A refusal by the platform means the pair is no good;
/// "slow down" and transport failures say nothing about it; a malformed answer is never
/// quoted (it may hold a new token).
fn refresh_failure(error: VendorError) -> VendorError {
    match error {
        VendorError::CredentialsRejected(m)
        | VendorError::Refused { message: m, .. }
        | VendorError::DeviceGone(m) => {
            VendorError::CredentialsRejected(format!("token refresh rejected: {m}"))
        }
        VendorError::Malformed(_) => VendorError::Malformed(format!(
            "{TOKEN_REFRESH}: answer is not the documented envelope"
        )),
        other => other,
    }
}

/// check-login-status `data{isLogin, lastLoginTime}`; an unreadable time is dropped (the
/// login state is what matters).
fn read_status(data: &Value) -> Result<LoginStatus, VendorError> {
    let Some(is_login) = data.get("isLogin").and_then(Value::as_bool) else {
        let what = format!("{CHECK_LOGIN_STATUS}: data.isLogin is not a bool");
        return Err(malformed_shape(&what, data));
    };
    let last_login = data.get("lastLoginTime").and_then(parse_vendor_time);
    Ok(LoginStatus {
        is_login,
        last_login,
    })
}

/// The refresh answer: `data{value, expire}` (documented) or the login shape
/// `data{accessToken{value,expire}, refreshToken{value,expire}}`; a refresh token is taken
/// when present. The new access token must be sendable with `prefix`.
fn read_renewed(data: &Value, prefix: &str) -> Result<Renewed, VendorError> {
    let token = |node: &Value| {
        let value = node.get("value").and_then(Value::as_str).map(str::trim)?;
        let expires = node.get("expire").and_then(parse_vendor_time);
        (!value.is_empty()).then(|| (SecretString::from(value.to_owned()), expires))
    };
    let access_node = data.get("accessToken").unwrap_or(data);
    let Some((access, access_expires)) = token(access_node) else {
        return Err(VendorError::Malformed(format!(
            "{TOKEN_REFRESH}: answer without a new access token"
        )));
    };
    auth_value(prefix, &access)?;
    Ok(Renewed {
        access,
        access_expires,
        refresh: data.get("refreshToken").and_then(token),
    })
}

#[cfg(test)]
mod tests;
