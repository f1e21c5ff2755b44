//! WKTeam / E云管家: root paths, `POST` + JSON, raw `Authorization`, envelope
//! `{"message","code":"1000"|"1001","data"}` with the code as a string.
//!
//! Kept on purpose: `isOnline` takes the login instance id (wId), which rotates on every login
//! and every confirmed second login (the old one is dead at once: answered as unknown, or as
//! `isOnline:false` with the device's `stale_w_id = "offline"`); offline is `code:"1000"` with
//! `isOnline:false`; `secondLogin` blocks until the person confirms (answering the new wId) or
//! the prompt lapses, and can fail inside a success envelope (`refuse_nested`);
//! `offlineReason` may be called once per 12 h per account; `getIPadLoginInfo` long-polls.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use axum::routing::post;
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{self, Call, Named};
use super::model::{SecondLoginMode, StaleWId};
use super::state::{Device, QrSession, after, until};
use super::store::Shelf;
use super::wait::{self, Waited};
use super::{App, Shared, reply};
use crate::vendor::VendorKind;

/// How often `offlineReason` may answer for one account.
const REASON_EVERY: Duration = Duration::from_secs(12 * 3600);

/// The WKTeam endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    IsOnline,
    QueryLoginWx,
    SecondLogin,
    OfflineReason,
    IPadLogin,
    GetIPadLoginInfo,
}

const OPS: [Op; 6] = [
    Op::IsOnline,
    Op::QueryLoginWx,
    Op::SecondLogin,
    Op::OfflineReason,
    Op::IPadLogin,
    Op::GetIPadLoginInfo,
];

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::IsOnline => "/isOnline",
            Op::QueryLoginWx => "/queryLoginWx",
            Op::SecondLogin => "/secondLogin",
            Op::OfflineReason => "/offlineReason",
            Op::IPadLogin => "/iPadLogin",
            Op::GetIPadLoginInfo => "/getIPadLoginInfo",
        }
    }
}

/// The request body fields any WKTeam endpoint reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Body {
    #[serde(rename = "wId")]
    pub(crate) w_id: Option<String>,
    #[serde(rename = "wcId")]
    pub(crate) wc_id: Option<String>,
}

/// What the rules decided: answer now, or long-poll a QR login.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Answer this now.
    Now(Value),
    /// `getIPadLoginInfo`: wait for the person to log in on this account's QR code.
    LongPoll { wc_id: String, w_id: String },
    /// `secondLogin`: a prompt is showing; answer once the account is back, or at `until`
    /// (the confirm time or the expiry).
    SecondLogin { wc_id: String, until: Timestamp },
}

/// The WKTeam routes.
pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for op in OPS {
        router = router.route(
            op.endpoint(),
            post(
                move |State(app): State<App>, m: Method, u: Uri, h: HeaderMap, b: Bytes| {
                    handle(app, op, m, u, h, b)
                },
            ),
        );
    }
    router
}

async fn handle(
    app: App,
    op: Op,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Option<Body> = serde_json::from_slice(&body).ok();
    let field = |f: fn(&Body) -> Option<&String>| {
        parsed
            .as_ref()
            .and_then(f)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    };
    let named = match op {
        Op::IsOnline | Op::GetIPadLoginInfo => field(|b| b.w_id.as_ref()).map(Named::WId),
        Op::QueryLoginWx => None,
        _ => field(|b| b.wc_id.as_ref()).map(Named::Id),
    };
    let call = Call::new(VendorKind::Wkteam, &method, &uri, op.endpoint());
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    faults::serve(&app, call, named.unwrap_or(Named::Nothing), || async {
        match decide(&app.sim, op, auth, parsed.as_ref(), Timestamp::now()) {
            Decision::Now(value) => reply::json(&value),
            Decision::LongPoll { wc_id, w_id } => {
                let check = || ipad_outcome(&app.sim, &wc_id, &w_id, Timestamp::now());
                match wait::long_poll(&app, app.sim.timing.long_poll, check).await {
                    Waited::Done(value) => reply::json(&value),
                    Waited::TimedOut => reply::json(&fail("等待扫码")),
                    Waited::Cancelled => reply::abort(),
                }
            }
            Decision::SecondLogin { wc_id, until: at } => second_login_wait(&app, &wc_id, at).await,
        }
    })
    .await
}

