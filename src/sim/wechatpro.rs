//! wechatpro open gateway: `/open/...`, raw `Authorization`, form-encoded bodies, envelope
//! `{"message","code":"1000"|"1001","data"}` with the code as a string.
//!
//! Kept on purpose: calls to the same endpoint for the same device less than 1 s apart are
//! refused unexecuted; `loginAgain` blocks until the person confirms or the window lapses;
//! `checkLogin` long-polls. The rules are the synchronous [`decide`], which unit tests drive
//! with their own clock; [`answer`] adds the waiting it calls for.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::tz::{self, TimeZone};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::faults::{self, Call, Named};
use super::form::Form;
use super::state::{Device, QrSession, after, until};
use super::wait::{self, Waited};
use super::{App, Shared, reply};
use crate::vendor::VendorKind;

/// The wechatpro endpoints the simulator serves: those about one device, and the one about
/// the whole fleet. Kept apart so the per-device rules (which run with the device's shelf
/// locked) cannot be handed a fleet call (which locks the shelf itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// An endpoint that names one device by `deviceId`.
    Device(DeviceOp),
    /// `GET /open/queryLoginDevice`: every online device.
    QueryLoginDevice,
}

/// The wechatpro endpoints that name one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceOp {
    IsOnline,
    LoginAgain,
    OfflineReason,
    Workstation,
    ResetDevice,
    GetLoginQrCode,
    CheckLogin,
}

impl From<DeviceOp> for Op {
    fn from(op: DeviceOp) -> Op {
        Op::Device(op)
    }
}

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::Device(DeviceOp::IsOnline) => "/open/isOnline",
            Op::Device(DeviceOp::LoginAgain) => "/open/loginAgain",
            Op::Device(DeviceOp::OfflineReason) => "/open/offlineReason",
            Op::Device(DeviceOp::Workstation) => "/open/workstation/{deviceId}",
            Op::Device(DeviceOp::ResetDevice) => "/open/workstation/resetDevice",
            Op::Device(DeviceOp::GetLoginQrCode) => "/open/getLoginQrCode",
            Op::Device(DeviceOp::CheckLogin) => "/open/checkLogin",
            Op::QueryLoginDevice => "/open/queryLoginDevice",
        }
    }
}

impl DeviceOp {
    /// The slot of the endpoint's 1 s spacing clock (every device endpoint has one).
    fn spacing_slot(self) -> usize {
        match self {
            DeviceOp::IsOnline => 0,
            DeviceOp::LoginAgain => 1,
            DeviceOp::OfflineReason => 2,
            DeviceOp::Workstation => 3,
            DeviceOp::ResetDevice => 4,
            DeviceOp::GetLoginQrCode => 5,
            DeviceOp::CheckLogin => 6,
        }
    }
}

/// What the rules decided: answer now, or wait first.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Answer this now.
    Now(Value),
    /// `loginAgain`: a prompt is showing; look again at `until` (confirm time or expiry).
    LoginAgain { id: String, until: Timestamp },
    /// `checkLogin`: long-poll the device's QR login.
    LongPoll { id: String },
}

/// The wechatpro routes.
pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for op in [
        DeviceOp::IsOnline,
        DeviceOp::LoginAgain,
        DeviceOp::OfflineReason,
        DeviceOp::ResetDevice,
        DeviceOp::GetLoginQrCode,
        DeviceOp::CheckLogin,
    ] {
        let op = Op::Device(op);
        router = router.route(
            op.endpoint(),
            post(
                move |State(app): State<App>, m: Method, u: Uri, h: HeaderMap, b: Bytes| {
                    let form = Form::parse(&h, &b);
                    handle(app, op, m, u, h, form)
                },
            ),
        );
    }
    router
        .route(
            "/open/workstation/{device_id}",
            get(
                |State(app): State<App>,
                 Path(id): Path<String>,
                 m: Method,
                 u: Uri,
                 h: HeaderMap| {
                    let op = Op::Device(DeviceOp::Workstation);
                    handle(app, op, m, u, h, Some(Form::with_device(id)))
                },
            ),
        )
        .route(
            "/open/queryLoginDevice",
            get(|State(app): State<App>, m: Method, u: Uri, h: HeaderMap| {
                handle(app, Op::QueryLoginDevice, m, u, h, Some(Form::default()))
            }),
        )
}

