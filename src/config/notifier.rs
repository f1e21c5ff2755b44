//! The validated `[[notifier]]` types: the channel, its address and the delivery policy
//! (resolved messages, reminders, quiet hours, severity floor, rate limit, grouping).
//!
//! [`Notifier::new`] holds every default in one place, so the parser, the tests and the demo
//! agree on what an unset key means.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::window::Window;
use crate::incident::Severity;

/// One `[[notifier]]`: where incidents go, and how.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// Unique name, referenced by devices' `notify`.
    pub name: String,
    /// The channel.
    pub kind: NotifierKind,
    /// The endpoint (bot URLs carry keys, hence secret); set for every kind posting over HTTP.
    pub url: Option<SecretString>,
    /// DingTalk / Feishu signing secret, when the bot has one.
    pub secret: Option<SecretString>,
    /// exec only: program and arguments (non-empty), placeholders checked.
    pub command: Vec<String>,
    /// email only: the SMTP server, login and addresses.
    pub email: Option<Email>,
    /// Whether resolved incidents are sent too (default true).
    pub send_resolved: bool,
    /// How often an open incident is sent again; zero = never.
    pub repeat_interval: Duration,
    /// Local hours when warnings wait (critical incidents still go out).
    pub quiet_hours: Option<Window>,
    /// Incidents below this severity are not sent to this notifier (default: warning, all).
    pub min_severity: Severity,
    /// Messages per minute this notifier may send; 0 = unlimited. Above it, waiting messages
    /// are merged into one digest (chat and email) or wait their turn (webhook, exec).
    pub rate_limit: u32,
    /// How long a device's message waits for others of the same provider and kind, so an
    /// outage is one grouped message; zero = no grouping (webhook and exec never group).
    pub group_wait: Duration,
    /// The language people read the messages in (webhook payloads are not translated).
    pub language: Language,
    /// The limit of one delivery attempt (HTTP request, SMTP session, command run).
    pub timeout: Duration,
}

impl Notifier {
    /// A notifier of `kind` with every optional key at its default and no address: the
    /// parser fills in what the file gives.
    pub fn new(name: impl Into<String>, kind: NotifierKind) -> Notifier {
        Notifier {
            name: name.into(),
            kind,
            url: None,
            secret: None,
            command: Vec::new(),
            email: None,
            send_resolved: true,
            repeat_interval: Duration::ZERO,
            quiet_hours: None,
            min_severity: Severity::Warning,
            rate_limit: kind.default_rate_limit(),
            group_wait: kind.default_group_wait(),
            language: Language::Zh,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The default limit of one delivery attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The notification channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifierKind {
    /// A generic JSON webhook (the DESIGN.md §5 payload).
    Webhook,
    /// A WeCom (企业微信) group bot.
    Wecom,
    /// A DingTalk group bot.
    Dingtalk,
    /// A Feishu / Lark group bot.
    Feishu,
    /// A local program.
    Exec,
    /// Mail over SMTP.
    Email,
}

impl NotifierKind {
    /// Every kind, for error messages.
    pub const ALL: [NotifierKind; 6] = [
        NotifierKind::Webhook,
        NotifierKind::Wecom,
        NotifierKind::Dingtalk,
        NotifierKind::Feishu,
        NotifierKind::Exec,
        NotifierKind::Email,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifierKind::Webhook => "webhook",
            NotifierKind::Wecom => "wecom",
            NotifierKind::Dingtalk => "dingtalk",
            NotifierKind::Feishu => "feishu",
            NotifierKind::Exec => "exec",
            NotifierKind::Email => "email",
        }
    }

    /// Parses the config spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<NotifierKind> {
        NotifierKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True for the kinds that post to a URL.
    pub fn uses_url(self) -> bool {
        !matches!(self, NotifierKind::Exec | NotifierKind::Email)
    }

    /// True for the bots that sign requests with a secret.
    pub fn signs(self) -> bool {
        matches!(self, NotifierKind::Dingtalk | NotifierKind::Feishu)
    }

    /// True for the channels people read (chat bots, mail): their messages are rendered
    /// text, and several may be merged into one grouped message or digest. Webhook and exec
    /// feed programs, which get one contract payload per message.
    pub fn for_people(self) -> bool {
        !matches!(self, NotifierKind::Webhook | NotifierKind::Exec)
    }

    /// The default `rate_limit`: 20 a minute for the chat bots (WeCom and DingTalk block a
    /// bot that sends more; Feishu's limit is higher, 20 keeps a group readable) and mail;
    /// unlimited for programs.
    pub fn default_rate_limit(self) -> u32 {
        if self.for_people() { 20 } else { 0 }
    }

    /// The default `group_wait`: 30 s for the channels people read, none for programs.
    pub fn default_group_wait(self) -> Duration {
        if self.for_people() {
            Duration::from_secs(30)
        } else {
            Duration::ZERO
        }
    }
}

impl fmt::Display for NotifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The language of rendered messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Simplified Chinese (the default: the operators of these gateways read it).
    #[default]
    Zh,
    /// English.
    En,
}

impl Language {
    /// Every language, for parsing and error messages.
    pub const ALL: [Language; 2] = [Language::Zh, Language::En];

