//! The email channel: one mail per send over SMTP, its subject the rendered title and its
//! text/plain body the rendered text ([`crate::notify::render`]) in the notifier's language.
//!
//! `smtp_tls = "starttls"` upgrades the connection and refuses to go on in the clear when the
//! server does not offer STARTTLS (no login, no mail is sent then); `"tls"` speaks TLS from
//! the first byte; `"none"` is plain SMTP, only for a relay on the same host or a trusted
//! network. Certificates are checked against the bundled web roots. Each attempt opens its own
//! connection; the whole session must end within the notifier's `timeout`. Error texts carry
//! the server's reply, never the password.

use std::fmt;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::Outgoing;
use crate::config::{Email, Notifier, SmtpTls};
use crate::notify::NotifyError;
use crate::notify::render::{Style, render};

/// One email notifier: the SMTP transport, the addresses and how to render.
pub(crate) struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    style: Style,
    timeout: Duration,
    /// Never shown: scrubbed from any error text that might echo it.
    password: Option<SecretString>,
}

impl fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailChannel")
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

impl EmailChannel {
    /// The channel of `notifier` (which must carry its `email` settings); rendered times are
    /// read in `timezone`.
    pub(crate) fn new(
        notifier: &Notifier,
        timezone: &TimeZone,
    ) -> Result<EmailChannel, NotifyError> {
        let Some(email) = &notifier.email else {
            return Err(NotifyError::Build("no smtp server is configured".into()));
        };
        let from = mailbox("from", &email.from)?;
        let to = email
            .to
            .iter()
            .map(|to| mailbox("to", to))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(NotifyError::Build("no recipient is configured".into()));
        }
        Ok(EmailChannel {
            transport: transport(email, notifier.timeout)?,
            from,
            to,
            style: Style {
                language: notifier.language,
                timezone: timezone.clone(),
            },
            timeout: notifier.timeout,
            password: email.password.clone(),
        })
    }

    /// Renders `outgoing` and hands it to the SMTP server as one mail; `Ok` once the server
    /// accepted it for every recipient.
    pub(crate) async fn send(
        &self,
        outgoing: Outgoing<'_>,
        sent_at: Timestamp,
    ) -> Result<(), NotifyError> {
        let mail = self.mail(outgoing, sent_at)?;
        match tokio::time::timeout(self.timeout, self.transport.send(mail)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(NotifyError::Timeout),
            Ok(Err(e)) => Err(NotifyError::Mail(self.scrub(e.to_string()))),
            Err(_) => Err(NotifyError::Timeout),
        }
    }

    /// The mail of `outgoing`: rendered subject and plain-text body (base64, so any language
    /// and line length passes every relay), dated `sent_at`.
    fn mail(&self, outgoing: Outgoing<'_>, sent_at: Timestamp) -> Result<Message, NotifyError> {
        let text = render(outgoing, sent_at, &self.style);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(text.title)
            .date(SystemTime::from(sent_at))
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Base64);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .body(text.plain)
            .map_err(|e| NotifyError::Encode(e.to_string()))
    }

    /// `text` with the password (should a server echo it) cut out.
    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(password) if !password.expose_secret().is_empty() => {
                text.replace(password.expose_secret(), "<password>")
            }
            _ => text,
        }
    }
}

/// The SMTP transport `email` describes, with `timeout` for each network step.
fn transport(
    email: &Email,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let builder = match email.tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&email.host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &email.host,
        )),
    }
    .map_err(|e| NotifyError::Build(format!("cannot set up tls for the smtp server: {e}")))?;
    let mut builder = builder.port(email.port).timeout(Some(timeout));
    if let Some(username) = &email.username {
        let password = email
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    Ok(builder.build())
}

/// `address` (`"Name <a@b.c>"` or `"a@b.c"`) as a mailbox; `key` names it in the error.
fn mailbox(key: &str, address: &str) -> Result<Mailbox, NotifyError> {
    address
        .parse()
        .map_err(|e| NotifyError::Build(format!("`{key}` is not a mail address: {address}: {e}")))
}

#[cfg(test)]
mod fake_smtp;
#[cfg(test)]
mod tests;