/// Holds `secondLogin` until the account is back (the prompt confirmed, or a person logged
/// in another way) or until `at`; then the new wId, or the timeout failure.
async fn second_login_wait(app: &App, wc_id: &str, at: Timestamp) -> Response {
    let check = || logged_in_account(&app.sim, wc_id, Timestamp::now());
    match wait::long_poll(app, until(Timestamp::now(), at), check).await {
        Waited::Done(value) => reply::json(&value),
        Waited::TimedOut => {
            let value = logged_in_account(&app.sim, wc_id, Timestamp::now().max(at));
            match value {
                Some(value) => {
                    // The confirmation brought the account back just now: wake other waiters.
                    app.sim.logins.notify_waiters();
                    reply::json(&value)
                }
                None => reply::json(&fail("二次登录超时，请重新扫码登录")),
            }
        }
        Waited::Cancelled => reply::abort(),
    }
}

/// During or after a `secondLogin` wait: the success answer with the (new) wId once the
/// account is logged in; `None` while it is not.
fn logged_in_account(sim: &Shared, wc_id: &str, now: Timestamp) -> Option<Value> {
    let mut shelf = sim.store.lock(VendorKind::Wkteam);
    let device = match shelf.get(wc_id, now) {
        None => return Some(fail("账号不存在")),
        Some(device) if !device.online => return None,
        Some(device) => device,
    };
    let mut data = account(device);
    data["status"] = json!(2);
    data["data"] = json!(sim.store.ids.token(""));
    data["token"] = json!(sim.store.ids.token(""));
    Some(json!({"message": "二次登录成功", "code": "1000", "data": data}))
}

fn fail(message: &str) -> Value {
    json!({"message": message, "code": "1001", "data": null})
}

fn success(message: &str, data: Value) -> Value {
    json!({"message": message, "code": "1000", "data": data})
}

fn text(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|s| !s.is_empty())
}

/// The rules of one WKTeam call at time `now` (faults already handled). `body` is `None`
/// when the body was not JSON.
pub(crate) fn decide(
    sim: &Shared,
    op: Op,
    auth: Option<&[u8]>,
    body: Option<&Body>,
    now: Timestamp,
) -> Decision {
    let expected = sim.credentials.wkteam_authorization.expose_secret();
    if auth != Some(expected.as_bytes()) {
        return Decision::Now(fail("Authorization无效"));
    }
    let Some(body) = body else {
        return Decision::Now(fail("参数错误"));
    };
    let mut shelf = sim.store.lock(VendorKind::Wkteam);
    let value = match op {
        Op::IsOnline | Op::GetIPadLoginInfo => {
            let Some(w_id) = text(body.w_id.as_ref()) else {
                return Decision::Now(fail("参数错误：wId不能为空"));
            };
            return by_w_id(&mut shelf, op, w_id, now);
        }
        Op::QueryLoginWx => {
            let list: Vec<Value> = shelf
                .all(now)
                .filter(|d| d.online)
                .map(|d| json!({"wcId": &*d.id, "wId": d.w_id.as_deref()}))
                .collect();
            success("成功", Value::Array(list))
        }
        Op::SecondLogin | Op::OfflineReason | Op::IPadLogin => {
            let Some(wc_id) = text(body.wc_id.as_ref()) else {
                return Decision::Now(fail("参数错误：wcId不能为空"));
            };
            return by_wc_id(sim, &mut shelf, op, wc_id, now);
        }
    };
    Decision::Now(value)
}

/// `isOnline` and `getIPadLoginInfo`: the wId must be live (current, or handed out by a
/// pending `iPadLogin`); a wId that rotated away is unknown, or offline for `isOnline` when
/// the device's `stale_w_id` says so.
fn by_w_id(shelf: &mut Shelf, op: Op, w_id: &str, now: Timestamp) -> Decision {
    let invalid = || Decision::Now(fail("wId不存在或已失效"));
    let Some(wc_id) = shelf.by_w_id(w_id) else {
        let retired = shelf.by_retired_w_id(w_id);
        let stale =
            retired.and_then(|wc_id| shelf.get(&wc_id, now).map(|d| d.behaviour.stale_w_id));
        return match (op, stale) {
            (Op::IsOnline, Some(StaleWId::Offline)) => {
                Decision::Now(success("成功", json!({"isOnline": false})))
            }
            _ => invalid(),
        };
    };
    let Some(device) = shelf.get(&wc_id, now) else {
        return invalid();
    };
    let current = device.w_id.as_deref() == Some(w_id);
    if op == Op::IsOnline {
        return match current {
            true => Decision::Now(success("成功", json!({"isOnline": device.online}))),
            false => invalid(),
        };
    }
    match &device.qr {
        Some(qr) if qr.completed_at.is_some() && current => {
            Decision::Now(success("成功", account(device)))
        }
        Some(qr) if qr.completed_at.is_none() && qr.w_id.as_deref() == Some(w_id) => {
            Decision::LongPoll {
                wc_id: wc_id.to_string(),
                w_id: w_id.to_owned(),
            }
        }
        None if current => Decision::Now(fail("请先调用iPadLogin获取二维码")),
        _ => invalid(),
    }
}