    /// The config spelling (`language = "zh"` / `"en"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// Parses the config spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// `email` notifiers: where and how mail is sent.
#[derive(Debug, Clone)]
pub struct Email {
    /// The SMTP server's host name (also the name its certificate must carry).
    pub host: String,
    /// The SMTP port (default 587 with STARTTLS, 465 with TLS, 25 without).
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// The login, when the server wants one.
    pub username: Option<String>,
    /// The password of the login.
    pub password: Option<SecretString>,
    /// The sender address (`"session-keeper <keeper@example.com>"` or a bare address).
    pub from: String,
    /// The recipients (at least one).
    pub to: Vec<String>,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a trusted network.
    None,
}

impl SmtpTls {
    /// Every mode, for parsing and error messages.
    pub const ALL: [SmtpTls; 3] = [SmtpTls::Starttls, SmtpTls::Tls, SmtpTls::None];

    /// Parses the config spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<SmtpTls> {
        SmtpTls::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The config spelling (`smtp_tls`).
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }

    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_spelling() {
        for kind in NotifierKind::ALL {
            assert_eq!(NotifierKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(NotifierKind::parse("slack"), None);
    }

    #[test]
    fn kinds_know_their_keys() {
        assert!(NotifierKind::Wecom.uses_url());
        assert!(!NotifierKind::Exec.uses_url());
        assert!(!NotifierKind::Email.uses_url());
        assert!(NotifierKind::Feishu.signs());
        assert!(!NotifierKind::Webhook.signs());
    }

    #[test]
    fn defaults_follow_who_reads_the_channel() {
        let wecom = Notifier::new("bot", NotifierKind::Wecom);
        assert_eq!(wecom.rate_limit, 20);
        assert_eq!(wecom.group_wait, Duration::from_secs(30));
        assert_eq!(wecom.language, Language::Zh);
        let hook = Notifier::new("hook", NotifierKind::Webhook);
        assert_eq!(hook.rate_limit, 0);
        assert_eq!(hook.group_wait, Duration::ZERO);
        assert_eq!(hook.min_severity, Severity::Warning);
        assert!(hook.send_resolved);
        assert_eq!(SmtpTls::Tls.default_port(), 465);
    }

    #[test]
    fn languages_and_tls_modes_round_trip_their_spelling() {
        for language in Language::ALL {
            assert_eq!(Language::parse(language.as_str()), Some(language));
        }
        assert_eq!(Language::parse("zh-CN"), None);
        for tls in SmtpTls::ALL {
            assert_eq!(SmtpTls::parse(tls.as_str()), Some(tls));
        }
        assert_eq!(SmtpTls::parse("ssl"), None);
        assert_eq!(SmtpTls::Starttls.default_port(), 587);
        assert_eq!(SmtpTls::None.default_port(), 25);
    }
}
