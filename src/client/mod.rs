//! The member's side of the API, used by the CLI. It holds the member's age identity, answers
//! the login challenge, seals what the member writes and opens what they read — plaintext
//! exists only on the member's machine.

mod casework;
mod custody;
pub mod files;
mod intake;
mod oversight;
mod replies;
mod reports;
mod reseal;
pub mod session;
pub use replies::{OutgoingFile, content_type_for};

use std::path::Path;

use crate::domain::documents::FileManifest;
use std::str::FromStr;
use std::time::Duration;

use crate::crypto::keys::{Identity, KeyRing, Recipient};
use age::secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::api::{
    AttachmentJson, AttachmentsResponse, BlobUploaded, CaseListResponse, CaseResponse,
    CaseSummaryJson, ChallengeRequest, ChallengeResponse, ClassifyRequest, ErrorResponse,
    ExcludeRequest, ExtendRequest, ExtendResponse, ForwardRequest, IdentityRequest,
    InstitutionJson, InstitutionsResponse, IntakeParamsResponse, IntakeRequest, IntakeResponse,
    OkResponse, OverdueCount, OverdueResponse, PendingRevealJson, PendingRevealsResponse,
    RecipientsResponse, RekeyRequest, ReplyRequest, RevealCreated, RevealDecided,
    RevealDecisionBody, RevealRequestBody, SealedAttachment, SealedItem, SessionRequest,
    SessionResponse, StateRequest,
};
use crate::crypto::envelope::{self, parse_recipient};
use crate::crypto::kdf;
use crate::crypto::receipt::{LookupId, Receipt};
use crate::crypto::token;
use crate::domain::documents::{IdentityDocument, REASON_TYPE, ReasonDocument, ReportDocument};

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot read identity file {path}: {source}")]
    IdentityFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} holds no age identity (the line that age-keygen writes)")]
    NoIdentity(String),
    #[error(
        "{0} is passphrase-protected and no passphrase was given (run on a terminal, or set BISIK_IDENTITY_PASSPHRASE)"
    )]
    NeedPassphrase(String),
    #[error("wrong passphrase for {0}, or it is not a passphrase-protected age file")]
    WrongPassphrase(String),
    #[error("invalid proxy {0:?}: use socks5h://host:port (Tor: socks5h://127.0.0.1:9050)")]
    Proxy(String),
    #[error("cannot reach the server: {0}")]
    Transport(String),
    #[error("server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("not logged in")]
    NotLoggedIn,
    #[error("the server's answer could not be read: {0}")]
    Decode(String),
    #[error("cannot decrypt: {0}")]
    Decrypt(#[from] envelope::EnvelopeError),
    #[error("the server gave an invalid recipient for this case: {0}")]
    BadRecipient(String),
    #[error(
        "this key belongs to a machine member (role integration): the desk is a person's tool; an institution's system uses the API or `bisik case`"
    )]
    MachineMember,
}

type Result<T> = std::result::Result<T, ClientError>;

/// Where a passphrase for an encrypted identity file comes from.
fn passphrase_for(shown: &str) -> Result<SecretString> {
    if let Ok(p) = std::env::var("BISIK_IDENTITY_PASSPHRASE") {
        return Ok(SecretString::from(p));
    }
    rpassword::prompt_password(format!("Passphrase for {shown}: "))
        .map(SecretString::from)
        .map_err(|_| ClientError::NeedPassphrase(shown.to_owned()))
}

/// Today in `zone` (an IANA name the server sent with the session), else in `BISIK_TIME_ZONE`,
/// else in Asia/Jakarta (WIB): the day a member's note or intake is dated, the desk's and the
/// CLI's "overdue" marks, a print's date.
pub fn today_in(zone: Option<&str>) -> time::Date {
    let zone = zone
        .and_then(crate::domain::clock::Zone::parse)
        .or_else(|| {
            std::env::var("BISIK_TIME_ZONE")
                .ok()
                .and_then(|z| crate::domain::clock::Zone::parse(&z))
        })
        .unwrap_or_default();
    zone.day_of(time::OffsetDateTime::now_utc())
}

