//! The email channel against the fake SMTP server (real sockets on 127.0.0.1:0, real time).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde_json::json;

use super::fake_smtp::{FakeSmtp, Script, Session};
use super::*;
use crate::config::{Language, NotifierKind};
use crate::incident::{IncidentContext, IncidentKey, IncidentKind, Subject};
use crate::notify::channel::Batch;
use crate::notify::ledger::Message;
use crate::notify::render::Text;
use crate::store::{DeliveryRecord, DeliveryState, IncidentRecord, Transition};
use crate::vendor::VendorKind;

const PASSWORD: &str = "s3cret pass:word";

fn notifier(server: &FakeSmtp, tls: SmtpTls) -> Notifier {
    let mut notifier = Notifier::new("mail", NotifierKind::Email);
    notifier.language = Language::En;
    notifier.timeout = Duration::from_secs(10);
    notifier.email = Some(Email {
        host: "127.0.0.1".into(),
        port: server.addr.port(),
        tls,
        username: Some("keeper".into()),
        password: Some(SecretString::from(PASSWORD)),
        from: "session-keeper <keeper@example.test>".into(),
        to: vec![
            "ops@example.test".into(),
            "On Call <oncall@example.test>".into(),
        ],
    });
    notifier
}

fn channel(notifier: &Notifier) -> EmailChannel {
    EmailChannel::new(notifier, &TimeZone::UTC).unwrap()
}

fn sent_at() -> Timestamp {
    "2026-11-21T08:00:01Z".parse().unwrap()
}

fn login() -> Batch {
    let opened_at: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    let key = IncidentKey {
        subject: Subject::Device("sales-01".into()),
        kind: IncidentKind::ManualLoginRequired,
    };
    let incident = IncidentRecord {
        id: key.incident_id(opened_at),
        context: IncidentContext {
            provider: "gewe-cloud".into(),
            vendor: VendorKind::Gewe,
            vendor_id: Some("wx_abc123".into()),
            labels: BTreeMap::new(),
            notify: vec!["mail".into()],
        },
        summary: "sales-01 needs a QR login: reconnect failed".into(),
        detail: json!({"steps": ["reconnect"], "offline_reason": "kicked"}),
        key,
        opened_at,
        resolved_at: None,
        resolution: None,
        escalations: 0,
    };
    let delivery = DeliveryRecord {
        incident_id: incident.id.clone(),
        notifier: "mail".into(),
        transition: Transition::Firing,
        seq: 0,
        state: DeliveryState::Pending,
        attempts: 0,
        created_at: opened_at,
        sent_at: None,
        last_error: None,
    };
    Batch::one(Message {
        incident: Arc::new(incident),
        delivery,
    })
}

fn rendered(outgoing: Outgoing<'_>) -> Text {
    let style = Style {
        language: Language::En,
        timezone: TimeZone::UTC,
    };
    render(outgoing, sent_at(), &style)
}

/// The only session, which must have carried a mail.
fn mail_session(server: &FakeSmtp) -> (Session, String) {
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let data = sessions[0].data.clone().expect("no mail arrived");
    (sessions[0].clone(), data)
}

/// Header `name` of `mail`, unfolded, with RFC 2047 base64 words decoded.
fn header(mail: &str, name: &str) -> String {
    let head = mail.split("\r\n\r\n").next().unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}: ", name.to_ascii_lowercase());
    let value = unfolded
        .split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} header in {head}"));
    // Space between two encoded words is folding, not text (RFC 2047 §6.2).
    let mut bytes = Vec::new();
    let mut after_encoded = false;
    for (i, word) in value[prefix.len()..].split(' ').enumerate() {
        let start = "=?utf-8?b?".len();
        let encoded = word.to_ascii_lowercase().starts_with("=?utf-8?b?") && word.ends_with("?=");
        if i > 0 && !(encoded && after_encoded) {
            bytes.push(b' ');
        }
        if encoded {
            bytes.extend(STANDARD.decode(&word[start..word.len() - 2]).unwrap());
        } else {
            bytes.extend(word.as_bytes());
        }
        after_encoded = encoded;
    }
    String::from_utf8(bytes).unwrap()
}

