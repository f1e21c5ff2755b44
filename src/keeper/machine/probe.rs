//! Wakes and probe answers: the cadence, the consecutive-answer counters per source, blackout
//! windows, and the transitions between unknown, online, suspect and a confirmed offline.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Time;

use super::{Action, Level, Machine, Phase, Source, after, human, log};
use crate::incident::IncidentKind;
use crate::vendor::Probe;

/// Consecutive answers, per source. Transient: a restart starts counting afresh.
#[derive(Debug, Clone, Default)]
pub(super) struct Counters {
    /// Consecutive online answers from the primary probe.
    pub(super) online: u32,
    /// Consecutive offline answers, `[primary, kick check]`.
    pub(super) offline: [u32; 2],
    /// The kick check's last trustworthy answer was offline.
    pub(super) kick_offline: bool,
    /// A run of unknown answers is under way (logged once), per source.
    pub(super) unknown_run: [bool; 2],
}

/// A call other than a probe the runner was asked to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    Reconnect,
    SecondLogin,
    FollowLogin,
    OfflineReason,
    LastLogin,
    FindAccount,
}

/// What the runner was asked for and has not answered yet.
#[derive(Debug, Clone, Default)]
pub(super) struct InFlight {
    /// Probe answers still to come (1, or 2 with a kick check).
    pub(super) probes: u8,
    /// The ladder call still to be answered.
    pub(super) call: Option<Call>,
}

impl InFlight {
    /// Takes the answer to `call` if it was asked for; false for a stray answer.
    pub(super) fn take(&mut self, call: Call) -> bool {
        let expected = self.call == Some(call);
        if expected {
            self.call = None;
        }
        expected
    }
}

fn index(source: Source) -> usize {
    match source {
        Source::Primary => 0,
        Source::KickCheck => 1,
    }
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Primary => "status probe",
        Source::KickCheck => "kick check",
    }
}

impl Machine {
    /// Rule 1: probe, and schedule the next wake keeping the phase of the schedule.
    pub(super) fn on_wake(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let scheduled = self.next_wake;
        if std::mem::take(&mut self.reopen_due) {
            self.reopen_incidents(now, out);
        }
        if let Some(call) = self.interrupted.take() {
            self.finish_interrupted(call, now, out);
        }
        if self.inflight.probes > 0 || self.inflight.call.is_some() {
            // The runner awaits answers in order: an answer still outstanding at a wake was
            // dropped. Emit no call now; a dropped reconnect counts as provider trouble, a
            // dropped prompt as sent (rule 5), and the next wake probes again.
            self.inflight.probes = 0;
            self.abandon_call(now, out);
            self.schedule_after(scheduled, now);
            return;
        }
        self.schedule_after(scheduled, now);
        self.emit_probe(out);
    }

    /// The next wake: one cadence (of the phase the wake leaves behind) after the wake that
    /// was scheduled, or after `now` when that is already past.
    fn schedule_after(&mut self, scheduled: Timestamp, now: Timestamp) {
        let cadence = self.cadence(now);
        let next = after(scheduled, cadence);
        self.next_wake = if next > now {
            next
        } else {
            after(now, cadence)
        };
    }

    fn emit_probe(&mut self, out: &mut Vec<Action>) {
        if let Phase::AwaitingConfirm {
            login_uuid: Some(uuid),
            ..
        } = &self.state.phase
        {
            out.push(Action::FollowLogin { uuid: uuid.clone() });
            self.inflight.call = Some(Call::FollowLogin);
        }
        let kick_check = self.settings.has_kick_check;
        out.push(Action::Probe { kick_check });
        self.inflight.probes = if kick_check { 2 } else { 1 };
    }

