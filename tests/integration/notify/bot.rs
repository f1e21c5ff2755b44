//! A fake chat-bot receiver on 127.0.0.1:0 (WeCom, DingTalk and Feishu all POST JSON to a URL
//! and answer HTTP 200 with an error code in the body): records every request exactly as it
//! arrived (path, query, content type, JSON body) and answers with scripted replies, then a
//! default one.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::serve_on_loopback;

/// One request as the bot saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The path, e.g. `/cgi-bin/webhook/send`.
    pub path: String,
    /// The raw query string (`key=...`, `access_token=...&timestamp=...&sign=...`).
    pub query: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body, parsed.
    pub body: Value,
}

impl Request {
    /// The value of query parameter `name`, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://bot/?{}", self.query)).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Request>>>,
    replies: Arc<Mutex<VecDeque<(u16, Value)>>>,
    default: Value,
}

/// The fake bot; stops when dropped.
pub struct Bot {
    addr: SocketAddr,
    shared: Shared,
    stop: CancellationToken,
}

async fn receive(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let request = Request {
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    lock(&shared.requests).push(request);
    let (status, reply) = lock(&shared.replies)
        .pop_front()
        .unwrap_or((200, shared.default.clone()));
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(reply))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Bot {
    /// Listens on a free loopback port, answering `default` (e.g. `{"errcode":0,"errmsg":"ok"}`)
    /// once the scripted replies are used up.
    pub async fn start(default: Value) -> Bot {
        let shared = Shared {
            requests: Arc::default(),
            replies: Arc::default(),
            default,
        };
        let app = Router::new()
            .fallback(post(receive))
            .with_state(shared.clone());
        let (addr, stop) = serve_on_loopback(app).await;
        Bot { addr, shared, stop }
    }

    /// The next requests get these answers (HTTP status, JSON body), in order.
    pub fn script(&self, replies: impl IntoIterator<Item = (u16, Value)>) {
        lock(&self.shared.replies).extend(replies);
    }

    /// Forgets the scripted replies not used yet: from now on every answer is the default.
    pub fn clear_script(&self) {
        lock(&self.shared.replies).clear();
    }

    /// `http://127.0.0.1:PORT` followed by `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
