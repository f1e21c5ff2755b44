//! The pure per-device state machine: every probe, ladder, incident and recycle decision.
//!
//! `handle(event, now) -> actions`: no sockets, no sleeps, no clock reads, no randomness (the
//! runner adds jitter). The runner (`keeper::runner`) turns timers and vendor answers into
//! [`Event`]s and carries out the [`Action`]s in order; it asks [`Machine::next_wake`] when to
//! send the next [`Event::Wake`]. Everything that must survive a restart lives in
//! [`DeviceState`], which the runner persists whenever an action list contains
//! [`Action::Persist`]. Transient counters (consecutive answers per source, calls in flight)
//! live in [`Machine`] only.
//!
//! Files: `probe.rs` (wakes, answers, counters, blackout, online/offline), `ladder.rs` (the
//! ladder, the offline reason, reconnect, manual login), `second_login.rs` (the prompt),
//! `identity.rs` (WKTeam's rotating wId), `deadline.rs` (recycle milestones), `restore.rs`
//! (keeping the ledger in step after a crash, finishing interrupted calls), `state.rs` (what
//! is stored), `tests/` (one or more tests per rule, named after it, on a fake clock).
//!
//! # Rules
//! 1. **Scheduling.** The first wake is `first_wake`. Each wake probes (both sources when the
//!    device has a kick check) and schedules the next one a cadence after the previous
//!    scheduled wake, or a cadence after `now` when that is already past. The cadence is
//!    `recheck_interval` while a prompt awaits confirmation (until its `expires_at`) or an
//!    accepted reconnect is being checked (for one `confirm_window` after it was sent),
//!    `poll_interval` otherwise: answers that stay unknown must not keep the fast cadence. A
//!    wake that finds an answer still outstanding emits no call: the runner awaits answers in
//!    order, so the call was dropped. A dropped reconnect is handled like a provider fault, a
//!    dropped prompt counts as sent (rule 5); the next wake probes again.
//! 2. **Answers.** Unknown answers never count: they neither add to nor break a run, and a
//!    device that only ever had unknown answers stays `unknown`. The first unknown of a run is
//!    logged (`device.unknown`, warn). Answers observed inside a provider blackout window are
//!    ignored entirely. Each source (primary, kick check) has its own offline run; fewer than
//!    `offline_after` offline answers make the device `suspect`, `offline_after` from either
//!    source confirm it offline and start an episode and the ladder. Online needs
//!    `online_after` consecutive primary online answers while the kick check's last answer is
//!    not offline (a kick check saying offline wins over a phantom online primary).
//!    `last_online_at` moves to `now` on an online answer while both sources agree the device
//!    is online, and to a vendor last-login time when that is later (capped at `now`: a
//!    gateway clock running ahead must not push the recycle deadline out).
//! 3. **Ladder**, per episode, each rung only where supported: the offline reason (wechatpro
//!    once per episode, plus its last login time; WKTeam at most once per 12 h across
//!    episodes; a failed ask is not fatal), reconnect (up to `reconnect_attempts`; accepted →
//!    re-probe after `recheck_interval`, one offline answer fails it; `无需重连` while offline
//!    fails it), second login (inside `second_login_hours`, attempts left, unconfirmed streak
//!    below the limit, no reason 4–8, no refusal, not recycled; confirmed by an online answer,
//!    unconfirmed by an offline answer once `confirm_window` passed; a new WKTeam `wId` is
//!    stored; a GeWe dialog uuid is followed with `FollowLogin` before each recheck probe),
//!    then `manual_login_required` with the steps tried and the offline reason. Outside
//!    `second_login_hours` (everything else allowing a prompt) the incident opens at once and
//!    the prompt goes out at the first offline answer inside the window. A shrise device has
//!    no rungs: manual login at once.
//! 4. **Recycle deadline** (`last_online_at + recycle_after`), checked on every probe answer
//!    and sweep while an episode runs: one `recycle_warning` per milestone (several passed at
//!    once → one message naming the smallest), `device_recycled` at the deadline (which
//!    resolves the warning and ends the ladder). No `last_online_at`, no recycle incidents.
//! 5. **Provider faults.** A reconnect that failed with provider trouble (transport, timeout,
//!    bad status, malformed, credentials, busy, rate limited) or was never answered uses no
//!    attempt and does not fail the rung: a reconnect cannot get the account flagged, so it is
//!    retried after the next offline answer, logged (`recovery.skipped`) once per episode. The
//!    retries are capped: the fault after `reconnect_attempts + 2` of them in an episode fails
//!    the rung. A second-login prompt is taken back (and retried the same way) only when the
//!    request certainly never reached the gateway: busy request slots, rate limited,
//!    credentials rejected. Any other failure (timeout, transport, bad status, malformed) and
//!    a prompt never answered count as a sent prompt: wechatpro holds `loginAgain` until the
//!    person confirms, so an unconfirmed prompt often ends in a timeout, and prompting again
//!    would flag the account. The attempt is kept, the device stays `awaiting_confirm`, and
//!    the probes or the expiry decide (an expiry adds to the unconfirmed streak).
//! 6. **Back online** resolves every device incident kind (`manual_login_required`,
//!    `recycle_warning`, `device_recycled`), recorded open or not, ends the episode and
//!    persists. The first online run after a restart does so too when the stored phase was
//!    already `online` (nothing is persisted then).
//! 7. **Persist** is emitted exactly when the stored state changed in anything but
//!    `last_online_at`; an unchanged online probe never writes. It comes right before every
//!    `Reconnect` and `SecondLogin`, with the attempt already counted (and a prompt already
//!    `awaiting_confirm`): the call may block for minutes, and a crash during it must not send
//!    it again after the restart. A later change in the same list adds a `Persist` at the
//!    end. `last_online_at` is therefore up to one transition stale in the store; the runner
//!    also persists at shutdown, and the recycle deadline (days) tolerates that.
//! 8. **Restarts.** The state and the ledger are written through separate queues, so a crash
//!    can lose either side of a change. The first wake of a machine built from a stored state
//!    that records open incidents emits an `Open` (`escalate: false`, summary and detail as
//!    they read now) for each before its probe, and rule 6 resolves every device kind. The
//!    ledger treats an `Open` of an open key as a silent update and ignores a `Resolve` of a
//!    key that is not open, so both are safe to repeat. Every ladder call is recorded in the
//!    state (`call_in_flight`) and persisted before it goes out; a stored state that still
//!    records one was stopped during it, and the first wake finishes the job: an interrupted
//!    reconnect is retried like one never answered (rule 5), an interrupted prompt counts as
//!    sent (the probes or its expiry decide; a WKTeam account is looked up first, rule 9),
//!    an interrupted question (offline reason, last login) is asked again.
//! 9. **Rotating login ids** (WKTeam, `identity.rs`): an offline or unknown-wId answer that
//!    would confirm offline, that comes in an episode, or that is the first after a restart
//!    found an unfinished prompt is held until the account is looked up (`FindAccount`); an
//!    account logged in under another wId has it adopted (persisted, `device.w_id_adopted`)
//!    and is probed again, and the held answer does not count.
//!
//! # For the runner
//! - Carry out actions in order and feed each call's answer before the next wake;
//!   `Probe { kick_check: true }` is answered twice, primary first.
//! - A probe the runner skips (closed provider gate) MUST be fed as `Probe::Unknown(..)`,
//!   once per source, rather than not at all: a wake must never find an answer outstanding
//!   (one that does emits no probe, so the device goes a whole cadence unwatched). A ladder
//!   call it does not make must be fed an error that says the request never left (`Busy`,
//!   `RateLimited` or `CredentialsRejected`, whichever holds): a prompt left unanswered, or
//!   answered with any other error, counts as sent (rule 5).
//! - Re-read [`Machine::next_wake`] after every `handle`, not only after a wake: an accepted
//!   reconnect or a sent prompt brings the next wake forward to `recheck_interval`.
//! - `Persist` comes right before a `Reconnect` or `SecondLogin`, and/or last in a list (a
//!   list may hold two). Write [`Machine::state`] when it is reached, and finish that write
//!   before starting the call that follows it: the state is already the list's final state,
//!   which shows the attempt counted. Persist once more at shutdown (the latest
//!   `last_online_at`).
//!
//! # Decisions where the spec left room
//! - A second-login answer `AlreadyLoggedIn` counts as one primary online answer.
//! - A second login refused by the vendor (`Refused`, `VendorUnknown`, `Unsupported`,
//!   `DeviceGone`) keeps the attempt and ends second logins for the episode: the gateways
//!   refuse once only a QR login works.
//! - The prompt's expiry is judged only on an offline answer at or after `expires_at` while
//!   the primary's online run is 0, and that answer takes the next rung. Unknown and blackout
//!   answers and wakes never judge it: without an offline answer the device stays
//!   `awaiting_confirm` (probed at `poll_interval` once expired), so no further prompt goes
//!   out on no evidence. An online run in progress at expiry still confirms it. A restored
//!   `awaiting_confirm` device is re-probed first and judged by its stored `expires_at`.
//! - The unconfirmed streak also resets when the device comes back while
//!   `manual_login_required` is open: a person logged in, which is what the gateways require
//!   before they accept second logins again.
//! - A recycled device gets no `manual_login_required` on top of `device_recycled` (it needs a
//!   reset first); one already open stays open until the device is online.
//! - `device.suspect` is logged for every offline answer below `offline_after`; Persist only on
//!   entering `suspect`.
//! - A GeWe `checkLogin` that reports the login done stops the following; probes still decide.
//! - Blackout windows are the device's own provider's (`Settings::blackout`) and apply to the
//!   kick check's answers too: during a gateway self-check the device's state is unknowable.
//! - Steps read as outcomes ("reconnect failed"); the same outcome twice in a row reads
//!   "second login not confirmed (2 times)".
//! - A WKTeam reason asked less than 12 h ago is not asked again in the new episode, nor
//!   later in that episode.

