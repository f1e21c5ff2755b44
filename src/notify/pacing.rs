//! When a notifier's queued messages go out, and together with which: quiet hours, grouping
//! and the rate limit (the Decisions of the notifications spec). Pure: no I/O and no clock;
//! the worker passes its queue, its recent sends and `now`, and gets a [`Plan`].
//!
//! Rules:
//! - Quiet hours (read in `daemon.timezone`): while the local clock is inside the window,
//!   warning-severity messages (firing and resolved) wait until the window ends; critical ones
//!   go at once.
//! - Grouping (channels people read, `group_wait` > 0): a device message waits `group_wait`
//!   from its `created_at`; every queued message with the same (provider, kind, transition)
//!   goes in the same unit once the oldest one's wait ended (two or more: [`Shape::Group`]).
//!   Provider incidents are never held and never grouped.
//! - Order: a message never goes before an earlier queued message of the same incident. A
//!   message whose earlier sibling is in another unit (or waits itself) sits this plan out.
//! - Holds (the worker's, passed in as [`Hold`]s): a message whose last attempt failed waits
//!   out its own backoff, and a message its notifier inhibits waits until that ends. A held
//!   message is in no unit, so it never blocks the units of other incidents; the later
//!   messages of its own incident wait with it.
//! - Rate limit (`rate_limit` sends in any 60 s; 0 = none): with as many ready units as the
//!   budget left, or fewer, the first ready unit goes; with more, the channels people read
//!   get the ready messages merged into one [`Shape::Digest`] (at most [`DIGEST_MAX`],
//!   criticals first, the rest in queue order; what does not fit stays queued), programs send
//!   one unit at a time. With no budget left everything waits until the oldest send leaves the window.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::channel::Shape;
use super::ledger::Message;
use crate::config::{Notifier, Window};
use crate::incident::{IncidentKind, Resolution, Severity, Subject};
use crate::store::Transition;

/// The span the rate limit counts sends in.
pub(crate) const RATE_WINDOW: SignedDuration = SignedDuration::from_secs(60);

/// The most messages one digest carries: about as many as a person reads in one go, and
/// what every channel's size limit shows in full. The rest wait for the next send.
pub(crate) const DIGEST_MAX: usize = 30;

/// One notifier's pacing settings: what decides when its messages go.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pacing {
    /// When warnings wait.
    pub quiet_hours: Option<Window>,
    /// Where `quiet_hours` are read (`daemon.timezone`).
    pub timezone: TimeZone,
    /// Sends allowed in any [`RATE_WINDOW`]; 0 = unlimited.
    pub rate_limit: u32,
    /// How long a device message waits for others to group with; zero = no grouping.
    pub group_wait: Duration,
    /// Whether several messages may go as one (channels people read).
    pub merges: bool,
}

impl Pacing {
    /// The pacing of `notifier`, whose quiet hours are read in `timezone`.
    pub(crate) fn of(notifier: &Notifier, timezone: &TimeZone) -> Pacing {
        Pacing {
            quiet_hours: notifier.quiet_hours,
            timezone: timezone.clone(),
            rate_limit: notifier.rate_limit,
            group_wait: notifier.group_wait,
            merges: notifier.kind.for_people(),
        }
    }

    /// What to do with `queue` (oldest first) at `now`, given the times of the recent sends
    /// (`sends`, any order; those older than [`RATE_WINDOW`] are ignored) and what the worker
    /// holds back (`hold`, asked once per queued message).
    pub(crate) fn plan(
        &self,
        queue: &VecDeque<Message>,
        sends: &VecDeque<Timestamp>,
        now: Timestamp,
        hold: impl Fn(&Message) -> Option<Hold>,
    ) -> Plan {
        if queue.is_empty() {
            return Plan::Idle;
        }
        let (units, retry) = self.units(queue, now, !self.merges, hold);
        let mut ready = units.iter().filter(|unit| unit.ready_at <= now);
        let Some(first) = ready.next() else {
            let next = units.iter().map(|unit| unit.ready_at).chain(retry).min();
            return next.map_or(Plan::Idle, Plan::Wait);
        };
        if self.rate_limit == 0 {
            return Plan::Send(first.pick());
        }
        let recent = in_window(sends, now);
        let budget = self.rate_limit.saturating_sub(count(&recent));
        if budget == 0 {
            let oldest = recent.iter().min().copied().unwrap_or(now);
            return Plan::Wait(oldest.saturating_add(RATE_WINDOW).unwrap_or(now));
        }
        let ready_units = 1 + ready.count();
        if !self.merges || ready_units <= budget as usize {
            return Plan::Send(first.pick());
        }
        Plan::Send(digest(&units, now))
    }

