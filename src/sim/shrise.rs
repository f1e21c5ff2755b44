//! shrise PC platform: SMS login, token refresh and the kick check, envelope
//! `{"code":int,"data","msg"}` with success `code == 0`.
//!
//! The platform holds one access/refresh pair at a time: a login issues a new pair and a
//! refresh a new access token, each invalidating the access token before it, so a client that
//! does not store the rotated token is locked out exactly as it would be in production.

use std::sync::{Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::{get, post};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{self, Call, Named};
use super::scenario::{Credentials, ShriseReject};
use super::state::after;
use super::{App, Shared, reply};
use crate::vendor::VendorKind;

/// The platform's current token pair.
struct Pair {
    access: SecretString,
    access_expires: Timestamp,
    refresh: SecretString,
    refresh_expires: Timestamp,
}

/// The token pair the simulated platform accepts right now.
pub(crate) struct Tokens {
    pair: Mutex<Pair>,
}

/// Whole seconds, as the platform writes expiry times.
fn whole_seconds(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

impl Tokens {
    /// The scenario's pair, valid from `start`.
    pub(crate) fn new(credentials: &Credentials, start: Timestamp) -> Tokens {
        let start = whole_seconds(start);
        Tokens {
            pair: Mutex::new(Pair {
                access: credentials.shrise_access_token.clone(),
                access_expires: after(start, credentials.shrise_access_ttl),
                refresh: credentials.shrise_refresh_token.clone(),
                refresh_expires: after(start, credentials.shrise_refresh_ttl),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pair> {
        self.pair
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn accepts(&self, access: &[u8], now: Timestamp) -> bool {
        let pair = self.lock();
        pair.access.expose_secret().as_bytes() == access && now < pair.access_expires
    }
}

/// The shrise endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    MobileLogin,
    Refresh,
    CheckLoginStatus,
}

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::MobileLogin => "/auth/mobile/login",
            Op::Refresh => "/app/auth/token/refresh",
            Op::CheckLoginStatus => "/wx/pc/check-login-status/{deviceNumber}",
        }
    }
}

/// The shrise routes.
pub(crate) fn routes() -> Router<App> {
    type Answer = fn(&Shared, &[u8], Timestamp) -> Value;
    let body_route = |op: Op, answer: Answer| {
        post(
            move |State(app): State<App>, m: Method, u: Uri, b: Bytes| async move {
                let call = call(op, &m, &u);
                faults::serve(&app, call, Named::Nothing, || async {
                    reply::json(&answer(&app.sim, &b, Timestamp::now()))
                })
                .await
            },
        )
    };
    Router::new()
        .route(
            Op::MobileLogin.endpoint(),
            body_route(Op::MobileLogin, login_answer),
        )
        .route(
            Op::Refresh.endpoint(),
            body_route(Op::Refresh, refresh_answer),
        )
        .route(
            "/wx/pc/check-login-status/{device_number}",
            get(
                |State(app): State<App>,
                 Path(id): Path<String>,
                 m: Method,
                 u: Uri,
                 h: HeaderMap| async move {
                    let call = call(Op::CheckLoginStatus, &m, &u);
                    faults::serve(&app, call, Named::Id(&id), || async {
                        let (status, value) =
                            check_login_status(&app.sim, &h, &id, Timestamp::now());
                        reply::json_status(status, &value)
                    })
                    .await
                },
            ),
        )
}

fn call<'a>(op: Op, method: &'a Method, uri: &'a Uri) -> Call<'a> {
    Call::new(VendorKind::Shrise, method, uri, op.endpoint())
}

fn fail(code: i64, msg: &str) -> Value {
    json!({"code": code, "data": null, "msg": msg})
}

fn success(data: Value) -> Value {
    json!({"code": 0, "data": data, "msg": "success"})
}

/// The documented login request; every field is required (a missing one is `参数错误`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    company_type: i64,
    mobile: String,
    #[serde(rename = "productType")]
    _product_type: i64,
    #[serde(rename = "source")]
    _source: String,
    validate_no: String,
}

/// The documented refresh request; both tokens are required, only the refresh token counts.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshBody {
    #[serde(rename = "accessToken")]
    _access_token: String,
    refresh_token: String,
}

/// `mobile/login` at time `now` (faults already handled).
pub(crate) fn login_answer(sim: &Shared, body: &[u8], now: Timestamp) -> Value {
    match serde_json::from_slice::<LoginBody>(body) {
        Ok(login) => mobile_login(sim, &login, whole_seconds(now)),
        Err(_) => fail(1, "参数错误"),
    }
}

/// `token/refresh` at time `now` (faults already handled).
pub(crate) fn refresh_answer(sim: &Shared, body: &[u8], now: Timestamp) -> Value {
    match serde_json::from_slice::<RefreshBody>(body) {
        Ok(refresh) => refresh_access(sim, &refresh.refresh_token, whole_seconds(now)),
        Err(_) => fail(1, "参数错误"),
    }
}

fn mobile_login(sim: &Shared, login: &LoginBody, now: Timestamp) -> Value {
    let creds = &sim.credentials;
    let mobile = login.mobile.as_str();
    if mobile != creds.shrise_mobile
        || login.validate_no != creds.shrise_validate_no.expose_secret()
    {
        return fail(1, "验证码错误");
    }
    let access = sim.store.ids.token("sim-access-");
    let refresh = sim.store.ids.token("sim-refresh-");
    let access_expires = after(now, creds.shrise_access_ttl);
    let refresh_expires = after(now, creds.shrise_refresh_ttl);
    *sim.shrise.lock() = Pair {
        access: access.as_str().into(),
        access_expires,
        refresh: refresh.as_str().into(),
        refresh_expires,
    };
    success(json!({
        "accessToken": {"value": access, "expire": access_expires.to_string()},
        "refreshToken": {"value": refresh, "expire": refresh_expires.to_string()},
        "userInfo": {
            "avatarUrl": "",
            "companyType": login.company_type,
            "id": 10001,
            "mobile": mobile,
            "nickName": "sim",
            "realName": "sim",
            "userName": mobile,
        },
    }))
}

fn refresh_access(sim: &Shared, refresh: &str, now: Timestamp) -> Value {
    let mut pair = sim.shrise.lock();
    let current = refresh == pair.refresh.expose_secret();
    if !current || now >= pair.refresh_expires {
        return fail(401, "refreshToken已失效");
    }
    let access = sim.store.ids.token("sim-access-");
    pair.access = access.as_str().into();
    pair.access_expires = after(now, sim.credentials.shrise_access_ttl);
    success(json!({"value": access, "expire": pair.access_expires.to_string()}))
}

/// `check-login-status/{deviceNumber}` at time `now`.
pub(crate) fn check_login_status(
    sim: &Shared,
    headers: &HeaderMap,
    id: &str,
    now: Timestamp,
) -> (StatusCode, Value) {
    let creds = &sim.credentials;
    let presented = headers
        .get(creds.shrise_header.as_str())
        .and_then(|v| v.as_bytes().strip_prefix(creds.shrise_prefix.as_bytes()));
    if !presented.is_some_and(|token| sim.shrise.accepts(token, now)) {
        let status = match creds.shrise_reject {
            ShriseReject::Http401 => StatusCode::UNAUTHORIZED,
            ShriseReject::Code => StatusCode::OK,
        };
        return (status, fail(401, "token已过期"));
    }
    let mut shelf = sim.store.lock(VendorKind::Shrise);
    let value = match shelf.get(id, now) {
        None => fail(404, "设备不存在"),
        Some(device) => success(json!({
            "isLogin": device.online,
            "lastLoginTime": whole_seconds(device.last_login).to_string(),
        })),
    };
    (StatusCode::OK, value)
}

#[cfg(test)]
mod tests;
