//! Officers' digests by e-mail: every minute the worker asks `service::digest` what is due and
//! hands each digest to the SMTP relay of `[mail]` (lettre, STARTTLS required or implicit TLS
//! with rustls; plain only to a relay on this machine), on a blocking thread. A digest the
//! relay refused is tried again after `retry_secs`; the next scheduled time's digest replaces
//! it, so nothing is lost by a failure: it counts the same things.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};

use super::digest_text::{Frame, render};
use crate::config::{MailConfig, MailTls};
use crate::error::{Error, Result};
use crate::service::App;
use crate::service::digest::{self, Digest};

/// How often the worker looks for due digests.
const POLL: Duration = Duration::from_secs(30);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
}

/// Runs until aborted (at shutdown).
pub async fn run(app: Arc<App>) {
    let Some(mail) = app.config.mail.as_ref() else {
        return;
    };
    let retry = Duration::from_secs(mail.retry_secs);
    loop {
        let wait = match round(&app).await {
            Ok(r) if r == Round::default() => POLL,
            // Counts only: no address, no member, no case.
            Ok(r) => {
                tracing::info!(sent = r.sent, failed = r.failed, "digests");
                if r.failed > 0 { retry } else { POLL }
            }
            Err(e) => {
                tracing::error!(error = %e, "digests failed");
                retry
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// One round: sends every digest due now and marks the ones the relay accepted.
pub async fn round(app: &Arc<App>) -> Result<Round> {
    let Some(mail) = app.config.mail.clone() else {
        return Ok(Round::default());
    };
    let due = digest::due(app).await?;
    if due.is_empty() {
        return Ok(Round::default());
    }
    let transport = transport(&mail)?;
    let mut r = Round::default();
    for d in due {
        let message = message(app, &mail, &d)?;
        let t = transport.clone();
        let outcome = tokio::task::spawn_blocking(move || t.send(&message))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        match outcome {
            Ok(_) => {
                digest::sent(app, &d).await?;
                r.sent += 1;
            }
            Err(e) => {
                // The relay's words may repeat the address: only the kind of failure is logged.
                tracing::warn!(
                    kind = failure_kind(&e),
                    "a digest was not accepted by the relay"
                );
                r.failed += 1;
            }
        }
    }
    Ok(r)
}

fn failure_kind(e: &lettre::transport::smtp::Error) -> &'static str {
    if e.is_tls() {
        "tls"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_permanent() {
        "refused"
    } else if e.is_transient() {
        "try later"
    } else {
        "connection"
    }
}

/// The relay connection as `[mail]` says.
pub fn transport(mail: &MailConfig) -> Result<SmtpTransport> {
    let internal = |e: lettre::transport::smtp::Error| Error::Internal(format!("mail: {e}"));
    let tls = || -> Result<TlsParameters> {
        let mut b = TlsParameters::builder(mail.smtp_host.clone());
        if let Some(pem) = &mail.ca_pem {
            // A private relay: trust its CA only, not the public roots as well.
            b = b
                .certificate_store(CertificateStore::None)
                .add_root_certificate(Certificate::from_pem(pem).map_err(internal)?);
        } else {
            b = b.certificate_store(CertificateStore::WebpkiRoots);
        }
        b.build_rustls().map_err(internal)
    };
    let mut builder = SmtpTransport::builder_dangerous(mail.smtp_host.as_str())
        .port(mail.smtp_port)
        .tls(match mail.tls {
            MailTls::Starttls => Tls::Required(tls()?),
            MailTls::Implicit => Tls::Wrapper(tls()?),
            MailTls::None => Tls::None,
        })
        .hello_name(ClientId::Domain(mail.hello_name.clone()))
        .timeout(Some(Duration::from_secs(mail.timeout_secs)));
    if let Some((user, password)) = &mail.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// A mail with no case data, to check the relay settings (`bisik digest test`).
pub fn test_message(mail: &MailConfig, to: lettre::Address) -> Result<Message> {
    Message::builder()
        .from(mail.from.clone())
        .to(Mailbox::new(None, to))
        .subject("Bisik: uji surel / mail test")
        .message_id(Some(message_id(mail)?))
        .header(ContentType::TEXT_PLAIN)
        .body(String::from(
            "Pengaturan surel Bisik berfungsi: ringkasan untuk petugas akan dikirim lewat jalur ini.\n\
             Bisik's mail settings work: officers' digests will be sent this way.\n",
        ))
        .map_err(|e| Error::Internal(format!("mail: {e}")))
}

fn message_id(mail: &MailConfig) -> Result<String> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| Error::Internal(e.to_string()))?;
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("<{hex}@{}>", mail.hello_name))
}

/// The mail for one digest.
pub fn message(app: &App, mail: &MailConfig, d: &Digest) -> Result<Message> {
    // Handles are unique across institutions.
    let name = app
        .directory
        .member(&d.to.scope.handle)
        .and_then(|m| m.display_name.clone())
        .unwrap_or_else(|| d.to.scope.handle.clone());
    let institution = app
        .directory
        .get(&d.to.scope.institution)
        .map(|i| match d.to.lang {
            crate::domain::digest::MailLang::Id => i.name_id.clone(),
            crate::domain::digest::MailLang::En => i.name_en.clone(),
        })
        .unwrap_or_else(|| d.to.scope.institution.clone());
    let times: Vec<String> = mail
        .digest_times
        .iter()
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .collect();
    let text = render(
        &Frame {
            lang: d.to.lang,
            name: &name,
            institution: &institution,
            slot: d.slot,
            zone: app.clock.zone().name(),
            times: &times,
            desk_hint: mail.desk_hint.as_deref(),
            include_case_ids: mail.include_case_ids,
        },
        &d.counts,
    );
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| Error::Internal(e.to_string()))?;
    Message::builder()
        .from(mail.from.clone())
        .to(Mailbox::new(None, d.to.email.clone()))
        .subject(text.subject)
        .message_id(Some(format!(
            "<{}@{}>",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            mail.hello_name
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(text.body)
        .map_err(|e| Error::Internal(format!("mail: {e}")))
}
