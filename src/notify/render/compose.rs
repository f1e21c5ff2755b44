//! What each message says, in which order: one incident, a group of one provider's devices,
//! a digest of whatever waited behind the rate limit, and the `notify-test` message.
//!
//! A firing message tells, top to bottom: what happened (the headline and one sentence),
//! which device and account (device, account, provider and vendor, labels), what was already
//! tried and why the device went offline, the deadline, since when it is open, what the
//! person must do now, and for provider incidents the devices affected. A resolved message
//! tells what recovered and how long it was open.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Tone;
use super::doc::{Block, Doc};
use super::facts::{Facts, local, seconds_between};
use super::phrases::{Label, Phrases, Target, Unit};
use super::steps;
use crate::incident::{IncidentKind, Severity};

/// Between the parts of one list item.
const PART: &str = " · ";

/// Composes documents in one language, one zone, as of one moment.
pub(super) struct Composer<'a> {
    /// The reader's words.
    pub phrases: &'static dyn Phrases,
    /// Where local times are read.
    pub zone: &'a TimeZone,
    /// The moment of sending: remaining times and "open for" are measured to it.
    pub sent_at: Timestamp,
}

impl Composer<'_> {
    /// One incident's message.
    pub(super) fn one(&self, facts: &Facts<'_>) -> Doc {
        let p = self.phrases;
        let mut blocks = Vec::new();
        if facts.resolved() {
            blocks.push(Block::Para(p.resolved(facts.resolution).to_owned()));
            let mut fields = self.whom(facts);
            fields.push((Label::Lasted, self.lasted(facts)));
            blocks.push(Block::Fields(fields));
        } else {
            blocks.push(Block::Para(p.explain(facts.kind).to_owned()));
            let mut fields = self.whom(facts);
            fields.extend(self.what_happened(facts));
            let open_for = facts
                .reminder()
                .then(|| self.span(facts.incident.opened_at, self.sent_at));
            let since = local(facts.incident.opened_at, self.zone);
            fields.push((Label::Since, p.open_since(&since, open_for.as_deref())));
            blocks.push(Block::Fields(fields));
            let deadline = (facts.kind == IncidentKind::RecycleWarning)
                .then(|| facts.deadline.map(|d| local(d, self.zone)))
                .flatten();
            let target = Target {
                provider: facts.provider(),
                device: facts.device,
                deadline: deadline.as_deref(),
            };
            blocks.push(Block::Strong(Label::Action, p.action(facts.kind, target)));
            if facts.device.is_none() && !facts.devices.is_empty() {
                blocks.push(Block::List {
                    head: p.affected_head(facts.devices.len()),
                    items: facts.devices.iter().map(|d| (*d).to_owned()).collect(),
                    unit: Unit::Devices,
                });
            }
        }
        Doc {
            title: self.title(facts),
            blocks,
        }
    }

    /// One message for the devices of one provider with the same kind and transition.
    pub(super) fn group(&self, all: &[Facts<'_>]) -> Doc {
        let p = self.phrases;
        let Some(first) = all.first() else {
            return self.digest(all);
        };
        let provider = first.provider();
        let vendor = p.paren(first.incident.context.vendor.as_str());
        let mut blocks = Vec::new();
        let title = if first.resolved() {
            blocks.push(Block::Para(p.resolved(first.resolution).to_owned()));
            blocks.push(Block::Fields(vec![(
                Label::Provider,
                format!("{provider}{vendor}"),
            )]));
            p.resolved_group_headline(first.kind, first.resolution, provider, all.len())
        } else {
            // The headline says what happened to all of them; each item says what was tried.
            blocks.push(Block::Fields(vec![(
                Label::Provider,
                format!("{provider}{vendor}"),
            )]));
            let target = Target {
                provider,
                device: None,
                deadline: None,
            };
            blocks.push(Block::Strong(Label::Action, p.action(first.kind, target)));
            p.group_headline(first.kind, provider, all.len())
        };
        blocks.push(Block::List {
            head: p.devices_head(all.len()),
            items: all.iter().map(|f| self.item(f)).collect(),
            unit: Unit::Devices,
        });
        Doc {
            title: format!("{}{title}", p.tag(tone(all))),
            blocks,
        }
    }

    /// One message for everything that waited behind the rate limit: one line each.
    pub(super) fn digest(&self, all: &[Facts<'_>]) -> Doc {
        let p = self.phrases;
        let items = all
            .iter()
            .map(|f| match f.device {
                Some(_) => format!("{}{PART}{}", self.title(f), f.provider()),
                None => self.title(f),
            })
            .collect();
        Doc {
            title: format!("{}{}", p.tag(tone(all)), p.digest_title(all.len())),
            blocks: vec![
                Block::Para(p.digest_explain().to_owned()),
                Block::List {
                    head: p.alerts_head().to_owned(),
                    items,
                    unit: Unit::Alerts,
                },
            ],
        }
    }

    /// The `notify-test` message for `notifier`.
    pub(super) fn test(&self, notifier: &str) -> Doc {
        let p = self.phrases;
        Doc {
            title: format!("{}{}", p.tag(Tone::Test), p.test_title()),
            blocks: vec![
                Block::Para(p.test_body(notifier)),
                Block::Fields(vec![(Label::SentAt, local(self.sent_at, self.zone))]),
            ],
        }
    }

    /// The title of one incident's message: marker, reminder number, headline.
    fn title(&self, facts: &Facts<'_>) -> String {
        let p = self.phrases;
        let tag = p.tag(tone(std::slice::from_ref(facts)));
        if facts.resolved() {
            let headline = p.resolved_headline(facts.kind, facts.resolution, facts.subject);
            return format!("{tag}{headline}");
        }
        let headline = p.headline(facts.kind, facts.subject);
        if facts.reminder() {
            format!("{tag}{}{}{headline}", p.reminder(facts.seq), p.colon())
        } else {
            format!("{tag}{headline}")
        }
    }

    /// Device, account, provider with its vendor, labels: whichever the incident has.
    fn whom(&self, facts: &Facts<'_>) -> Vec<(Label, String)> {
        let context = &facts.incident.context;
        let mut fields = Vec::new();
        if let Some(device) = facts.device {
            fields.push((Label::Device, device.to_owned()));
        }
        if let Some(account) = &context.vendor_id {
            fields.push((Label::Account, account.clone()));
        }
        let vendor = self.phrases.paren(context.vendor.as_str());
        fields.push((Label::Provider, format!("{}{vendor}", context.provider)));
        if !context.labels.is_empty() {
            let labels: Vec<String> = context
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            fields.push((Label::Labels, labels.join(", ")));
        }
        fields
    }

    /// The steps tried, the offline reason, the provider's error and the deadline.
    fn what_happened(&self, facts: &Facts<'_>) -> Vec<(Label, String)> {
        let mut fields = Vec::new();
        if !facts.steps.is_empty() {
            fields.push((Label::Tried, self.tried(facts)));
        }
        if let Some(reason) = facts.offline_reason {
            fields.push((Label::OfflineReason, reason.to_owned()));
        }
        if let Some(error) = facts.error {
            fields.push((Label::Error, error.to_owned()));
        }
        if let Some(deadline) = self.deadline(facts) {
            let label = match facts.kind {
                IncidentKind::DeviceRecycled => Label::RecycledAt,
                _ => Label::Deadline,
            };
            fields.push((label, deadline));
        }
        fields
    }

    /// The steps in the reader's words, in order.
    fn tried(&self, facts: &Facts<'_>) -> String {
        let p = self.phrases;
        let said: Vec<String> = facts
            .steps
            .iter()
            .map(|s| {
                let (step, times) = steps::parse(s);
                p.step(&step, times)
            })
            .collect();
        said.join(p.step_separator())
    }

    /// A recycle kind's deadline: local time and what is left (or when it was recycled).
    fn deadline(&self, facts: &Facts<'_>) -> Option<String> {
        let p = self.phrases;
        let Some(deadline) = facts.deadline else {
            return facts.remaining.map(str::to_owned);
        };
        let at = local(deadline, self.zone);
        Some(match facts.kind {
            IncidentKind::DeviceRecycled => at,
            _ if deadline > self.sent_at => {
                // Rounded up to the minute: a deadline 3 days away, sent a second later,
                // still reads "3 days", and "under a minute" only when it is.
                let left = seconds_between(self.sent_at, deadline).div_ceil(60) * 60;
                p.deadline_ahead(&at, &p.duration(left))
            }
            _ => p.deadline_passed(&at),
        })
    }

    /// How long a resolved incident was open, and since when.
    fn lasted(&self, facts: &Facts<'_>) -> String {
        let opened = facts.incident.opened_at;
        let end = facts.incident.resolved_at.unwrap_or(self.sent_at);
        self.phrases
            .lasted(&self.span(opened, end), &local(opened, self.zone))
    }

    /// One device of a group: name, account and what matters for its kind.
    fn item(&self, facts: &Facts<'_>) -> String {
        let p = self.phrases;
        let mut parts = vec![facts.subject.to_owned()];
        parts.extend(facts.incident.context.vendor_id.clone());
        if facts.resolved() {
            let end = facts.incident.resolved_at.unwrap_or(self.sent_at);
            parts.push(self.span(facts.incident.opened_at, end));
        } else {
            match facts.kind {
                IncidentKind::ManualLoginRequired if !facts.steps.is_empty() => {
                    parts.push(self.tried(facts));
                }
                IncidentKind::RecycleWarning | IncidentKind::DeviceRecycled => {
                    parts.extend(self.deadline(facts));
                }
                _ => parts.extend(facts.error.map(str::to_owned)),
            }
            if facts.reminder() {
                parts.push(p.reminder(facts.seq));
            }
        }
        parts.join(PART)
    }

    /// The time from `from` to `to` in words.
    fn span(&self, from: Timestamp, to: Timestamp) -> String {
        self.phrases.duration(seconds_between(from, to))
    }
}

/// True when `all` share provider, kind and transition, as a group's messages do (anything
/// else is told as a digest, one line each, rather than under a headline that is wrong for
/// some of them).
pub(super) fn alike(all: &[Facts<'_>]) -> bool {
    all.windows(2).all(|pair| {
        let (a, b) = (&pair[0], &pair[1]);
        (a.provider(), a.kind, a.transition) == (b.provider(), b.kind, b.transition)
    })
}

/// The colour of messages together: critical if anything critical fires, warning if
/// anything fires, else resolved.
pub(super) fn tone(all: &[Facts<'_>]) -> Tone {
    let firing: Vec<Severity> = all
        .iter()
        .filter(|f| !f.resolved())
        .map(|f| f.kind.severity())
        .collect();
    if firing.contains(&Severity::Critical) {
        Tone::Critical
    } else if firing.is_empty() {
        Tone::Resolved
    } else {
        Tone::Warning
    }
}
