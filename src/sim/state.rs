//! One simulated device and its lazily evaluated clock.
//!
//! Nothing runs per device: a pending second-login prompt is stored with the times it will be
//! confirmed or expire, and [`Device::settle`] applies whatever has come due whenever the device
//! is touched. Recycling is derived from the last login (or reset) time the same way. All rules
//! take `now` as a parameter, so unit tests drive the clock directly.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::model::{
    DevicePatch, DeviceSpec, DeviceView, Fault, Reconnect, SecondLoginMode, StaleWId,
};
use crate::vendor::VendorKind;

/// `ts + d`, saturating at the end of time (durations come from user input).
pub(crate) fn after(ts: Timestamp, d: Duration) -> Timestamp {
    ts.saturating_add(d).unwrap_or(Timestamp::MAX)
}

/// How long from `now` until `then`; zero if `then` is past.
pub(crate) fn until(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now)).unwrap_or(Duration::ZERO)
}

/// The scenario-wide rules a device's clock needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub(crate) confirm_window: Duration,
    pub(crate) recycle_after: Duration,
}

/// The configurable behaviour of a device (the spec fields that are not live state).
#[derive(Debug, Clone)]
pub(crate) struct Behaviour {
    pub(crate) offline_reason: Option<String>,
    pub(crate) reconnect: Reconnect,
    pub(crate) second_login: SecondLoginMode,
    pub(crate) confirm_after: Duration,
    pub(crate) phantom_online: bool,
    pub(crate) stale_w_id: StaleWId,
    pub(crate) fault: Fault,
    pub(crate) slow: Duration,
}

/// A second-login prompt on the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// When the person taps confirm; `None` if nobody will.
    pub(crate) confirm_at: Option<Timestamp>,
    /// When the prompt lapses unconfirmed.
    pub(crate) expires_at: Timestamp,
    /// wkteam: the login instance id the confirmed login will have (it rotates then).
    pub(crate) new_w_id: Option<Arc<str>>,
}

/// A wkteam wId that a confirmed prompt replaced: the shelf re-indexes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rotation {
    /// The wId that stops resolving.
    pub(crate) old: Option<Arc<str>>,
    /// The wId that is current from now on.
    pub(crate) new: Arc<str>,
}

/// A QR login in progress (or done: `completed_at`).
#[derive(Debug, Clone)]
pub(crate) struct QrSession {
    pub(crate) uuid: Arc<str>,
    /// wkteam: the login instance id `iPadLogin` handed out; becomes current on login.
    pub(crate) w_id: Option<Arc<str>>,
    pub(crate) issued_at: Timestamp,
    pub(crate) completed_at: Option<Timestamp>,
}

/// How many wechatpro endpoints are subject to the 1 s spacing rule.
pub(crate) const SPACED_ENDPOINTS: usize = 7;

/// One simulated device.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: Arc<str>,
    pub(crate) behaviour: Behaviour,
    pub(crate) online: bool,
    /// wkteam only: the current login instance id.
    pub(crate) w_id: Option<Arc<str>>,
    pub(crate) last_login: Timestamp,
    /// When the device was last reset (wechatpro); restarts the recycle clock.
    pub(crate) reset_at: Option<Timestamp>,
    pub(crate) prompt: Option<Prompt>,
    pub(crate) qr: Option<QrSession>,
    /// wechatpro: when each spaced endpoint was last called for this device.
    pub(crate) last_calls: [Option<Timestamp>; SPACED_ENDPOINTS],
    /// wkteam: when `offlineReason` last answered for this device.
    pub(crate) reason_asked_at: Option<Timestamp>,
}

impl Device {
    /// A fresh device from its spec; `w_id` is the (already resolved) wkteam instance id.
    pub(crate) fn new(spec: DeviceSpec, w_id: Option<Arc<str>>, start: Timestamp) -> Device {
        Device {
            id: Arc::from(spec.id),
            behaviour: Behaviour {
                offline_reason: spec.offline_reason,
                reconnect: spec.reconnect,
                second_login: spec.second_login,
                confirm_after: spec.confirm_after,
                phantom_online: spec.phantom_online,
                stale_w_id: spec.stale_w_id,
                fault: spec.fault,
                slow: spec.slow,
            },
            online: spec.online,
            w_id,
            last_login: spec.last_login.unwrap_or(start),
            reset_at: None,
            prompt: None,
            qr: None,
            last_calls: [None; SPACED_ENDPOINTS],
            reason_asked_at: None,
        }
    }