mod deadline;
mod identity;
mod ladder;
mod probe;
mod restore;
mod second_login;
mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::{Policy, Window};
use crate::incident::{IncidentKind, Resolution};
use crate::vendor::{OfflineReason, Probe, ReconnectOutcome, SecondLogin, VendorError, VendorKind};

pub(crate) use state::split_times;
pub use state::{DeviceState, Episode, LadderCall, Phase};

use probe::{Counters, InFlight};

/// What the machine needs to know about its device, from the validated config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The device's configured name: incident summaries name it ("sales-01 needs a QR login").
    pub name: String,
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
    /// The vendor's login instance id rotates with every login (WKTeam `wId`): an offline
    /// answer is checked against the provider's logged-in accounts first (rule 9).
    pub rotating_id: bool,
    /// The vendor holds the second-login call until the person answers the prompt
    /// (wechatpro `loginAgain`, WKTeam `secondLogin`); said so in the log.
    pub prompt_blocks: bool,
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
    /// The answer to [`Action::FindAccount`]: the account's current login id if the provider
    /// lists it as logged in, `None` if it does not.
    AccountFound(Result<Option<String>, VendorError>),
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
    /// Look the account up among the provider's logged-in accounts (WKTeam `queryLoginWx`)
    /// to learn its current login id; a listing asked for at most `max_age` ago will do
    /// (zero: one asked for after this action).
    FindAccount {
        /// How old a shared listing may be.
        max_age: Duration,
    },
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
        /// Why: the device is back, or (a recycle warning) the device was recycled.
        resolution: Resolution,
    },
    /// Write one structured log line (DESIGN.md §6 event names).
    Log(Note),
    /// [`Machine::state`] changed in a way worth keeping: write it to the store. Comes right
    /// before a [`Action::Reconnect`] or [`Action::SecondLogin`] (written before the call, so a
    /// crash while it blocks does not resend it) and last when anything changed after.
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

