//! wiremock tests pinning each client's raw HTTP shape: method, exact path, credential header
//! name and value, Content-Type and body encoding, and how transport-level answers (HTTP 500,
//! a body that is not JSON, HTTP 401) come out. Vendor semantics are unit-tested beside each
//! client and against the simulator in the integration tests.

mod gewe;
mod http;
mod secrets;
mod shrise;
mod slots;
mod wechatpro;
mod wkteam;

use std::time::Duration;

use serde_json::Value;
use wiremock::{MockServer, Request, ResponseTemplate};

use super::{Auth, ClientSettings};

/// Settings for a client talking to `server` (plus `prefix`), with a generous timeout.
fn settings(server: &MockServer, prefix: &str, auth: Auth) -> ClientSettings {
    settings_for(&format!("{}{prefix}", server.uri()), auth)
}

/// Settings for a client talking to `base_url`, with a generous timeout.
fn settings_for(base_url: &str, auth: Auth) -> ClientSettings {
    ClientSettings {
        name: "wire".into(),
        base_url: base_url.into(),
        timeout: Duration::from_secs(10),
        max_in_flight: 8,
        auth,
    }
}

/// HTTP 200 with `body` as JSON.
fn json_answer(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// HTTP 200 claiming JSON but carrying a truncated body.
fn truncated_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(r#"{"ret":200,"msg":"#, "application/json")
}

/// Every request `server` received; panics when request recording is off (a `None` would make
/// "nothing was sent" assertions pass vacuously).
async fn received(server: &MockServer) -> Vec<Request> {
    match server.received_requests().await {
        Some(requests) => requests,
        None => panic!("the mock server does not record requests"),
    }
}