    /// `recheck_interval` while a prompt or an accepted reconnect is being checked: a prompt
    /// until it expires, a reconnect for one `confirm_window` after it was sent (a row from an
    /// older build: after `since`). After that, answers that stay unknown must not keep the
    /// provider busy: `poll_interval`.
    fn cadence(&self, now: Timestamp) -> Duration {
        let checking = match &self.state.phase {
            Phase::AwaitingConfirm { expires_at, .. } => now < *expires_at,
            Phase::Recovering => self.state.episode.as_ref().is_some_and(|e| {
                let sent = e.reconnect_sent_at.unwrap_or(self.state.since);
                e.checking_reconnect && now < after(sent, self.settings.policy.confirm_window)
            }),
            _ => false,
        };
        if checking {
            self.settings.policy.recheck_interval
        } else {
            self.settings.policy.poll_interval
        }
    }

    /// Probes again soon (after a reconnect was accepted or a prompt was sent).
    pub(super) fn recheck_soon(&mut self, now: Timestamp) {
        self.next_wake = after(now, self.settings.policy.recheck_interval);
    }

    /// The local time of day of `now`, for windows.
    pub(super) fn local_time(&self, now: Timestamp) -> Time {
        self.settings.timezone.to_datetime(now).time()
    }

    fn in_blackout(&self, now: Timestamp) -> bool {
        if self.settings.blackout.is_empty() {
            return false;
        }
        let time = self.local_time(now);
        self.settings.blackout.iter().any(|w| w.contains(time))
    }

    /// Rule 2: one probe answer.
    pub(super) fn on_probe(
        &mut self,
        source: Source,
        answer: Probe,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.inflight.probes = self.inflight.probes.saturating_sub(1);
        if !self.in_blackout(now) {
            if let Some(max_age) = self.lookup_before(source, &answer, now) {
                // Rule 9: the deadline is checked once the held answer counts.
                self.hold(answer, max_age, out);
                return;
            }
            match answer {
                Probe::Unknown(error) => self.on_unknown(source, &error, out),
                Probe::Online { last_login } => {
                    self.on_online(source, now, out);
                    self.note_last_login(last_login, now);
                }
                Probe::Offline { last_login, .. } => {
                    self.note_last_login(last_login, now);
                    self.on_offline(source, now, out);
                }
            }
        }
        self.check_deadline(now, out);
    }

    pub(super) fn on_unknown(
        &mut self,
        source: Source,
        error: &dyn std::fmt::Display,
        out: &mut Vec<Action>,
    ) {
        let run = &mut self.counters.unknown_run[index(source)];
        if !*run {
            *run = true;
            let message = format!(
                "no trustworthy answer from the {}: {error}; not counted",
                source_name(source)
            );
            log(out, "device.unknown", Level::Warn, message);
        }
    }

    /// An online answer from `source` (also what a second login's `AlreadyLoggedIn` means).
    pub(super) fn on_online(&mut self, source: Source, now: Timestamp, out: &mut Vec<Action>) {
        let c = &mut self.counters;
        c.unknown_run[index(source)] = false;
        c.offline[index(source)] = 0;
        match source {
            Source::Primary => c.online = c.online.saturating_add(1),
            Source::KickCheck => c.kick_offline = false,
        }
        let agreed = c.online > 0 && !c.kick_offline;
        if agreed {
            self.state.last_online_at = Some(self.state.last_online_at.map_or(now, |t| t.max(now)));
        }
        let enough = agreed && c.online >= self.settings.policy.online_after;
        if enough && self.state.phase != Phase::Online {
            self.go_online(now, out);
        } else if enough && !self.online_settled {
            // Stored online: a `Resolve` lost in a crash may have left an incident open.
            self.online_settled = true;
            self.resolve_device_incidents(out);
        }
    }

