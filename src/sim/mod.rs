//! The vendor simulator: all four gateways (GeWe, wechatpro, WKTeam, shrise) on one port.
//!
//! The demo, the integration tests and the fleet benchmark run the keeper against this instead
//! of real gateways. It answers each vendor at its documented paths with its documented
//! envelopes and quirks (see `shared/vendor-docs/README.md` and `notes/sim-spec.md`), can be
//! scripted by a TOML [`Scenario`], driven live through the `/_sim/` control API or the methods
//! on [`Simulator`], and records every vendor call it receives.
//!
//! Layout: `scenario` parses the start state; `model` holds the public serde types;
//! `state`/`store` hold devices (lazily evaluated: no timer per device); `faults` wraps every
//! vendor call (call log, injected failures); `gewe`, `wechatpro`, `wkteam`, `shrise` are the
//! vendors (each with its rules as a synchronous function of the state and `now`); `control`
//! is `/_sim/`; `events` runs the timed scenario events in one task; `server` binds and serves.
//!
//! Typical use (what `session-keeper sim` does):
//!
//! ```no_run
//! # async fn demo() -> Result<(), session_keeper::sim::SimError> {
//! use session_keeper::sim::{Scenario, Simulator};
//! use tokio_util::sync::CancellationToken;
//!
//! let sim = Simulator::new(Scenario::from_toml("[[device]]\nvendor = \"gewe\"\nid = \"wx_1\"\n")?);
//! let shutdown = CancellationToken::new();
//! let (addr, server) = sim.clone().bind(([127, 0, 0, 1], 0).into(), shutdown.clone()).await?;
//! println!("{addr}"); // gewe base_url: http://{addr}/gewe/v2/api, the others: http://{addr}
//! shutdown.cancel();
//! server.await.ok();
//! # Ok(())
//! # }
//! ```

mod calls;
mod control;
mod events;
mod faults;
mod form;
mod gewe;
mod model;
mod reply;
mod scenario;
mod server;
mod shrise;
mod state;
mod store;
mod wait;
mod wechatpro;
mod wkteam;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use model::{
    CallRecord, DevicePatch, DeviceSpec, DeviceView, Fault, FaultSpec, Reconnect, SecondLoginMode,
    StaleWId,
};
pub use scenario::Scenario;

use crate::vendor::VendorKind;
use calls::{CALL_LOG_CAPACITY, CallLog};
use scenario::{Credentials, Event, Timing};
use state::Rules;
use store::Store;

/// Why the simulator could not start or a control request failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario file could not be read.
    #[error("cannot read scenario file {}: {source}", path.display())]
    ReadScenario {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The scenario text is not a valid scenario.
    #[error("invalid scenario{}: {message}", origin(path.as_deref()))]
    InvalidScenario {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// What is wrong, with line/column or table and key.
        message: String,
    },
    /// A control call named a device the simulator does not have.
    #[error("no {vendor} device `{id}`")]
    UnknownDevice {
        /// The vendor named.
        vendor: VendorKind,
        /// The id named.
        id: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
}

fn origin(path: Option<&std::path::Path>) -> String {
    path.map(|p| format!(" {}", p.display()))
        .unwrap_or_default()
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) timing: Timing,
    pub(crate) credentials: Credentials,
    pub(crate) store: Store,
    pub(crate) vendor_faults: Mutex<[faults::VendorFaults; 4]>,
    pub(crate) calls: CallLog,
    pub(crate) shrise: shrise::Tokens,
    /// Woken whenever a device may have come online (a person logs in, a patch sets it
    /// online, a blocking second login sees its prompt confirmed), so long polls and blocking
    /// calls re-check at once.
    pub(crate) logins: Notify,
    /// The scenario's timed events, taken by the first `bind`.
    events: Mutex<Option<Vec<Event>>>,
    /// When the simulator was created (default last login, wechatpro expiry base).
    pub(crate) created: Timestamp,
}

/// What every request handler gets: the shared state and the shutdown signal of the server
/// that received the request (held calls end when it fires).
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) sim: Arc<Shared>,
    pub(crate) cancel: CancellationToken,
}

/// The simulator: cheap to clone (one `Arc`), controllable in process while it serves. The
/// in-process methods have the same effect as the `/_sim/` HTTP control API, so a test can
/// set up a situation without HTTP and then watch a client deal with it.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("created", &self.shared.created)
            .finish_non_exhaustive()
    }
}

fn vendor_slot(vendor: VendorKind) -> usize {
    match vendor {
        VendorKind::Gewe => 0,
        VendorKind::Wechatpro => 1,
        VendorKind::Wkteam => 2,
        VendorKind::Shrise => 3,
    }
}

impl Shared {
    pub(crate) fn new(scenario: Scenario) -> Shared {
        let created = Timestamp::now();
        let timing = scenario.timing;
        let store = Store::new(Rules {
            confirm_window: timing.confirm_window,
            recycle_after: timing.recycle_after,
        });
        for spec in scenario.devices {
            store.upsert(spec, created);
        }
        let mut faults: [faults::VendorFaults; 4] = Default::default();
        for (vendor, fault) in scenario.vendor_faults {
            faults[vendor_slot(vendor)].set(fault);
        }
        Shared {
            timing,
            shrise: shrise::Tokens::new(&scenario.credentials, created),
            credentials: scenario.credentials,
            store,
            vendor_faults: Mutex::new(faults),
            calls: CallLog::new(CALL_LOG_CAPACITY),
            logins: Notify::new(),
            events: Mutex::new(Some(scenario.events)),
            created,
        }
    }

