//! Rotating login ids (WKTeam): the account is its `wcId`, the `wId` the status probe asks
//! about is only a cache of the account's current login, and every login (a confirmed second
//! login, a person's QR login, another tool's) makes a new one. A probe of an old wId answers
//! "unknown wId" on some gateways and `isOnline:false` on others, so an offline or unknown-wId
//! answer is not believed where it matters until the account has been looked up in the
//! provider's list of logged-in accounts (`queryLoginWx`).
//!
//! Rules (rule 9 of the machine):
//! - A primary answer that is offline or "unknown wId" is held, and the account looked up
//!   first, when it would confirm the device offline, when it comes in an episode (where it
//!   may move the ladder: a ladder call always follows an answer), and on the first such
//!   answer after a restart that found an unfinished second login in the store. In an episode
//!   an answer that can neither take a rung nor change the phase may be checked against a
//!   listing up to one poll interval old (one listing then serves the whole provider);
//!   everything else needs a listing asked for after the answer came.
//! - The account listed under another wId: that wId is adopted (persisted before anything
//!   else, logged `device.w_id_adopted`), the device is probed again with it, and the held
//!   answer counts for nothing (the old wId's offline answers are reset too).
//! - Listed under the same wId, or not listed: the held answer counts as it is ("unknown wId"
//!   and not listed is an offline answer: the account is logged in nowhere).
//! - The look-up failed: the held answer is unknown (never offline on no evidence), unless
//!   it failed [`TRUST_PROBE_AFTER`] times in a row: then the probe is believed, so a broken
//!   `queryLoginWx` cannot keep a device from recovery for ever.
//! - Kick-check answers are never held: they are not about the wId.

use std::time::Duration;

use jiff::Timestamp;

use super::probe::Call;
use super::{Action, Level, Machine, Phase, Source, log};
use crate::vendor::{Probe, VendorError};

/// Failed look-ups in a row after which an offline answer is believed without one.
pub(super) const TRUST_PROBE_AFTER: u32 = 3;

/// A primary answer waiting for the account's look-up.
#[derive(Debug, Clone)]
pub(super) enum Held {
    /// `isOnline:false` for the stored wId.
    Offline {
        /// The vendor's last login time, if the answer had one.
        last_login: Option<Timestamp>,
    },
    /// The gateway does not know the stored wId.
    Gone(VendorError),
}

impl Machine {
    /// Rule 9: whether this answer must wait for a look-up, and how old a listing may be.
    pub(super) fn lookup_before(
        &self,
        source: Source,
        answer: &Probe,
        now: Timestamp,
    ) -> Option<Duration> {
        if !self.settings.rotating_id || source != Source::Primary || self.inflight.call.is_some() {
            return None;
        }
        let offline = matches!(answer, Probe::Offline { .. });
        let gone = matches!(answer, Probe::Unknown(VendorError::DeviceGone(_)));
        if !offline && !gone {
            return None;
        }
        if self.verify_next {
            return Some(Duration::ZERO);
        }
        if !self.state.phase.in_episode() {
            let run = self.counters.offline[0].saturating_add(1);
            let confirms = run >= self.settings.policy.offline_after;
            return (gone || confirms).then_some(Duration::ZERO);
        }
        if self.answer_may_act(now) {
            Some(Duration::ZERO)
        } else {
            Some(self.settings.policy.poll_interval)
        }
    }

    /// In an episode: whether an offline answer now may take a rung or change the phase.
    fn answer_may_act(&self, now: Timestamp) -> bool {
        match &self.state.phase {
            Phase::Offline | Phase::Recovering => true,
            Phase::AwaitingConfirm { .. } => self.prompt_expired(now),
            Phase::LoginRequired => self.prompt_allowed(now),
            Phase::Recycled | Phase::Unknown | Phase::Online | Phase::Suspect => false,
        }
    }

    /// Holds `answer` and asks for the look-up.
    pub(super) fn hold(&mut self, answer: Probe, max_age: Duration, out: &mut Vec<Action>) {
        self.held = match answer {
            Probe::Offline { last_login, .. } => Some(Held::Offline { last_login }),
            Probe::Unknown(error) => Some(Held::Gone(error)),
            Probe::Online { .. } => None,
        };
        out.push(Action::FindAccount { max_age });
        self.inflight.call = Some(Call::FindAccount);
    }

    /// The answer to [`Action::FindAccount`]: the account's current wId if it is logged in.
    pub(super) fn on_account_found(
        &mut self,
        answer: Result<Option<String>, VendorError>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.inflight.take(Call::FindAccount) {
            return;
        }
        let Some(held) = self.held.take() else {
            return;
        };
        match answer {
            Ok(Some(w_id)) if self.state.w_id.as_deref() != Some(w_id.as_str()) => {
                self.adopt(w_id, out);
                return;
            }
            Ok(listed) => {
                self.lookup_failures = 0;
                self.verify_next = false;
                self.count_held(held, listed.is_some(), now, out);
            }
            Err(error) => self.lookup_failed(held, &error, now, out),
        }
        self.check_deadline(now, out);
    }

    /// The account logged in under `w_id`: keep it (persisted first) and probe again with it.
    fn adopt(&mut self, w_id: String, out: &mut Vec<Action>) {
        let old = self.state.w_id.replace(w_id.clone());
        self.counters.offline[0] = 0;
        self.lookup_failures = 0;
        self.verify_next = false;
        let was = old.as_deref().unwrap_or("none");
        let message = format!(
            "the account logged in again under a new wId ({was} → {w_id}); adopted it and \
             probing again: the old wId's answers do not count"
        );
        log(out, "device.w_id_adopted", Level::Info, message);
        self.persist_before_call(out);
        out.push(Action::Probe { kick_check: false });
        self.inflight.probes = 1;
    }

    /// The look-up said the wId is current (or the account is logged in nowhere): the held
    /// answer counts as it is.
    fn count_held(&mut self, held: Held, listed: bool, now: Timestamp, out: &mut Vec<Action>) {
        match held {
            Held::Offline { last_login } => {
                self.note_last_login(last_login, now);
                self.on_offline(Source::Primary, now, out);
            }
            Held::Gone(error) if listed => self.on_unknown(Source::Primary, &error, out),
            Held::Gone(_) => self.on_offline(Source::Primary, now, out),
        }
    }

    /// The look-up failed: the held answer is unknown, unless look-ups keep failing.
    fn lookup_failed(
        &mut self,
        held: Held,
        error: &VendorError,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.lookup_failures = self.lookup_failures.saturating_add(1);
        let failures = self.lookup_failures;
        match held {
            Held::Offline { last_login } if failures >= TRUST_PROBE_AFTER => {
                let message = format!(
                    "cannot look the account up ({error}), {failures} times in a row; \
                     believing the status probe"
                );
                log(out, "device.unknown", Level::Warn, message);
                self.note_last_login(last_login, now);
                self.on_offline(Source::Primary, now, out);
            }
            Held::Offline { .. } | Held::Gone(_) => {
                let why = format!(
                    "the answer for the stored wId cannot be checked: looking the account up \
                     failed ({error})"
                );
                self.on_unknown(Source::Primary, &why, out);
            }
        }
    }
}