/// The decoded text/plain body of `mail`, with `\n` line ends.
fn body(mail: &str) -> String {
    let (_, encoded) = mail.split_once("\r\n\r\n").unwrap();
    let bytes = STANDARD.decode(encoded.replace("\r\n", "")).unwrap();
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

#[tokio::test]
async fn a_mail_carries_the_login_the_envelope_and_the_rendered_subject_and_body() {
    let server = FakeSmtp::start(Script::default()).await;
    let mail = channel(&notifier(&server, SmtpTls::None));
    let batch = login();
    mail.send(Outgoing::Alert(&batch), sent_at()).await.unwrap();

    let (session, data) = mail_session(&server);
    assert_eq!(session.login, Some(("keeper".into(), PASSWORD.into())));
    assert_eq!(session.mail_from.as_deref(), Some("<keeper@example.test>"));
    assert_eq!(
        session.rcpt_to,
        ["<ops@example.test>", "<oncall@example.test>"]
    );
    let text = rendered(Outgoing::Alert(&batch));
    assert_eq!(header(&data, "Subject"), text.title);
    assert_eq!(
        header(&data, "From"),
        "session-keeper <keeper@example.test>"
    );
    let to = header(&data, "To");
    assert!(
        to.contains("ops@example.test")
            && to.contains("On Call")
            && to.contains("<oncall@example.test>"),
        "{to}"
    );
    assert!(header(&data, "Content-Type").starts_with("text/plain"));
    assert_eq!(header(&data, "Content-Transfer-Encoding"), "base64");
    assert!(header(&data, "Date").contains("21 Nov 2026 08:00:01"));
    assert_eq!(body(&data).trim_end(), text.plain.trim_end());
    assert!(body(&data).contains("sales-01"));
    assert!(!data.contains(PASSWORD));
}

#[tokio::test]
async fn a_chinese_subject_and_body_arrive_intact() {
    let server = FakeSmtp::start(Script::default()).await;
    let mut zh = notifier(&server, SmtpTls::None);
    zh.language = Language::Zh;
    let mut batch = login();
    let mut incident = (*batch.messages[0].incident).clone();
    incident.summary = "设备 sales-01 需要扫码登录：重连失败，二次登录未确认".into();
    batch.messages[0].incident = Arc::new(incident);
    channel(&zh)
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap();

    let (_, data) = mail_session(&server);
    let style = Style {
        language: Language::Zh,
        timezone: TimeZone::UTC,
    };
    let text = render(Outgoing::Alert(&batch), sent_at(), &style);
    assert!(data.is_ascii(), "a mail on the wire is 7-bit: {data}");
    assert_eq!(header(&data, "Subject"), text.title);
    assert_eq!(body(&data).trim_end(), text.plain.trim_end());
    assert!(body(&data).contains("sales-01"));
}

#[tokio::test]
async fn auth_login_is_used_when_the_server_offers_only_login_and_the_test_mail_says_test() {
    let server = FakeSmtp::start(Script {
        auth: "LOGIN",
        ..Script::default()
    })
    .await;
    let mail = channel(&notifier(&server, SmtpTls::None));
    let test = Outgoing::Test { notifier: "mail" };
    mail.send(test, sent_at()).await.unwrap();

    let (session, data) = mail_session(&server);
    assert!(
        session.commands.contains(&"AUTH LOGIN".to_owned()),
        "{session:?}"
    );
    assert_eq!(session.login, Some(("keeper".into(), PASSWORD.into())));
    let text = rendered(test);
    assert_eq!(header(&data, "Subject"), text.title);
    assert_eq!(body(&data).trim_end(), text.plain.trim_end());
    assert!(body(&data).contains("mail"));
}

#[tokio::test]
async fn a_5xx_at_rcpt_is_a_mail_error_quoting_the_reply_and_no_mail_is_sent() {
    let server = FakeSmtp::start(Script {
        rcpt: Some("550 5.1.1 mailbox unavailable"),
        ..Script::default()
    })
    .await;
    let mail = channel(&notifier(&server, SmtpTls::None));
    let batch = login();
    let error = mail
        .send(Outgoing::Alert(&batch), sent_at())
        .await
        .unwrap_err();
    match &error {
        NotifyError::Mail(text) => {
            assert!(text.contains("550"), "{text}");
            assert!(text.contains("mailbox unavailable"), "{text}");
        }
        other => panic!("expected a mail error, got {other:?}"),
    }
    assert!(!error.to_string().contains(PASSWORD));
    assert_eq!(server.sessions()[0].data, None);
}

#[tokio::test]
async fn a_5xx_after_the_data_is_a_mail_error_quoting_the_reply() {
    let server = FakeSmtp::start(Script {
        data: Some("554 5.7.1 rejected as spam"),
        ..Script::default()
    })
    .await;
    let mail = channel(&notifier(&server, SmtpTls::None));
    let error = mail
        .send(Outgoing::Test { notifier: "mail" }, sent_at())
        .await
        .unwrap_err();
    match &error {
        NotifyError::Mail(text) => {
            assert!(
                text.contains("554") && text.contains("rejected as spam"),
                "{text}"
            )
        }
        other => panic!("expected a mail error, got {other:?}"),
    }
    assert!(!error.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn starttls_mode_never_logs_in_or_sends_in_the_clear_when_the_server_lacks_starttls() {
    let server = FakeSmtp::start(Script::default()).await;
    let mail = channel(&notifier(&server, SmtpTls::Starttls));
    let error = mail
        .send(Outgoing::Test { notifier: "mail" }, sent_at())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, NotifyError::Mail(text) if text.contains("STARTTLS")),
        "{error}"
    );
    assert!(!error.to_string().contains(PASSWORD));
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = &sessions[0];
    assert_eq!(session.login, None, "{session:?}");
    assert_eq!(session.mail_from, None, "{session:?}");
    assert_eq!(session.data, None, "{session:?}");
    assert!(
        session
            .commands
            .iter()
            .all(|c| c.starts_with("EHLO") || c == "QUIT"),
        "{session:?}"
    );
}

#[tokio::test]
async fn tls_mode_against_a_plain_server_fails_without_a_login() {
    let server = FakeSmtp::start(Script::default()).await;
    let mail = channel(&notifier(&server, SmtpTls::Tls));
    let error = mail
        .send(Outgoing::Test { notifier: "mail" }, sent_at())
        .await
        .unwrap_err();
    assert!(
        matches!(error, NotifyError::Mail(_) | NotifyError::Timeout),
        "{error}"
    );
    assert!(server.sessions().iter().all(|s| s.login.is_none()));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = FakeSmtp::start(Script {
        silent: true,
        ..Script::default()
    })
    .await;
    let mut slow = notifier(&server, SmtpTls::None);
    slow.timeout = Duration::from_millis(300);
    let error = channel(&slow)
        .send(Outgoing::Test { notifier: "mail" }, sent_at())
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Timeout), "{error}");
}

#[tokio::test]
async fn bad_addresses_and_missing_settings_do_not_build() {
    let server = FakeSmtp::start(Script::default()).await;
    let mut bad_from = notifier(&server, SmtpTls::None);
    if let Some(email) = bad_from.email.as_mut() {
        email.from = "not an address".into();
    }
    let error = EmailChannel::new(&bad_from, &TimeZone::UTC).unwrap_err();
    assert!(
        matches!(&error, NotifyError::Build(text) if text.contains("`from`")),
        "{error}"
    );

    let mut no_one = notifier(&server, SmtpTls::None);
    if let Some(email) = no_one.email.as_mut() {
        email.to.clear();
    }
    let error = EmailChannel::new(&no_one, &TimeZone::UTC).unwrap_err();
    assert!(matches!(error, NotifyError::Build(_)), "{error}");

    let bare = Notifier::new("mail", NotifierKind::Email);
    let error = EmailChannel::new(&bare, &TimeZone::UTC).unwrap_err();
    assert!(matches!(error, NotifyError::Build(_)), "{error}");
}