async fn handle(
    app: App,
    op: Op,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    form: Option<Form>,
) -> Response {
    let device_id = form.as_ref().and_then(|f| f.get("deviceId"));
    let named = device_id.map_or(Named::Nothing, Named::Id);
    let call = Call::new(VendorKind::Wechatpro, &method, &uri, op.endpoint());
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    faults::serve(&app, call, named, || answer(&app, op, auth, form.as_ref())).await
}

/// Runs the rules, then whatever waiting they call for.
async fn answer(app: &App, op: Op, auth: Option<&[u8]>, form: Option<&Form>) -> Response {
    match decide(&app.sim, op, auth, form, Timestamp::now()) {
        Decision::Now(value) => reply::json(&value),
        Decision::LoginAgain { id, until: at } => {
            // Like the real gateway, answer as soon as the account is back, however it came
            // back (the prompt confirmed, or a person logged in another way meanwhile).
            let check = || online_account(&app.sim, &id, Timestamp::now());
            let limit = until(Timestamp::now(), at);
            match wait::long_poll(app, limit, check).await {
                Waited::Done(value) => reply::json(&value),
                Waited::TimedOut => {
                    let value = login_again_outcome(&app.sim, &id, Timestamp::now().max(at));
                    if value["code"] == "1000" {
                        // The prompt's confirmation brought the device online just now: wake
                        // whoever else waits on it.
                        app.sim.logins.notify_waiters();
                    }
                    reply::json(&value)
                }
                Waited::Cancelled => reply::abort(),
            }
        }
        Decision::LongPoll { id } => {
            let check = || qr_outcome(&app.sim, &id, Timestamp::now());
            match wait::long_poll(app, app.sim.timing.long_poll, check).await {
                Waited::Done(value) => reply::json(&value),
                Waited::TimedOut => reply::json(&fail("等待扫码")),
                Waited::Cancelled => reply::abort(),
            }
        }
    }
}

fn fail(message: &str) -> Value {
    json!({"message": message, "code": "1001", "data": null})
}

fn success(message: &str, data: Value) -> Value {
    json!({"message": message, "code": "1000", "data": data})
}

/// The rules of one wechatpro call at time `now` (faults already handled). `form` is `None`
/// when the body was not form-encoded.
pub(crate) fn decide(
    sim: &Shared,
    op: impl Into<Op>,
    auth: Option<&[u8]>,
    form: Option<&Form>,
    now: Timestamp,
) -> Decision {
    let expected = sim.credentials.wechatpro_authorization.expose_secret();
    if auth != Some(expected.as_bytes()) {
        return Decision::Now(fail("Authorization 认证失败"));
    }
    let op = match op.into() {
        Op::QueryLoginDevice => return Decision::Now(query_login_device(sim, now)),
        Op::Device(op) => op,
    };
    let Some(id) = form.and_then(|f| f.get("deviceId")) else {
        return Decision::Now(fail("参数错误：deviceId不能为空"));
    };
    let mut shelf = sim.store.lock(VendorKind::Wechatpro);
    let Some(device) = shelf.get(id, now) else {
        return Decision::Now(fail("设备不存在"));
    };
    if !device.spaced(op.spacing_slot(), now) {
        return Decision::Now(fail("请求过于频繁，请稍后再试"));
    }
    on_device(sim, op, device, now)
}

/// The rules once the call is authorised, well-formed, spaced and names a known device (whose
/// shelf the caller holds locked).
fn on_device(sim: &Shared, op: DeviceOp, device: &mut Device, now: Timestamp) -> Decision {
    let rules = sim.store.rules;
    let value = match op {
        DeviceOp::IsOnline if device.online => {
            json!({"message": "在线", "code": "1000", "data": null})
        }
        DeviceOp::IsOnline => fail("已离线"),
        DeviceOp::LoginAgain if device.online => fail("微信已在线"),
        DeviceOp::LoginAgain if device.refuses_second_login(now, rules) => {
            fail("二次登录失败，请使用扫码登录")
        }
        DeviceOp::LoginAgain => {
            let prompt = device.show_prompt(now, rules, None);
            let until = prompt.confirm_at.unwrap_or(prompt.expires_at);
            let id = device.id.to_string();
            return Decision::LoginAgain { id, until };
        }
        DeviceOp::OfflineReason => {
            success("成功", json!({"reason": device.behaviour.offline_reason}))
        }
        DeviceOp::Workstation => success("成功", workstation(sim, device)),
        DeviceOp::ResetDevice => {
            device.online = false;
            device.reset_at = Some(now);
            device.prompt = None;
            device.qr = None;
            success("成功", Value::Null)
        }
        DeviceOp::GetLoginQrCode if device.online => fail("微信已在线"),
        DeviceOp::GetLoginQrCode => issue_qr(sim, device, now),
        DeviceOp::CheckLogin if device.qr.is_none() => fail("请先获取登录二维码"),
        DeviceOp::CheckLogin => {
            return Decision::LongPoll {
                id: device.id.to_string(),
            };
        }
    };
    Decision::Now(value)
}

