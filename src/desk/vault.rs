//! The unlocked desk: the member client (holding the officer's identity) and what it decrypted,
//! in memory only. Dropping a [`Vault`] drops the identity and wipes every decrypted text.
//!
//! Everything here is blocking (the member client is): callers run it on the blocking pool.

use std::collections::HashMap;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::api::{CaseResponse, CaseSummaryJson, PendingRevealJson};
use crate::client::{Client, ClientError, ListFilter, OfflineReport};
use crate::crypto::token;
use crate::domain::case::CaseState;
use crate::domain::documents::{
    FileManifest, IdentityDocument, MessageDocument, ReasonDocument, ReportDocument,
};
use crate::domain::institution::Role;
use crate::domain::workflow::rules_from;

mod inbox;
pub use inbox::{InboxQuery, Row};

/// What the inbox shows of a case's content, decrypted once and kept for search.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct Opened {
    pub title: String,
    /// Lower-case title and body, for search.
    haystack: String,
    /// The content did not open with this identity.
    pub unreadable: bool,
}

crate::redacted_debug!(Opened);

/// An unlocked desk.
pub struct Vault {
    client: Client,
    opened: HashMap<String, Opened>,
    /// Institution slug → (name in Bahasa Indonesia, name in English, takes reports).
    names: HashMap<String, (String, String, bool)>,
    /// The server's report categories: (slug, name in Bahasa Indonesia, name in English).
    categories: Vec<(String, String, String)>,
    /// Identities this custodian opened in this session (for the printed case file); dropped,
    /// and wiped, with the vault.
    identities: HashMap<String, IdentityDocument>,
}

/// What an officer does to a case besides answering and moving it.
pub enum Act {
    Forward {
        to: String,
        reason: String,
    },
    Extend {
        days: u32,
        reason: String,
    },
    Classify {
        kind: String,
        tags: Vec<String>,
    },
    Exclude {
        handle: String,
        reason: String,
    },
    RevealRequest {
        reason: String,
    },
    Rekey,
    /// `None` clears the assignment.
    Assign {
        handle: Option<String>,
    },
    /// An internal note for the institution's officers (never the reporter).
    Note {
        text: String,
    },
    /// The oversight body: a recommendation to the institution of an escalated case.
    Recommend {
        text: String,
    },
    /// The oversight body: a message to the citizen of an escalated case.
    OversightMessage {
        text: String,
    },
}

crate::redacted_debug!(Act);

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { <redacted> }")
    }
}

pub const PAGE_SIZE: u32 = 50;
/// The server's largest page: used when searching, which needs every case decrypted.
const FETCH_ALL_PAGE: u32 = 500;
/// A search looks at no more than this many cases (newest first).
const SEARCH_LIMIT: u32 = 20_000;

/// A case as the case page shows it, decrypted.
#[derive(Debug)]
pub struct CaseView {
    pub raw: CaseResponse,
    pub report: Option<ReportDocument>,
    /// (event, decrypted reason; `Err(())` when it did not open)
    pub reasons: Vec<Option<Result<ReasonDocument, ()>>>,
    pub messages: Vec<Option<MessageDocument>>,
    /// Internal notes, decrypted here (`None` when one does not open).
    pub notes: Vec<Option<MessageDocument>>,
    /// The oversight body's recommendations, decrypted here.
    pub recommendations: Vec<Option<MessageDocument>>,
    /// States this member may move the case to, and whether each needs a reason.
    pub moves: Vec<(CaseState, bool)>,
    /// The member's roles.
    pub roles: Vec<Role>,
}

impl Vault {
    /// Logs in with the identity (the session stays in memory).
    pub fn open(
        server: &str,
        identity: crate::crypto::keys::KeyRing,
        proxy: Option<&str>,
    ) -> Result<Self, ClientError> {
        let mut client = Client::new(server, identity, proxy)?.in_memory();
        client.login()?;
        // The desk is a person's tool: a machine member (role `integration`) is refused here,
        // and its fresh session ended, so what it does stays in the API and the CLI.
        if client
            .session()
            .is_some_and(|s| s.roles.iter().any(|r| r == "integration"))
        {
            let _ = client.logout();
            return Err(ClientError::MachineMember);
        }
        let directory = client.directory()?;
        let names = directory
            .institutions
            .into_iter()
            .map(|i| (i.slug, (i.name_id, i.name_en, i.accepts_reports)))
            .collect();
        let categories = directory
            .categories
            .into_iter()
            .map(|c| (c.slug, c.name_id, c.name_en))
            .collect();
        Ok(Self {
            client,
            opened: HashMap::new(),
            names,
            categories,
            identities: HashMap::new(),
        })
    }

    /// An institution's name in the page's language (its slug if unknown).
    pub fn institution_name(&self, slug: &str, english: bool) -> String {
        self.names.get(slug).map_or_else(
            || slug.to_owned(),
            |(id, en, _)| if english { en.clone() } else { id.clone() },
        )
    }

