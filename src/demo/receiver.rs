//! The demo's stand-in for an operator's alerting: a webhook receiver on `127.0.0.1:0` that
//! hands every contract payload (DESIGN.md §5) to the director, so the demo shows what a
//! person's phone would light up with.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Binds the receiver; every JSON body posted to `/hook` goes to `alerts`. Serves until
/// `shutdown` is cancelled.
pub async fn start(
    alerts: mpsc::UnboundedSender<Value>,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(alerts);
    let served = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(err) = serve.await {
            tracing::warn!(
                event = "demo.receiver_stopped",
                "demo webhook receiver stopped: {err}"
            );
        }
    });
    Ok((addr, served))
}

/// Accepts one payload: 200 for JSON, 400 for anything else (the keeper then retries).
async fn receive(State(alerts): State<mpsc::UnboundedSender<Value>>, body: String) -> StatusCode {
    match serde_json::from_str::<Value>(&body) {
        Ok(payload) => {
            // The director may already be done; the delivery still succeeded.
            let _ = alerts.send(payload);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// One line for a payload: "critical alert manual_login_required for support-03: <summary>".
pub fn describe(payload: &Value) -> String {
    let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("?");
    let subject = payload
        .get("device")
        .and_then(Value::as_str)
        .unwrap_or_else(|| text("provider"));
    match text("status") {
        "resolved" => format!("webhook: resolved {} for {subject}", text("kind")),
        _ => format!(
            "webhook: {} alert {} for {subject}: \"{}\"",
            text("severity"),
            text("kind"),
            text("summary")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn posted_payloads_reach_the_director() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let shutdown = CancellationToken::new();
        let (addr, served) = start(tx, shutdown.clone()).await.unwrap();
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/hook");
        let ok = client
            .post(&url)
            .body(r#"{"status":"firing"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        let bad = client.post(&url).body("not json").send().await.unwrap();
        assert_eq!(bad.status(), 400);
        assert_eq!(rx.recv().await.unwrap(), json!({"status": "firing"}));
        shutdown.cancel();
        served.await.unwrap();
    }

    #[test]
    fn payload_lines_name_severity_kind_and_subject() {
        let firing = json!({"status": "firing", "severity": "critical",
            "kind": "manual_login_required", "device": "support-03", "provider": "wkteam",
            "summary": "support-03 needs a QR login"});
        assert_eq!(
            describe(&firing),
            "webhook: critical alert manual_login_required for support-03: \"support-03 needs a QR login\""
        );
        let resolved = json!({"status": "resolved", "kind": "provider_unreachable",
            "device": null, "provider": "wkteam"});
        assert_eq!(
            describe(&resolved),
            "webhook: resolved provider_unreachable for wkteam"
        );
    }
}
