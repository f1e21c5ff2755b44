//! The persisted part of a device's machine: its [`Phase`], the current offline [`Episode`] and
//! the counters that must survive a restart, serialized as JSON into the store.
//!
//! Every field added after the first release carries `#[serde(default)]` so rows written by
//! an older build still load (a test pins this).

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::incident::IncidentKind;

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
    /// Confirmed offline, no rung running (e.g. a rung waits for the provider to recover).
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

    /// True while the device is confirmed offline (an episode runs): the phases in which the
    /// ladder climbs and the recycle deadline is watched.
    pub fn in_episode(&self) -> bool {
        !matches!(self, Phase::Unknown | Phase::Online | Phase::Suspect)
    }
}

/// One offline episode: from a confirmed offline until the device is online again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// When offline was confirmed.
    pub started_at: Timestamp,
    /// Reconnects sent in this episode.
    #[serde(default)]
    pub reconnects: u32,
    /// Second-login prompts sent in this episode.
    #[serde(default)]
    pub second_logins: u32,
    /// What was tried, in order, in plain words (goes into `detail.steps`).
    #[serde(default)]
    pub steps: Vec<String>,
    /// The vendor's offline reason, once asked.
    #[serde(default)]
    pub offline_reason: Option<String>,
    /// True when the reason says a person logged out, logged in elsewhere or changed a
    /// password (wechatpro reasons 4–8): no prompt is sent.
    #[serde(default)]
    pub reason_needs_person: bool,
    /// The offline-reason step was taken in this episode: asked, or (WKTeam) passed over
    /// because the reason was asked less than 12 h ago. Either way it is not taken again.
    #[serde(default)]
    pub reason_asked: bool,
    /// The recycle milestones (seconds before the deadline) already warned in this episode.
    #[serde(default)]
    pub warned_milestones: Vec<u64>,
    /// wechatpro: the last login time was asked in this episode (once per episode).
    #[serde(default)]
    pub last_login_asked: bool,
    /// A reconnect was accepted and the next probe decides whether it worked; kept so a
    /// restart judges the same reconnect rather than forgetting it.
    #[serde(default)]
    pub checking_reconnect: bool,
    /// The vendor refused the second login in this episode: only a QR login can help now.
    #[serde(default)]
    pub second_login_refused: bool,
    /// Reconnects that provider trouble kept from an answer in this episode (a fault, or a
    /// call never answered). They are retried without using an attempt, but only
    /// `reconnect_attempts + 2` times: after that a fault fails the rung.
    #[serde(default)]
    pub reconnect_faults: u32,
    /// When the last reconnect was sent: an accepted reconnect is re-probed at
    /// `recheck_interval` for one `confirm_window` from then, at `poll_interval` after.
    #[serde(default)]
    pub reconnect_sent_at: Option<Timestamp>,
}

impl Episode {
    /// A fresh episode, confirmed offline at `started_at`, nothing tried yet.
    pub fn new(started_at: Timestamp) -> Episode {
        Episode {
            started_at,
            reconnects: 0,
            second_logins: 0,
            steps: Vec::new(),
            offline_reason: None,
            reason_needs_person: false,
            reason_asked: false,
            warned_milestones: Vec::new(),
            last_login_asked: false,
            checking_reconnect: false,
            second_login_refused: false,
            reconnect_faults: 0,
            reconnect_sent_at: None,
        }
    }

    /// Replaces the last step (the one just sent) with its outcome, so `steps` reads as what
    /// happened ("reconnect failed") rather than what was attempted. The same outcome twice
    /// in a row reads "second login not confirmed (2 times)".
    pub(super) fn settle_step(&mut self, outcome: String) {
        self.steps.pop();
        if let Some(last) = self.steps.last_mut() {
            let (text, times) = split_times(last);
            if text == outcome {
                *last = format!("{outcome} ({} times)", times + 1);
                return;
            }
        }
        self.steps.push(outcome);
    }

    /// Appends a step unless it repeats the last one (a window that opens every morning must
    /// not grow the list by the same words each night).
    pub(super) fn push_step(&mut self, step: String) {
        if self.steps.last() != Some(&step) {
            self.steps.push(step);
        }
    }
}

/// `"x (3 times)"` → `("x", 3)`; anything else → `(step, 1)`: how an episode's step list
/// counts a repeated step, read back by whoever shows the steps (the notification renderer).
pub(crate) fn split_times(step: &str) -> (&str, u32) {
    let counted = step
        .strip_suffix(" times)")
        .and_then(|rest| rest.rsplit_once(" ("))
        .and_then(|(text, n)| Some((text, n.parse().ok()?)));
    counted.unwrap_or((step, 1))
}

/// A ladder call the machine sent and has not had the answer to. It is stored (before the call
/// goes out) so that a restart knows the call was interrupted and finishes the job rather than
/// forgetting it or sending it twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LadderCall {
    /// A GeWe reconnect.
    Reconnect,
    /// A second-login prompt (it may be on the phone).
    SecondLogin,
    /// The offline-reason question.
    OfflineReason,
    /// The wechatpro last-login question.
    LastLogin,
}

impl LadderCall {
    /// The call's name in log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            LadderCall::Reconnect => "reconnect",
            LadderCall::SecondLogin => "second login",
            LadderCall::OfflineReason => "offline reason",
            LadderCall::LastLogin => "last login",
        }
    }
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
    /// The ladder call sent and not answered yet (stored before it goes out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_in_flight: Option<LadderCall>,
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
            call_in_flight: None,
        }
    }

    /// `last_online_at + recycle_after`, when the device was ever seen online.
    pub fn recycle_deadline(&self, recycle_after: Duration) -> Option<Timestamp> {
        let last = self.last_online_at?;
        let span = jiff::SignedDuration::try_from(recycle_after).ok()?;
        last.checked_add(span).ok()
    }

    /// The DESIGN.md §7 state word (`online`, `awaiting_confirm`, ...).
    pub fn status(&self) -> &'static str {
        self.phase.status()
    }

    /// True when `other` differs in anything but `last_online_at`: the rule for
    /// [`super::Action::Persist`]. `last_online_at` moves with every online probe and is
    /// written with the next transition (or at shutdown) instead.
    pub(super) fn differs_materially(&self, other: &DeviceState) -> bool {
        let DeviceState {
            phase,
            since,
            last_online_at: _,
            w_id,
            unconfirmed_streak,
            episode,
            reason_asked_at,
            open_incidents,
            call_in_flight,
        } = self;
        *phase != other.phase
            || *since != other.since
            || *w_id != other.w_id
            || *unconfirmed_streak != other.unconfirmed_streak
            || *episode != other.episode
            || *reason_asked_at != other.reason_asked_at
            || *open_incidents != other.open_incidents
            || *call_in_flight != other.call_in_flight
    }
}
