//! Building HTTP answers: JSON bodies, the plain 500, and the "abort this connection" marker.
//!
//! A handler that wants the connection dropped without any HTTP response (the `close` fault,
//! or a held call at shutdown) returns [`abort`]; the connection service in `server.rs` sees
//! the marker and fails the request, which makes hyper close the socket unanswered.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// Marks a response that must never reach the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Abort;

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

fn bytes(status: StatusCode, content_type: HeaderValue, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

/// A JSON answer with the given status.
pub(crate) fn json_status(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => bytes(status, JSON, Bytes::from(body)),
        Err(e) => {
            tracing::error!(event = "sim.reply_failed", error = %e, "cannot serialize a simulator answer");
            internal_error()
        }
    }
}

/// A JSON answer with HTTP 200 (every vendor envelope travels this way).
pub(crate) fn json(value: &impl Serialize) -> Response {
    json_status(StatusCode::OK, value)
}

/// HTTP 200 with a fixed, possibly invalid, JSON body (the `malformed` fault).
pub(crate) fn raw_json(body: &'static str) -> Response {
    bytes(StatusCode::OK, JSON, Bytes::from_static(body.as_bytes()))
}

/// HTTP 500 `Internal Server Error`, text/plain.
pub(crate) fn internal_error() -> Response {
    bytes(
        StatusCode::INTERNAL_SERVER_ERROR,
        TEXT,
        Bytes::from_static(b"Internal Server Error"),
    )
}

/// HTTP 502 `Bad Gateway`, text/plain: what a proxy in front of a failing gateway says.
pub(crate) fn bad_gateway() -> Response {
    bytes(
        StatusCode::BAD_GATEWAY,
        TEXT,
        Bytes::from_static(b"Bad Gateway"),
    )
}

/// A response that makes the server drop the connection instead of answering.
pub(crate) fn abort() -> Response {
    let mut response = Response::new(Body::empty());
    response.extensions_mut().insert(Abort);
    response
}

/// Whether a response is the [`abort`] marker.
pub(crate) fn is_abort(response: &Response) -> bool {
    response.extensions().get::<Abort>().is_some()
}

/// The status a logged call was answered with: `None` when the connection was dropped.
pub(crate) fn logged_status(response: &Response) -> Option<u16> {
    (!is_abort(response)).then(|| response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_marker_is_recognised_and_logged_without_status() {
        assert!(is_abort(&abort()));
        assert_eq!(logged_status(&abort()), None);
        let ok = json(&serde_json::json!({"ret": 200}));
        assert!(!is_abort(&ok));
        assert_eq!(logged_status(&ok), Some(200));
        assert_eq!(ok.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(logged_status(&internal_error()), Some(500));
    }
}