    /// The fault this call to `endpoint` of `vendor` suffers, if any: the endpoint's own
    /// fault, else the vendor-wide one, each only for its share of calls.
    pub(crate) fn vendor_fault(&self, vendor: VendorKind, endpoint: &str) -> Option<FaultSpec> {
        let mut faults = self
            .vendor_faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        faults[vendor_slot(vendor)].hit(endpoint)
    }

    fn take_events(&self) -> Option<Vec<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// A person logs in on the device now (QR scan): online, last login now, a QR login in
    /// progress completes, and the wkteam wId rotates (to the one `iPadLogin` handed out, if
    /// any). Returns the new view, or `None` when the device does not exist.
    pub(crate) fn person_login(
        &self,
        vendor: VendorKind,
        id: &str,
        now: Timestamp,
    ) -> Option<DeviceView> {
        let rules = self.store.rules;
        let mut shelf = self.store.lock(vendor);
        let device = shelf.get(id, now)?;
        let pending_w_id = device
            .qr
            .as_ref()
            .filter(|q| q.completed_at.is_none())
            .and_then(|q| q.w_id.clone());
        device.person_login(now);
        if vendor == VendorKind::Wkteam {
            let new = pending_w_id.unwrap_or_else(|| Arc::from(self.store.ids.uuid()));
            shelf.set_w_id(id, new);
        }
        let view = shelf.get(id, now).map(|d| d.view(vendor, now, rules));
        drop(shelf);
        self.logins.notify_waiters();
        view
    }

    /// Applies a patch; returns the new view, or `None` when the device does not exist. A
    /// patch that sets the device online wakes whoever waits for that.
    pub(crate) fn patch(
        &self,
        vendor: VendorKind,
        id: &str,
        patch: DevicePatch,
    ) -> Option<DeviceView> {
        let now = Timestamp::now();
        let rules = self.store.rules;
        let online = patch.online == Some(true);
        let mut shelf = self.store.lock(vendor);
        let device = shelf.get(id, now)?;
        device.apply(patch);
        let view = device.view(vendor, now, rules);
        drop(shelf);
        if online {
            self.logins.notify_waiters();
        }
        Some(view)
    }
}

impl Simulator {
    /// Builds the simulator in its scenario's start state; nothing is served until `bind`.
    pub fn new(scenario: Scenario) -> Simulator {
        Simulator {
            shared: Arc::new(Shared::new(scenario)),
        }
    }

    /// Creates a device, or replaces the one with the same vendor and id (state starts over).
    pub fn upsert_device(&self, spec: DeviceSpec) {
        self.shared.store.upsert(spec, Timestamp::now());
    }

    /// Changes some of a device's state or behaviour, as `PATCH /_sim/devices/..` does.
    pub fn patch_device(
        &self,
        vendor: VendorKind,
        id: &str,
        patch: DevicePatch,
    ) -> Result<(), SimError> {
        match self.shared.patch(vendor, id, patch) {
            Some(_) => Ok(()),
            None => Err(unknown(vendor, id)),
        }
    }

    /// A person logs in on the device now (QR login), as `POST .../login` does.
    pub fn login(&self, vendor: VendorKind, id: &str) -> Result<(), SimError> {
        match self.shared.person_login(vendor, id, Timestamp::now()) {
            Some(_) => Ok(()),
            None => Err(unknown(vendor, id)),
        }
    }

    /// The device's current state, with due prompt confirmations applied.
    pub fn device(&self, vendor: VendorKind, id: &str) -> Option<DeviceView> {
        self.shared.store.view(vendor, id, Timestamp::now())
    }

    /// Every device, ordered by vendor then id.
    pub fn devices(&self) -> Vec<DeviceView> {
        self.shared.store.views(Timestamp::now())
    }

    /// Sets the fault every device of the vendor suffers (on every endpoint, or on the
    /// spec's `endpoint` only, replacing what that scope had), or with `None` clears every
    /// fault of the vendor; a device's own fault still wins.
    pub fn set_vendor_fault(&self, vendor: VendorKind, fault: Option<FaultSpec>) {
        let mut faults = self
            .shared
            .vendor_faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = &mut faults[vendor_slot(vendor)];
        match fault {
            Some(fault) => slot.set(fault),
            None => *slot = faults::VendorFaults::default(),
        }
    }

    /// The logged vendor calls with `seq > since_seq`, oldest first (pass 0 for all).
    pub fn calls(&self, since_seq: u64) -> Vec<CallRecord> {
        self.shared.calls.since(since_seq)
    }

    /// The logged calls to one vendor endpoint, oldest first. `endpoint` is the path without
    /// prefix, as in [`CallRecord::endpoint`] (e.g. `/login/checkOnline`, `/open/isOnline`).
    /// Cheaper than filtering [`Simulator::calls`]: only the matching records are built.
    pub fn calls_to(&self, endpoint: &str) -> Vec<CallRecord> {
        self.shared.calls.to_endpoint(endpoint)
    }

    /// Forgets the logged calls (sequence numbers keep increasing).
    pub fn clear_calls(&self) {
        self.shared.calls.clear();
    }
}

pub(crate) fn unknown(vendor: VendorKind, id: &str) -> SimError {
    SimError::UnknownDevice {
        vendor,
        id: id.to_owned(),
    }
}
