//! The recovery ladder: the offline-reason step, reconnect, and the manual-login incident at
//! the bottom. The second-login rung has its own file (`second_login.rs`).
//!
//! The ladder only moves on answers: a confirmed offline, an offline answer after a rung, or
//! the answer to a rung's call. Each step emits at most one call and waits for its answer.

use std::time::Duration;

use jiff::Timestamp;

use super::probe::Call;
use super::{Action, Episode, LadderCall, Level, Machine, Phase, after, log};
use crate::incident::IncidentKind;
use crate::vendor::{OfflineReason, ReconnectOutcome, VendorError, VendorKind};

/// WKTeam answers `offlineReason` at most once per 12 h.
const WKTEAM_REASON_INTERVAL: Duration = Duration::from_secs(12 * 3_600);

/// Faults beyond `reconnect_attempts` after which a reconnect kept from an answer counts as
/// failed: a provider that never answers must not hold the ladder on this rung for ever.
const RECONNECT_FAULT_SLACK: u32 = 2;

/// True when a failed call says nothing about the device: the provider is down, rejected our
/// credentials, or asked us to wait. A reconnect that failed so is retried without using up an
/// attempt (a reconnect cannot get the account flagged), up to a cap.
pub(super) fn is_provider_trouble(error: &VendorError) -> bool {
    error.is_provider_fault() || never_sent(error)
}

/// True when the request certainly never reached the gateway: our own request slots were all
/// busy, the vendor asked us to slow down, or it rejected our credentials. Only these take a
/// second-login prompt back; after any other failure it may be on the phone.
pub(super) fn never_sent(error: &VendorError) -> bool {
    error.is_credentials()
        || matches!(
            error,
            VendorError::Busy { .. } | VendorError::RateLimited(_)
        )
}

impl Machine {
    /// Takes the next step of the ladder for the current episode. Nothing while a call is
    /// outstanding (a look-up of rule 9): its answer moves the ladder on.
    pub(super) fn climb(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if self.state.episode.is_none() || self.inflight.call.is_some() {
            return;
        }
        if self.is_recycled(now) {
            let message = "no reconnect or second login: the device passed its recycle deadline";
            log(out, "recovery.skipped", Level::Info, message.to_owned());
            self.check_deadline(now, out);
            return;
        }
        if self.settings.kind == VendorKind::Shrise {
            let message = "shrise has no reconnect or second login; a person must log in";
            log(out, "recovery.skipped", Level::Info, message.to_owned());
            self.with_episode(|e| e.push_step("no automatic recovery on shrise".to_owned()));
            self.open_manual(now, out);
            return;
        }
        if self.ask_offline_reason(now, out) || self.ask_last_login(out) {
            return;
        }
        if self.settings.can_reconnect && self.reconnects_left() {
            self.send_reconnect(now, out);
            return;
        }
        self.second_login_rung(now, out);
    }

    /// Step a: wechatpro once per episode; WKTeam once per episode and at most once per 12 h
    /// (counted from when it was answered: a question a stop interrupted is asked again).
    fn ask_offline_reason(&mut self, now: Timestamp, out: &mut Vec<Action>) -> bool {
        let kind = self.settings.kind;
        if !matches!(kind, VendorKind::Wechatpro | VendorKind::Wkteam)
            || self.episode_flag(|e| e.reason_asked)
        {
            return false;
        }
        self.with_episode(|e| e.reason_asked = true);
        if kind == VendorKind::Wkteam {
            let recent = self
                .state
                .reason_asked_at
                .is_some_and(|at| now < after(at, WKTEAM_REASON_INTERVAL));
            if recent {
                return false;
            }
        }
        self.begin_call(LadderCall::OfflineReason, Action::AskOfflineReason, out);
        true
    }

    /// wechatpro: the last login time, once per episode (feeds the recycle deadline).
    fn ask_last_login(&mut self, out: &mut Vec<Action>) -> bool {
        if self.settings.kind != VendorKind::Wechatpro || self.episode_flag(|e| e.last_login_asked)
        {
            return false;
        }
        self.with_episode(|e| e.last_login_asked = true);
        self.begin_call(LadderCall::LastLogin, Action::AskLastLogin, out);
        true
    }

