//! The shrise token refresh exchange: `POST /app/auth/token/refresh {accessToken,
//! refreshToken}` (JSON, no auth header), how its refusals are classified, and how a new token
//! is read from the answer.
//!
//! Classification: HTTP 401/403, code 401/403, or a message about the token (token, 令牌, 失效,
//! 过期, 认证, 授权) means the platform refused the pair → `CredentialsRejected`; any other
//! refusal (`500 系统繁忙`) is `Refused` and says nothing about the tokens.
//!
//! Reading: the documented answer is `data{value, expire}`, but a rotated token must never be
//! lost to a shape we did not expect, so the reader is liberal in where the new access token
//! sits (`data{value}`, `data{accessToken{value,expire}}`, flat `data{accessToken: "…"}`,
//! `data{token}`, or `data` itself a string) and strict that a non-empty one is there.

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::tokens::Renewed;
use super::{ShriseClient, TOKEN_REFRESH, auth_value, read_envelope};
use crate::vendor::envelope::{mentions_auth, redact};
use crate::vendor::time::parse_vendor_time;
use crate::vendor::{TokenPair, VendorError};

/// Where a new access token may sit in `data`, in order.
const ACCESS_KEYS: [&str; 3] = ["accessToken", "access_token", "token"];
/// Where a new refresh token may sit in `data`.
const REFRESH_KEYS: [&str; 2] = ["refreshToken", "refresh_token"];
/// Where a flat (string) access token's expiry may sit in `data`.
const ACCESS_EXPIRY_KEYS: [&str; 4] = ["accessTokenExpire", "accessExpire", "expire", "expireTime"];
/// Where a flat (string) refresh token's expiry may sit in `data`.
const REFRESH_EXPIRY_KEYS: [&str; 2] = ["refreshTokenExpire", "refreshExpire"];
/// Where a token object's value and expiry sit.
const VALUE_KEYS: [&str; 2] = ["value", "token"];
const EXPIRY_KEYS: [&str; 3] = ["expire", "expireTime", "expiresAt"];

impl ShriseClient {
    /// One refresh call for `pair`; a platform refusal of the pair is `CredentialsRejected`,
    /// anything else keeps its own class. Every text is scrubbed of both tokens.
    pub(super) async fn refresh_call(&self, pair: TokenPair) -> Result<Renewed, VendorError> {
        let (access, refresh) = (pair.access.expose_secret(), pair.refresh.expose_secret());
        let body = json!({ "accessToken": access, "refreshToken": refresh });
        let http = &self.inner.http;
        let request = http.post(TOKEN_REFRESH).json(&body);
        let answer = http.send(TOKEN_REFRESH, request, &[access, refresh]).await;
        let renewed = answer
            .and_then(|body| read_envelope(TOKEN_REFRESH, &body, refusal))
            .map_err(refresh_failure)
            .and_then(|data| read_renewed(&data, &self.inner.prefix));
        renewed.map_err(|e| redact(e, &[access, refresh]))
    }
}

/// A non-zero code from the refresh endpoint: the pair refused, or some other refusal.
pub(super) fn refusal(code: String, msg: String) -> VendorError {
    let token_words = ["令牌", "失效", "过期"];
    if code == "401"
        || code == "403"
        || mentions_auth(&msg)
        || token_words.iter().any(|w| msg.contains(w))
    {
        VendorError::CredentialsRejected(format!("code {code}: {msg}"))
    } else {
        VendorError::Refused {
            code,
            message: format!("token refresh: {msg}"),
        }
    }
}

/// Names a refusal of the pair as a refresh refusal (an HTTP 401/403 arrives here as
/// `CredentialsRejected` too); a malformed answer is never quoted, since it may hold a new
/// token; everything else keeps its class.
pub(super) fn refresh_failure(error: VendorError) -> VendorError {
    match error {
        VendorError::CredentialsRejected(m) => {
            VendorError::CredentialsRejected(format!("token refresh rejected: {m}"))
        }
        VendorError::Malformed(_) => VendorError::Malformed(format!(
            "{TOKEN_REFRESH}: answer is not the documented envelope"
        )),
        other => other,
    }
}

/// The refreshed tokens in `data`; the new access token must be there and sendable with
/// `prefix`, a new refresh token is taken when present.
pub(super) fn read_renewed(data: &Value, prefix: &str) -> Result<Renewed, VendorError> {
    let Some((access, access_expires)) = access_token(data) else {
        return Err(VendorError::Malformed(format!(
            "{TOKEN_REFRESH}: answer without a new access token"
        )));
    };
    auth_value(prefix, &access)?;
    let refresh = REFRESH_KEYS
        .iter()
        .filter_map(|k| data.get(*k))
        .find_map(|node| token_in(node, data, &REFRESH_EXPIRY_KEYS));
    Ok(Renewed {
        access,
        access_expires,
        refresh,
    })
}

/// The new access token: under one of [`ACCESS_KEYS`], else `data` itself (`{value,expire}`
/// as documented, or a bare string).
fn access_token(data: &Value) -> Option<(SecretString, Option<Timestamp>)> {
    ACCESS_KEYS
        .iter()
        .filter_map(|k| data.get(*k))
        .find_map(|node| token_in(node, data, &ACCESS_EXPIRY_KEYS))
        .or_else(|| token_in(data, data, &[]))
}

/// A token in `node`: a non-empty string (its expiry then under `flat_expiry` in `outer`), or
/// an object holding one under [`VALUE_KEYS`] with its expiry under [`EXPIRY_KEYS`].
fn token_in(
    node: &Value,
    outer: &Value,
    flat_expiry: &[&str],
) -> Option<(SecretString, Option<Timestamp>)> {
    let non_empty = |v: &Value| {
        let text = v.as_str()?.trim();
        (!text.is_empty()).then(|| SecretString::from(text.to_owned()))
    };
    let expiry = |holder: &Value, keys: &[&str]| {
        keys.iter()
            .filter_map(|k| holder.get(*k))
            .find_map(parse_vendor_time)
    };
    match node {
        Value::String(_) => non_empty(node).map(|t| (t, expiry(outer, flat_expiry))),
        Value::Object(fields) => {
            let token = VALUE_KEYS
                .iter()
                .filter_map(|k| fields.get(*k))
                .find_map(non_empty)?;
            Some((token, expiry(node, &EXPIRY_KEYS)))
        }
        _ => None,
    }
}