    /// The queue cut into units, in the order of their first message, each with the moment
    /// it may go, and the earliest end of a backoff that holds a message. Held messages, and
    /// messages that must wait for an earlier message of their incident in another unit (or
    /// held), are in none. With `early` (channels that never merge, so every unit is a single
    /// message) the cut stops at the first ready unit: a program's long queue costs nothing
    /// while its head may go.
    fn units(
        &self,
        queue: &VecDeque<Message>,
        now: Timestamp,
        early: bool,
        hold: impl Fn(&Message) -> Option<Hold>,
    ) -> (Vec<Unit>, Option<Timestamp>) {
        let quiet_until = self.quiet_until(now);
        let mut cut = Cut::default();
        let mut retry: Option<Timestamp> = None;
        for (index, message) in queue.iter().enumerate() {
            match hold(message) {
                Some(Hold::Until(at)) if at > now => {
                    cut.hold(message);
                    retry = Some(retry.map_or(at, |earliest| earliest.min(at)));
                    continue;
                }
                Some(Hold::Inhibited) => {
                    cut.hold(message);
                    continue;
                }
                Some(Hold::Until(_)) | None => {}
            }
            let Some(unit) = cut.place(index, message, self.group_key(message)) else {
                continue;
            };
            if early && self.ready_at(&cut.units[unit], quiet_until) <= now {
                break;
            }
        }
        let mut units = cut.units;
        for unit in &mut units {
            unit.ready_at = self.ready_at(unit, quiet_until);
        }
        (units, retry)
    }

    /// The end of the quiet hours `now` falls in, if it does.
    fn quiet_until(&self, now: Timestamp) -> Option<Timestamp> {
        let window = self.quiet_hours?;
        let local = now.to_zoned(self.timezone.clone()).time();
        window
            .contains(local)
            .then(|| window.next_end(now, &self.timezone))
    }

    /// When `unit` may go: a group after its oldest member's group wait, and a warning
    /// after the quiet hours.
    fn ready_at(&self, unit: &Unit, quiet_until: Option<Timestamp>) -> Timestamp {
        let wait = SignedDuration::try_from(self.group_wait).unwrap_or(SignedDuration::MAX);
        let held = if unit.grouped {
            unit.oldest.saturating_add(wait).unwrap_or(unit.oldest)
        } else {
            Timestamp::MIN
        };
        match quiet_until {
            Some(end) if unit.severity == Severity::Warning => held.max(end),
            _ => held,
        }
    }

    /// The group `message` belongs to: device messages of a channel that groups.
    fn group_key<'a>(&self, message: &'a Message) -> Option<GroupKey<'a>> {
        let grouping = self.merges && !self.group_wait.is_zero();
        let device = matches!(message.incident.key.subject, Subject::Device(_));
        let transition = message.delivery.transition;
        (grouping && device).then(|| GroupKey {
            provider: message.incident.context.provider.as_str(),
            kind: message.incident.key.kind,
            transition,
            resolution: (transition == Transition::Resolved)
                .then_some(message.incident.resolution)
                .flatten(),
        })
    }
}

/// Why the worker keeps a queued message back, apart from pacing's own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Its last attempt failed: not before this moment (its own backoff), so a message the
    /// receiver keeps refusing delays only itself and the later messages of its incident.
    Until(Timestamp),
    /// Its notifier holds its provider's device logins back (inhibition): until that ends.
    Inhibited,
}

/// What a worker does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Send these queued messages as one batch now.
    Send(Pick),
    /// Nothing may go before this moment (or before a new message arrives).
    Wait(Timestamp),
    /// The queue is empty.
    Idle,
}

/// The messages of one send: their places in the queue (ascending) and how they were put
/// together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pick {
    /// Indices into the queue, ascending: the batch keeps the queue's order.
    pub indices: Vec<usize>,
    /// One, a group, or a digest.
    pub shape: Shape,
}

/// What groups device messages: same provider, kind and transition (and, resolved, the same
/// resolution: "online again" and "no longer watched" are different messages).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey<'a> {
    provider: &'a str,
    kind: IncidentKind,
    transition: Transition,
    resolution: Option<Resolution>,
}

