//! `[mail]`: the SMTP relay officers' digests go through, and when digests are sent. Read and
//! checked at start: the password comes from a file or the environment (never the config
//! file, never printed), an unencrypted connection is refused to anything but loopback, and a
//! bad address or time stops the start naming the setting.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Time;
use zeroize::Zeroizing;

use super::ConfigError;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only to a relay on this machine (127.0.0.1, ::1, localhost).
    None,
}

/// `[mail]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    smtp_host: String,
    #[serde(default)]
    smtp_port: Option<u16>,
    #[serde(default = "default_tls")]
    tls: MailTls,
    /// Trust only this CA (PEM) for the relay, instead of the public roots.
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    username: Option<String>,
    /// The password, alone in a file; or the environment's `BISIK_SMTP_PASSWORD`.
    #[serde(default)]
    password_file: Option<PathBuf>,
    from: String,
    #[serde(default = "default_hello")]
    hello_name: String,
    #[serde(default = "default_times")]
    digest_times: Vec<String>,
    /// One line telling officers how to open the desk (a URL of the agency's own
    /// instructions, say). Default: the `bisik desk` command.
    #[serde(default)]
    desk_hint: Option<String>,
    /// Name the waiting cases' ids in the mail (default: counts only).
    #[serde(default)]
    include_case_ids: bool,
    #[serde(default = "default_timeout")]
    timeout_secs: u64,
    /// After a failed send, the next try waits this long (until the next scheduled time, whose
    /// digest replaces it).
    #[serde(default = "default_retry")]
    retry_secs: u64,
    /// A digest not sent this many minutes after its time is skipped (the next one counts the
    /// same things), so a digest never arrives at a time of its own.
    #[serde(default = "default_window")]
    send_window_mins: u32,
}

fn default_tls() -> MailTls {
    MailTls::Starttls
}
fn default_hello() -> String {
    "localhost".into()
}
fn default_times() -> Vec<String> {
    vec!["08:00".into(), "13:00".into()]
}
fn default_timeout() -> u64 {
    20
}
fn default_retry() -> u64 {
    300
}
fn default_window() -> u32 {
    60
}

/// A secret read at start: wiped on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// `[mail]`, checked.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: MailTls,
    /// The CA certificate(s) to trust instead of the public roots (PEM bytes).
    pub ca_pem: Option<Vec<u8>>,
    pub credentials: Option<(String, Password)>,
    pub from: lettre::message::Mailbox,
    pub hello_name: String,
    pub digest_times: Vec<Time>,
    pub desk_hint: Option<String>,
    pub include_case_ids: bool,
    pub timeout_secs: u64,
    pub retry_secs: u64,
    pub send_window_mins: u32,
}

impl RawMail {
    /// Reads the files it names (relative to `base`, the config file's folder) and checks it.
    pub(super) fn load(self, base: &Path) -> Result<MailConfig, ConfigError> {
        let bad = |m: String| ConfigError::Invalid(format!("mail.{m}"));
        let host = self.smtp_host.trim().to_owned();
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(bad(format!(
                "smtp_host {:?} is not a host name",
                self.smtp_host
            )));
        }
        if self.tls == MailTls::None && !is_loopback(&host) {
            return Err(bad(format!(
                "tls = \"none\" is only allowed to a relay on this machine, not {host:?}: \
                 use \"starttls\" or \"implicit\""
            )));
        }
        let port = self.smtp_port.unwrap_or(match self.tls {
            MailTls::Starttls => 587,
            MailTls::Implicit => 465,
            MailTls::None => 25,
        });
        let ca_pem = self
            .ca_file
            .map(|f| super::read_named_file(&base.join(f)).map(String::into_bytes))
            .transpose()?;
        if let Some(pem) = &ca_pem
            && (!pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----")
                || lettre::transport::smtp::client::Certificate::from_pem(pem).is_err())
        {
            return Err(bad("ca_file holds no PEM certificate".into()));
        }
        let password = match (&self.password_file, std::env::var("BISIK_SMTP_PASSWORD")) {
            (Some(f), _) => {
                let path = base.join(f);
                let bytes = Zeroizing::new(
                    std::fs::read(&path)
                        .map_err(|e| bad(format!("password_file {}: {e}", path.display())))?,
                );
                if super::keys::holds_secret_key(&bytes) {
                    return Err(ConfigError::SecretKeyFound(path));
                }
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| bad("password_file is not UTF-8".into()))?;
                Some(Password(Zeroizing::new(
                    text.trim_end_matches(['\r', '\n']).to_owned(),
                )))
            }
            (None, Ok(p)) if !p.is_empty() => Some(Password(Zeroizing::new(p))),
            _ => None,
        };
        let credentials = match (self.username, password) {
            (Some(u), Some(p)) if !u.is_empty() => Some((u, p)),
            (None, None) => None,
            _ => {
                return Err(bad(
                    "username and a password (password_file or BISIK_SMTP_PASSWORD) go together"
                        .into(),
                ));
            }
        };
        if credentials.is_some() && self.tls == MailTls::None {
            return Err(bad("a password is never sent without TLS".into()));
        }
        let from = self
            .from
            .parse()
            .map_err(|_| bad(format!("from {:?} is not an e-mail address", self.from)))?;
        let mut digest_times = Vec::with_capacity(self.digest_times.len());
        for t in &self.digest_times {
            digest_times.push(
                crate::domain::digest::parse_time_of_day(t)
                    .ok_or_else(|| bad(format!("digest_times: {t:?} is not HH:MM")))?,
            );
        }
        digest_times.sort();
        digest_times.dedup();
        if digest_times.is_empty() {
            return Err(bad("digest_times must name at least one HH:MM".into()));
        }
        if self.hello_name.is_empty() || !self.hello_name.is_ascii() {
            return Err(bad("hello_name must be an ASCII host name".into()));
        }
        if self.timeout_secs == 0 || self.retry_secs == 0 || self.send_window_mins == 0 {
            return Err(bad(
                "timeout_secs, retry_secs and send_window_mins must be greater than zero".into(),
            ));
        }
        Ok(MailConfig {
            smtp_host: host,
            smtp_port: port,
            tls: self.tls,
            ca_pem,
            credentials,
            from,
            hello_name: self.hello_name,
            digest_times,
            desk_hint: self.desk_hint.filter(|h| !h.trim().is_empty()),
            include_case_ids: self.include_case_ids,
            timeout_secs: self.timeout_secs,
            retry_secs: self.retry_secs,
            send_window_mins: self.send_window_mins,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
