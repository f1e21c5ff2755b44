//! Unit tests of `[[notifier]]` validation: each key's good values, each bad value with its
//! exact message and key, and that problems are reported together. The SMTP keys are in
//! `email`.

mod email;

use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::config::{Config, Language, Notifier, NotifierKind, SmtpTls};
use crate::incident::Severity;

fn env(name: &str) -> Option<String> {
    (name == "SMTP_PASSWORD").then(|| "env-password".to_owned())
}

/// Loads one notifier written as `keys` (after `name = "n"`), from `dir`.
fn load_in(dir: &Path, keys: &str) -> Result<Notifier, Vec<String>> {
    let text = format!("[[notifier]]\nname = \"n\"\n{keys}\n");
    match Config::from_str(&text, &dir.join("sk.toml"), &env) {
        Ok(config) => Ok(config.notifiers.into_iter().next().expect("one notifier")),
        Err(e) => Err(e
            .problems()
            .iter()
            .map(|p| format!("{}: {}", p.key.as_deref().unwrap_or("-"), p.message))
            .collect()),
    }
}

fn load(keys: &str) -> Result<Notifier, Vec<String>> {
    load_in(Path::new("/etc/sk"), keys)
}

fn ok(keys: &str) -> Notifier {
    load(keys).unwrap_or_else(|e| panic!("{keys}\nfailed:\n{}", e.join("\n")))
}

/// The problems of `keys`, each as `key: message`.
fn bad(keys: &str) -> Vec<String> {
    match load(keys) {
        Ok(_) => panic!("unexpectedly valid:\n{keys}"),
        Err(problems) => problems,
    }
}

const WECOM: &str = "kind = \"wecom\"\nurl = \"http://127.0.0.1:18080/send?key=k\"";
const WEBHOOK: &str = "kind = \"webhook\"\nurl = \"http://127.0.0.1:18080/hook\"";
const EMAIL: &str = "kind = \"email\"\nsmtp_host = \"smtp.example.com\"\nfrom = \"keeper@example.com\"\nto = [\"ops@example.com\"]";

fn with(base: &str, line: &str) -> String {
    format!("{base}\n{line}")
}

#[test]
fn unset_keys_keep_the_defaults_of_the_kind() {
    for (base, kind) in [
        (WECOM, NotifierKind::Wecom),
        (WEBHOOK, NotifierKind::Webhook),
    ] {
        let got = ok(base);
        let want = Notifier::new("n", kind);
        assert_eq!(got.rate_limit, want.rate_limit);
        assert_eq!(got.group_wait, want.group_wait);
        assert_eq!(got.language, want.language);
        assert_eq!(got.timeout, want.timeout);
        assert_eq!(got.min_severity, want.min_severity);
        assert_eq!(got.send_resolved, want.send_resolved);
        assert_eq!(got.repeat_interval, want.repeat_interval);
        assert_eq!(got.quiet_hours, None);
        assert!(got.email.is_none());
    }
}

#[test]
fn language_is_zh_or_en() {
    assert_eq!(ok(&with(WECOM, "language = \"en\"")).language, Language::En);
    assert_eq!(ok(&with(WECOM, "language = \"zh\"")).language, Language::Zh);
    assert_eq!(
        bad(&with(WECOM, "language = \"fr\"")),
        [
            "notifier[0].language: unknown language `fr`, expected `zh` (Chinese, the default) or `en` (English)"
        ]
    );
}

#[test]
fn min_severity_is_warning_or_critical() {
    let n = ok(&with(WECOM, "min_severity = \"critical\""));
    assert_eq!(n.min_severity, Severity::Critical);
    let n = ok(&with(WEBHOOK, "min_severity = \"warning\""));
    assert_eq!(n.min_severity, Severity::Warning);
    assert_eq!(
        bad(&with(WECOM, "min_severity = \"info\"")),
        [
            "notifier[0].min_severity: unknown min_severity `info`, expected `warning` (every incident, the default) or `critical` (only incidents a person must act on now)"
        ]
    );
}

#[test]
fn rate_limit_is_zero_to_a_thousand_a_minute() {
    assert_eq!(ok(&with(WECOM, "rate_limit = 0")).rate_limit, 0);
    assert_eq!(ok(&with(WEBHOOK, "rate_limit = 1000")).rate_limit, 1000);
    assert_eq!(
        bad(&with(WECOM, "rate_limit = 1001")),
        [
            "notifier[0].rate_limit: `rate_limit` must be at most 1000 messages a minute (0 = unlimited)"
        ]
    );
    assert_eq!(
        bad(&with(WECOM, "rate_limit = -1")),
        ["notifier[0].rate_limit: invalid value: integer `-1`, expected u32"]
    );
}