fn issue_qr(sim: &Shared, device: &mut Device, now: Timestamp) -> Value {
    let uuid = sim.store.ids.uuid();
    let data = json!({
        "qrCodeUrl": format!("https://sim.invalid/qr/{uuid}.png"),
        "qrData": format!("http://weixin.qq.com/x/{uuid}"),
    });
    device.qr = Some(QrSession {
        uuid: uuid.into(),
        w_id: None,
        issued_at: now,
        completed_at: None,
    });
    success("成功", data)
}

/// During a `loginAgain` wait: the success answer once the device is online (`None` while it
/// is not).
fn online_account(sim: &Shared, id: &str, now: Timestamp) -> Option<Value> {
    let mut shelf = sim.store.lock(VendorKind::Wechatpro);
    match shelf.get(id, now) {
        None => Some(fail("设备不存在")),
        Some(device) if device.online => Some(success("成功", account(sim, device))),
        Some(_) => None,
    }
}

/// After a `loginAgain` wait: success if the device is online by now, else the timeout.
pub(crate) fn login_again_outcome(sim: &Shared, id: &str, now: Timestamp) -> Value {
    let mut shelf = sim.store.lock(VendorKind::Wechatpro);
    match shelf.get(id, now) {
        None => fail("设备不存在"),
        Some(device) if device.online => success("成功", account(sim, device)),
        Some(_) => fail("二次登录超时，请重新扫码登录"),
    }
}

/// `checkLogin`: the account data once a person has logged in on the QR code.
fn qr_outcome(sim: &Shared, id: &str, now: Timestamp) -> Option<Value> {
    let mut shelf = sim.store.lock(VendorKind::Wechatpro);
    let Some(device) = shelf.get(id, now) else {
        return Some(fail("设备不存在"));
    };
    let done = device.qr.as_ref().is_some_and(|q| q.completed_at.is_some());
    done.then(|| success("成功", account(sim, device)))
}

fn query_login_device(sim: &Shared, now: Timestamp) -> Value {
    let mut ids: Vec<String> = {
        let mut shelf = sim.store.lock(VendorKind::Wechatpro);
        shelf
            .all(now)
            .filter(|d| d.online)
            .map(|d| d.id.to_string())
            .collect()
    };
    ids.sort_unstable();
    let total = ids.len();
    success("成功", json!({"deviceIds": ids, "total": total}))
}

/// `yyyy-MM-dd HH:mm:ss` in China time (UTC+8), as wechatpro writes times.
pub(crate) fn china_time(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::fixed(tz::offset(8)))
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn workstation(sim: &Shared, device: &Device) -> Value {
    let expire = after(sim.created, std::time::Duration::from_secs(365 * 86_400));
    json!({
        "deviceId": &*device.id,
        "wechatStatus": u8::from(device.online),
        "deviceStatus": 1,
        "expireTime": china_time(expire),
        "lastLoginTime": china_time(device.last_login),
    })
}

fn account(sim: &Shared, device: &Device) -> Value {
    let id = &*device.id;
    json!({
        "wcId": format!("wxid_{id}"),
        "wId": sim.store.ids.uuid(),
        "wAccount": format!("sim_{id}"),
        "country": "CN",
        "city": "Shanghai",
        "signature": "",
        "nickName": format!("sim-{id}"),
        "sex": 0,
        "headUrl": "http://wx.qlogo.cn/mmhead/ver_1/sim/0",
        "smallHeadImgUrl": "http://wx.qlogo.cn/mmhead/ver_1/sim/132",
        "status": 3,
    })
}

#[cfg(test)]
mod tests;
