//! Vendors that echo our credentials back: no error (Display or Debug) and no probe answer
//! may show any 8-character piece of a secret, whether the echo sits in a JSON message, in a
//! body that is not JSON at all (cut into an excerpt right across the secret), in its
//! JSON-escaped form, or in a successful answer's session data.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{json_answer, settings};
use crate::vendor::gewe::GeweClient;
use crate::vendor::shrise::ShriseClient;
use crate::vendor::wechatpro::WechatproClient;
use crate::vendor::wkteam::WkteamClient;
use crate::vendor::{Auth, DeviceRef, Probe, TokenPair, Vendor, VendorError};

/// Credentials holding `"` and `\`, so their JSON-escaped form differs from the raw one.
const GEWE_TOKEN: &str = r#"gw"Tq7\Xw4Kp9Vt3Lm8Rn2Ys"#;
const WECHATPRO_AUTH: &str = r#"wp"Hd5\Jc8Fb1Gz6Nq4Wx7Pe"#;
const WKTEAM_AUTH: &str = r#"wk"Mu2\Ra9Sy3Tb6Vc1Xd4Zf"#;
const SHRISE_ACCESS: &str = r#"sa"Bk3\Cl6Dm9Fn2Gp5Hq8Jr"#;
const SHRISE_REFRESH: &str = r#"sr"Ks4\Lt7Mv1Nw5Px8Qy2Rz"#;
/// The session blob of a WKTeam secondLogin success.
const SESSION_BLOB: &str = "Zs8Ab3Cd6Ef9Gh2Ij5Kl8Mn1Op4Qr7";

