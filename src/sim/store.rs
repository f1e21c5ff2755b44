//! The device store: one shelf per vendor behind its own short-held mutex, plus id generation.
//!
//! A shelf maps vendor ids to devices and, for WKTeam, live login-instance ids (wIds) to the
//! account they belong to, so `/isOnline {wId}` is one hash look-up. Locks are never held across
//! an await; vendor handlers lock, decide, unlock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use super::model::{DeviceSpec, DeviceView};
use super::state::{Device, QrSession, Rotation, Rules};
use crate::vendor::VendorKind;

/// The devices of one vendor.
#[derive(Default)]
pub(crate) struct Shelf {
    devices: HashMap<Arc<str>, Device>,
    /// wkteam: every live wId (current ones and those handed out by `iPadLogin`) → wcId.
    w_ids: HashMap<Arc<str>, Arc<str>>,
    /// wkteam: wIds that a login replaced → the wcId they belonged to (they no longer
    /// resolve; `isOnline` answers them as the device's `stale_w_id` says).
    retired: HashMap<Arc<str>, Arc<str>>,
}

impl Shelf {
    /// The device, with its due changes applied.
    pub(crate) fn get(&mut self, id: &str, now: Timestamp) -> Option<&mut Device> {
        let device = self.devices.get_mut(id)?;
        if let Some(rotation) = device.settle(now) {
            let key = device.id.clone();
            reindex(&mut self.w_ids, &mut self.retired, key, rotation);
        }
        self.devices.get_mut(id)
    }

    /// The wcId a live wId belongs to.
    pub(crate) fn by_w_id(&self, w_id: &str) -> Option<Arc<str>> {
        self.w_ids.get(w_id).cloned()
    }

    /// The wcId a wId that rotated away belonged to.
    pub(crate) fn by_retired_w_id(&self, w_id: &str) -> Option<Arc<str>> {
        self.retired.get(w_id).cloned()
    }

    /// Every device, settled (for bulk endpoints and listings).
    pub(crate) fn all(&mut self, now: Timestamp) -> impl Iterator<Item = &mut Device> {
        for device in self.devices.values_mut() {
            if let Some(rotation) = device.settle(now) {
                let key = device.id.clone();
                reindex(&mut self.w_ids, &mut self.retired, key, rotation);
            }
        }
        self.devices.values_mut()
    }

    /// Makes `new` the device's current wId; the old one stops resolving.
    pub(crate) fn set_w_id(&mut self, id: &str, new: Arc<str>) {
        let Some(device) = self.devices.get_mut(id) else {
            return;
        };
        let key = device.id.clone();
        let old = device.w_id.replace(new.clone());
        reindex(
            &mut self.w_ids,
            &mut self.retired,
            key,
            Rotation { old, new },
        );
    }

    /// Starts a QR login on the device, indexing the wId it hands out (wkteam).
    pub(crate) fn set_qr(&mut self, id: &str, qr: QrSession) {
        let Some(device) = self.devices.get_mut(id) else {
            return;
        };
        let key = device.id.clone();
        let new = qr.w_id.clone();
        if let Some(old) = device.qr.replace(qr).and_then(|q| q.w_id)
            && device.w_id.as_ref() != Some(&old)
        {
            self.w_ids.remove(&old);
        }
        if let Some(new) = new {
            self.w_ids.insert(new, key);
        }
    }

    fn insert(&mut self, device: Device) {
        if let Some(old) = self.devices.remove(&device.id) {
            self.unindex(&old);
        }
        let key = device.id.clone();
        if let Some(w_id) = &device.w_id {
            self.w_ids.insert(w_id.clone(), key.clone());
        }
        self.devices.insert(key, device);
    }

    fn unindex(&mut self, device: &Device) {
        let qr = device.qr.as_ref().and_then(|q| q.w_id.as_ref());
        for w_id in device.w_id.iter().chain(qr) {
            if self.w_ids.get(w_id) == Some(&device.id) {
                self.w_ids.remove(w_id);
            }
        }
    }
}

/// Moves a rotated wId from the live index to the retired one, and indexes the new one.
fn reindex(
    live: &mut HashMap<Arc<str>, Arc<str>>,
    retired: &mut HashMap<Arc<str>, Arc<str>>,
    key: Arc<str>,
    rotation: Rotation,
) {
    if let Some(old) = rotation.old
        && old != rotation.new
    {
        live.remove(&old);
        retired.insert(old, key.clone());
    }
    retired.remove(&rotation.new);
    live.insert(rotation.new, key);
}

/// All devices of all vendors.
pub(crate) struct Store {
    shelves: [Mutex<Shelf>; 4],
    pub(crate) rules: Rules,
    pub(crate) ids: IdGen,
}

impl Store {
    pub(crate) fn new(rules: Rules) -> Store {
        Store {
            shelves: Default::default(),
            rules,
            ids: IdGen::new(),
        }
    }