    /// The answer to [`Action::AskOfflineReason`]; a failure is not fatal.
    pub(super) fn on_offline_reason(
        &mut self,
        answer: Result<Option<OfflineReason>, VendorError>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.inflight.take(Call::OfflineReason) {
            return;
        }
        self.end_call();
        if self.settings.kind == VendorKind::Wkteam && !answer.as_ref().is_err_and(never_sent) {
            // The vendor counts the question once it reached it (at most once per 12 h).
            self.state.reason_asked_at = Some(now);
        }
        match answer {
            Ok(Some(reason)) => self.with_episode(|e| {
                e.reason_needs_person = reason.needs_person();
                e.offline_reason = Some(reason.text);
            }),
            Ok(None) => {}
            Err(error) => {
                let message = format!("could not ask the offline reason ({error}); continuing");
                log(out, "recovery.skipped", Level::Info, message);
            }
        }
        self.climb(now, out);
    }

    /// The answer to [`Action::AskLastLogin`]; a failure is not fatal.
    pub(super) fn on_last_login(
        &mut self,
        answer: Result<Option<Timestamp>, VendorError>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.inflight.take(Call::LastLogin) {
            return;
        }
        self.end_call();
        if let Ok(last_login) = answer {
            self.note_last_login(last_login, now);
        }
        self.climb(now, out);
    }

    fn reconnects_left(&self) -> bool {
        let attempts = self.settings.policy.reconnect_attempts;
        self.state
            .episode
            .as_ref()
            .is_some_and(|e| e.reconnects < attempts)
    }

    /// Step b: ask the gateway to reconnect.
    fn send_reconnect(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let attempts = self.settings.policy.reconnect_attempts;
        let mut sent = 0;
        self.with_episode(|e| {
            e.reconnects += 1;
            e.checking_reconnect = false;
            e.reconnect_sent_at = Some(now);
            e.steps.push("reconnect sent".to_owned());
            sent = e.reconnects;
        });
        self.set_phase(Phase::Recovering, now);
        let message = format!("reconnect sent (attempt {sent} of {attempts})");
        log(out, "recovery.reconnect", Level::Info, message);
        self.begin_call(LadderCall::Reconnect, Action::Reconnect, out);
    }

    /// The answer to [`Action::Reconnect`].
    pub(super) fn on_reconnect(
        &mut self,
        answer: Result<ReconnectOutcome, VendorError>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.inflight.take(Call::Reconnect) {
            return;
        }
        self.end_call();
        let failed = match answer {
            Ok(ReconnectOutcome::Accepted) => {
                self.with_episode(|e| e.checking_reconnect = true);
                self.recheck_soon(now);
                return;
            }
            Ok(ReconnectOutcome::NotNeeded(said)) => {
                let message = format!("reconnect answered {said:?} while probes say offline");
                log(out, "recovery.reconnect", Level::Warn, message);
                "reconnect: 无需重连 but offline".to_owned()
            }
            Err(error) if is_provider_trouble(&error) => {
                let why = format!("the provider failed ({error})");
                if self.reconnect_fault(&why, &error.to_string(), now, out) {
                    self.climb(now, out);
                }
                return;
            }
            Err(error) => {
                log(
                    out,
                    "recovery.reconnect",
                    Level::Warn,
                    format!("reconnect failed: {error}"),
                );
                format!("reconnect failed: {error}")
            }
        };
        self.with_episode(|e| e.settle_step(failed));
        self.climb(now, out);
    }

    /// An offline answer while `recovering`: the reconnect did not bring the device back
    /// (`recovering` is entered only by sending one; after a restart, the same holds).
    pub(super) fn reconnect_checked(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.with_episode(|e| {
            e.checking_reconnect = false;
            e.settle_step("reconnect failed".to_owned());
        });
        let message = "reconnect did not bring the device back: still offline".to_owned();
        log(out, "recovery.reconnect", Level::Warn, message);
        self.climb(now, out);
    }

