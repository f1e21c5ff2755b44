//! The control API under `/_sim/`: JSON, no auth, no faults, not logged.
//!
//! Tests and the demo use it to add and change devices, make a person log in, inject vendor
//! faults and read the call log while the simulator serves. Bad input is a 400 with
//! `{"error":"..."}` naming the problem; an unknown device is a 404.

use std::collections::HashSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::model::{DevicePatch, DeviceSpec, FaultSpec};
use super::{App, SimError, Simulator, reply, unknown};
use crate::vendor::VendorKind;

/// The `/_sim/` routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/_sim/health",
            get(|| async { reply::json(&json!({"ok": true})) }),
        )
        .route("/_sim/devices", get(list).post(upsert))
        .route("/_sim/devices/{vendor}/{id}", get(show).patch(patch))
        .route("/_sim/devices/{vendor}/{id}/login", post(login))
        .route("/_sim/faults/{vendor}", put(set_fault).delete(clear_fault))
        .route("/_sim/calls", get(calls).delete(clear_calls))
}

/// A control request that cannot be served: answered as `{"error": message}`.
#[derive(Debug)]
struct ControlError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        reply::json_status(self.status, &json!({"error": self.message}))
    }
}

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match e {
            SimError::UnknownDevice { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        ControlError {
            status,
            message: e.to_string(),
        }
    }
}

type Answer = Result<Response, ControlError>;

fn bad(message: impl Into<String>) -> ControlError {
    ControlError {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
}

fn simulator(app: &App) -> Simulator {
    Simulator {
        shared: app.sim.clone(),
    }
}

fn vendor(text: &str) -> Result<VendorKind, ControlError> {
    VendorKind::parse(text).ok_or_else(|| {
        bad(format!(
            "unknown vendor `{text}`; expected gewe, wechatpro, wkteam or shrise"
        ))
    })
}

fn body<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid {what}: {e}")))
}

async fn list(State(app): State<App>) -> Response {
    reply::json(&simulator(&app).devices())
}

async fn show(State(app): State<App>, Path((v, id)): Path<(String, String)>) -> Answer {
    let v = vendor(&v)?;
    let view = simulator(&app)
        .device(v, &id)
        .ok_or_else(|| unknown(v, &id))?;
    Ok(reply::json(&view))
}

async fn upsert(State(app): State<App>, bytes: Bytes) -> Answer {
    let specs = specs(&bytes)?;
    check_specs(&app, &specs)?;
    let sim = simulator(&app);
    let count = specs.len();
    for spec in specs {
        sim.upsert_device(spec);
    }
    Ok(reply::json(&json!({"upserted": count})))
}

/// One spec or an array of them.
fn specs(bytes: &[u8]) -> Result<Vec<DeviceSpec>, ControlError> {
    match body::<Value>(bytes, "JSON body")? {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(n, item)| {
                serde_json::from_value(item)
                    .map_err(|e| bad(format!("invalid device #{}: {e}", n + 1)))
            })
            .collect(),
        item => serde_json::from_value(item)
            .map(|spec| vec![spec])
            .map_err(|e| bad(format!("invalid device: {e}"))),
    }
}

/// What the in-process upsert would silently resolve is an error over HTTP.
fn check_specs(app: &App, specs: &[DeviceSpec]) -> Result<(), ControlError> {
    let mut batch = HashSet::new();
    for spec in specs {
        let place = format!("device {}/{}", spec.vendor, spec.id);
        if spec.id.is_empty() {
            return Err(bad("invalid device: `id` must not be empty"));
        }
        let Some(w_id) = &spec.w_id else { continue };
        if spec.vendor != VendorKind::Wkteam {
            return Err(bad(format!(
                "{place}: `w_id` applies only to wkteam devices"
            )));
        }
        if w_id.is_empty() || !batch.insert(w_id.as_str()) {
            return Err(bad(format!(
                "{place}: `w_id` `{w_id}` is empty or used twice"
            )));
        }
        let holder = app.sim.store.lock(VendorKind::Wkteam).by_w_id(w_id);
        if let Some(holder) = holder.filter(|h| **h != *spec.id) {
            return Err(bad(format!(
                "{place}: `w_id` `{w_id}` belongs to wkteam device {holder}"
            )));
        }
    }
    Ok(())
}

async fn patch(
    State(app): State<App>,
    Path((v, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let v = vendor(&v)?;
    let change: DevicePatch = body(&bytes, "device patch")?;
    let view = app
        .sim
        .patch(v, &id, change)
        .ok_or_else(|| unknown(v, &id))?;
    Ok(reply::json(&view))
}

async fn login(State(app): State<App>, Path((v, id)): Path<(String, String)>) -> Answer {
    let v = vendor(&v)?;
    let view = app
        .sim
        .person_login(v, &id, Timestamp::now())
        .ok_or_else(|| unknown(v, &id))?;
    Ok(reply::json(&view))
}

async fn set_fault(State(app): State<App>, Path(v): Path<String>, bytes: Bytes) -> Answer {
    let v = vendor(&v)?;
    let spec: FaultSpec = body(&bytes, "fault spec")?;
    spec.check().map_err(bad)?;
    simulator(&app).set_vendor_fault(v, Some(spec.clone()));
    Ok(reply::json(&json!({"vendor": v, "fault": spec})))
}

async fn clear_fault(State(app): State<App>, Path(v): Path<String>) -> Answer {
    let v = vendor(&v)?;
    simulator(&app).set_vendor_fault(v, None);
    Ok(reply::json(&json!({"vendor": v, "fault": null})))
}

async fn calls(State(app): State<App>, RawQuery(query): RawQuery) -> Answer {
    let since = since(query.as_deref())?;
    Ok(reply::json(&simulator(&app).calls(since)))
}

/// The `since` query parameter (default 0); anything else in the query is an error.
fn since(query: Option<&str>) -> Result<u64, ControlError> {
    let mut since = 0;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "since" {
            return Err(bad(format!(
                "unknown query parameter `{key}`; expected `since`"
            )));
        }
        since = value.parse().map_err(|_| {
            bad(format!(
                "`since` must be a non-negative integer, got `{value}`"
            ))
        })?;
    }
    Ok(since)
}

async fn clear_calls(State(app): State<App>) -> Response {
    simulator(&app).clear_calls();
    reply::json(&json!({"cleared": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_parses_and_names_bad_input() {
        assert_eq!(since(None).ok(), Some(0));
        assert_eq!(since(Some("since=42")).ok(), Some(42));
        let err = since(Some("since=-1")).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("-1"), "{}", err.message);
        let err = since(Some("from=1")).unwrap_err();
        assert!(err.message.contains("from"), "{}", err.message);
    }

    #[test]
    fn specs_accepts_one_or_many_and_names_the_bad_one() {
        assert_eq!(
            specs(br#"{"vendor":"gewe","id":"a"}"#)
                .ok()
                .map(|s| s.len()),
            Some(1)
        );
        let two = br#"[{"vendor":"gewe","id":"a"},{"vendor":"shrise","id":"b"}]"#;
        assert_eq!(specs(two).ok().map(|s| s.len()), Some(2));
        assert!(specs(br#"[{"vendor":"gewe","id":"a"},{"vendor":"x","id":"b"}]"#).is_err());
        assert!(specs(b"not json").is_err());
    }
}
