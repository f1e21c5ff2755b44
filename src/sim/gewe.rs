//! GeWe: `POST` + JSON + `X-GEWE-TOKEN`, envelope `{"ret","msg","data"}`, HTTP 200 always.
//!
//! Served under both the cloud prefix `/gewe/v2/api` and the self-hosted `/v2/api`. Quirks kept
//! on purpose: a bad token is echoed back in the error message, `checkOnline` can say `true`
//! while offline (`phantom_online`), and `reconnection` says `无需重连` when it has nothing to do.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::{self, Call, Named};
use super::model::Reconnect;
use super::state::{Device, QrSession, Rules, after, until};
use super::{App, Shared, reply};
use crate::vendor::VendorKind;

/// The two path prefixes GeWe is served under.
pub(crate) const PREFIXES: [&str; 2] = ["/gewe/v2/api", "/v2/api"];
/// How long a login QR code stays valid.
const QR_TTL: Duration = Duration::from_secs(240);
/// A tiny PNG, standing in for the QR image.
const QR_PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";

/// The GeWe endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    CheckOnline,
    Reconnection,
    DialogLogin,
    GetLoginQrCode,
    CheckLogin,
    Logout,
}

const OPS: [Op; 6] = [
    Op::CheckOnline,
    Op::Reconnection,
    Op::DialogLogin,
    Op::GetLoginQrCode,
    Op::CheckLogin,
    Op::Logout,
];

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::CheckOnline => "/login/checkOnline",
            Op::Reconnection => "/login/reconnection",
            Op::DialogLogin => "/login/dialogLogin",
            Op::GetLoginQrCode => "/login/getLoginQrCode",
            Op::CheckLogin => "/login/checkLogin",
            Op::Logout => "/login/logout",
        }
    }
}

/// The request body fields any GeWe endpoint reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Body {
    #[serde(rename = "appId")]
    pub(crate) app_id: Option<String>,
    #[serde(rename = "regionId")]
    pub(crate) region_id: Option<Value>,
    pub(crate) uuid: Option<String>,
}

/// The GeWe routes, under both prefixes.
pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for prefix in PREFIXES {
        for op in OPS {
            let path = format!("{prefix}{}", op.endpoint());
            router = router.route(
                &path,
                post(
                    move |State(app): State<App>,
                          method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          body: Bytes| {
                        handle(app, op, method, uri, headers, body)
                    },
                ),
            );
        }
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
    let app_id = parsed.as_ref().and_then(|b| b.app_id.as_deref());
    let named = app_id
        .filter(|id| !id.is_empty())
        .map_or(Named::Nothing, Named::Id);
    let call = Call::new(VendorKind::Gewe, &method, &uri, op.endpoint());
    let token = headers.get("x-gewe-token").map(|v| v.as_bytes());
    faults::serve(&app, call, named, || async {
        reply::json(&answer(
            &app.sim,
            op,
            token,
            parsed.as_ref(),
            Timestamp::now(),
        ))
    })
    .await
}

fn fail(msg: impl Into<String>) -> Value {
    json!({"ret": 500, "msg": msg.into()})
}

fn success(data: Option<Value>) -> Value {
    match data {
        Some(data) => json!({"ret": 200, "msg": "操作成功", "data": data}),
        None => json!({"ret": 200, "msg": "操作成功"}),
    }
}

/// The answer to one GeWe call (faults already handled), at time `now`.
pub(crate) fn answer(
    sim: &Shared,
    op: Op,
    token: Option<&[u8]>,
    body: Option<&Body>,
    now: Timestamp,
) -> Value {
    let expected = sim.credentials.gewe_token.expose_secret().as_bytes();
    if token != Some(expected) {
        let sent = String::from_utf8_lossy(token.unwrap_or_default());
        return fail(format!("HTTP HEADER: X-GEWE-TOKEN={sent} 不可用或已过期"));
    }
    let Some(body) = body else {
        return fail("参数错误");
    };
    let Some(app_id) = body.app_id.as_deref().filter(|id| !id.is_empty()) else {
        return fail("参数错误");
    };
    let region_given = match &body.region_id {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(_)) => true,
        _ => false,
    };
    if op == Op::DialogLogin && !region_given {
        return fail("regionId不能为空");
    }
    let mut shelf = sim.store.lock(VendorKind::Gewe);
    let Some(device) = shelf.get(app_id, now) else {
        return json!({"ret": 500, "msg": "获取失败",
            "data": {"code": "-1", "msg": format!("[{app_id}]设备不存在")}});
    };
    on_device(sim, op, device, body, now)
}