/// `secret` as it reads inside a quoted JSON string.
fn escaped(secret: &str) -> String {
    let quoted = Value::String(secret.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Panics when `shown` contains any 8-character piece of `secret`, raw or JSON-escaped.
fn assert_hides(shown: &str, secret: &str) {
    for form in [secret.to_owned(), escaped(secret)] {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(8) {
            let piece: String = window.iter().collect();
            assert!(
                !shown.contains(&piece),
                "{piece:?} of a secret shows in: {shown}"
            );
        }
    }
}

/// Both renderings of `error`, for [`assert_hides`].
fn shown(error: &VendorError) -> String {
    format!("{error} | {error:?}")
}

/// A body that is not JSON: a vendor message echoing `secret` JSON-escaped, placed so the
/// 120-character excerpt is cut right through it.
fn cut_through(secret: &str) -> ResponseTemplate {
    let head = r#"{"code":"1001","message":"token "#;
    // 99 characters before the secret: the excerpt keeps 119, so 20 of the secret's.
    let pad = "x".repeat(99 - head.len());
    let body = format!("{head}{pad}{} 认证失败", escaped(secret));
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

/// Mounts `answer` for every request to `at`.
async fn answer_at(server: &MockServer, at: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

fn built<T>(client: Result<T, crate::vendor::BuildError>) -> T {
    match client {
        Ok(client) => client,
        Err(e) => panic!("cannot build client: {e}"),
    }
}

fn unknown(probe: Probe) -> VendorError {
    match probe {
        Probe::Unknown(error) => error,
        other => panic!("expected unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn gewe_echoes_are_scrubbed() {
    let server = MockServer::start().await;
    let auth = Auth::Gewe {
        token: GEWE_TOKEN.into(),
    };
    let client = built(GeweClient::new(&settings(&server, "", auth)));
    let msg = format!("odd {GEWE_TOKEN}");
    let inner = json!({"code": "-1", "msg": format!("x {GEWE_TOKEN}")});
    answer_at(
        &server,
        "/login/checkOnline",
        json_answer(json!({"ret": 500, "msg": msg, "data": inner})),
    )
    .await;
    answer_at(&server, "/login/reconnection", cut_through(GEWE_TOKEN)).await;
    let error = unknown(client.probe(DeviceRef::new("wx_1")).await);
    assert!(matches!(error, VendorError::Refused { .. }), "{error:?}");
    assert_hides(&shown(&error), GEWE_TOKEN);
    let error = client.reconnect(DeviceRef::new("wx_1")).await.err();
    let Some(error @ VendorError::Malformed(_)) = error else {
        panic!("expected malformed, got {error:?}");
    };
    assert_hides(&shown(&error), GEWE_TOKEN);
}

#[tokio::test]
async fn wechatpro_echoes_are_scrubbed_even_from_offline_messages() {
    let server = MockServer::start().await;
    let auth = Auth::Wechatpro {
        authorization: WECHATPRO_AUTH.into(),
    };
    let client = built(WechatproClient::new(&settings(&server, "", auth)));
    let offline = json!({"code": "1001", "message": format!("已离线 {WECHATPRO_AUTH}")});
    answer_at(&server, "/open/isOnline", json_answer(offline)).await;
    let refused =
        json!({"code": "1001", "message": format!("Authorization {WECHATPRO_AUTH} 认证失败")});
    answer_at(&server, "/open/loginAgain", json_answer(refused)).await;
    answer_at(&server, "/open/offlineReason", cut_through(WECHATPRO_AUTH)).await;
    let device = DeviceRef::new("dev-1");
    let probe = client.probe(device).await;
    assert!(matches!(probe, Probe::Offline { .. }), "{probe:?}");
    assert_hides(&format!("{probe:?}"), WECHATPRO_AUTH);
    let wait = std::time::Duration::from_secs(5);
    let error = client.second_login(device, wait).await.err();
    let Some(error @ VendorError::CredentialsRejected(_)) = error else {
        panic!("expected credentials rejected, got {error:?}");
    };
    assert_hides(&shown(&error), WECHATPRO_AUTH);
    let error = client.offline_reason(device).await.err();
    let Some(error @ VendorError::Malformed(_)) = error else {
        panic!("expected malformed, got {error:?}");
    };
    assert_hides(&shown(&error), WECHATPRO_AUTH);
}

fn wkteam(server: &MockServer) -> WkteamClient {
    let auth = Auth::Wkteam {
        authorization: WKTEAM_AUTH.into(),
        second_login_type: None,
    };
    built(WkteamClient::new(&settings(server, "", auth)))
}

#[tokio::test]
async fn wkteam_echoes_are_scrubbed_at_both_levels() {
    let server = MockServer::start().await;
    let client = wkteam(&server);
    let nested =
        json!({"code": "1000", "data": {"code": "1001", "message": format!("x {WKTEAM_AUTH}")}});
    answer_at(&server, "/isOnline", json_answer(nested)).await;
    let outer = json!({"code": "1001", "message": format!("Authorization {WKTEAM_AUTH} 无效")});
    answer_at(&server, "/offlineReason", json_answer(outer)).await;
    answer_at(&server, "/queryLoginWx", cut_through(WKTEAM_AUTH)).await;
    let device = DeviceRef {
        w_id: Some("w-1"),
        ..DeviceRef::new("wxid_1")
    };
    let error = unknown(client.probe(device).await);
    assert!(matches!(error, VendorError::Refused { .. }), "{error:?}");
    assert_hides(&shown(&error), WKTEAM_AUTH);
    let error = client.offline_reason(device).await.err();
    let Some(error @ VendorError::CredentialsRejected(_)) = error else {
        panic!("expected credentials rejected, got {error:?}");
    };
    assert_hides(&shown(&error), WKTEAM_AUTH);
    let Err(error) = client.logged_in().await else {
        panic!("expected an error");
    };
    assert!(matches!(error, VendorError::Malformed(_)), "{error:?}");
    assert_hides(&shown(&error), WKTEAM_AUTH);
}

#[tokio::test]
async fn wkteam_second_login_success_without_wid_names_keys_not_session_data() {
    let server = MockServer::start().await;
    let data = json!({"wcId": "wxid_1", "token": SESSION_BLOB, "session": {"blob": SESSION_BLOB}});
    let answer = json!({"code": "1000", "message": "成功", "data": data});
    answer_at(&server, "/secondLogin", json_answer(answer)).await;
    let wait = std::time::Duration::from_secs(5);
    let login = wkteam(&server)
        .second_login(DeviceRef::new("wxid_1"), wait)
        .await;
    let Err(error @ VendorError::Malformed(_)) = login else {
        panic!("expected malformed, got {login:?}");
    };
    assert_hides(&shown(&error), SESSION_BLOB);
    assert!(
        error.to_string().ends_with("keys [wcId, token, session]"),
        "{error}"
    );
}

#[tokio::test]
async fn shrise_echoes_of_either_token_are_scrubbed() {
    let server = MockServer::start().await;
    let auth = Auth::Shrise {
        tokens: TokenPair {
            access: SHRISE_ACCESS.into(),
            access_expires: None,
            refresh: SHRISE_REFRESH.into(),
            refresh_expires: None,
        },
        header: "Authorization".into(),
        prefix: "Bearer ".into(),
    };
    let client = built(ShriseClient::new(&settings(&server, "", auth)));
    let gone = json!({"code": 404, "msg": format!("{SHRISE_ACCESS} 设备不存在")});
    Mock::given(method("GET"))
        .and(path("/wx/pc/check-login-status/PC-1"))
        .respond_with(json_answer(gone))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wx/pc/check-login-status/PC-2"))
        .respond_with(cut_through(SHRISE_ACCESS))
        .mount(&server)
        .await;
    let refused = json!({"code": 401, "msg": format!("refreshToken {SHRISE_REFRESH} 已失效")});
    answer_at(&server, "/app/auth/token/refresh", json_answer(refused)).await;
    let error = unknown(client.probe(DeviceRef::new("PC-1")).await);
    assert!(matches!(error, VendorError::DeviceGone(_)), "{error:?}");
    assert_hides(&shown(&error), SHRISE_ACCESS);
    let error = unknown(client.probe(DeviceRef::new("PC-2")).await);
    assert!(matches!(error, VendorError::Malformed(_)), "{error:?}");
    assert_hides(&shown(&error), SHRISE_ACCESS);
    let Err(error) = client.refresh_tokens().await else {
        panic!("the refresh should be refused");
    };
    assert!(error.is_credentials(), "{error:?}");
    assert_hides(&shown(&error), SHRISE_REFRESH);
    assert_hides(&shown(&error), SHRISE_ACCESS);
}