    /// Provider trouble kept a reconnect from an answer (`why`; `cause` in a step): retried
    /// without using the attempt, unless this episode already retried `reconnect_attempts + 2`
    /// times; then the rung failed (true: the caller moves the ladder on).
    fn reconnect_fault(
        &mut self,
        why: &str,
        cause: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> bool {
        let cap = self
            .settings
            .policy
            .reconnect_attempts
            .saturating_add(RECONNECT_FAULT_SLACK);
        let mut faults = 0;
        self.with_episode(|e| {
            e.reconnect_faults = e.reconnect_faults.saturating_add(1);
            faults = e.reconnect_faults;
        });
        if faults <= cap {
            self.with_episode(|e| {
                e.reconnects = e.reconnects.saturating_sub(1);
                e.steps.pop();
            });
            self.defer_rung("reconnect", why, now, out);
            return false;
        }
        let message = format!("reconnect failed: {why}, {faults} times in this episode");
        log(out, "recovery.reconnect", Level::Warn, message);
        self.with_episode(|e| e.settle_step(format!("reconnect failed: {cause}")));
        true
    }

    /// Rule 5: a rung's call hit provider trouble (`why`). Nothing is used up; the rung is
    /// taken again after the next offline answer.
    pub(super) fn defer_rung(
        &mut self,
        rung: &str,
        why: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let phase = self.resting_phase();
        self.set_phase(phase, now);
        if !self.fault_noted {
            self.fault_noted = true;
            let message = format!("{rung} not done: {why}; retrying");
            log(out, "recovery.skipped", Level::Warn, message);
        }
    }

    /// A wake found a call unanswered: the runner dropped it. A reconnect is treated like
    /// provider trouble; a prompt may be on the phone, so it counts as sent (the probes or
    /// its expiry decide); an unanswered ask counts as asked (it is not fatal).
    pub(super) fn abandon_call(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let why = "the call was never answered";
        let call = self.inflight.call.take();
        if call.is_some_and(|c| c != Call::FollowLogin && c != Call::FindAccount) {
            self.end_call();
        }
        match call {
            Some(Call::Reconnect) => self.reconnect_abandoned(why, "never answered", now, out),
            Some(Call::SecondLogin) => self.prompt_maybe_shown(why, now, out),
            Some(Call::FindAccount) => self.held = None,
            Some(Call::OfflineReason | Call::LastLogin | Call::FollowLogin) | None => {}
        }
    }

    /// A reconnect that got no answer (dropped, or interrupted by a stop): provider trouble
    /// (rule 5); the next offline answer takes the rung again, or the next one once the retries
    /// are used up (a wake sends no call).
    pub(super) fn reconnect_abandoned(
        &mut self,
        why: &str,
        cause: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if self.reconnect_fault(why, cause, now, out) {
            let phase = self.resting_phase();
            self.set_phase(phase, now);
        }
    }

    /// Where a device rests between rungs: `login_required` once that incident is open.
    pub(super) fn resting_phase(&self) -> Phase {
        if self
            .state
            .open_incidents
            .contains(&IncidentKind::ManualLoginRequired)
        {
            Phase::LoginRequired
        } else {
            Phase::Offline
        }
    }

    /// Step d: open (or refresh, when the steps changed) `manual_login_required`.
    pub(super) fn open_manual(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.set_phase(Phase::LoginRequired, now);
        self.state
            .open_incidents
            .insert(IncidentKind::ManualLoginRequired);
        out.push(self.manual_incident());
    }

    /// The `Open` of `manual_login_required`: the steps tried and the offline reason.
    pub(super) fn manual_incident(&self) -> Action {
        let (steps, reason) = match &self.state.episode {
            Some(e) => (e.steps.clone(), e.offline_reason.clone()),
            None => (Vec::new(), None),
        };
        let mut summary = format!("{} needs a QR login", self.settings.name);
        if !steps.is_empty() {
            summary = format!("{summary}: {}", steps.join(", "));
        }
        let detail = serde_json::json!({ "steps": steps, "offline_reason": reason });
        Action::Open {
            kind: IncidentKind::ManualLoginRequired,
            summary,
            detail,
            escalate: false,
        }
    }

    /// Runs `f` on the current episode, if any.
    pub(super) fn with_episode(&mut self, f: impl FnOnce(&mut Episode)) {
        if let Some(episode) = self.state.episode.as_mut() {
            f(episode);
        }
    }

    /// True once the recycle deadline has passed.
    pub(super) fn is_recycled(&self, now: Timestamp) -> bool {
        self.recycle_deadline()
            .is_some_and(|deadline| now >= deadline)
    }
}
