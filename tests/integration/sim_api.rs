//! The simulator itself over raw HTTP (reqwest), as a client that knows only the vendor docs
//! would see it: each vendor's documented answers on the main paths, the control API, faults,
//! scenario events and the call log. One submodule per subject.

mod control;
mod faults;
mod gewe;
mod shrise;
mod shutdown;
mod wechatpro;
mod wkteam;

use std::time::Duration;

use serde_json::Value;

/// A plain client with a generous timeout (no test relies on it firing).
fn client() -> reqwest::Client {
    match reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("cannot build a reqwest client: {e}"),
    }
}

/// The status and JSON body of a response; panics naming the body if it is not JSON.
async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    match serde_json::from_str(&text) {
        Ok(value) => (status, value),
        Err(e) => panic!("status {status}: body is not JSON ({e}): {text}"),
    }
}

/// The JSON body of a response that must be HTTP 200.
async fn ok_json(response: reqwest::Response) -> Value {
    let (status, value) = status_json(response).await;
    assert_eq!(status, 200, "unexpected status, body: {value}");
    value
}