    /// Applies whatever came due by `now`: a confirmed prompt logs the device in at its
    /// confirm time (a wkteam login rotates the wId: returned, for the shelf's index); an
    /// expired one disappears.
    pub(crate) fn settle(&mut self, now: Timestamp) -> Option<Rotation> {
        let prompt = self.prompt.as_ref()?;
        match prompt.confirm_at {
            Some(at) if at <= now => {
                let new_w_id = prompt.new_w_id.clone();
                self.online = true;
                self.last_login = at;
                self.prompt = None;
                let new = new_w_id?;
                let old = self.w_id.replace(new.clone());
                Some(Rotation { old, new })
            }
            _ if prompt.expires_at <= now => {
                self.prompt = None;
                None
            }
            _ => None,
        }
    }

    /// Offline for at least `recycle_after` since the last login or reset.
    pub(crate) fn recycled(&self, now: Timestamp, rules: Rules) -> bool {
        let since = match self.reset_at {
            Some(reset) if reset > self.last_login => reset,
            _ => self.last_login,
        };
        !self.online && after(since, rules.recycle_after) <= now
    }

    /// Shows a second-login prompt now (replacing any earlier one) and returns it. With
    /// `confirm`, the person confirms after `confirm_after` if that is inside the window.
    /// `new_w_id` (wkteam) becomes the device's wId if the prompt is confirmed.
    pub(crate) fn show_prompt(
        &mut self,
        now: Timestamp,
        rules: Rules,
        new_w_id: Option<Arc<str>>,
    ) -> Prompt {
        let confirm = self.behaviour.second_login == SecondLoginMode::Confirm
            && self.behaviour.confirm_after < rules.confirm_window;
        let prompt = Prompt {
            confirm_at: confirm.then(|| after(now, self.behaviour.confirm_after)),
            expires_at: after(now, rules.confirm_window),
            new_w_id,
        };
        self.prompt = Some(prompt.clone());
        prompt
    }

    /// Whether second login is refused outright (by behaviour or because of recycling).
    pub(crate) fn refuses_second_login(&self, now: Timestamp, rules: Rules) -> bool {
        matches!(
            self.behaviour.second_login,
            SecondLoginMode::Refuse | SecondLoginMode::RefuseNested
        ) || self.recycled(now, rules)
    }

    /// A person logs in now (QR scan or a confirmed prompt seen from the control API): the
    /// device is online, the prompt is gone, a QR login in progress completes. The caller
    /// rotates the wkteam wId.
    pub(crate) fn person_login(&mut self, now: Timestamp) {
        self.online = true;
        self.last_login = now;
        self.prompt = None;
        if let Some(qr) = &mut self.qr {
            qr.completed_at.get_or_insert(now);
        }
    }

    /// wechatpro spacing: records this call and says whether it may run (the previous call
    /// to the same endpoint was at least 1 s ago).
    pub(crate) fn spaced(&mut self, slot: usize, now: Timestamp) -> bool {
        let Some(last) = self.last_calls.get_mut(slot) else {
            return true;
        };
        let ok = last.is_none_or(|prev| after(prev, Duration::from_secs(1)) <= now);
        *last = Some(now);
        ok
    }

    /// Applies a control-API patch (raw state changes; no login side effects).
    pub(crate) fn apply(&mut self, patch: DevicePatch) {
        let b = &mut self.behaviour;
        if let Some(online) = patch.online {
            self.online = online;
        }
        if let Some(reason) = patch.offline_reason {
            b.offline_reason = reason;
        }
        if let Some(last_login) = patch.last_login {
            self.last_login = last_login;
        }
        b.reconnect = patch.reconnect.unwrap_or(b.reconnect);
        b.second_login = patch.second_login.unwrap_or(b.second_login);
        b.confirm_after = patch.confirm_after.unwrap_or(b.confirm_after);
        b.phantom_online = patch.phantom_online.unwrap_or(b.phantom_online);
        b.stale_w_id = patch.stale_w_id.unwrap_or(b.stale_w_id);
        b.fault = patch.fault.unwrap_or(b.fault);
        b.slow = patch.slow.unwrap_or(b.slow);
    }