    /// Today in the deployment's time zone (the server names it with the session).
    pub fn today(&self) -> time::Date {
        self.client.today()
    }

    /// The report categories as (slug, name in the page's language), by name.
    pub fn categories(&self, english: bool) -> Vec<(String, String)> {
        let mut c: Vec<(String, String)> = self
            .categories
            .iter()
            .map(|(slug, id, en)| (slug.clone(), if english { en } else { id }.clone()))
            .collect();
        c.sort_by(|a, b| a.1.cmp(&b.1));
        c
    }

    /// A category's name in the page's language (its slug if unknown).
    pub fn category_name(&self, slug: &str, english: bool) -> String {
        self.categories
            .iter()
            .find(|(s, _, _)| s == slug)
            .map_or_else(
                || slug.to_owned(),
                |(_, id, en)| if english { en } else { id }.clone(),
            )
    }

    /// Institutions a case can be forwarded to (all that take reports but `current`).
    pub fn forward_targets(&self, current: &str, english: bool) -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = self
            .names
            .iter()
            .filter(|(slug, (_, _, takes))| *takes && slug.as_str() != current)
            .map(|(slug, (id, en, _))| {
                (slug.clone(), if english { en.clone() } else { id.clone() })
            })
            .collect();
        t.sort_by(|a, b| a.1.cmp(&b.1));
        t
    }

    /// Does something to a case; its decrypted copy here is forgotten (it may be re-sealed).
    pub fn act(&mut self, id: &str, act: &Act) -> Result<(), ClientError> {
        self.opened.remove(id);
        match act {
            Act::Forward { to, reason } => self.client.call(|c| c.forward(id, to, reason)),
            Act::Extend { days, reason } => self
                .client
                .call(|c| c.extend(id, *days, reason))
                .map(|_| ()),
            Act::Classify { kind, tags } => {
                let req = crate::api::ClassifyRequest {
                    kind: Some(kind.clone()).filter(|k| !k.is_empty()),
                    category: None,
                    tags: Some(tags.clone()),
                    privacy: None,
                };
                self.client.call(|c| c.classify(id, &req))
            }
            Act::Exclude { handle, reason } => self.client.call(|c| c.exclude(id, handle, reason)),
            Act::RevealRequest { reason } => self
                .client
                .call(|c| c.request_reveal(id, reason))
                .map(|_| ()),
            Act::Rekey => self.client.call(|c| c.rekey(id)),
            Act::Assign { handle } => self
                .client
                .call(|c| c.assign(id, handle.as_deref()))
                .map(|_| ()),
            Act::Note { text } => self.client.call(|c| c.note(id, text)).map(|_| ()),
            Act::Recommend { text } => self.client.call(|c| c.recommend(id, text)).map(|_| ()),
            Act::OversightMessage { text } => self.client.call(|c| c.oversight_message(id, text)),
        }
    }

    /// A case's files: (position, manifest decrypted here, or `None` if it does not open,
    /// day added).
    pub fn files(
        &mut self,
        id: &str,
    ) -> Result<Vec<(i64, Option<FileManifest>, String)>, ClientError> {
        let list = self.client.call(|c| c.attachments(id))?;
        Ok(list
            .into_iter()
            .map(|a| {
                let manifest = token::decode(&a.manifest)
                    .and_then(|s| self.client.open_document::<FileManifest>(&s).ok());
                (a.seq, manifest, a.added_on)
            })
            .collect())
    }

    /// One file, decrypted here, whole (held in memory, wiped when dropped).
    pub fn file(
        &mut self,
        id: &str,
        seq: i64,
    ) -> Result<(FileManifest, zeroize::Zeroizing<Vec<u8>>), ClientError> {
        let manifest = self
            .files(id)?
            .into_iter()
            .find(|(s, _, _)| *s == seq)
            .and_then(|(_, m, _)| m)
            .ok_or(ClientError::Server {
                status: 404,
                message: "no such file".into(),
            })?;
        let bytes = self
            .client
            .call(|c| c.attachment_bytes(id, seq, manifest.size))?;
        Ok((manifest, bytes))
    }

    /// Every file of a case that opens with this identity, decrypted here, in one ZIP built in
    /// memory (wiped when dropped) under safe, unique names. Files are bounded by the server's
    /// upload limits, so the archive is too.
    pub fn files_zip(&mut self, id: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, ClientError> {
        let mut opened = Vec::new();
        for (seq, manifest, _) in self.files(id)? {
            let Some(manifest) = manifest else { continue };
            let bytes = self
                .client
                .call(|c| c.attachment_bytes(id, seq, manifest.size))?;
            opened.push((manifest, seq, bytes));
        }
        crate::client::files::zip_archive(
            opened
                .iter()
                .map(|(m, seq, bytes)| (m.name.as_str(), *seq, &bytes[..])),
        )
        .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// Who did what to a case, by day (for the printed case file).
    pub fn case_audit(&mut self, id: &str) -> Result<Vec<crate::api::AuditEntryJson>, ClientError> {
        self.client.call(|c| c.case_audit(id))
    }

    /// The institution's own numbers, its overdue cases (metadata only) and the public on-time
    /// share of every institution (`None` when unpublished or unreachable).
    pub fn institution_stats(
        &mut self,
    ) -> Result<
        (
            crate::api::InstitutionStatsResponse,
            Vec<CaseSummaryJson>,
            Option<u64>,
        ),
        ClientError,
    > {
        let stats = self.client.call(|c| c.institution_stats())?;
        let mut overdue = Vec::new();
        let mut offset = 0;
        while offset < SEARCH_LIMIT {
            let f = ListFilter {
                overdue: true,
                sort: Some("due".into()),
                limit: FETCH_ALL_PAGE,
                offset,
                ..ListFilter::default()
            };
            let page = self.client.call(|c| c.list(&f))?;
            let n = page.len() as u32;
            overdue.extend(page);
            if n < FETCH_ALL_PAGE {
                break;
            }
            offset += FETCH_ALL_PAGE;
        }
        self.open_all(&overdue)?;
        let public = self.client.public_on_time_percent().ok().flatten();
        Ok((stats, overdue, public))
    }

    /// The decrypted title of a case opened before (`None` if not opened or unreadable).
    pub fn title(&self, id: &str) -> Option<String> {
        self.opened
            .get(id)
            .filter(|o| !o.unreadable)
            .map(|o| o.title.clone())
    }

    /// A custodian of the institution keeping an identity re-seals it (here) for the
    /// custodians of the case's current institution, after a forward.
    pub fn hand_over_identity(&mut self, id: &str) -> Result<(), ClientError> {
        self.client.call(|c| c.hand_over_identity(id))
    }

    /// Oversight: how many cases each institution has past their due day, with names.
    pub fn overdue_counts(&mut self, english: bool) -> Result<Vec<(String, i64)>, ClientError> {
        let counts = self.client.call(|c| c.overdue_counts())?;
        Ok(counts
            .into_iter()
            .map(|c| (self.institution_name(&c.institution, english), c.overdue))
            .collect())
    }

    /// Oversight: the overdue cases themselves (metadata only), with institution names.
    pub fn overdue_cases(
        &mut self,
        english: bool,
    ) -> Result<Vec<(CaseSummaryJson, String)>, ClientError> {
        let cases = self.client.call(|c| c.overdue_cases())?;
        Ok(cases
            .into_iter()
            .map(|c| {
                let name = self.institution_name(&c.institution, english);
                (c, name)
            })
            .collect())
    }

    /// Every file of a case with the SHA-256 of its decrypted bytes (for the printed file).
    pub fn file_digests(&mut self, id: &str) -> Result<Vec<(String, String)>, ClientError> {
        use sha2::Digest as _;
        let seqs: Vec<i64> = self.files(id)?.into_iter().map(|(s, _, _)| s).collect();
        let mut out = Vec::new();
        for seq in seqs {
            let (manifest, bytes) = self.file(id, seq)?;
            let digest = sha2::Sha256::digest(&bytes[..]);
            let hex = digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>();
            out.push((manifest.name.clone(), hex));
        }
        Ok(out)
    }

    /// A custodian opens a confidential reporter's identity (audited on the server).
    pub fn identity(&mut self, id: &str) -> Result<IdentityDocument, ClientError> {
        let sealed = self.client.call(|c| c.identity_envelope(id))?;
        let doc: IdentityDocument = self.client.open_document(&sealed)?;
        self.identities.insert(id.to_owned(), doc.clone());
        Ok(doc)
    }

    /// The identity of a case if this custodian opened it in this session.
    pub fn opened_identity(&self, id: &str) -> Option<&IdentityDocument> {
        self.identities.get(id)
    }

    /// The custodian's queue: pending reveal requests, each reason decrypted here.
    pub fn pending_reveals(
        &mut self,
    ) -> Result<Vec<(PendingRevealJson, Option<ReasonDocument>)>, ClientError> {
        let list = self.client.call(|c| c.pending_reveals())?;
        Ok(list
            .into_iter()
            .map(|p| {
                let reason = token::decode(&p.reason_envelope)
                    .and_then(|s| self.client.open_document(&s).ok());
                (p, reason)
            })
            .collect())
    }

    /// A custodian decides a reveal request; returns the day the identity is handed out.
    pub fn decide_reveal(
        &mut self,
        id: &str,
        seq: i64,
        approve: bool,
        reason: &str,
    ) -> Result<Option<String>, ClientError> {
        self.client
            .call(|c| c.decide_reveal(id, seq, approve, reason))
    }

    /// Staff intake: the report, receipt and reporter key are made here (Argon2id on this
    /// machine); returns the case id and the receipt to hand over.
    pub fn intake(
        &mut self,
        r: &OfflineReport,
        files: &[crate::desk::upload::UploadedFile],
    ) -> Result<(String, zeroize::Zeroizing<String>), ClientError> {
        self.client.call(|c| {
            let mut readers: Vec<&[u8]> = files.iter().map(|f| &f.bytes[..]).collect();
            let mut outgoing = outgoing(files, &mut readers);
            c.intake_with_files(r, &mut outgoing)
        })
    }

    /// Handle, institution and roles of the logged-in member.
    pub fn who(&self) -> (String, String, Vec<String>) {
        self.client
            .session()
            .map(|s| (s.handle.clone(), s.institution.clone(), s.roles.clone()))
            .unwrap_or_default()
    }

    pub fn roles(&self) -> Vec<Role> {
        self.who()
            .2
            .iter()
            .filter_map(|r| match r.as_str() {
                "triage" => Some(Role::Triage),
                "investigator" => Some(Role::Investigator),
                "custodian" => Some(Role::Custodian),
                "oversight" => Some(Role::Oversight),
                "integration" => Some(Role::Integration),
                _ => None,
            })
            .collect()
    }

    /// A case, decrypted here, with the moves this member may make.
    pub fn case(&mut self, id: &str) -> Result<CaseView, ClientError> {
        let raw = self.client.call(|c| c.case(id))?;
        let open = |b64: &str| token::decode(b64);
        let report = open(&raw.content).and_then(|s| self.client.open_document(&s).ok());
        let reasons = raw
            .events
            .iter()
            .map(|e| {
                e.reason_envelope.as_deref().map(|b64| {
                    open(b64)
                        .and_then(|s| self.client.open_document::<ReasonDocument>(&s).ok())
                        .ok_or(())
                })
            })
            .collect();
        let messages = raw
            .messages
            .iter()
            .map(|m| open(&m.envelope).and_then(|s| self.client.open_document(&s).ok()))
            .collect();
        let notes = raw
            .notes
            .iter()
            .map(|n| open(&n.envelope).and_then(|s| self.client.open_note(&s).ok()))
            .collect();
        let recommendations = raw
            .recommendations
            .iter()
            .map(|n| open(&n.envelope).and_then(|s| self.client.open_note(&s).ok()))
            .collect();
        let roles = self.roles();
        let held_from = raw.case.held_from.as_deref().and_then(CaseState::parse);
        let moves = CaseState::parse(&raw.case.state)
            .map(|from| {
                rules_from(from, held_from)
                    .filter(|r| r.roles.iter().any(|x| roles.contains(x)))
                    .map(|r| (r.to, r.needs_reason))
                    .collect()
            })
            .unwrap_or_default();
        Ok(CaseView {
            raw,
            report,
            reasons,
            messages,
            notes,
            recommendations,
            moves,
            roles,
        })
    }

    /// Answers the reporter (sealed here to the case's readers and the reporter).
    pub fn reply(&mut self, id: &str, text: &str) -> Result<(), ClientError> {
        self.client.call(|c| c.reply(id, text))
    }

    /// Answers the reporter with documents attached — each (name, content type, bytes) sealed
    /// here like the message and uploaded before the message names it.
    pub fn reply_with_files(
        &mut self,
        id: &str,
        text: &str,
        files: &[crate::desk::upload::UploadedFile],
    ) -> Result<(), ClientError> {
        self.client.call(|c| {
            let mut readers: Vec<&[u8]> = files.iter().map(|f| &f.bytes[..]).collect();
            let mut outgoing = outgoing(files, &mut readers);
            c.reply_with_files(id, text, &mut outgoing)
        })
    }

    /// A forward (disposisi), telling `progress(done, total)` as it re-seals.
    pub fn forward_with_progress(
        &mut self,
        id: &str,
        to: &str,
        reason: &str,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(), ClientError> {
        self.client
            .call(|c| c.forward_with_progress(id, to, reason, progress))
    }

    /// Moves the case, with a reason sealed here when one is given.
    pub fn set_state(
        &mut self,
        id: &str,
        state: &str,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        self.client.call(|c| c.set_state(id, state, reason))?;
        Ok(())
    }
}

/// Files held in memory, as the client's outgoing files (each read from its own slice).
fn outgoing<'a>(
    files: &[crate::desk::upload::UploadedFile],
    readers: &'a mut [&[u8]],
) -> Vec<crate::client::OutgoingFile<'a>> {
    files
        .iter()
        .zip(readers.iter_mut())
        .map(|(f, reader)| crate::client::OutgoingFile {
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            reader,
        })
        .collect()
}
