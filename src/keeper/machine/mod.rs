//! The pure per-device state machine: every probe, ladder, incident and recycle decision.
//!
//! `handle(event, now) -> actions`: no sockets, no sleeps, no clock reads. The runner
//! ([`super::runner`]) turns timers and vendor answers into [`Event`]s and carries out the
//! [`Action`]s in order; it asks [`Machine::next_wake`] when to send the next [`Event::Wake`].
//! Everything that must survive a restart lives in [`DeviceState`], which the runner persists
//! whenever an action list contains [`Action::Persist`].

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::config::{Policy, Window};
use crate::incident::IncidentKind;
use crate::vendor::{OfflineReason, Probe, ReconnectOutcome, SecondLogin, VendorError, VendorKind};

/// What the machine needs to know about its device, from the validated config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The device's policy (defaults with its overrides applied).
    pub policy: Policy,
    /// The device's vendor (decides the rungs and the offline-reason rules).
    pub kind: VendorKind,
    /// The reconnect rung exists (GeWe).
    pub can_reconnect: bool,
    /// The second-login rung exists (GeWe with a `region_id`, wechatpro, WKTeam).
    pub can_second_login: bool,
    /// The device also has a shrise kick check.
    pub has_kick_check: bool,
    /// The provider's blackout windows: answers received inside them are ignored.
    pub blackout: Vec<Window>,
    /// The zone every window is read in.
    pub timezone: TimeZone,
}

/// Which probe an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The device's own provider.
    Primary,
    /// The shrise kick check.
    KickCheck,
}

/// Something that happened to the device, fed to [`Machine::handle`].
#[derive(Debug, Clone)]
pub enum Event {
    /// The time [`Machine::next_wake`] named has come (or a restart/reload resumed the device).
    Wake,
    /// The recycle sweep ran: re-evaluate the deadline and its milestones.
    Sweep,
    /// An answer to [`Action::Probe`] from one source.
    Probe {
        /// Which probe answered.
        source: Source,
        /// The answer.
        answer: Probe,
    },
    /// The answer to [`Action::Reconnect`].
    Reconnect(Result<ReconnectOutcome, VendorError>),
    /// The answer to [`Action::SecondLogin`].
    SecondLogin(Result<SecondLogin, VendorError>),
    /// The answer to [`Action::FollowLogin`]: whether GeWe reports the dialog login done.
    LoginFollowed(Result<bool, VendorError>),
    /// The answer to [`Action::AskOfflineReason`].
    OfflineReason(Result<Option<OfflineReason>, VendorError>),
    /// The answer to [`Action::AskLastLogin`].
    LastLogin(Result<Option<Timestamp>, VendorError>),
}

/// Something the runner must do, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Probe the device's status; and its kick check too when `kick_check` is set. Each answer
    /// comes back as one [`Event::Probe`].
    Probe {
        /// Also probe the shrise kick check.
        kick_check: bool,
    },
    /// Ask the gateway to reconnect (GeWe).
    Reconnect,
    /// Send the second-login prompt; `wait` bounds vendors that block until confirmed.
    SecondLogin {
        /// How long a blocking vendor may hold the call.
        wait: Duration,
    },
    /// Follow a GeWe dialog login with `checkLogin` (completes the login on the gateway).
    FollowLogin {
        /// The `uuid` the dialog login answered.
        uuid: String,
    },
    /// Ask why the device went offline (wechatpro, WKTeam).
    AskOfflineReason,
    /// Ask when the device last logged in (wechatpro).
    AskLastLogin,
    /// Tell the ledger an incident of this device holds now.
    Open {
        /// The incident kind (device kinds only).
        kind: IncidentKind,
        /// One line a person understands.
        summary: String,
        /// What the kind needs: `deadline`/`remaining` for recycle kinds, `steps` and
        /// `offline_reason` for login kinds.
        detail: serde_json::Value,
        /// Send it again although it is open (a new recycle milestone).
        escalate: bool,
    },
    /// Tell the ledger an incident of this device no longer holds.
    Resolve {
        /// The incident kind.
        kind: IncidentKind,
    },
    /// Write one structured log line (DESIGN.md §6 event names).
    Log(Note),
    /// [`Machine::state`] changed in a way worth keeping: write it to the store.
    Persist,
}

/// One log line the machine asks for; the runner adds `device` and `provider`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The stable event name, e.g. `device.offline`.
    pub event: &'static str,
    /// How loud.
    pub level: Level,
    /// Plain words for a person reading the log.
    pub message: String,
}

/// Log levels the machine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal transitions.
    Info,
    /// Something a person may need to look at.
    Warn,
    /// Something failed.
    Error,
}