#[test]
fn group_wait_is_for_people_and_at_most_an_hour() {
    assert_eq!(
        ok(&with(WECOM, "group_wait = \"0s\"")).group_wait,
        Duration::ZERO
    );
    let email = ok(&with(EMAIL, "group_wait = \"1h\""));
    assert_eq!(email.group_wait, Duration::from_secs(3600));
    assert_eq!(
        bad(&with(WECOM, "group_wait = \"61m\"")),
        ["notifier[0].group_wait: `group_wait` must be at most 1h"]
    );
    assert_eq!(
        bad(&with(WECOM, "group_wait = \"soon\"")),
        [
            "notifier[0].group_wait: bad duration \"soon\" (expected number at 0): expected a number and a unit with no spaces, like \"90s\", \"3m\" or \"20d\""
        ]
    );
    let program = "one payload per message, never grouped";
    let hook = bad(&with(WEBHOOK, "group_wait = \"30s\""));
    assert_eq!(
        hook,
        [format!(
            "notifier[0].group_wait: `group_wait` does not apply to a webhook notifier: webhook and exec notifiers feed programs, which get {program}"
        )]
    );
    let exec = bad("kind = \"exec\"\ncommand = [\"/bin/true\"]\ngroup_wait = \"0s\"");
    assert_eq!(exec.len(), 1, "{exec:?}");
    assert!(
        exec[0].starts_with("notifier[0].group_wait: `group_wait` does not apply to an exec"),
        "{exec:?}"
    );
}

#[test]
fn timeout_is_100ms_to_5m() {
    let n = ok(&with(WECOM, "timeout = \"100ms\""));
    assert_eq!(n.timeout, Duration::from_millis(100));
    assert_eq!(
        ok(&with(EMAIL, "timeout = \"5m\"")).timeout,
        Duration::from_secs(300)
    );
    for (value, want) in [
        ("99ms", "at least 100ms"),
        ("0s", "at least 100ms"),
        ("301s", "at most 5m"),
    ] {
        assert_eq!(
            bad(&with(WECOM, &format!("timeout = \"{value}\""))),
            [format!("notifier[0].timeout: `timeout` must be {want}")]
        );
    }
}

#[test]
fn quiet_hours_must_be_a_window_that_ends() {
    let n = ok(&with(WECOM, "quiet_hours = \"23:00-08:00\""));
    assert_eq!(
        n.quiet_hours.map(|w| w.to_string()).as_deref(),
        Some("23:00-08:00")
    );
    assert_eq!(ok(&with(WECOM, "quiet_hours = \"\"")).quiet_hours, None);
    let cases = [
        (
            "25:00-08:00",
            "bad window \"25:00-08:00\": start \"25:00\" has hour 25, expected 00 to 23",
        ),
        (
            "08:00",
            "bad window \"08:00\": expected \"HH:MM-HH:MM\", like \"08:00-22:30\"",
        ),
        (
            "08:00-08:00",
            "bad window \"08:00-08:00\": start and end are equal, so the window would be empty",
        ),
        (
            "00:00-24:00",
            "quiet hours \"00:00-24:00\" cover the whole day, so warnings would never be sent: to send only critical incidents, set `min_severity = \"critical\"`",
        ),
    ];
    for (window, want) in cases {
        assert_eq!(
            bad(&with(WECOM, &format!("quiet_hours = \"{window}\""))),
            [format!("notifier[0].quiet_hours: {want}")]
        );
    }
}

#[test]
fn repeat_interval_is_never_or_at_least_a_minute_for_people_and_a_second_for_programs() {
    let n = ok(&with(
        WECOM,
        "repeat_interval = \"4h\"\nsend_resolved = false",
    ));
    assert_eq!(n.repeat_interval, Duration::from_secs(4 * 3600));
    assert!(!n.send_resolved);
    for base in [WECOM, EMAIL] {
        assert_eq!(
            ok(&with(base, "repeat_interval = \"1m\"")).repeat_interval,
            Duration::from_secs(60)
        );
        assert_eq!(
            ok(&with(base, "repeat_interval = \"0s\"")).repeat_interval,
            Duration::ZERO
        );
    }
    let people = [
        ("wecom", WECOM.to_owned(), "a wecom"),
        ("email", EMAIL.to_owned(), "an email"),
        ("dingtalk", WECOM.replace("wecom", "dingtalk"), "a dingtalk"),
        ("feishu", WECOM.replace("wecom", "feishu"), "a feishu"),
    ];
    for (kind, base, named) in people {
        for short in ["59s", "1s", "500ms"] {
            assert_eq!(
                bad(&with(&base, &format!("repeat_interval = \"{short}\""))),
                [format!(
                    "notifier[0].repeat_interval: `repeat_interval` must be 0 (never repeat) or \
                     at least 1m on {named} notifier: people read it, and reminders more often \
                     than once a minute bury the chat or inbox and run into the bot's rate limit"
                )],
                "{kind} {short}"
            );
        }
    }
    assert_eq!(
        ok(&with(WEBHOOK, "repeat_interval = \"1s\"")).repeat_interval,
        Duration::from_secs(1)
    );
    assert_eq!(
        bad(&with(WEBHOOK, "repeat_interval = \"500ms\"")),
        ["notifier[0].repeat_interval: `repeat_interval` must be 0 (never repeat) or at least 1s"]
    );
}