    /// Locks one vendor's shelf. Never hold the guard across an await.
    pub(crate) fn lock(&self, vendor: VendorKind) -> MutexGuard<'_, Shelf> {
        // Every shelf mutation leaves it consistent between statements: survive a poisoning.
        self.shelves[super::vendor_slot(vendor)]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates or replaces a device. wkteam: a `w_id` held by another device moves to this one
    /// (the other gets a fresh wId); other vendors ignore `w_id`.
    pub(crate) fn upsert(&self, mut spec: DeviceSpec, start: Timestamp) {
        let vendor = spec.vendor;
        let requested = spec.w_id.take();
        let mut shelf = self.lock(vendor);
        let w_id: Option<Arc<str>> = match vendor {
            VendorKind::Wkteam => Some(match requested {
                Some(w) => Arc::from(w),
                None => Arc::from(self.ids.uuid()),
            }),
            _ => None,
        };
        if let Some(holder) = w_id.as_deref().and_then(|w| shelf.by_w_id(w))
            && *holder != *spec.id
        {
            tracing::warn!(event = "sim.w_id_moved", w_id = ?w_id, holder = %holder, "wId moved to a replaced device");
            shelf.set_w_id(&holder, Arc::from(self.ids.uuid()));
        }
        shelf.insert(Device::new(spec, w_id, start));
    }

    /// The device's current view, if it exists.
    pub(crate) fn view(&self, vendor: VendorKind, id: &str, now: Timestamp) -> Option<DeviceView> {
        let rules = self.rules;
        self.lock(vendor)
            .get(id, now)
            .map(|d| d.view(vendor, now, rules))
    }

    /// Every device, ordered by vendor then id.
    pub(crate) fn views(&self, now: Timestamp) -> Vec<DeviceView> {
        let mut out = Vec::new();
        for vendor in VendorKind::ALL {
            let mut shelf = self.lock(vendor);
            let start = out.len();
            out.extend(shelf.all(now).map(|d| d.view(vendor, now, self.rules)));
            out[start..].sort_by(|a, b| a.id.cmp(&b.id));
        }
        out
    }
}

/// Unique, unguessable-looking ids (uuids, wIds, tokens) without a random-number crate:
/// splitmix64 over a counter and a per-process seed. Distinct counters give distinct ids.
pub(crate) struct IdGen {
    seed: u64,
    counter: AtomicU64,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl IdGen {
    fn new() -> IdGen {
        let now = Timestamp::now();
        let nanos = now.as_nanosecond() as u64;
        let seed = splitmix(nanos ^ u64::from(std::process::id()).rotate_left(40));
        IdGen {
            seed,
            counter: AtomicU64::new(1),
        }
    }

    fn next(&self) -> (u64, u64) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        (
            splitmix(self.seed ^ n),
            splitmix(n.rotate_left(17) ^ !self.seed),
        )
    }

    /// A fresh uuid-shaped id, e.g. `1c2f…-…`.
    pub(crate) fn uuid(&self) -> String {
        let (a, b) = self.next();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    /// A fresh opaque token with a readable prefix.
    pub(crate) fn token(&self, prefix: &str) -> String {
        let (a, b) = self.next();
        format!("{prefix}{a:016x}{b:016x}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use super::*;

    fn store() -> Store {
        Store::new(Rules {
            confirm_window: Duration::from_secs(180),
            recycle_after: Duration::from_secs(86_400),
        })
    }

    fn wk(id: &str, w_id: Option<&str>) -> DeviceSpec {
        let mut spec = DeviceSpec::new(VendorKind::Wkteam, id);
        spec.w_id = w_id.map(str::to_owned);
        spec
    }

    #[test]
    fn ids_are_unique_and_uuid_shaped() {
        let ids = IdGen::new();
        let set: HashSet<String> = (0..10_000).map(|_| ids.uuid()).collect();
        assert_eq!(set.len(), 10_000);
        let one = ids.uuid();
        let parts: Vec<usize> = one.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12], "{one}");
        assert!(ids.token("tok-").starts_with("tok-"));
    }

    #[test]
    fn wkteam_w_ids_resolve_and_rotate() {
        let s = store();
        let now = Timestamp::now();
        s.upsert(wk("a", Some("w1")), now);
        s.upsert(wk("b", None), now);
        let mut shelf = s.lock(VendorKind::Wkteam);
        assert_eq!(shelf.by_w_id("w1").as_deref(), Some("a"));
        shelf.set_w_id("a", Arc::from("w2"));
        assert_eq!(shelf.by_w_id("w1"), None);
        assert_eq!(shelf.by_retired_w_id("w1").as_deref(), Some("a"));
        assert_eq!(shelf.by_w_id("w2").as_deref(), Some("a"));
        let b_w_id = shelf.get("b", now).and_then(|d| d.w_id.clone()).unwrap();
        assert_eq!(shelf.by_w_id(&b_w_id).as_deref(), Some("b"));
    }

    #[test]
    fn replacing_a_device_moves_a_claimed_w_id() {
        let s = store();
        let now = Timestamp::now();
        s.upsert(wk("a", Some("w1")), now);
        s.upsert(wk("b", Some("w1")), now);
        let a = s.view(VendorKind::Wkteam, "a", now).unwrap();
        assert_ne!(a.w_id.as_deref(), Some("w1"));
        let shelf = s.lock(VendorKind::Wkteam);
        assert_eq!(shelf.by_w_id("w1").as_deref(), Some("b"));
        assert_eq!(
            shelf.by_w_id(a.w_id.as_deref().unwrap()).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn views_are_ordered_and_w_id_only_for_wkteam() {
        let s = store();
        let now = Timestamp::now();
        let mut gewe = DeviceSpec::new(VendorKind::Gewe, "z");
        gewe.w_id = Some("ignored".to_owned());
        s.upsert(gewe, now);
        s.upsert(DeviceSpec::new(VendorKind::Gewe, "a"), now);
        s.upsert(wk("m", None), now);
        let views = s.views(now);
        let ids: Vec<&str> = views.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "z", "m"]);
        assert_eq!(views[1].w_id, None);
        assert!(views[2].w_id.is_some());
    }
}
