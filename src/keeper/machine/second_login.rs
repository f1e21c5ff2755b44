//! The second-login rung: when a prompt may be sent, sending it, its answer (a new WKTeam
//! `wId`, a GeWe dialog uuid to follow), and judging it confirmed or unconfirmed.

use std::time::Duration;

use jiff::Timestamp;

use super::ladder::never_sent;
use super::probe::Call;
use super::{Action, LadderCall, Level, Machine, Phase, Source, after, human, log};
use crate::vendor::{SecondLogin, VendorError, VendorKind};

/// How much longer than the confirm window a blocking second-login call may take.
const CALL_SLACK: Duration = Duration::from_secs(30);

/// Why no prompt may be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    /// The vendor (or this device's config) has no second login.
    NoRung,
    /// The vendor refused a prompt in this episode.
    Refused,
    /// The offline reason says a person must act (wechatpro reasons 4–8).
    NeedsPerson(String),
    /// The recycle deadline passed.
    Recycled,
    /// Every prompt of this episode was used.
    AttemptsUsed { used: u32, attempts: u32 },
    /// This many prompts in a row went unconfirmed.
    Unconfirmed(u32),
    /// Outside `second_login_hours`; the prompt waits for the window to open.
    OutsideHours,
}

impl Machine {
    fn second_login_block(&self, now: Timestamp) -> Option<Block> {
        let policy = &self.settings.policy;
        let episode = self.state.episode.as_ref()?;
        let streak = self.state.unconfirmed_streak;
        Some(if !self.settings.can_second_login {
            Block::NoRung
        } else if episode.second_login_refused {
            Block::Refused
        } else if episode.reason_needs_person {
            Block::NeedsPerson(episode.offline_reason.clone().unwrap_or_default())
        } else if self.is_recycled(now) {
            Block::Recycled
        } else if episode.second_logins >= policy.second_login_attempts {
            Block::AttemptsUsed {
                used: episode.second_logins,
                attempts: policy.second_login_attempts,
            }
        } else if streak >= policy.max_unconfirmed_second_logins {
            Block::Unconfirmed(streak)
        } else if !policy.second_login_hours.contains(self.local_time(now)) {
            Block::OutsideHours
        } else {
            return None;
        })
    }

    /// Step c from the ladder: prompt, or say why not and go to manual login.
    pub(super) fn second_login_rung(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let Some(block) = self.second_login_block(now) else {
            self.send_prompt(now, out);
            return;
        };
        let (message, step) = self.explain(&block);
        log(out, "recovery.skipped", Level::Info, message);
        if let Some(step) = step {
            self.with_episode(|e| e.push_step(step));
        }
        self.open_manual(now, out);
    }

    /// The log line and the step (if it adds anything to the steps) for a block.
    fn explain(&self, block: &Block) -> (String, Option<String>) {
        let hours = self.settings.policy.second_login_hours;
        match block {
            Block::NoRung => {
                let why = match self.settings.kind {
                    VendorKind::Gewe => "GeWe needs the device's region_id for it".to_owned(),
                    kind => format!("{kind} has none"),
                };
                let message = format!("no second login for this device: {why}");
                (message, Some("no second login available".to_owned()))
            }
            Block::Refused => ("no second login: the vendor refused it".to_owned(), None),
            Block::NeedsPerson(text) => (
                format!("no second login: the offline reason says a person must act ({text})"),
                Some(format!("no second login after offline reason {text:?}")),
            ),
            Block::Recycled => ("no second login: the device is recycled".to_owned(), None),
            Block::AttemptsUsed { used, attempts } => {
                let message =
                    format!("no more second logins: attempts used ({used} of {attempts})");
                let step = (*used == 0).then(|| "second login disabled".to_owned());
                (message, step)
            }
            Block::Unconfirmed(n) => (
                format!("no second login: the last {n} prompts went unconfirmed"),
                Some(format!(
                    "second login skipped after {n} unconfirmed in a row"
                )),
            ),
            Block::OutsideHours => {
                let opens = hours.start().strftime("%H:%M").to_string();
                let message = format!(
                    "no second login outside second_login_hours {hours}; the prompt waits for {opens}"
                );
                (message, Some(format!("second login waits for {opens}")))
            }
        }
    }

    /// `login_required` and offline again: prompt if the window has opened meanwhile.
    pub(super) fn prompt_if_possible(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if self.prompt_allowed(now) {
            self.send_prompt(now, out);
        }
    }

    /// Whether a prompt may be sent now.
    pub(super) fn prompt_allowed(&self, now: Timestamp) -> bool {
        self.second_login_block(now).is_none()
    }

    fn send_prompt(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let window = self.settings.policy.confirm_window;
        let attempts = self.settings.policy.second_login_attempts;
        let mut sent = 0;
        self.with_episode(|e| {
            e.second_logins += 1;
            e.steps.push("second login sent".to_owned());
            sent = e.second_logins;
        });
        let phase = Phase::AwaitingConfirm {
            prompt_at: now,
            expires_at: after(now, window),
            login_uuid: None,
        };
        self.set_phase(phase, now);
        let wait = window.saturating_add(CALL_SLACK);
        let kind = self.settings.kind;
        let held = if self.settings.prompt_blocks {
            format!(
                "{kind} holds the call until the person confirms or the prompt lapses, at most {}",
                human(wait)
            )
        } else {
            format!("the prompt stays valid for {}", human(window))
        };
        let message = format!(
            "asking the gateway for a second-login prompt (attempt {sent} of {attempts}); {held}"
        );
        log(out, "recovery.second_login", Level::Info, message);
        self.begin_call(LadderCall::SecondLogin, Action::SecondLogin { wait }, out);
        self.recheck_soon(now);
    }