fn by_wc_id(sim: &Shared, shelf: &mut Shelf, op: Op, wc_id: &str, now: Timestamp) -> Decision {
    match op {
        Op::SecondLogin => second_login(sim, shelf, wc_id, now),
        Op::OfflineReason => Decision::Now(offline_reason(shelf, wc_id, now)),
        _ => Decision::Now(ipad_login(sim, shelf, wc_id, now)),
    }
}

fn offline_reason(shelf: &mut Shelf, wc_id: &str, now: Timestamp) -> Value {
    let Some(device) = shelf.get(wc_id, now) else {
        return fail("账号不存在");
    };
    if device
        .reason_asked_at
        .is_some_and(|at| after(at, REASON_EVERY) > now)
    {
        return fail("调用频繁，12小时内只能调用一次");
    }
    device.reason_asked_at = Some(now);
    let reason = device.behaviour.offline_reason.as_deref();
    success("成功", json!([{"wcId": wc_id, "reason": reason}]))
}

fn ipad_login(sim: &Shared, shelf: &mut Shelf, wc_id: &str, now: Timestamp) -> Value {
    let Some(device) = shelf.get(wc_id, now) else {
        return fail("账号不存在");
    };
    if device.online {
        return fail("微信已在线");
    }
    let w_id = sim.store.ids.uuid();
    let data = json!({"wId": &w_id, "qrCodeUrl": format!("https://sim.invalid/qr/{w_id}.png")});
    let qr = QrSession {
        uuid: w_id.clone().into(),
        w_id: Some(w_id.into()),
        issued_at: now,
        completed_at: None,
    };
    shelf.set_qr(wc_id, qr);
    success("成功", data)
}

/// `secondLogin`: refused at once, or a prompt on the phone whose confirmation rotates the
/// wId; the caller waits for it ([`Decision::SecondLogin`]).
fn second_login(sim: &Shared, shelf: &mut Shelf, wc_id: &str, now: Timestamp) -> Decision {
    let rules = sim.store.rules;
    let Some(device) = shelf.get(wc_id, now) else {
        return Decision::Now(fail("账号不存在"));
    };
    if device.online {
        return Decision::Now(fail("微信已在线"));
    }
    if device.recycled(now, rules) || device.behaviour.second_login == SecondLoginMode::Refuse {
        return Decision::Now(fail("失败"));
    }
    if device.behaviour.second_login == SecondLoginMode::RefuseNested {
        return Decision::Now(success(
            "成功",
            json!({"code": "1001", "message": "二次登录失败，请重新扫码登录"}),
        ));
    }
    let new = Arc::from(sim.store.ids.uuid());
    let prompt = device.show_prompt(now, rules, Some(new));
    Decision::SecondLogin {
        wc_id: wc_id.to_owned(),
        until: prompt.confirm_at.unwrap_or(prompt.expires_at),
    }
}

/// `getIPadLoginInfo` while waiting: the account once the person logged in on this wId's QR
/// code, `None` to keep waiting, or an error if the wId died meanwhile.
fn ipad_outcome(sim: &Shared, wc_id: &str, w_id: &str, now: Timestamp) -> Option<Value> {
    let mut shelf = sim.store.lock(VendorKind::Wkteam);
    let Some(device) = shelf.get(wc_id, now) else {
        return Some(fail("账号不存在"));
    };
    match &device.qr {
        Some(q) if q.completed_at.is_some() && device.w_id.as_deref() == Some(w_id) => {
            Some(success("成功", account(device)))
        }
        Some(q) if q.completed_at.is_none() && q.w_id.as_deref() == Some(w_id) => None,
        _ => Some(fail("wId不存在或已失效")),
    }
}

fn account(device: &Device) -> Value {
    let id = &*device.id;
    json!({
        "wcId": id,
        "wId": device.w_id.as_deref(),
        "wAccount": format!("sim_{id}"),
        "nickName": format!("sim-{id}"),
        "headUrl": "http://wx.qlogo.cn/mmhead/ver_1/sim/0",
        "sex": 0,
        "mobilePhone": "17100000000",
        "status": 3,
    })
}

#[cfg(test)]
mod tests;
