//! The shrise PC platform client: the kick check (`check-login-status`) with the platform's
//! access/refresh token pair, refreshed once and retried when the platform rejects it.
//!
//! Envelope `{"code": int, "data", "msg"}`, success `code == 0`. How the token is sent is not
//! published: header and prefix come from the settings (default `Authorization: Bearer …`).
//! A rejection is HTTP 401/403, or a non-zero code that is 401/403 or whose message talks
//! about the token (token, 令牌, 认证, 授权; NOT 未登录/过期/失效, which on check-login-status
//! describe the device); it triggers ONE refresh (shared by every call that saw it, backed off
//! after a failure) and one retry. PC devices have no reconnect or second login: the keeper
//! only checks and alerts.

mod backoff;
mod refresh;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::watch;

use self::tokens::{Ticket, Tokens};
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

    /// Every token change, so the keeper can store the newest pair durably (a restart must
    /// not start from a pair the platform already retired). Holds the current pair at once.
    pub fn token_updates(&self) -> watch::Receiver<TokenPair> {
        self.inner.tokens.subscribe()
    }

    /// Refreshes the access token now (before it expires); the new pair is also published on
    /// [`ShriseClient::token_updates`]. A refusal by the platform is `CredentialsRejected`;
    /// while a failed refresh is backing off, its failure is returned without a call.
    pub async fn refresh_tokens(&self) -> Result<TokenPair, VendorError> {
        self.renew(None).await
    }

    /// The pair the client currently uses.
    pub async fn tokens(&self) -> TokenPair {
        self.inner.tokens.pair()
    }

    /// Puts a new pair in place (e.g. after an operator's SMS login), so a refresh token the
    /// platform refused no longer holds the client back. Published on
    /// [`ShriseClient::token_updates`] like any rotation.
    pub fn replace_tokens(&self, pair: TokenPair) {
        self.inner.tokens.replace(pair);
    }

    /// The pair to retry with after the one read with `ticket` was rejected (or, without a
    /// ticket, a proactive refresh). The refresh call runs in its own task.
    async fn renew(&self, ticket: Option<Ticket>) -> Result<TokenPair, VendorError> {
        let client = self.clone();
        let refresh = move |pair| async move { client.refresh_call(pair).await };
        match ticket {
            Some(ticket) => self.inner.tokens.renew(ticket, refresh).await,
            None => self.inner.tokens.force(refresh).await,
        }
    }

    /// check-login-status, refreshing the token once if it is rejected.
    async fn check_login(&self, device_number: &str) -> Result<LoginStatus, VendorError> {
        let (access, ticket) = self.inner.tokens.access();
        let data = match self.check_once(device_number, &access).await {
            Err(VendorError::CredentialsRejected(_)) => {
                let pair = self.renew(Some(ticket)).await?;
                self.check_once(device_number, &pair.access)
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
        body.and_then(|body| read_envelope(CHECK_LOGIN_STATUS, &body, status_failure))
            .map_err(|e| redact(e, &[access.expose_secret()]))
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

/// Reads `{"code","data","msg"}`: `data` on code 0, else the failure as `classify` reads the
/// code and message (each endpoint has its own words for a rejected token).
fn read_envelope(
    endpoint: &str,
    body: &Value,
    classify: fn(String, String) -> VendorError,
) -> Result<Value, VendorError> {
    let fields = object(body, endpoint)?;
    let Some(code) = fields.get("code").and_then(code_text) else {
        return Err(malformed_shape(&format!("{endpoint}: no code"), body));
    };
    if code == SUCCESS {
        return Ok(fields.get("data").cloned().unwrap_or(Value::Null));
    }
    Err(classify(code, text_field(fields, &["msg", "message"])))
}

/// What a non-zero code from check-login-status means. 401/403 or a message about the token
/// (token, 令牌, 认证, 授权) is a rejected token (the caller refreshes once); 未登录, 过期 and
/// 失效 are NOT: there they describe the device. An unknown device is `DeviceGone`.
fn status_failure(code: String, msg: String) -> VendorError {
    if code == "401" || code == "403" || mentions_auth(&msg) || msg.contains("令牌") {
        VendorError::CredentialsRejected(format!("code {code}: {msg}"))
    } else if msg.contains("不存在") || code == "404" {
        VendorError::DeviceGone(msg)
    } else if msg.contains("频繁") {
        VendorError::RateLimited(msg)
    } else {
        VendorError::Refused { code, message: msg }
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

#[cfg(test)]
mod tests;