/// One device's decisions.
#[derive(Debug, Clone)]
pub struct Machine {
    settings: Settings,
    state: DeviceState,
    next_wake: Timestamp,
    /// Consecutive answers per source (transient: a restart starts counting afresh).
    counters: Counters,
    /// What the runner was asked for and has not answered yet.
    inflight: InFlight,
    /// A provider fault on a rung was logged in this episode.
    fault_noted: bool,
    /// `last_online_at` moved for a reason worth writing (a vendor last-login time).
    persist_due: bool,
    /// The state as of the start of this `handle`, or of the last `Persist` it emitted.
    baseline: DeviceState,
    /// The stored state records open incidents the ledger may have lost: re-open them at the
    /// first wake.
    reopen_due: bool,
    /// The device was confirmed online since this machine was built (and every device
    /// incident resolved then).
    online_settled: bool,
    /// A primary answer waiting for [`Action::FindAccount`]'s answer (rule 9).
    held: Option<identity::Held>,
    /// The next offline or unknown-wId answer is checked with a fresh look-up whatever the
    /// phase (a restart found an unfinished prompt: the login may have rotated the wId).
    verify_next: bool,
    /// Look-ups that failed in a row.
    lookup_failures: u32,
    /// The ladder call the stored state records as in flight: interrupted by a stop, finished
    /// at the first wake (rule 8).
    interrupted: Option<LadderCall>,
}