/// Messages that go together (a group, or a single message).
#[derive(Debug)]
struct Unit {
    /// Queue indices, ascending.
    members: Vec<usize>,
    /// Whether it is a group (held for `group_wait`).
    grouped: bool,
    /// The oldest member's `created_at`.
    oldest: Timestamp,
    /// The members' severity (one kind per group).
    severity: Severity,
    /// When it may go.
    ready_at: Timestamp,
}

impl Unit {
    fn new(index: usize, message: &Message, grouped: bool) -> Unit {
        Unit {
            members: vec![index],
            grouped,
            oldest: message.delivery.created_at,
            severity: message.incident.key.kind.severity(),
            ready_at: Timestamp::MIN,
        }
    }

    fn pick(&self) -> Pick {
        let shape = if self.members.len() > 1 {
            Shape::Group
        } else {
            Shape::One
        };
        Pick {
            indices: self.members.clone(),
            shape,
        }
    }
}

/// Units being cut from a queue, message by message.
#[derive(Default)]
struct Cut<'a> {
    units: Vec<Unit>,
    /// The unit of each group.
    groups: HashMap<GroupKey<'a>, usize>,
    /// Where each incident's latest message went: a unit, or `None` (it waits).
    placed: HashMap<&'a str, Option<usize>>,
}

impl<'a> Cut<'a> {
    /// Keeps `message` out of every unit, and the later messages of its incident with it.
    fn hold(&mut self, message: &'a Message) {
        self.placed
            .insert(message.delivery.incident_id.as_str(), None);
    }

    /// Puts message `index` into its group's unit or a new one, and returns that unit;
    /// `None` when it must wait for an earlier message of its incident in another unit.
    fn place(
        &mut self,
        index: usize,
        message: &'a Message,
        key: Option<GroupKey<'a>>,
    ) -> Option<usize> {
        let group = key.as_ref().and_then(|key| self.groups.get(key).copied());
        let incident = message.delivery.incident_id.as_str();
        match self.placed.get(incident) {
            Some(None) => return None,
            Some(Some(unit)) if group != Some(*unit) => {
                self.placed.insert(incident, None);
                return None;
            }
            _ => {}
        }
        let unit = match group {
            Some(unit) => {
                let joined = &mut self.units[unit];
                joined.members.push(index);
                joined.oldest = joined.oldest.min(message.delivery.created_at);
                unit
            }
            None => {
                self.units.push(Unit::new(index, message, key.is_some()));
                if let Some(key) = key {
                    self.groups.insert(key, self.units.len() - 1);
                }
                self.units.len() - 1
            }
        };
        self.placed.insert(incident, Some(unit));
        Some(unit)
    }
}

/// The ready messages of `units` as one digest: at most [`DIGEST_MAX`], criticals first, then
/// in queue order (so a later message of an incident never goes without its earlier ones,
/// which share its severity); the rest stay queued for the next send.
fn digest(units: &[Unit], now: Timestamp) -> Pick {
    let mut ready: Vec<(bool, usize)> = units
        .iter()
        .filter(|unit| unit.ready_at <= now)
        .flat_map(|unit| {
            let warning = unit.severity != Severity::Critical;
            unit.members.iter().map(move |index| (warning, *index))
        })
        .collect();
    ready.sort_unstable();
    ready.truncate(DIGEST_MAX);
    let mut indices: Vec<usize> = ready.into_iter().map(|(_, index)| index).collect();
    indices.sort_unstable();
    Pick {
        indices,
        shape: Shape::Digest,
    }
}

/// The sends of `sends` still inside the rate window at `now`.
fn in_window(sends: &VecDeque<Timestamp>, now: Timestamp) -> Vec<Timestamp> {
    let start = now.saturating_sub(RATE_WINDOW).unwrap_or(now);
    sends
        .iter()
        .copied()
        .filter(|at| *at > start && *at <= now)
        .collect()
}

/// Forgets the sends that left the rate window at `now` (the worker keeps the rest).
pub(crate) fn forget_old(sends: &mut VecDeque<Timestamp>, now: Timestamp) {
    let start = now.saturating_sub(RATE_WINDOW).unwrap_or(now);
    sends.retain(|at| *at > start);
}

fn count(sends: &[Timestamp]) -> u32 {
    u32::try_from(sends.len()).unwrap_or(u32::MAX)
}

#[path = "pacing/batch.rs"]
mod batch;

#[cfg(test)]
#[path = "pacing/tests.rs"]
mod tests;