/// Reads an age identity file: plain (as `age-keygen` writes it) or protected with a
/// passphrase (`age -p`), in which case the passphrase is asked for on the terminal.
pub fn read_identity(path: &Path) -> Result<KeyRing> {
    read_identity_with(path, None)
}

/// Whether an identity file is protected with a passphrase (`age -p`).
pub fn identity_needs_passphrase(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| {
        let b = Zeroizing::new(b);
        b.starts_with(b"age-encryption.org/")
    })
}

/// [`read_identity`] with the passphrase given (the desk's unlock page); `None` asks for it on
/// the terminal when the file needs one.
pub fn read_identity_with(path: &Path, passphrase: Option<SecretString>) -> Result<KeyRing> {
    let shown = path.display().to_string();
    let bytes =
        Zeroizing::new(
            std::fs::read(path).map_err(|source| ClientError::IdentityFile {
                path: shown.clone(),
                source,
            })?,
        );
    let plain = if bytes.starts_with(b"age-encryption.org/") {
        let passphrase = match passphrase {
            Some(p) => p,
            None => passphrase_for(&shown)?,
        };
        let id = age::scrypt::Identity::new(passphrase);
        Zeroizing::new(
            age::decrypt(&id, &bytes).map_err(|_| ClientError::WrongPassphrase(shown.clone()))?,
        )
    } else {
        bytes
    };
    let text = std::str::from_utf8(&plain).map_err(|_| ClientError::NoIdentity(shown.clone()))?;
    identities_in(text).ok_or(ClientError::NoIdentity(shown))
}

/// Every age identity in an identity file's text — classic (`AGE-SECRET-KEY-1…`) and
/// post-quantum (`AGE-SECRET-KEY-PQ-1…`) — post-quantum ones first, so a member holding both
/// logs in with the post-quantum key where the server knows it. `None` if there is none.
pub fn identities_in(text: &str) -> Option<KeyRing> {
    let mut found: Vec<Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with(crate::crypto::SECRET_KEY_PREFIX)
                || l.starts_with(crate::crypto::PQ_SECRET_KEY_PREFIX)
        })
        .filter_map(|l| Identity::from_str(l).ok())
        .collect();
    found.sort_by_key(|i| !i.kind().is_post_quantum());
    KeyRing::new(found)
}

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub overdue: bool,
    pub escalated: bool,
    pub limit: u32,
    pub offset: u32,
    pub tag: Option<String>,
    /// Received on or after / on or before this day (`YYYY-MM-DD`).
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// The cases this member's institution forwarded to another one, instead of its own.
    pub forwarded_away: bool,
    /// `newest` (the server's default), `oldest`, `due` or `state`.
    pub sort: Option<String>,
}

/// A report received offline (phone, post, complaint box, …), typed in by an officer.
#[derive(Default)]
pub struct OfflineReport {
    pub channel: String,
    pub kind: String,
    pub category: Option<String>,
    pub title: String,
    pub body: String,
    pub occurred_on: Option<String>,
    pub location: Option<String>,
    /// Name and contact of a confidential reporter; `None` for anonymous.
    pub identity: Option<(String, Option<String>)>,
}

crate::redacted_debug!(OfflineReport);

