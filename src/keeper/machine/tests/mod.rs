//! Unit tests of the machine, one or more per rule, named after the rule. Time is a fake
//! clock: plain timestamps the tests set and advance; the machine never reads a clock.

mod deadline;
mod expiry;
mod faults;
mod identity;
mod interrupted;
mod ladder;
mod probe;
mod reason;
mod restart;
mod second_login;

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Action, DeviceState, Event, Machine, Settings, Source};
use crate::config::{Policy, Window};
use crate::incident::IncidentKind;
use crate::vendor::{Probe, VendorError, VendorKind};

/// 10:00 UTC: inside the default `second_login_hours` (08:00-22:30, zone UTC in tests).
pub(super) fn t0() -> Timestamp {
    ts("2026-11-21T10:00:00Z")
}

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The device settings the supervisor would compute for `kind` with the default policy.
pub(super) fn settings(kind: VendorKind) -> Settings {
    Settings {
        name: "sales-01".to_owned(),
        policy: Policy::default(),
        kind,
        can_reconnect: kind == VendorKind::Gewe,
        can_second_login: kind != VendorKind::Shrise,
        has_kick_check: false,
        rotating_id: kind == VendorKind::Wkteam,
        prompt_blocks: matches!(kind, VendorKind::Wechatpro | VendorKind::Wkteam),
        blackout: Vec::new(),
        timezone: TimeZone::UTC,
    }
}

pub(super) fn window(s: &str) -> Window {
    Window::parse(s).unwrap()
}

pub(super) fn online() -> Probe {
    Probe::Online { last_login: None }
}

pub(super) fn offline() -> Probe {
    Probe::Offline {
        message: None,
        last_login: None,
    }
}

pub(super) fn unknown() -> Probe {
    Probe::Unknown(VendorError::Timeout)
}

/// A machine and the fake clock it is driven with.
pub(super) struct Rig {
    pub(super) m: Machine,
    pub(super) now: Timestamp,
    /// What the provider's listing of logged-in accounts says of the device (WKTeam look-ups
    /// of rule 9 are answered with it as they come): its wId, or `None` (not logged in).
    pub(super) listed: Option<String>,
}

impl Rig {
    /// A new device at `t0`, first wake at `t0`.
    pub(super) fn new(settings: Settings) -> Rig {
        Rig::at(settings, t0())
    }

    /// A new device whose clock starts at `now`.
    pub(super) fn at(settings: Settings, now: Timestamp) -> Rig {
        Rig::restored(settings, DeviceState::new(now, None), now)
    }

    /// A machine resumed from a stored state, first wake at `now`.
    pub(super) fn restored(settings: Settings, state: DeviceState, now: Timestamp) -> Rig {
        Rig {
            m: Machine::new(settings, state, now),
            now,
            listed: None,
        }
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now = self.now.checked_add(d).unwrap();
    }

    pub(super) fn feed(&mut self, event: Event) -> Vec<Action> {
        self.m.handle(event, self.now)
    }

    /// Moves the clock to the next wake (if it is later) and wakes the machine.
    pub(super) fn wake(&mut self) -> Vec<Action> {
        self.now = self.now.max(self.m.next_wake());
        self.feed(Event::Wake)
    }

    /// One probe answer; a look-up it asks for is answered with [`Rig::listed`] at once,
    /// and the actions of both are returned.
    pub(super) fn answer(&mut self, source: Source, answer: Probe) -> Vec<Action> {
        let mut acts = self.feed(Event::Probe { source, answer });
        if acts.iter().any(|a| matches!(a, Action::FindAccount { .. })) {
            acts.extend(self.feed(Event::AccountFound(Ok(self.listed.clone()))));
        }
        acts
    }

    /// One wake that must probe, answered by the primary probe; all actions of both.
    pub(super) fn poll(&mut self, answer: Probe) -> Vec<Action> {
        let mut acts = self.wake();
        assert!(
            acts.iter().any(|a| matches!(a, Action::Probe { .. })),
            "wake did not probe: {acts:?}"
        );
        acts.extend(self.answer(Source::Primary, answer));
        acts
    }

    /// Polls online until the device is online.
    pub(super) fn bring_online(&mut self) {
        for _ in 0..self.m.settings().policy.online_after {
            self.poll(online());
        }
        assert_eq!(self.m.status(), "online");
    }

    /// Online, then offline answers until offline is confirmed; the last poll's actions.
    pub(super) fn confirm_offline(&mut self) -> Vec<Action> {
        self.bring_online();
        let mut acts = Vec::new();
        for _ in 0..self.m.settings().policy.offline_after {
            acts = self.poll(offline());
        }
        assert!(has_event(&acts, "device.offline"), "{acts:?}");
        acts
    }
}

/// The log event names in `acts`, in order.
pub(super) fn events(acts: &[Action]) -> Vec<&'static str> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Log(note) => Some(note.event),
            _ => None,
        })
        .collect()
}

pub(super) fn has_event(acts: &[Action], event: &str) -> bool {
    events(acts).contains(&event)
}

/// The message of the first log line with `event`.
pub(super) fn message(acts: &[Action], event: &str) -> String {
    acts.iter()
        .find_map(|a| match a {
            Action::Log(note) if note.event == event => Some(note.message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {event} in {acts:?}"))
}

pub(super) fn persisted(acts: &[Action]) -> bool {
    acts.iter().filter(|a| **a == Action::Persist).count() == 1
}

/// The vendor calls and incident changes in `acts` (no logs, no persist), in order.
pub(super) fn calls(acts: &[Action]) -> Vec<Action> {
    acts.iter()
        .filter(|a| !matches!(a, Action::Log(_) | Action::Persist))
        .cloned()
        .collect()
}

/// The `Open` for `kind` in `acts`: summary, detail, escalate.
pub(super) fn opened(
    acts: &[Action],
    kind: IncidentKind,
) -> Option<(String, serde_json::Value, bool)> {
    acts.iter().find_map(|a| match a {
        Action::Open {
            kind: k,
            summary,
            detail,
            escalate,
        } if *k == kind => Some((summary.clone(), detail.clone(), *escalate)),
        _ => None,
    })
}

pub(super) fn resolved(acts: &[Action], kind: IncidentKind) -> bool {
    acts.iter()
        .any(|a| matches!(a, Action::Resolve { kind: k, .. } if *k == kind))
}

pub(super) fn sends(acts: &[Action], action: &Action) -> bool {
    acts.contains(action)
}

/// A probe whose offline answer a WKTeam device checks against a listing of logged-in
/// accounts up to `max_age` old (rule 9).
pub(super) fn probe_then_lookup(max_age: Duration) -> Vec<Action> {
    vec![
        Action::Probe { kick_check: false },
        Action::FindAccount { max_age },
    ]
}

/// Whether `acts` asks for a second-login prompt.
pub(super) fn prompts(acts: &[Action]) -> bool {
    acts.iter().any(|a| matches!(a, Action::SecondLogin { .. }))
}
