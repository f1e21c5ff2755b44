//! The wrapper every vendor call goes through: it logs the call, applies an injected fault
//! (the device's own, else the endpoint's, else the vendor's), and otherwise runs the vendor
//! logic. A vendor fault may cover only a share of the calls, spread evenly.
//!
//! Faults never touch `/_sim/`: the control router does not use this module.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use jiff::Timestamp;
use serde_json::json;

use super::calls::NewCall;
use super::model::{DEFAULT_SLOW, Fault, FaultSpec};
use super::{App, Shared, reply, wait};
use crate::vendor::VendorKind;

/// What a vendor call is, for the call log.
pub(crate) struct Call<'a> {
    pub(crate) vendor: VendorKind,
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) endpoint: &'static str,
}

impl<'a> Call<'a> {
    /// The call a vendor handler received: its vendor, the request line and the endpoint it
    /// names (the path without the vendor's prefix).
    pub(crate) fn new(
        vendor: VendorKind,
        method: &'a Method,
        uri: &'a axum::http::Uri,
        endpoint: &'static str,
    ) -> Call<'a> {
        Call {
            vendor,
            method,
            path: uri.path(),
            endpoint,
        }
    }
}

/// How the request named its device (decides the device fault and the logged device).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Named<'a> {
    /// No device (bulk or auth endpoints).
    Nothing,
    /// By vendor id (appId, deviceId, wcId, deviceNumber).
    Id(&'a str),
    /// By wkteam wId (resolved to the account if it is live).
    WId(&'a str),
}

/// A vendor's injected faults: the vendor-wide one and any per endpoint, each with how many
/// calls it has seen (for its share).
#[derive(Debug, Default)]
pub(crate) struct VendorFaults {
    all: Option<Active>,
    endpoints: Vec<(String, Active)>,
}

#[derive(Debug)]
struct Active {
    spec: FaultSpec,
    calls: u64,
}

impl Active {
    /// Counts a call; true when this one is among the share that suffers the fault (call `n`
    /// suffers it when `floor(n × share)` moves on, so 0.8 hits four calls of every five).
    fn hit(&mut self) -> bool {
        self.calls += 1;
        let Some(share) = self.spec.share else {
            return true;
        };
        let n = self.calls as f64;
        (n * share).floor() > ((n - 1.0) * share).floor()
    }
}

impl VendorFaults {
    /// Sets the fault of the spec's scope (its endpoint, or the whole vendor).
    pub(crate) fn set(&mut self, spec: FaultSpec) {
        let active = Active { spec, calls: 0 };
        match active.spec.endpoint.clone() {
            None => self.all = Some(active),
            Some(endpoint) => {
                self.endpoints.retain(|(e, _)| *e != endpoint);
                self.endpoints.push((endpoint, active));
            }
        }
    }

    /// The fault a call to `endpoint` suffers now, if any.
    pub(crate) fn hit(&mut self, endpoint: &str) -> Option<FaultSpec> {
        let own = self.endpoints.iter_mut().find(|(e, _)| e == endpoint);
        let active = match own {
            Some((_, active)) => active,
            None => self.all.as_mut()?,
        };
        active.hit().then(|| active.spec.clone())
    }
}

/// The device the call named (as stored, when known) and that device's own fault.
fn resolve(
    sim: &Shared,
    vendor: VendorKind,
    named: Named<'_>,
    now: Timestamp,
) -> (Option<Arc<str>>, Option<(Fault, Duration)>) {
    let text = match named {
        Named::Nothing => return (None, None),
        Named::Id(id) | Named::WId(id) => id,
    };
    let mut shelf = sim.store.lock(vendor);
    let key = match named {
        Named::WId(w_id) => shelf.by_w_id(w_id).or_else(|| shelf.by_retired_w_id(w_id)),
        _ => None,
    };
    match shelf.get(key.as_deref().unwrap_or(text), now) {
        Some(device) => {
            let b = &device.behaviour;
            let fault = (b.fault != Fault::None).then_some((b.fault, b.slow));
            (Some(device.id.clone()), fault)
        }
        None => (Some(Arc::from(text)), None),
    }
}

/// Serves one vendor call: log it, apply a fault if one is set, else run `answer`.
pub(crate) async fn serve<F, Fut>(
    app: &App,
    call: Call<'_>,
    named: Named<'_>,
    answer: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let now = Timestamp::now();
    let sim = &app.sim;
    let (device, own) = resolve(sim, call.vendor, named, now);
    let seq = sim.calls.begin(
        NewCall {
            vendor: call.vendor,
            method: call.method,
            path: call.path,
            endpoint: call.endpoint,
            device,
        },
        now,
    );
    let fault = own.or_else(|| {
        sim.vendor_fault(call.vendor, call.endpoint)
            .map(|f| (f.fault, f.slow.unwrap_or(DEFAULT_SLOW)))
    });
    let response = match fault {
        None | Some((Fault::None, _)) => answer().await,
        Some((Fault::Slow, delay)) => {
            if wait::sleep(app, delay).await {
                answer().await
            } else {
                reply::abort()
            }
        }
        Some((Fault::Timeout, _)) => {
            app.cancel.cancelled().await;
            reply::abort()
        }
        Some((Fault::Http500, _)) => reply::internal_error(),
        Some((Fault::Http502, _)) => reply::bad_gateway(),
        Some((Fault::Unknown, _)) => unknown(call.vendor),
        Some((Fault::Malformed, _)) => reply::raw_json(malformed_body(call.vendor)),
        Some((Fault::Close, _)) => reply::abort(),
    };
    sim.calls.finish(seq, reply::logged_status(&response));
    response
}

/// `unknown`: wechatpro's own "cannot tell" answer; a plain 500 elsewhere.
fn unknown(vendor: VendorKind) -> Response {
    match vendor {
        VendorKind::Wechatpro => reply::json(&json!({
            "message": "未知异常",
            "code": "1001",
            "data": null,
        })),
        _ => reply::internal_error(),
    }
}

/// A truncated envelope in the vendor's own shape.
fn malformed_body(vendor: VendorKind) -> &'static str {
    match vendor {
        VendorKind::Gewe => r#"{"ret":200,"msg":"#,
        VendorKind::Wechatpro => r#"{"message":"在线","code":"#,
        VendorKind::Wkteam => r#"{"message":"成功","code":"1000","data":{"isOnl"#,
        VendorKind::Shrise => r#"{"code":0,"data":{"isLogin":"#,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;
    use crate::sim::model::DeviceSpec;

    #[test]
    fn malformed_bodies_are_invalid_json() {
        for vendor in VendorKind::ALL {
            let body = malformed_body(vendor);
            assert!(
                serde_json::from_str::<serde_json::Value>(body).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn an_endpoint_fault_wins_and_a_share_hits_evenly() {
        let mut faults = VendorFaults::default();
        faults.set(FaultSpec::new(Fault::Http500));
        faults.set(FaultSpec {
            endpoint: Some("/secondLogin".into()),
            share: Some(0.8),
            ..FaultSpec::new(Fault::Slow)
        });
        assert_eq!(
            faults.hit("/isOnline").map(|f| f.fault),
            Some(Fault::Http500)
        );
        let hits: Vec<bool> = (0..10)
            .map(|_| faults.hit("/secondLogin").is_some())
            .collect();
        assert_eq!(hits.iter().filter(|h| **h).count(), 8, "{hits:?}");
        assert_eq!(&hits[..5], [false, true, true, true, true]);
        faults.set(FaultSpec {
            endpoint: Some("/secondLogin".into()),
            ..FaultSpec::new(Fault::Close)
        });
        assert_eq!(
            faults.hit("/secondLogin").map(|f| f.fault),
            Some(Fault::Close)
        );
    }

    #[test]
    fn device_fault_wins_and_w_id_resolves_to_the_account() {
        let sim = Shared::new(Scenario::default());
        let now = Timestamp::now();
        let mut spec = DeviceSpec::new(VendorKind::Wkteam, "wxid_a");
        spec.w_id = Some("w-1".to_owned());
        spec.fault = Fault::Close;
        sim.store.upsert(spec, now);
        let (device, fault) = resolve(&sim, VendorKind::Wkteam, Named::WId("w-1"), now);
        assert_eq!(device.as_deref(), Some("wxid_a"));
        assert_eq!(fault.map(|f| f.0), Some(Fault::Close));
        let (device, fault) = resolve(&sim, VendorKind::Wkteam, Named::WId("stale"), now);
        assert_eq!(device.as_deref(), Some("stale"));
        assert_eq!(fault, None);
        let (device, _) = resolve(&sim, VendorKind::Wkteam, Named::Nothing, now);
        assert_eq!(device, None);
    }
}