impl Machine {
    /// A machine resuming `state` (new or loaded from the store); its first wake is at
    /// `first_wake` (the supervisor spreads first wakes over the poll interval). A device that
    /// was awaiting confirmation is re-probed at its first wake, and the incidents the state
    /// records open are opened again then (rule 8: the ledger may have lost them in a crash).
    pub fn new(settings: Settings, mut state: DeviceState, first_wake: Timestamp) -> Machine {
        if state.phase.in_episode() && state.episode.is_none() {
            // A hand-edited or damaged row: keep the phase, give the ladder an episode to use.
            state.episode = Some(Episode::new(state.since));
        }
        let unfinished_prompt = matches!(state.phase, Phase::AwaitingConfirm { .. })
            || state.call_in_flight == Some(LadderCall::SecondLogin);
        Machine {
            verify_next: settings.rotating_id && unfinished_prompt,
            interrupted: state.call_in_flight,
            held: None,
            lookup_failures: 0,
            settings,
            reopen_due: !state.open_incidents.is_empty(),
            online_settled: false,
            baseline: state.clone(),
            state,
            next_wake: first_wake,
            counters: Counters::default(),
            inflight: InFlight::default(),
            fault_noted: false,
            persist_due: false,
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

    /// The DESIGN.md §7 state word, for status output and metrics.
    pub fn status(&self) -> &'static str {
        self.state.phase.status()
    }

    /// When the vendor recycles the device unless it logs in, if it was ever seen online.
    pub fn recycle_deadline(&self) -> Option<Timestamp> {
        self.state
            .recycle_deadline(self.settings.policy.recycle_after)
    }

    /// Applies a reloaded config without losing the device's state or counters (a reload
    /// that keeps the device must not restart its offline count).
    pub fn set_settings(&mut self, settings: Settings) {
        if !settings.has_kick_check {
            // A removed kick check must not keep the device offline with its last answer.
            self.counters.kick_offline = false;
            self.counters.offline[1] = 0;
        }
        self.settings = settings;
    }

    /// Decides what to do about `event`, observed at `now`.
    pub fn handle(&mut self, event: Event, now: Timestamp) -> Vec<Action> {
        self.baseline = self.state.clone();
        let mut out = Vec::new();
        match event {
            Event::Wake => self.on_wake(now, &mut out),
            Event::Sweep => self.check_deadline(now, &mut out),
            Event::Probe { source, answer } => self.on_probe(source, answer, now, &mut out),
            Event::Reconnect(answer) => self.on_reconnect(answer, now, &mut out),
            Event::SecondLogin(answer) => self.on_second_login(answer, now, &mut out),
            Event::LoginFollowed(answer) => self.on_login_followed(answer),
            Event::OfflineReason(answer) => self.on_offline_reason(answer, now, &mut out),
            Event::LastLogin(answer) => self.on_last_login(answer, now, &mut out),
            Event::AccountFound(answer) => self.on_account_found(answer, now, &mut out),
        }
        self.persist_changes(&mut out);
        out
    }

    /// Rule 7: `Persist` when the state changed materially since the baseline (the start of
    /// this `handle` or the last `Persist` in it).
    fn persist_changes(&mut self, out: &mut Vec<Action>) {
        if std::mem::take(&mut self.persist_due) || self.baseline.differs_materially(&self.state) {
            out.push(Action::Persist);
            self.baseline = self.state.clone();
        }
    }

    /// `Persist` right before a ladder call, with the attempt already counted and the call
    /// recorded in flight: the call may block for minutes (wechatpro holds a prompt until it
    /// is confirmed), and a crash during it must neither send it again after the restart nor
    /// forget it.
    pub(super) fn persist_before_call(&mut self, out: &mut Vec<Action>) {
        self.persist_changes(out);
    }

    /// Sends a ladder call: recorded in flight and persisted first (rule 8), then the action.
    pub(super) fn begin_call(&mut self, call: LadderCall, action: Action, out: &mut Vec<Action>) {
        self.state.call_in_flight = Some(call);
        self.persist_before_call(out);
        out.push(action);
        self.inflight.call = Some(match call {
            LadderCall::Reconnect => probe::Call::Reconnect,
            LadderCall::SecondLogin => probe::Call::SecondLogin,
            LadderCall::OfflineReason => probe::Call::OfflineReason,
            LadderCall::LastLogin => probe::Call::LastLogin,
        });
    }

    /// The ladder call's answer came (or it was given up): no longer in flight.
    pub(super) fn end_call(&mut self) {
        self.state.call_in_flight = None;
    }

    /// Moves to `phase`; `since` moves only when the status word changes.
    fn set_phase(&mut self, phase: Phase, now: Timestamp) {
        if phase.status() != self.state.phase.status() {
            self.state.since = now;
        }
        self.state.phase = phase;
    }
}

/// Appends a log line to `out`.
fn log(out: &mut Vec<Action>, event: &'static str, level: Level, message: String) {
    out.push(Action::Log(Note {
        event,
        level,
        message,
    }));
}

/// `t + d`, saturating at the end of time (config durations are bounded; this never panics).
fn after(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// A duration as people read it and as the config spells it: `3m`, `2d 23h` (humantime
/// says `2days`; `d` matches `recycle_warn_before = ["3d"]`).
fn human(d: Duration) -> String {
    humantime::format_duration(d)
        .to_string()
        .replace("days", "d")
        .replace("day", "d")
}
