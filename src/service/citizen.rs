//! What a citizen does: submit a report, open their case with the receipt, reply.

use tracing::instrument;
use zeroize::Zeroizing;

use crate::crypto::envelope;
use crate::crypto::kdf::{self, ReporterIdentity, recipients_match};
use crate::crypto::keys::{PartyKeys, Recipient};
use crate::crypto::receipt::{LookupId, Receipt};
use crate::domain::case::CaseSummary;
use crate::domain::case::{Actor, CaseState, new_case_id};
use crate::domain::clock::day_string;
use crate::domain::documents::{
    IDENTITY_TYPE, IdentityDocument, MESSAGE_TYPE, MessageDocument, REPORT_TYPE, ReasonDocument,
    ReportDocument,
};
use crate::domain::records::NewAttachment;
use crate::domain::report::Checked;
use crate::domain::workflow::after_reporter_message;
use crate::error::{Error, Result};
use crate::store::{NewCase, ReceiptRecord, StoreError};

use super::App;

mod closing;
mod escalate;
pub use closing::{Verdicted, can_reopen, can_write, reopen_until, verdict};
pub use escalate::{can_escalate, escalate};
pub mod held;
mod reply_files;
pub use reply_files::{Download, FileDownload, OwnFile, ReporterFile, open_message_file};

/// A committed report and the receipt that opens it. The receipt exists only in this value.
#[derive(Debug)]
pub struct Submitted {
    pub case_id: String,
    pub receipt: Receipt,
}

/// How often to draw fresh random ids when one collides with an existing case.
const ID_ATTEMPTS: usize = 16;

/// The keys of a report about to be filed: made before any file is sealed, since files are
/// sealed to the same readers and the reporter's derived recipient.
pub struct Prepared {
    receipt: Receipt,
    salt: [u8; kdf::SALT_LEN],
    params: crate::crypto::kdf::KdfParams,
    institution: String,
    reporter: PartyKeys,
    readers: Vec<PartyKeys>,
}

crate::redacted_debug!(Prepared);

impl Prepared {
    /// Recipients of the content and of every attachment: readers and the reporter, all
    /// post-quantum when every reader has a post-quantum key.
    pub fn content_recipients(&self) -> Result<Vec<Recipient>> {
        let mut r = self.readers.clone();
        r.push(self.reporter.clone());
        Ok(super::sealing_for(&r)?.recipients)
    }
}

/// Draws the receipt and derives the reporter's key (one Argon2id run).
#[instrument(skip_all)]
pub async fn prepare(app: &App, report: &Checked<'_>) -> Result<Prepared> {
    let institution = match report.institution {
        Some(slug) => app.directory.get(slug).ok_or(Error::NotFound)?,
        None => app.directory.intake_desk(),
    };
    let receipt = Receipt::generate(LookupId::random()?)?;
    let salt = kdf::new_salt()?;
    let params = app.kdf.params;
    let reporter = app
        .kdf
        .derive_for_submission(receipt.secret(), &salt, params)
        .await?
        .keys();
    Ok(Prepared {
        receipt,
        salt,
        params,
        institution: institution.slug.clone(),
        reporter,
        readers: institution.readers(),
    })
}

/// Encrypts and commits a checked report. Returns only after the commit is durable
/// (DESIGN 2.8); the caller shows the receipt after that and never before.
#[instrument(skip_all)]
pub async fn submit(app: &App, report: &Checked<'_>) -> Result<Submitted> {
    let prepared = prepare(app, report).await?;
    commit(app, prepared, report, &[]).await
}

/// Seals the report (and identity) and commits them with the already-stored attachments in one
/// transaction.
#[instrument(skip_all)]
pub async fn commit(
    app: &App,
    p: Prepared,
    report: &Checked<'_>,
    attachments: &[NewAttachment],
) -> Result<Submitted> {
    commit_claiming(app, p, report, attachments, None).await
}