/// Where the device stands; the status word of DESIGN.md §7 is [`Phase::status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// No trustworthy answer yet (start-up, provider down, only unknown answers).
    Unknown,
    /// Logged in.
    Online,
    /// Some offline answers, fewer than `offline_after`.
    Suspect,
    /// Confirmed offline, no rung running (e.g. waiting for `second_login_hours`).
    Offline,
    /// A rung is running or its effect is being checked.
    Recovering,
    /// A second-login prompt awaits the person's confirmation.
    AwaitingConfirm {
        /// When the prompt was sent.
        prompt_at: Timestamp,
        /// When the prompt expires (`prompt_at + confirm_window`).
        expires_at: Timestamp,
        /// GeWe: the dialog login's uuid, followed with `checkLogin`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        login_uuid: Option<String>,
    },
    /// A person must do a QR login (`manual_login_required` is open).
    LoginRequired,
    /// The recycle deadline passed (`device_recycled` is open).
    Recycled,
}

impl Phase {
    /// The DESIGN.md §7 state word.
    pub fn status(&self) -> &'static str {
        match self {
            Phase::Unknown => "unknown",
            Phase::Online => "online",
            Phase::Suspect => "suspect",
            Phase::Offline => "offline",
            Phase::Recovering => "recovering",
            Phase::AwaitingConfirm { .. } => "awaiting_confirm",
            Phase::LoginRequired => "login_required",
            Phase::Recycled => "recycled",
        }
    }
}

/// One offline episode: from a confirmed offline until the device is online again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// When offline was confirmed.
    pub started_at: Timestamp,
    /// Reconnects sent in this episode.
    pub reconnects: u32,
    /// Second-login prompts sent in this episode.
    pub second_logins: u32,
    /// What was tried, in order, in plain words (goes into `detail.steps`).
    pub steps: Vec<String>,
    /// The vendor's offline reason, once asked.
    pub offline_reason: Option<String>,
    /// True when the reason says a person logged out, logged in elsewhere or changed a
    /// password (wechatpro reasons 4–8): no prompt is sent.
    pub reason_needs_person: bool,
    /// The offline reason was asked in this episode.
    pub reason_asked: bool,
    /// The recycle milestones (seconds before the deadline) already warned in this episode.
    pub warned_milestones: Vec<u64>,
}

/// Everything about a device that must survive a restart. Serialized as JSON into the store;
/// new fields need `#[serde(default)]` so older rows still load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// Where the device stands.
    pub phase: Phase,
    /// When `phase.status()` last changed.
    pub since: Timestamp,
    /// The last time the device was seen online, or the vendor's later last-login time.
    pub last_online_at: Option<Timestamp>,
    /// WKTeam: the current `wId` (rotates with every login).
    #[serde(default)]
    pub w_id: Option<String>,
    /// Second-login prompts that went unconfirmed in a row, across incidents.
    #[serde(default)]
    pub unconfirmed_streak: u32,
    /// The current offline episode, if any.
    #[serde(default)]
    pub episode: Option<Episode>,
    /// WKTeam: when `offlineReason` was last asked (at most once per 12 h).
    #[serde(default)]
    pub reason_asked_at: Option<Timestamp>,
    /// The device incidents this machine has told the ledger are open.
    #[serde(default)]
    pub open_incidents: BTreeSet<IncidentKind>,
}

impl DeviceState {
    /// A device never seen before: unknown since `now`, with the configured `wId`.
    pub fn new(now: Timestamp, w_id: Option<String>) -> DeviceState {
        DeviceState {
            phase: Phase::Unknown,
            since: now,
            last_online_at: None,
            w_id,
            unconfirmed_streak: 0,
            episode: None,
            reason_asked_at: None,
            open_incidents: BTreeSet::new(),
        }
    }

    /// `last_online_at + recycle_after`, when the device was ever seen online.
    pub fn recycle_deadline(&self, recycle_after: Duration) -> Option<Timestamp> {
        let last = self.last_online_at?;
        let span = jiff::SignedDuration::try_from(recycle_after).ok()?;
        last.checked_add(span).ok()
    }
}

/// One device's decisions.
#[derive(Debug, Clone)]
pub struct Machine {
    settings: Settings,
    state: DeviceState,
    next_wake: Timestamp,
}

impl Machine {
    /// A machine resuming `state` (new or loaded from the store); its first wake is at
    /// `first_wake` (the supervisor spreads first wakes over the poll interval). A device that
    /// was awaiting confirmation is re-probed at its first wake.
    pub fn new(settings: Settings, state: DeviceState, first_wake: Timestamp) -> Machine {
        Machine {
            settings,
            state,
            next_wake: first_wake,
        }
    }

    /// The state to persist and report.
    pub fn state(&self) -> &DeviceState {
        &self.state
    }

    /// The settings the machine runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// When the runner should send the next [`Event::Wake`].
    pub fn next_wake(&self) -> Timestamp {
        self.next_wake
    }

    /// Decides what to do about `event`, observed at `now`.
    pub fn handle(&mut self, event: Event, now: Timestamp) -> Vec<Action> {
        let _ = (event, now);
        Vec::new()
    }
}