    /// The device as the control API shows it (call after [`Device::settle`]).
    pub(crate) fn view(&self, vendor: VendorKind, now: Timestamp, rules: Rules) -> DeviceView {
        let b = &self.behaviour;
        DeviceView {
            vendor,
            id: self.id.to_string(),
            online: self.online,
            w_id: self.w_id.as_deref().map(str::to_owned),
            offline_reason: b.offline_reason.clone(),
            last_login: self.last_login,
            reconnect: b.reconnect,
            second_login: b.second_login,
            confirm_after: b.confirm_after,
            phantom_online: b.phantom_online,
            stale_w_id: b.stale_w_id,
            fault: b.fault,
            slow: b.slow,
            recycled: self.recycled(now, rules),
            pending_confirm_at: self.prompt.as_ref().and_then(|p| p.confirm_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        confirm_window: Duration::from_secs(180),
        recycle_after: Duration::from_secs(20 * 86_400),
    };

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn device(online: bool, mode: SecondLoginMode, confirm_after: u64) -> Device {
        let mut spec = DeviceSpec::new(VendorKind::Gewe, "wx_1");
        spec.online = online;
        spec.second_login = mode;
        spec.confirm_after = Duration::from_secs(confirm_after);
        Device::new(spec, None, t(0))
    }

    #[test]
    fn confirmed_prompt_logs_in_at_its_confirm_time() {
        let mut d = device(false, SecondLoginMode::Confirm, 5);
        let p = d.show_prompt(t(10), RULES, None);
        assert_eq!(p.confirm_at, Some(t(15)));
        d.settle(t(14));
        assert!(!d.online);
        assert_eq!(
            d.view(VendorKind::Gewe, t(14), RULES).pending_confirm_at,
            Some(t(15))
        );
        d.settle(t(100));
        assert!(d.online);
        assert_eq!(d.last_login, t(15));
        assert_eq!(d.prompt, None);
    }

    #[test]
    fn a_confirmed_wkteam_prompt_rotates_the_w_id_at_its_confirm_time() {
        let mut d = device(false, SecondLoginMode::Confirm, 5);
        d.w_id = Some(Arc::from("w-old"));
        d.show_prompt(t(0), RULES, Some(Arc::from("w-new")));
        assert_eq!(d.settle(t(4)), None);
        assert_eq!(
            d.w_id.as_deref(),
            Some("w-old"),
            "not before the confirmation"
        );
        let rotation = d.settle(t(5));
        assert_eq!(
            rotation,
            Some(Rotation {
                old: Some(Arc::from("w-old")),
                new: Arc::from("w-new")
            })
        );
        assert!(d.online && d.w_id.as_deref() == Some("w-new"));
        assert_eq!(d.settle(t(6)), None, "rotates once");
    }

    #[test]
    fn unconfirmed_or_too_late_prompt_expires() {
        for (mode, after_secs) in [(SecondLoginMode::Never, 5), (SecondLoginMode::Confirm, 180)] {
            let mut d = device(false, mode, after_secs);
            let p = d.show_prompt(t(0), RULES, None);
            assert_eq!(p.confirm_at, None);
            assert_eq!(p.expires_at, t(180));
            d.settle(t(179));
            assert!(d.prompt.is_some());
            d.settle(t(180));
            assert!(d.prompt.is_none() && !d.online);
        }
    }

    #[test]
    fn recycling_counts_from_last_login_or_reset_and_only_offline() {
        let mut d = device(false, SecondLoginMode::Confirm, 5);
        let day = 86_400;
        assert!(!d.recycled(t(20 * day - 1), RULES));
        assert!(d.recycled(t(20 * day), RULES));
        assert!(d.refuses_second_login(t(20 * day), RULES));
        d.reset_at = Some(t(20 * day));
        assert!(!d.recycled(t(21 * day), RULES));
        d.online = true;
        assert!(!d.recycled(t(100 * day), RULES));
    }

    #[test]
    fn person_login_completes_qr_and_clears_prompt() {
        let mut d = device(false, SecondLoginMode::Never, 5);
        d.show_prompt(t(0), RULES, None);
        d.qr = Some(QrSession {
            uuid: Arc::from("u"),
            w_id: None,
            issued_at: t(1),
            completed_at: None,
        });
        d.person_login(t(2));
        assert!(d.online && d.prompt.is_none());
        assert_eq!(d.last_login, t(2));
        assert_eq!(d.qr.as_ref().and_then(|q| q.completed_at), Some(t(2)));
    }

    #[test]
    fn spacing_needs_one_second_between_calls_to_one_endpoint() {
        let mut d = device(true, SecondLoginMode::Confirm, 5);
        let ms = |m: i64| {
            t(0).checked_add(jiff::SignedDuration::from_millis(m))
                .unwrap()
        };
        assert!(d.spaced(0, ms(0)));
        assert!(!d.spaced(0, ms(999)));
        assert!(d.spaced(1, ms(999)), "another endpoint has its own clock");
        assert!(d.spaced(0, ms(1999)));
        assert!(d.spaced(0, ms(2999)));
    }

    #[test]
    fn patch_changes_only_given_fields() {
        let mut d = device(true, SecondLoginMode::Confirm, 5);
        d.behaviour.offline_reason = Some("r".to_owned());
        d.apply(DevicePatch {
            online: Some(false),
            fault: Some(Fault::Close),
            ..DevicePatch::default()
        });
        assert!(!d.online);
        assert_eq!(d.behaviour.fault, Fault::Close);
        assert_eq!(d.behaviour.offline_reason.as_deref(), Some("r"));
        d.apply(DevicePatch {
            offline_reason: Some(None),
            ..DevicePatch::default()
        });
        assert_eq!(d.behaviour.offline_reason, None);
    }
}