    pub(super) fn on_offline(&mut self, source: Source, now: Timestamp, out: &mut Vec<Action>) {
        let c = &mut self.counters;
        c.unknown_run[index(source)] = false;
        let run = &mut c.offline[index(source)];
        *run = run.saturating_add(1);
        let run = *run;
        match source {
            Source::Primary => c.online = 0,
            Source::KickCheck => c.kick_offline = true,
        }
        if self.state.phase.in_episode() {
            self.offline_in_episode(now, out);
        } else if run >= self.settings.policy.offline_after {
            self.confirm_offline(source, run, now, out);
        } else {
            self.set_phase(Phase::Suspect, now);
            let message = format!(
                "offline answer {run} of {} from the {}",
                self.settings.policy.offline_after,
                source_name(source)
            );
            log(out, "device.suspect", Level::Info, message);
        }
    }

    /// A confirmed-offline device answered offline again: this moves the ladder on.
    fn offline_in_episode(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if self
            .inflight
            .call
            .is_some_and(|call| call != Call::FollowLogin)
        {
            return; // the other source of the same wake; a rung is already on its way
        }
        match &self.state.phase {
            Phase::Offline => self.climb(now, out),
            Phase::Recovering => self.reconnect_checked(now, out),
            Phase::AwaitingConfirm { .. } => {
                // Only a fresh offline answer at or after the expiry, with no online run under
                // way, judges the prompt; so the next rung always follows an offline answer.
                if self.prompt_expired(now) && self.counters.online == 0 {
                    self.unconfirmed(now, out);
                }
            }
            Phase::LoginRequired => self.prompt_if_possible(now, out),
            Phase::Unknown | Phase::Online | Phase::Suspect | Phase::Recycled => {}
        }
    }

    fn confirm_offline(&mut self, source: Source, run: u32, now: Timestamp, out: &mut Vec<Action>) {
        self.set_phase(Phase::Offline, now);
        self.state.episode = Some(super::Episode::new(now));
        self.fault_noted = false;
        let from = match source {
            Source::Primary => String::new(),
            Source::KickCheck => " from the kick check".to_owned(),
        };
        let message = format!("offline confirmed after {run} offline answers{from}");
        log(out, "device.offline", Level::Warn, message);
        self.check_deadline(now, out);
        if self.state.phase == Phase::Offline {
            self.climb(now, out);
        }
    }

    /// Rule 6: back online. Resolves every device incident kind and ends the episode.
    fn go_online(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let incidents = std::mem::take(&mut self.state.open_incidents);
        if let Phase::AwaitingConfirm { prompt_at, .. } = self.state.phase {
            self.state.unconfirmed_streak = 0;
            let waited = human(now.duration_since(prompt_at).unsigned_abs());
            let message = format!("second-login prompt confirmed ({waited} after it was sent)");
            log(out, "recovery.confirmed", Level::Info, message);
        } else if incidents.contains(&IncidentKind::ManualLoginRequired) {
            self.state.unconfirmed_streak = 0; // a person logged in: the row is broken
        }
        let message = match self.state.episode.take() {
            Some(episode) => {
                let gone = now.duration_since(episode.started_at).unsigned_abs();
                format!("online again after {} offline", human(round_secs(gone)))
            }
            None => "online".to_owned(),
        };
        log(out, "device.online", Level::Info, message);
        // Every device kind, not only those recorded: the ledger may know of one the stored
        // state lost in a crash, and ignores the others.
        self.resolve_device_incidents(out);
        self.online_settled = true;
        self.set_phase(Phase::Online, now);
    }

    /// A vendor last-login time: feeds `last_online_at` when later (capped at `now`).
    pub(super) fn note_last_login(&mut self, last_login: Option<Timestamp>, now: Timestamp) {
        let Some(at) = last_login.map(|t| t.min(now)) else {
            return;
        };
        if self.state.last_online_at.is_none_or(|known| at > known) {
            self.state.last_online_at = Some(at);
            self.persist_due = true;
        }
    }

    /// Whether the current episode has a flag set (false without an episode).
    pub(super) fn episode_flag(&self, flag: impl Fn(&super::Episode) -> bool) -> bool {
        self.state.episode.as_ref().is_some_and(flag)
    }
}

/// Whole seconds, for messages.
pub(super) fn round_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}