/// The rules once the call is authorised, well-formed and names a known device.
fn on_device(sim: &Shared, op: Op, device: &mut Device, body: &Body, now: Timestamp) -> Value {
    let rules = sim.store.rules;
    match op {
        Op::CheckOnline => success(Some(json!(
            device.online || device.behaviour.phantom_online
        ))),
        Op::Reconnection => reconnection(device, now, rules),
        Op::DialogLogin => dialog_login(sim, device, now, rules),
        Op::GetLoginQrCode if device.online => fail("微信已登录，请勿重复登录。"),
        Op::GetLoginQrCode => issue_qr(sim, device, now),
        Op::CheckLogin => check_login(device, body.uuid.as_deref(), now),
        Op::Logout => {
            device.online = false;
            device.prompt = None;
            success(None)
        }
    }
}

fn issue_qr(sim: &Shared, device: &mut Device, now: Timestamp) -> Value {
    let uuid: Arc<str> = Arc::from(sim.store.ids.uuid());
    let data = json!({
        "appId": &*device.id,
        "qrData": format!("http://weixin.qq.com/x/{uuid}"),
        "qrImgBase64": QR_PNG,
        "uuid": &*uuid,
    });
    device.qr = Some(QrSession {
        uuid,
        w_id: None,
        issued_at: now,
        completed_at: None,
    });
    success(Some(data))
}

fn reconnection(device: &mut Device, now: Timestamp, rules: Rules) -> Value {
    if device.online || device.behaviour.reconnect == Reconnect::NotNeeded {
        return fail("当前账号状态正常，无需重连");
    }
    if device.behaviour.reconnect == Reconnect::Fail || device.recycled(now, rules) {
        return fail("重连失败，请重新登录");
    }
    device.online = true;
    device.last_login = now;
    device.prompt = None;
    success(None)
}

fn dialog_login(sim: &Shared, device: &mut Device, now: Timestamp, rules: Rules) -> Value {
    if device.online {
        return fail("微信已登录，请勿重复登录。");
    }
    if device.refuses_second_login(now, rules) {
        return fail("二次登录失败，请扫码登录");
    }
    device.show_prompt(now, rules, None);
    // The answer's uuid is followed with checkLogin like a QR login's: same session slot.
    let uuid: Arc<str> = Arc::from(sim.store.ids.uuid());
    device.qr = Some(QrSession {
        uuid: Arc::clone(&uuid),
        w_id: None,
        issued_at: now,
        completed_at: None,
    });
    success(Some(json!({"appId": &*device.id, "uuid": &*uuid})))
}

fn check_login(device: &Device, uuid: Option<&str>, now: Timestamp) -> Value {
    let Some(uuid) = uuid.filter(|u| !u.is_empty()) else {
        return fail("参数错误");
    };
    let Some(qr) = device.qr.as_ref().filter(|q| &*q.uuid == uuid) else {
        return fail("二维码不存在或已过期，请重新获取");
    };
    let expired_time = until(now, after(qr.issued_at, QR_TTL)).as_secs();
    // Done once a person logged in (control API) or the device came online since the session
    // began (a confirmed dialog-login prompt).
    let done = qr.completed_at.is_some() || (device.online && device.last_login >= qr.issued_at);
    if !done {
        return success(Some(json!({
            "uuid": uuid, "headImgUrl": null, "nickName": null,
            "expiredTime": expired_time, "status": 0, "loginInfo": null,
        })));
    }
    let wxid = format!("wxid_{}", device.id);
    let nick = format!("sim-{}", device.id);
    success(Some(json!({
        "uuid": uuid,
        "headImgUrl": "http://wx.qlogo.cn/mmhead/ver_1/sim/0",
        "nickName": &nick,
        "expiredTime": expired_time,
        "status": 2,
        "loginInfo": {"uin": 4_077_276_085_u64, "wxid": wxid, "nickName": nick,
            "mobile": "17100000000", "alias": null},
    })))
}

#[cfg(test)]
mod tests;