#[test]
fn every_policy_problem_is_reported_together() {
    let keys = "language = \"de\"\nmin_severity = \"low\"\nrate_limit = 5000\n\
                group_wait = \"2h\"\ntimeout = \"1h\"\nquiet_hours = \"8-9\"";
    let problems = bad(&with(WECOM, keys));
    let keys: Vec<&str> = problems
        .iter()
        .filter_map(|p| p.split(':').next())
        .collect();
    assert_eq!(
        keys,
        [
            "notifier[0].language",
            "notifier[0].min_severity",
            "notifier[0].rate_limit",
            "notifier[0].group_wait",
            "notifier[0].timeout",
            "notifier[0].quiet_hours",
        ]
    );
}

#[test]
fn exec_placeholders_are_checked_per_argument() {
    let n = ok(
        "kind = \"exec\"\ncommand = [\"/bin/page\", \"{kind}\", \"--json={{\\\"d\\\":\\\"{device}\\\"}}\"]",
    );
    assert_eq!(n.command[2], "--json={{\"d\":\"{device}\"}}");
    let problems =
        bad("kind = \"exec\"\ncommand = [\"/bin/page\", \"{devcie}\", \"{kind\", \"ok\"]");
    assert_eq!(
        problems,
        [
            "notifier[0].command[1]: unknown placeholder {devcie}; known: {kind}, {device}, {status}, {summary}, {severity}, {provider}, {incident_id}, {vendor_id}, {repeat}, {opened_at}, {resolution} (write `{{` and `}}` for literal braces)",
            "notifier[0].command[2]: unclosed `{` at character 1: close the placeholder with `}`, or write `{{` for a literal brace",
        ]
    );
}

#[test]
fn chat_bots_need_an_http_url() {
    for kind in ["wecom", "dingtalk", "feishu"] {
        let n = ok(&format!(
            "kind = \"{kind}\"\nurl = \"http://127.0.0.1:9/bot\""
        ));
        assert_eq!(n.url.unwrap().expose_secret(), "http://127.0.0.1:9/bot");
        assert_eq!(
            bad(&format!("kind = \"{kind}\"")),
            [format!(
                "notifier[0].url: missing required key `url` (or `url_file`): a {kind} notifier posts to it"
            )]
        );
        let problems = bad(&format!("kind = \"{kind}\"\nurl = \"ftp://h/bot?key=k\""));
        assert_eq!(
            problems,
            ["notifier[0].url: bad url: the scheme is `ftp`; expected `http` or `https`"]
        );
    }
}

#[test]
fn keys_of_other_kinds_do_not_apply() {
    let problems = bad(&with(
        WECOM,
        "smtp_host = \"h\"\npassword_file = \"pw\"\nto = [\"a@b.c\"]",
    ));
    assert_eq!(
        problems,
        [
            "notifier[0].smtp_host: `smtp_host` does not apply to a wecom notifier (it is for email)",
            "notifier[0].password_file: `password_file` does not apply to a wecom notifier (it is for email)",
            "notifier[0].to: `to` does not apply to a wecom notifier (it is for email)",
        ]
    );
    let problems = bad(&with(
        EMAIL,
        "url = \"http://h/x\"\nsecret = \"s\"\ncommand = [\"x\"]",
    ));
    assert_eq!(
        problems,
        [
            "notifier[0].url: `url` does not apply to an email notifier (it is for webhook, wecom, dingtalk and feishu)",
            "notifier[0].secret: `secret` does not apply to an email notifier (it is for dingtalk and feishu)",
            "notifier[0].command: `command` does not apply to an email notifier (it is for exec)",
        ]
    );
}

#[test]
fn email_secrets_stay_out_of_errors_and_debug() {
    let n = ok(&with(EMAIL, "username = \"u\"\npassword = \"hunter2\""));
    assert!(!format!("{n:?}").contains("hunter2"));
    let problems = bad(&with(EMAIL, "password = \"hunter2\"\nsmtp_tls = \"none\""));
    assert!(!problems.join("\n").contains("hunter2"), "{problems:?}");
    let problems = bad(&with(EMAIL, "username = \"u\"\npassword = 1234567"));
    assert_eq!(
        problems,
        [
            "notifier[0].password: invalid type for `password`: expected a string (the value is not shown: it may be a secret)"
        ]
    );
}