/// [`commit`], forgetting in the same transaction the held files `claim` names (a hold's
/// digest and the files' blobs, see [`held`]): `Error::Conflict` if one is gone.
async fn commit_claiming(
    app: &App,
    p: Prepared,
    report: &Checked<'_>,
    attachments: &[NewAttachment],
    claim: Option<(&[u8], &[String])>,
) -> Result<Submitted> {
    let today = app.clock.today();
    let institution = app.directory.get(&p.institution).ok_or(Error::NotFound)?;
    let document = ReportDocument {
        doc_type: REPORT_TYPE.into(),
        version: 1,
        kind: report.kind.as_str().into(),
        institution: report.institution.unwrap_or_default().into(),
        category: report.category.unwrap_or_default().into(),
        title: report.title.into(),
        body: report.body.into(),
        occurred_on: report.occurred_on.map(day_string),
        location: report.location.map(Into::into),
        privacy: report.privacy.as_str().into(),
        submitted_on: day_string(today),
        concerns: report.concerns.map(Into::into),
    };
    let content = envelope::seal(
        &p.content_recipients()?,
        &Zeroizing::new(serde_json::to_vec(&document)?),
    )?;
    drop(document);

    let identity = match report.identity_name {
        Some(name) => {
            let doc = IdentityDocument {
                doc_type: IDENTITY_TYPE.into(),
                version: 1,
                name: name.into(),
                contact: report.identity_contact.map(Into::into),
            };
            let mut custodians = institution.custodians();
            custodians.push(p.reporter.clone());
            Some(envelope::seal(
                &super::sealing_for(&custodians)?.recipients,
                &Zeroizing::new(serde_json::to_vec(&doc)?),
            )?)
        }
        None => None,
    };

    let recipient_text = p
        .reporter
        .classic
        .as_ref()
        .map(ToString::to_string)
        .ok_or_else(|| Error::Internal("the reporter has no classic key".into()))?;
    let pq_text = p.reporter.pq.as_ref().map(ToString::to_string);
    let mut receipt = p.receipt;
    let mut case_id = new_case_id()?;
    for _ in 0..ID_ATTEMPTS {
        let new = NewCase {
            id: &case_id,
            lookup_id: receipt.lookup().as_u32(),
            institution: &institution.slug,
            kind: report.kind,
            category: report.category,
            privacy: report.privacy,
            received_on: today,
            kdf_salt: &p.salt,
            kdf: p.params,
            reporter_recipient: &recipient_text,
            reporter_pq_recipient: pq_text.as_deref(),
            content: &content,
            identity: identity.as_deref(),
            due_on: super::deadline::due_for_new(app, report.kind, report.category, today),
            channel: "web",
            attachments,
        };
        let inserted = match claim {
            Some((hold, blobs)) => app.store.insert_case_claiming(&new, hold, blobs).await,
            None => app.store.insert_case(&new).await,
        };
        match inserted {
            Ok(()) => return Ok(Submitted { case_id, receipt }),
            Err(StoreError::Conflict("held files")) => {
                return Err(Error::Conflict("held files are gone".into()));
            }
            Err(StoreError::Conflict("lookup id")) => {
                receipt = receipt.with_lookup(LookupId::random()?)
            }
            Err(StoreError::Conflict(_)) => case_id = new_case_id()?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Internal("could not find a free case id".into()))
}

/// A message as the reporter sees it. `document` is `None` when the reporter's key does not
/// open it (a member sealed it to the wrong keys): shown as such, never an error.
pub struct ReporterMessage {
    /// Position within the case (what its documents name).
    pub seq: i64,
    pub author: Actor,
    pub day: time::Date,
    pub document: Option<MessageDocument>,
}

/// One line of the case's history as the reporter sees it, the reason decrypted.
pub struct ReporterEvent {
    pub day: time::Date,
    pub actor: Actor,
    pub state: CaseState,
    pub extension_days: Option<u32>,
    /// An act that kept the state (the oversight body wrote).
    pub act: Option<crate::domain::case::CaseAct>,
    pub forwarded_to: Option<String>,
    pub reason: Option<ReasonDocument>,
    /// A reason was written but the reporter's key does not open it.
    pub reason_unreadable: bool,
}

/// A request to reveal the reporter's identity, as the reporter sees it.
pub struct ReporterReveal {
    pub requested_on: time::Date,
    /// The institution of the officer who asked.
    pub institution: String,
    pub status: String,
    pub decided_on: Option<time::Date>,
    pub available_on: Option<time::Date>,
    pub reason: Option<ReasonDocument>,
    pub decision: Option<ReasonDocument>,
}

/// Everything the status page shows, decrypted inside this request. Whatever the reporter's
/// key cannot open is `None` / flagged, and counted in `unreadable`.
pub struct ReporterView {
    pub reveals: Vec<ReporterReveal>,
    pub summary: CaseSummary,
    pub events: Vec<ReporterEvent>,
    /// `None` when the stored report does not open with the reporter's key.
    pub report: Option<ReportDocument>,
    pub identity: Option<IdentityDocument>,
    /// The case holds an identity envelope the reporter's key does not open.
    pub identity_unreadable: bool,
    pub messages: Vec<ReporterMessage>,
    /// Documents officers sent with their messages (each names its message).
    pub files: Vec<ReporterFile>,
    /// The files the citizen sent, with the report or later.
    pub own_files: Vec<OwnFile>,
    /// Which institution's custodians hold a confidential identity.
    pub identity_holder: Option<String>,
    /// How many items did not open with the reporter's key.
    pub unreadable: usize,
    /// After an escalation: items that could not be re-sealed for the oversight body.
    pub not_escalated: usize,
    /// The citizen's rating of the answer (1-5), if they gave one.
    pub rating: Option<u8>,
}

crate::redacted_debug!(ReporterEvent, ReporterMessage, ReporterReveal, ReporterView);

impl ReporterView {
    pub fn state(&self) -> CaseState {
        self.summary.state
    }

    /// The officers' open question, when the case waits for the citizen.
    pub fn open_question(&self) -> Option<&str> {
        if self.state() != CaseState::OnHold {
            return None;
        }
        self.events
            .iter()
            .rev()
            .find(|e| e.state == CaseState::OnHold && e.extension_days.is_none() && e.act.is_none())
            .and_then(|e| e.reason.as_ref())
            .map(|r| r.text.as_str())
    }
}

/// Opens an envelope with the reporter's key and parses the document in it; `None` when either
/// fails (wrong keys, damaged, not the expected document). Never an error: one bad item must
/// not lock the reporter out of the case.
fn open_doc<T: serde::de::DeserializeOwned>(identity: &ReporterIdentity, env: &[u8]) -> Option<T> {
    let plain = envelope::open(identity, env).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// Checks a receipt. Unknown lookup ids and wrong secrets take the same path: one Argon2id run
/// and one constant-time comparison (DESIGN 2.7). Returns the case's receipt record and the
/// reporter's key.
#[instrument(skip_all)]
async fn verify(app: &App, receipt: &Receipt) -> Result<Option<(ReceiptRecord, ReporterIdentity)>> {
    let record = app
        .store
        .receipt_record(receipt.lookup().as_u32())
        .await?
        // A case whose stored cost is above the configured maximum (planted through staff
        // intake, or left from a laxer configuration) is never derived: it answers like an
        // unknown code, after the same dummy work.
        .filter(|r| app.kdf.allows(&r.kdf));
    let (salt, params, expected) = match &record {
        Some(r) => (r.kdf_salt.as_slice(), r.kdf, r.reporter_recipient.as_str()),
        None => (
            app.kdf.dummy_salt().as_slice(),
            app.kdf.params,
            app.kdf.dummy_recipient(),
        ),
    };
    let identity = app.kdf.derive(receipt.secret(), salt, params).await?;
    let derived = identity.to_public().to_string();
    let matches = recipients_match(&derived, expected);
    match record {
        Some(r) if matches => Ok(Some((r, identity))),
        _ => Ok(None),
    }
}

/// Opens the case a receipt belongs to, decrypting it with the reporter's key (wiped on return).
#[instrument(skip_all)]
pub async fn open_case(app: &App, receipt: &Receipt) -> Result<Option<ReporterView>> {
    let Some((record, identity)) = verify(app, receipt).await? else {
        return Ok(None);
    };
    view(app, &record.case_id, &identity).await.map(Some)
}

async fn view(app: &App, case_id: &str, identity: &ReporterIdentity) -> Result<ReporterView> {
    let record = app
        .store
        .case_for_reporter(case_id)
        .await?
        .ok_or(Error::NotFound)?;
    // Items the reporter's key does not open are flagged for the case's officers.
    let mut unreadable: Vec<(&'static str, i64)> = Vec::new();
    let report: Option<ReportDocument> = open_doc(identity, &record.content);
    if report.is_none() {
        unreadable.push(("content", 0));
    }
    let identity_doc: Option<IdentityDocument> = record
        .identity
        .as_ref()
        .and_then(|env| open_doc(identity, env));
    let identity_unreadable = record.identity.is_some() && identity_doc.is_none();
    if identity_unreadable {
        unreadable.push(("identity", 0));
    }
    let mut messages = Vec::with_capacity(record.messages.len());
    for m in &record.messages {
        let document: Option<MessageDocument> = open_doc(identity, &m.envelope);
        if document.is_none() {
            unreadable.push(("message", m.seq));
        }
        messages.push(ReporterMessage {
            seq: m.seq,
            author: m.author.clone(),
            day: m.written_on,
            document,
        });
    }
    let mut events = Vec::with_capacity(record.events.len());
    for e in &record.events {
        let reason: Option<ReasonDocument> = e
            .reason_envelope
            .as_ref()
            .and_then(|env| open_doc(identity, env));
        let reason_unreadable = e.reason_envelope.is_some() && reason.is_none();
        if reason_unreadable {
            unreadable.push(("reason", e.seq));
        }
        events.push(ReporterEvent {
            day: e.day,
            actor: e.actor.clone(),
            state: e.state,
            extension_days: e.extension_days,
            act: e.act,
            forwarded_to: e.forwarded_to.clone(),
            reason,
            reason_unreadable,
        });
    }
    let reveals = app
        .store
        .reveal_requests(case_id)
        .await?
        .iter()
        .map(|r| ReporterReveal {
            requested_on: r.requested_on,
            institution: r.institution.clone(),
            status: r.status.clone(),
            decided_on: r.decided_on,
            available_on: r.available_on,
            reason: open_doc(identity, &r.reason_envelope),
            decision: r
                .decision_envelope
                .as_deref()
                .and_then(|env| open_doc(identity, env)),
        })
        .collect();
    let (files, own_files) =
        reply_files::for_reporter(app, case_id, identity, &mut unreadable).await?;
    let identity_holder = if record.identity.is_some() {
        app.store.identity_holder(case_id).await?
    } else {
        None
    };
    // Flagging is best effort: the page is shown whatever happens to the flag.
    let _ = app
        .store
        .flag_reporter_unreadable(case_id, &unreadable, app.clock.today())
        .await;
    Ok(ReporterView {
        reveals,
        summary: record.summary,
        events,
        report,
        identity: identity_doc,
        identity_unreadable,
        messages,
        files,
        own_files,
        identity_holder,
        unreadable: unreadable.len(),
        not_escalated: 0,
        rating: app.store.case_rating(case_id).await?.map(|(r, _)| r),
    })
}

/// A citizen's message, after trying to save it.
#[derive(Debug)]
pub enum Replied {
    Saved(ReporterView),
    /// The write failed (the disk is full, the database is locked …): the case as it stands, so
    /// the page can show it again with the message still in its box.
    NotSaved(ReporterView),
    /// The case is closed: nobody would read the message, so it was neither sent nor stored.
    Closed(ReporterView),
}

/// Adds the reporter's message to their case, sealed to the institution's current readers and
/// the reporter. `nonce` comes from the form, so sending the same form twice adds it once.
/// `None` for a receipt that does not open a case.
#[instrument(skip_all)]
pub async fn reply(
    app: &App,
    receipt: &Receipt,
    text: &str,
    nonce: Option<&[u8]>,
) -> Result<Option<Replied>> {
    let Some((identity, summary)) = opened_case(app, receipt).await? else {
        return Ok(None);
    };
    let case_id = summary.id.clone();
    let case_id = case_id.as_str();
    // Nobody reads a message on a closed case: refused, nothing stored (the page offers a
    // reopening within the window, a new report after it).
    if !can_write(&summary) {
        return Ok(Some(Replied::Closed(view(app, case_id, &identity).await?)));
    }
    let recipients = with_reporter(app.case_readers(&summary).await?, &identity)?;
    let today = app.clock.today();
    let doc = MessageDocument {
        doc_type: MESSAGE_TYPE.into(),
        version: 1,
        author: Actor::Reporter.to_column(),
        body: text.into(),
        written_on: day_string(today),
    };
    let sealed = envelope::seal(&recipients, &Zeroizing::new(serde_json::to_vec(&doc)?))?;
    drop(doc);
    // A reply to a question sends the case back to whoever asked; on an answered case a
    // message stays a message (the verdict closes or reopens it).
    let transition = after_reporter_message(summary.state, summary.held_from)
        .map(|to| super::deadline::next_move(app, &summary, to, today));
    let saved = app
        .store
        .add_message(
            case_id,
            &Actor::Reporter,
            today,
            nonce,
            &sealed,
            transition,
            None,
        )
        .await;
    if saved.is_ok() {
        remember_post_quantum_key(app, &identity, case_id).await;
    }
    let view = view(app, case_id, &identity).await?;
    Ok(Some(match saved {
        Ok(_) => Replied::Saved(view),
        Err(_) => {
            app.incidents.record("database");
            Replied::NotSaved(view)
        }
    }))
}

/// A receipt's case as it stands: the reporter's keys and the case. `None` for a receipt that
/// opens nothing (after the same work as any check, see [`verify`]).
pub(super) async fn opened_case(
    app: &App,
    receipt: &Receipt,
) -> Result<Option<(ReporterIdentity, CaseSummary)>> {
    let Some((record, identity)) = verify(app, receipt).await? else {
        return Ok(None);
    };
    let (summary, _) = app
        .store
        .case_summary(None, &record.case_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Some((identity, summary)))
}

/// After a write of the reporter's was stored: a case filed before Bisik derived reporters'
/// post-quantum keys gets the one this receipt gives, so members can seal to the reporter
/// post-quantum from now on (a rekey moves the case). Only then — never on a plain status
/// check, which leaves no trace: the write itself already shows officers that the reporter came
/// back, the key adds nothing to that. A failure here loses nothing (the next write tries again).
pub(super) async fn remember_post_quantum_key(
    app: &App,
    identity: &ReporterIdentity,
    case_id: &str,
) {
    let stored = app
        .store
        .remember_reporter_pq(
            case_id,
            &identity.to_public().to_string(),
            &identity.pq_public().to_string(),
        )
        .await;
    if stored.is_err() {
        app.incidents.record("database");
    }
}

/// The recipients of what the reporter writes or moves: the case's readers and the reporter,
/// post-quantum when every reader has a post-quantum key. The reporter's keys come from the
/// receipt (derived in this request), so a case filed before reporters had a post-quantum key
/// is sealed post-quantum too once its readers all are.
fn with_reporter(
    mut readers: Vec<PartyKeys>,
    reporter: &ReporterIdentity,
) -> Result<Vec<Recipient>> {
    readers.push(reporter.keys());
    Ok(super::sealing_for(&readers)?.recipients)
}

/// Where files added from the status page go: the case, who they are sealed to (its readers
/// now and the reporter), and the reporter's key (to show the status page afterwards without a
/// second key derivation).
pub struct UploadTarget {
    pub case_id: String,
    pub recipients: Vec<Recipient>,
    identity: ReporterIdentity,
}

crate::redacted_debug!(UploadTarget);

/// The [`UploadTarget`] of a receipt. `None` for a receipt that opens nothing (same work as a
/// status check).
#[instrument(skip_all)]
pub async fn upload_target(app: &App, receipt: &Receipt) -> Result<Option<UploadTarget>> {
    let Some((identity, summary)) = opened_case(app, receipt).await? else {
        return Ok(None);
    };
    if crate::domain::workflow::is_final(summary.state) {
        return Err(Error::Invalid("the case is closed".into()));
    }
    let recipients = with_reporter(app.case_readers(&summary).await?, &identity)?;
    Ok(Some(UploadTarget {
        case_id: summary.id,
        recipients,
        identity,
    }))
}

/// Commits files already sealed into the blob folder to the case.
#[instrument(skip_all)]
/// Returns the case as the status page shows it, the new files listed.
pub async fn add_files(
    app: &App,
    target: &UploadTarget,
    files: &[NewAttachment],
) -> Result<ReporterView> {
    app.store
        .add_attachments(&target.case_id, app.clock.today(), files)
        .await?;
    remember_post_quantum_key(app, &target.identity, &target.case_id).await;
    view(app, &target.case_id, &target.identity).await
}