    /// The answer to [`Action::SecondLogin`].
    pub(super) fn on_second_login(
        &mut self,
        answer: Result<SecondLogin, VendorError>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.inflight.take(Call::SecondLogin) {
            return;
        }
        self.end_call();
        match answer {
            Ok(login) => self.prompt_shown(login, now, out),
            Err(VendorError::Unconfirmed(said)) => {
                // A blocking vendor gave up waiting for the person: the prompt lapsed.
                let message = format!("the gateway says the prompt lapsed: {said}");
                log(out, "recovery.second_login", Level::Warn, message);
                self.unconfirmed(now, out);
            }
            Err(VendorError::AlreadyLoggedIn(_)) => {
                self.on_online(Source::Primary, now, out);
                if matches!(self.state.phase, Phase::AwaitingConfirm { .. }) {
                    self.recheck_soon(now);
                }
            }
            Err(error) if never_sent(&error) => {
                self.undo_second_login();
                let why = format!("the provider failed ({error})");
                self.defer_rung("second login", &why, now, out);
            }
            Err(error) if error.is_provider_fault() => {
                let why = format!("the call failed ({error})");
                self.prompt_maybe_shown(&why, now, out);
            }
            Err(error) => {
                let message = format!("second login refused: {error}");
                log(out, "recovery.second_login", Level::Warn, message.clone());
                self.with_episode(|e| {
                    e.settle_step(message);
                    e.second_login_refused = true;
                });
                let phase = self.resting_phase();
                self.set_phase(phase, now);
                self.climb(now, out);
            }
        }
    }

    /// Takes back a prompt that never reached the gateway.
    pub(super) fn undo_second_login(&mut self) {
        self.with_episode(|e| {
            e.second_logins = e.second_logins.saturating_sub(1);
            e.steps.pop();
        });
    }

    /// The prompt's call failed after it may have reached the gateway (`why`: a timeout, a
    /// reset connection, a bad status or body, or no answer at all). wechatpro holds the call
    /// until the person confirms, so an unconfirmed prompt often ends this way: it counts as
    /// sent, and the probes or its expiry decide, as for a prompt known to be shown.
    pub(super) fn prompt_maybe_shown(&mut self, why: &str, now: Timestamp, out: &mut Vec<Action>) {
        let message = format!(
            "second-login prompt may be on the phone: {why}; counted as sent, probes decide"
        );
        log(out, "recovery.second_login", Level::Warn, message);
        self.recheck_soon(now);
    }

    /// The vendor accepted the prompt (a blocking vendor: the person confirmed it): keep the
    /// new `wId` (WKTeam) and the uuid to follow (GeWe); the probes decide.
    fn prompt_shown(&mut self, login: SecondLogin, now: Timestamp, out: &mut Vec<Action>) {
        let message = if self.settings.prompt_blocks {
            "the gateway reports the second login confirmed on the phone; probing to check"
                .to_owned()
        } else {
            format!(
                "the gateway showed the second-login prompt; waiting up to {} for the person to \
                 confirm",
                human(self.settings.policy.confirm_window)
            )
        };
        log(out, "recovery.second_login", Level::Info, message);
        if let Some(w_id) = login.new_w_id {
            self.state.w_id = Some(w_id);
        }
        if let Phase::AwaitingConfirm { login_uuid, .. } = &mut self.state.phase
            && login.login_uuid.is_some()
        {
            *login_uuid = login.login_uuid;
        }
        self.recheck_soon(now);
    }

    /// The answer to [`Action::FollowLogin`]: once GeWe reports the login done, stop
    /// following it; the probes decide whether the device is back.
    pub(super) fn on_login_followed(&mut self, answer: Result<bool, VendorError>) {
        if !self.inflight.take(Call::FollowLogin) {
            return;
        }
        if answer == Ok(true)
            && let Phase::AwaitingConfirm { login_uuid, .. } = &mut self.state.phase
        {
            *login_uuid = None;
        }
    }

    /// True while a prompt awaits confirmation and its window has passed.
    pub(super) fn prompt_expired(&self, now: Timestamp) -> bool {
        matches!(self.state.phase, Phase::AwaitingConfirm { expires_at, .. } if now >= expires_at)
    }

    /// The window passed without an online answer: count it and take the next step.
    pub(super) fn unconfirmed(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.state.unconfirmed_streak = self.state.unconfirmed_streak.saturating_add(1);
        self.with_episode(|e| e.settle_step("second login not confirmed".to_owned()));
        let message = format!(
            "second-login prompt not confirmed within {} ({} unconfirmed in a row)",
            human(self.settings.policy.confirm_window),
            self.state.unconfirmed_streak
        );
        log(out, "recovery.unconfirmed", Level::Warn, message);
        let phase = self.resting_phase();
        self.set_phase(phase, now);
        self.climb(now, out);
    }
}