/// A logged-in (or about to be) member.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    identity: KeyRing,
    session: Option<session::Cached>,
    /// Whether the session token is cached on disk for later commands (the CLI) or kept in
    /// memory only (the desk).
    persist: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `proxy`: e.g. `socks5h://127.0.0.1:9050` to reach an onion service through Tor. Without
    /// it, no proxy is used — not even one from the environment.
    pub fn new(server: &str, identity: impl Into<KeyRing>, proxy: Option<&str>) -> Result<Self> {
        let identity = identity.into();
        let proxy = match proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|_| ClientError::Proxy(p.to_owned()))?),
            None => None,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .proxy(proxy)
            .build()
            .into();
        Ok(Self {
            agent,
            base: server.trim_end_matches('/').to_owned(),
            identity,
            session: None,
            persist: true,
        })
    }

    /// Keeps the session in memory only: nothing is read from or written to the session cache.
    pub fn in_memory(mut self) -> Self {
        self.persist = false;
        self
    }

    /// The member's session, once logged in (handle, institution, roles).
    /// Today in the deployment's time zone, as far as this member's tools know it (see
    /// [`today_in`]).
    pub fn today(&self) -> time::Date {
        today_in(self.session.as_ref().map(|s| s.time_zone.as_str()))
    }

    pub fn session(&self) -> Option<&session::Cached> {
        self.session.as_ref()
    }

    /// The member's keys (one or two: classic and post-quantum).
    pub fn identity(&self) -> &KeyRing {
        &self.identity
    }

    fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn finish<T: DeserializeOwned>(
        res: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut res = res.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        if status >= 400 {
            let message = res
                .body_mut()
                .read_json::<ErrorResponse>()
                .map(|e| e.message)
                .unwrap_or_else(|_| "no details".into());
            return Err(ClientError::Server { status, message });
        }
        res.body_mut()
            .read_json::<T>()
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    fn bearer(&self) -> Result<String> {
        self.session
            .as_ref()
            .map(|s| format!("Bearer {}", s.token))
            .ok_or(ClientError::NotLoggedIn)
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let mut req = self.agent.post(&self.url(path));
        if let Ok(b) = self.bearer() {
            req = req.header("Authorization", &b);
        }
        Self::finish(req.send_json(body))
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Self::finish(
            self.agent
                .get(&self.url(path))
                .header("Authorization", &self.bearer()?)
                .call(),
        )
    }

    fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let mut res = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &self.bearer()?)
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        if status >= 400 {
            let message = res
                .body_mut()
                .read_json::<ErrorResponse>()
                .map(|e| e.message)
                .unwrap_or_default();
            return Err(ClientError::Server { status, message });
        }
        res.body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// Challenge–response login with the identity; the session is cached for later commands.
    /// With two keys (post-quantum first), the first the server seals a challenge to logs in:
    /// a key the server does not know gets a challenge nobody can open.
    pub fn login(&mut self) -> Result<&session::Cached> {
        let recipient = self.recipient();
        let mut opened = None;
        for key in self.identity.recipients() {
            let c: ChallengeResponse = self.post(
                "/session/challenge",
                &ChallengeRequest {
                    recipient: key.to_string(),
                },
            )?;
            let sealed = token::decode(&c.challenge)
                .ok_or_else(|| ClientError::Decode("challenge".into()))?;
            if let Ok(secret) = envelope::open(&self.identity, &sealed) {
                opened = Some((c.challenge_id, secret));
                break;
            }
        }
        let (challenge_id, secret) = opened.ok_or_else(|| ClientError::Server {
            status: 401,
            message: "this identity is not a member of this server".into(),
        })?;
        let s: SessionResponse = self.post(
            "/session",
            &SessionRequest {
                challenge_id,
                response: token::encode(&secret),
            },
        )?;
        let cached = session::Cached {
            server: self.base.clone(),
            handle: s.handle.clone(),
            institution: s.institution.clone(),
            roles: s.roles.clone(),
            token: s.token.clone(),
            expires_at: s.expires_at,
            time_zone: s.time_zone.clone(),
        };
        // A cache that cannot be written only costs a login next time.
        if self.persist {
            let _ = session::save(&recipient, &cached);
        }
        Ok(self.session.insert(cached))
    }

    /// Uses a cached session if one is still valid, else logs in.
    pub fn ensure_session(&mut self) -> Result<()> {
        if self.session.is_none() && self.persist {
            self.session = session::load(&self.base, &self.recipient());
        }
        if self.session.is_none() {
            self.login()?;
        }
        Ok(())
    }

    /// Ends the session on the server and forgets it here.
    pub fn logout(&mut self) -> Result<()> {
        self.ensure_session()?;
        let res = self
            .agent
            .delete(&self.url("/session"))
            .header("Authorization", &self.bearer()?)
            .call();
        session::remove(&self.base, &self.recipient());
        self.session = None;
        Self::finish::<OkResponse>(res).map(|_| ())
    }

    /// Runs a call; if the cached session was refused (expired or revoked), logs in once and
    /// tries again.
    pub fn call<T>(&mut self, f: impl Fn(&Self) -> Result<T>) -> Result<T> {
        self.ensure_session()?;
        match f(self) {
            Err(ClientError::Server { status: 401, .. }) => {
                if self.persist {
                    session::remove(&self.base, &self.recipient());
                }
                self.login()?;
                f(self)
            }
            other => other,
        }
    }

    pub fn list(&self, f: &ListFilter) -> Result<Vec<CaseSummaryJson>> {
        self.list_where(f, false)
    }

    /// [`Self::list`]; with `assigned_to_me`, only the cases assigned to this member.
    fn list_where(&self, f: &ListFilter, assigned_to_me: bool) -> Result<Vec<CaseSummaryJson>> {
        let mut q = vec![
            ("limit", f.limit.to_string()),
            ("offset", f.offset.to_string()),
        ];
        for (k, v) in [
            ("state", &f.state),
            ("kind", &f.kind),
            ("category", &f.category),
            ("tag", &f.tag),
            ("received_from", &f.received_from),
            ("received_to", &f.received_to),
            ("sort", &f.sort),
        ] {
            if let Some(v) = v {
                q.push((k, v.clone()));
            }
        }
        for (k, on) in [
            ("overdue", f.overdue),
            ("escalated", f.escalated),
            ("assigned_to_me", assigned_to_me),
            ("forwarded_away", f.forwarded_away),
        ] {
            if on {
                q.push((k, "true".into()));
            }
        }
        let query =
            serde_urlencoded::to_string(&q).map_err(|e| ClientError::Decode(e.to_string()))?;
        let r: CaseListResponse = self.get_json(&format!("/cases?{query}"))?;
        Ok(r.cases)
    }

    pub fn case(&self, id: &str) -> Result<CaseResponse> {
        self.get_json(&format!("/cases/{}", path_segment(id)))
    }

    pub fn envelope(&self, id: &str) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/cases/{}/envelope", path_segment(id)))
    }

    pub fn identity_envelope(&self, id: &str) -> Result<Vec<u8>> {
        self.get_bytes(&format!("/cases/{}/identity", path_segment(id)))
    }

    /// Seals a document to the case's current readers and its reporter, here.
    fn seal_for_case(&self, id: &str, plaintext: &[u8]) -> Result<String> {
        let r: RecipientsResponse =
            self.get_json(&format!("/cases/{}/recipients", path_segment(id)))?;
        let mut recipients = Vec::with_capacity(r.readers.len() + 1);
        for text in r.readers.iter().chain(std::iter::once(&r.reporter)) {
            recipients.push(
                parse_recipient(text).ok_or_else(|| ClientError::BadRecipient(text.clone()))?,
            );
        }
        Ok(token::encode(&envelope::seal(&recipients, plaintext)?))
    }

    /// Writes to the citizen (and the institution's readers), sealed on this machine.
    pub fn reply(&self, id: &str, text: &str) -> Result<()> {
        self.reply_with_files(id, text, &mut [])
    }

    /// Moves a case; the reason (if any) is sealed here for the readers and the reporter.
    pub fn set_state(&self, id: &str, state: &str, reason: Option<&str>) -> Result<()> {
        let reason_envelope = match reason {
            Some(text) => {
                let doc = ReasonDocument {
                    doc_type: REASON_TYPE.into(),
                    version: 1,
                    state: state.into(),
                    text: text.into(),
                };
                let json = Zeroizing::new(
                    serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
                );
                Some(self.seal_for_case(id, &json)?)
            }
            None => None,
        };
        let _: OkResponse = self.post(
            &format!("/cases/{}/state", path_segment(id)),
            &StateRequest {
                state: state.into(),
                reason_envelope,
            },
        )?;
        Ok(())
    }

    /// Extends the current stage's deadline; the reason is sealed here like a message.
    pub fn extend(&self, id: &str, days: u32, reason: &str) -> Result<Option<String>> {
        let doc = ReasonDocument {
            doc_type: REASON_TYPE.into(),
            version: 1,
            state: "extension".into(),
            text: reason.into(),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| ClientError::Decode(e.to_string()))?,
        );
        let reason_envelope = self.seal_for_case(id, &json)?;
        let r: ExtendResponse = self.post(
            &format!("/cases/{}/extend", path_segment(id)),
            &ExtendRequest {
                days,
                reason_envelope,
            },
        )?;
        Ok(r.due_on)
    }

    /// Oversight: how many cases each institution has past their due day.
    pub fn overdue_counts(&self) -> Result<Vec<OverdueCount>> {
        let r: OverdueResponse = self.get_json("/oversight/overdue")?;
        Ok(r.institutions)
    }

    /// Oversight: every institution's overdue cases (metadata only).
    pub fn overdue_cases(&self) -> Result<Vec<CaseSummaryJson>> {
        let r: CaseListResponse = self.get_json("/oversight/overdue-cases")?;
        Ok(r.cases)
    }

    pub fn institutions(&self) -> Result<Vec<InstitutionJson>> {
        let r: InstitutionsResponse = self.get_json("/institutions")?;
        Ok(r.institutions)
    }

    fn recipients_at(&self, path: &str) -> Result<Vec<Recipient>> {
        let (mut readers, reporter) = self.readers_and_reporter_at(path)?;
        readers.push(reporter);
        Ok(readers)
    }

    /// Excludes a member from a case (conflict of interest), with a reason they cannot read.
    pub fn exclude(&self, id: &str, handle: &str, reason: &str) -> Result<()> {
        let recipients = self.recipients_at(&format!(
            "/cases/{}/recipients?without={}",
            path_segment(id),
            path_segment_handle(handle)
        ))?;
        let reason_envelope = Self::seal_reason(&recipients, "exclusion", reason)?;
        let _: OkResponse = self.post(
            &format!("/cases/{}/exclusions", path_segment(id)),
            &ExcludeRequest {
                handle: handle.into(),
                reason_envelope,
            },
        )?;
        Ok(())
    }

    pub fn attachments(&self, id: &str) -> Result<Vec<AttachmentJson>> {
        let r: AttachmentsResponse =
            self.get_json(&format!("/cases/{}/attachments", path_segment(id)))?;
        Ok(r.attachments)
    }

    /// Decrypts every attachment of a case into `dir`, streaming (the file never sits whole in
    /// memory), with names made safe. Returns (saved path, manifest) per file.
    pub fn save_attachments(
        &self,
        id: &str,
        dir: &Path,
    ) -> Result<Vec<(std::path::PathBuf, FileManifest)>> {
        files::create_private_dir(dir)
            .map_err(|e| ClientError::Transport(format!("cannot create {}: {e}", dir.display())))?;
        let mut out = Vec::new();
        for a in self.attachments(id)? {
            let manifest: FileManifest = self.open_document(
                &token::decode(&a.manifest)
                    .ok_or_else(|| ClientError::Decode("manifest".into()))?,
            )?;
            let mut plain = self.open_attachment(id, a.seq)?;
            let name = files::safe_name(&manifest.name, &format!("attachment-{}", a.seq));
            // Private temporary file, removed on any error; mode 0600 whatever the umask.
            let target = files::save(dir, &name, &mut plain).map_err(|e| {
                ClientError::Transport(format!(
                    "cannot save attachment #{} in {}: {e}",
                    a.seq,
                    dir.display()
                ))
            })?;
            out.push((target, manifest));
        }
        Ok(out)
    }

    pub fn classify(&self, id: &str, req: &ClassifyRequest) -> Result<()> {
        let _: OkResponse = self.post(&format!("/cases/{}/classify", path_segment(id)), req)?;
        Ok(())
    }

    /// Decrypts an envelope with the member's identity and parses the JSON document inside.
    pub fn open_document<T: DeserializeOwned>(&self, sealed: &[u8]) -> Result<T> {
        let plain = envelope::open(&self.identity, sealed)?;
        serde_json::from_slice(&plain).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// A case sealed again on this machine, ready to send.
struct Resealed {
    content: String,
    messages: Vec<SealedItem>,
    reasons: Vec<SealedItem>,
    attachments: Vec<SealedAttachment>,
    /// Sealed to the readers only.
    notes: Vec<SealedItem>,
}

/// Keeps a typed handle from changing the request query.
fn path_segment_handle(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect()
}

/// Keeps a typed id from changing the request path.
fn path_segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
