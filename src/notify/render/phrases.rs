//! Everything a rendered message says in words, as one trait both languages implement in
//! full ([`super::zh`], [`super::en`]): a phrase added for one language does not compile until
//! the other says it too.
//!
//! The composer ([`super::compose`]) decides what a message contains; the phrases only decide
//! how each piece reads. Times and durations arrive already measured (seconds, a local time
//! string); names arrive as the config spells them.

use super::Tone;
use super::steps::Step;
use crate::config::Language;
use crate::incident::{IncidentKind, Resolution};

/// The words a duration is written with (units follow the number directly).
#[derive(Debug, Clone, Copy)]
pub(super) struct DurationWords {
    /// Less than a minute.
    pub under_a_minute: &'static str,
    /// After minutes.
    pub minute: &'static str,
    /// After hours.
    pub hour: &'static str,
    /// After days.
    pub day: &'static str,
    /// Between two units.
    pub join: &'static str,
}

/// The labelled facts of a message ("设备：sales-01").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    /// The device's configured name.
    Device,
    /// The WeChat account on the gateway (the vendor id).
    Account,
    /// The provider and its vendor.
    Provider,
    /// The device's labels.
    Labels,
    /// What the keeper already tried.
    Tried,
    /// Why the gateway says the device went offline.
    OfflineReason,
    /// The provider's error.
    Error,
    /// The recycle deadline, still ahead.
    Deadline,
    /// When the device was recycled.
    RecycledAt,
    /// When the incident opened (and, for reminders, how long ago).
    Since,
    /// How long a resolved incident was open.
    Lasted,
    /// When the test message was sent.
    SentAt,
    /// What the person must do now.
    Action,
}

/// What a truncated list counts ("…及其他 3 台" devices, "… and 3 more" alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Devices.
    Devices,
    /// Alerts of a digest.
    Alerts,
}

/// Who must act, for [`Phrases::action`]: one device, or the devices listed below.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    /// The provider's configured name.
    pub provider: &'a str,
    /// The device; `None` for the list of a grouped message.
    pub device: Option<&'a str>,
    /// The recycle deadline in local time (recycle warnings about one device).
    pub deadline: Option<&'a str>,
}

/// The words of one language. Every method is required: both languages say the same things.
pub(super) trait Phrases: Sync {
    /// The marker opening a title: 【严重】, [CRITICAL], ...
    fn tag(&self, tone: Tone) -> &'static str;
    /// Between a label and its value.
    fn colon(&self) -> &'static str;
    /// `text` in parentheses, attached to what precedes it.
    fn paren(&self, text: &str) -> String;
    /// The name of a label.
    fn label(&self, label: Label) -> &'static str;
    /// "sales-01 需要扫码登录": what happened, about one device or provider.
    fn headline(&self, kind: IncidentKind, subject: &str) -> String;
    /// "gewe-cloud: 37 台设备需要扫码登录": one kind across `count` devices of a provider.
    fn group_headline(&self, kind: IncidentKind, provider: &str, count: usize) -> String;
    /// "sales-01 已恢复在线": what a resolved incident means, after the 【已恢复】 marker; a
    /// device removed from the configuration is "no longer watched", never "online again".
    fn resolved_headline(&self, kind: IncidentKind, why: Resolution, subject: &str) -> String;
    /// "gewe-cloud: 37 台设备已恢复在线".
    fn resolved_group_headline(
        &self,
        kind: IncidentKind,
        why: Resolution,
        provider: &str,
        count: usize,
    ) -> String;
    /// "提醒 #2": a reminder of an incident still open.
    fn reminder(&self, seq: u32) -> String;
    /// One sentence on what happened and what it means.
    fn explain(&self, kind: IncidentKind) -> &'static str;
    /// The sentence of a resolved message, by why it resolved.
    fn resolved(&self, why: Resolution) -> &'static str;
    /// What the person must do now.
    fn action(&self, kind: IncidentKind, target: Target<'_>) -> String;
    /// One step the keeper tried, `times` in a row.
    fn step(&self, step: &Step<'_>, times: u32) -> String;
    /// Between the steps tried, in order.
    fn step_separator(&self) -> &'static str;
    /// The words of a span of time; [`Phrases::duration`] puts them together.
    fn duration_words(&self) -> DurationWords;
    /// A span of time, whole seconds, for people ("2天3小时", "2d 3h"): days and hours, or
    /// hours and minutes, never more than two units.
    fn duration(&self, seconds: u64) -> String {
        let w = self.duration_words();
        let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
        match (days, hours, minutes) {
            (0, 0, 0) => w.under_a_minute.to_owned(),
            (0, 0, m) => format!("{m}{}", w.minute),
            (0, h, 0) => format!("{h}{}", w.hour),
            (0, h, m) => format!("{h}{}{}{m}{}", w.hour, w.join, w.minute),
            (d, 0, _) => format!("{d}{}", w.day),
            (d, h, _) => format!("{d}{}{}{h}{}", w.day, w.join, w.hour),
        }
    }
    /// The deadline still ahead: "2026-11-24 16:00 CST（还剩 2天23小时）".
    fn deadline_ahead(&self, local: &str, left: &str) -> String;
    /// The deadline already passed.
    fn deadline_passed(&self, local: &str) -> String;
    /// An open incident's start, and for reminders how long it has been open.
    fn open_since(&self, local: &str, open_for: Option<&str>) -> String;
    /// A resolved incident's span: "2小时15分钟（2026-11-21 16:00 CST 起）".
    fn lasted(&self, span: &str, since: &str) -> String;
    /// The head of a group's list of `count` devices.
    fn devices_head(&self, count: usize) -> String;
    /// The head of the list of `count` devices a provider incident affects.
    fn affected_head(&self, count: usize) -> String;
    /// The head of a digest's list of alerts.
    fn alerts_head(&self) -> &'static str;
    /// The last line of a truncated list: `rest` more not shown.
    fn more(&self, rest: usize, unit: Unit) -> String;
    /// The title of a digest of `count` alerts merged behind the rate limit.
    fn digest_title(&self, count: usize) -> String;
    /// What a digest is.
    fn digest_explain(&self) -> &'static str;
    /// The title of the `notify-test` message.
    fn test_title(&self) -> &'static str;
    /// The body of the `notify-test` message, naming the notifier; says no action is needed.
    fn test_body(&self, notifier: &str) -> String;
}

/// The phrases of `language`.
pub(super) fn of(language: Language) -> &'static dyn Phrases {
    match language {
        Language::Zh => &super::zh::Zh,
        Language::En => &super::en::En,
    }
}
