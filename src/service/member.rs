//! What a member does through the API: log in with their age identity, list and fetch cases.
//!
//! The server never sees a member's private key and never decrypts anything for them: it hands
//! out envelopes, and the member's own machine opens them. Every action is audited.

use time::format_description::well_known::Rfc3339;
use tracing::instrument;
use zeroize::Zeroizing;

use crate::crypto::envelope;
use crate::crypto::kdf::KdfParams;
use crate::crypto::token;
use crate::domain::case::{Actor, CaseState, Kind, Privacy, is_case_id};
use crate::domain::institution::{Member, Role};
use crate::domain::workflow::{TransitionError, can_forward, check_member_move, is_final};
use crate::error::{Error, Result};
use crate::store::{CaseFilter, CaseRecord, CaseSummary, Classification, Move};

use super::App;

mod bulk;
mod casework;
pub use bulk::contents;
use casework::require_notes_sealed_for_readers;
pub use casework::{assign, case_notes, note, note_recipients};

/// A challenge for the member to decrypt.
#[derive(Debug)]
pub struct IssuedChallenge {
    pub id: String,
    pub envelope: Vec<u8>,
}

/// A new session: the token is shown once to the client and stored only as a digest.
#[derive(Debug)]
pub struct NewSession {
    pub token: Zeroizing<String>,
    pub member: Member,
    pub expires_at: i64,
}

fn actor(m: &Member) -> String {
    Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    }
    .to_column()
}

async fn audit(app: &App, m: &Member, action: &str, case_id: Option<&str>) -> Result<()> {
    audit_as(app, &actor(m), action, case_id).await
}

async fn audit_as(app: &App, actor: &str, action: &str, case_id: Option<&str>) -> Result<()> {
    let at = app
        .clock
        .now()
        .format(&Rfc3339)
        .map_err(|e| Error::Internal(e.to_string()))?;
    app.store.append_audit(&at, actor, action, case_id).await?;
    Ok(())
}

/// Step one of login. An unknown recipient gets a challenge of the same shape, sealed to a
/// throwaway key, and the same work: a key generated, an envelope sealed and a challenge row
/// written (under a handle no member has, so it can never be answered). Neither the answer nor
/// its timing says which keys are members.
#[instrument(skip_all)]
pub async fn challenge(app: &App, recipient: &str) -> Result<IssuedChallenge> {
    let secret = token::random_32()?;
    let id = token::encode(token::random_32()?.as_ref());
    let member = app.directory.member_by_recipient(recipient.trim());
    let throwaway = age::x25519::Identity::generate().to_public();
    let (to, handle) = match member {
        Some(m) => (m.recipient.clone(), m.handle.as_str()),
        None => (throwaway, NO_MEMBER),
    };
    let sealed = envelope::seal(&[to], secret.as_ref())?;
    let now = app.clock.now().unix_timestamp();
    let expires = now + app.config.session.challenge_ttl_secs;
    app.store
        .put_challenge(&id, handle, &token::digest(secret.as_ref()), expires, now)
        .await?;
    Ok(IssuedChallenge {
        id,
        envelope: sealed,
    })
}

/// The handle stored with a challenge issued to a key that is no member's (handles are never
/// empty, so it can never be answered).
const NO_MEMBER: &str = "";

/// Step two: the decrypted challenge comes back; a session token goes out.
#[instrument(skip_all)]
pub async fn answer(app: &App, challenge_id: &str, response: &[u8]) -> Result<NewSession> {
    let (handle, digest, expires_at) = app
        .store
        .take_challenge(challenge_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let now = app.clock.now().unix_timestamp();
    let Some(member) = app.directory.member(&handle).cloned() else {
        // An answer to a challenge issued to a key that is no member's: recorded like a failed
        // member login, so the answer step does the same work and tells nothing either.
        audit_as(app, "unknown-key", "login_failed", None).await?;
        return Err(Error::Unauthorized);
    };
    if expires_at < now || !token::digests_match(&digest, &token::digest(response)) {
        // A failed answer to a real challenge is worth knowing about: someone tried this key.
        audit(app, &member, "login_failed", None).await?;
        return Err(Error::Unauthorized);
    }
    let raw = token::random_32()?;
    let expires_at = now + app.config.session.ttl_secs;
    app.store
        .put_session(
            &token::digest(raw.as_ref()),
            &member.handle,
            expires_at,
            now,
        )
        .await?;
    audit(app, &member, "login", None).await?;
    Ok(NewSession {
        token: Zeroizing::new(token::encode(raw.as_ref())),
        member,
        expires_at,
    })
}

/// The member behind a bearer token. Members removed from `keys/` lose their sessions at once.
#[instrument(skip_all)]
pub async fn authenticate<'a>(app: &'a App, bearer: &str) -> Result<&'a Member> {
    let raw = token::decode(bearer).ok_or(Error::Unauthorized)?;
    let handle = app
        .store
        .session_member(&token::digest(&raw), app.clock.now().unix_timestamp())
        .await?
        .ok_or(Error::Unauthorized)?;
    app.directory.member(&handle).ok_or(Error::Unauthorized)
}

/// Ends the session behind a bearer token.
#[instrument(skip_all)]
pub async fn logout(app: &App, bearer: &str) -> Result<()> {
    let m = authenticate(app, bearer).await?.clone();
    let raw = token::decode(bearer).ok_or(Error::Unauthorized)?;
    app.store.delete_session(&token::digest(&raw)).await?;
    audit(app, &m, "logout", None).await?;
    Ok(())
}

/// Deny by default: every action names the roles that allow it.
fn require(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::Forbidden) }
}

/// Cases of the member's own institution; for the oversight body (the `oversight` role), the
/// escalated cases of every institution — an oversight-only member sees nothing else.
#[instrument(skip_all)]
pub async fn list(
    app: &App,
    m: &Member,
    filter: &CaseFilter,
    limit: u32,
    offset: u32,
) -> Result<Vec<CaseSummary>> {
    let limit = limit.clamp(1, 500);
    let own = m.is_reader() || m.has(Role::Custodian);
    let cases = if m.has(Role::Oversight) && (filter.escalated || !own) {
        let mut cases = app.store.list_escalated(&m.handle, limit, offset).await?;
        // Cases are assigned within their institution: "mine" keeps only those (an
        // oversight-only member has none).
        if let Some(me) = &filter.assigned_to {
            cases.retain(|c| c.assigned_to.as_ref() == Some(me));
        }
        cases
    } else {
        require(own)?;
        let mut filter = filter.clone();
        filter.viewer = Some(m.handle.clone());
        app.store
            .list_cases(&m.institution, &filter, limit, offset)
            .await?
    };
    audit(app, m, "list_cases", None).await?;
    Ok(cases)
}

/// How many cases each institution has past their due day: oversight only, metadata only.
#[instrument(skip_all)]
pub async fn overdue_counts(app: &App, m: &Member) -> Result<Vec<(String, i64)>> {
    require(m.has(Role::Oversight))?;
    let counts = app.store.overdue_counts(app.clock.today()).await?;
    audit(app, m, "view_overdue_counts", None).await?;
    Ok(counts)
}

/// The overdue cases of every institution, metadata only (no envelope): oversight only.
#[instrument(skip_all)]
pub async fn overdue_cases(app: &App, m: &Member) -> Result<Vec<CaseSummary>> {
    require(m.has(Role::Oversight))?;
    let cases = app.store.overdue_cases(app.clock.today(), 1000).await?;
    audit(app, m, "view_overdue_cases", None).await?;
    Ok(cases)
}

/// A case the member may read: their institution's (readers), or an escalated one (oversight).
async fn readable_case(app: &App, m: &Member, case_id: &str) -> Result<CaseRecord> {
    let id = not_excluded(app, m, case_id).await?;
    require(m.is_reader() || m.has(Role::Oversight))?;
    if m.is_reader()
        && let Some(r) = app.store.case_for_institution(&m.institution, id).await?
    {
        return Ok(r);
    }
    if m.has(Role::Oversight)
        && let Some(r) = app.store.escalated_case(id).await?
    {
        return Ok(r);
    }
    Err(Error::NotFound)
}

/// A member excluded from a case (conflict of interest) is told it does not exist.
async fn not_excluded<'a>(app: &App, m: &Member, case_id: &'a str) -> Result<&'a str> {
    let id = checked_id(case_id)?;
    if app.store.excluded(id).await?.contains(&m.handle) {
        return Err(Error::NotFound);
    }
    Ok(id)
}

fn checked_id(case_id: &str) -> Result<&str> {
    if is_case_id(case_id) {
        Ok(case_id)
    } else {
        Err(Error::NotFound)
    }
}

/// One case with its content envelope, messages and history — never its identity envelope.
#[instrument(skip_all)]
pub async fn case(app: &App, m: &Member, case_id: &str) -> Result<CaseRecord> {
    let record = match readable_case(app, m, case_id).await {
        // An institution that forwarded the case away still sees its state and history.
        Err(Error::NotFound) if m.is_reader() => app
            .store
            .case_for_past_owner(&m.institution, not_excluded(app, m, case_id).await?)
            .await?
            .ok_or(Error::NotFound)?,
        other => other?,
    };
    audit(app, m, "view_case", Some(&record.summary.id)).await?;
    let mut record = record;
    // A flag is written when the reporter looks: shown from the next day on, so it never
    // tells an officer when the reporter came (DESIGN 2.4).
    let today = app.clock.today();
    record
        .reporter_unreadable
        .retain(|(_, _, day)| *day < today);
    Ok(record)
}

/// The raw content envelope (the `bisik case envelope` contract).
#[instrument(skip_all)]
pub async fn content_envelope(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    let record = readable_case(app, m, case_id).await?;
    audit(app, m, "download_content", Some(&record.summary.id)).await?;
    Ok(record.content)
}

/// The identity envelope of a confidential report: custodians of the owning institution only.
#[instrument(skip_all)]
pub async fn identity_envelope(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    require(m.has(Role::Custodian))?;
    let env = app
        .store
        .identity_for_institution(&m.institution, not_excluded(app, m, case_id).await?)
        .await?
        .ok_or(Error::NotFound)?;
    audit(app, m, "download_identity", Some(case_id)).await?;
    Ok(env)
}

/// The case (and its reporter's recipient) if the member's institution owns it; 404 otherwise.
async fn owned_case(app: &App, m: &Member, case_id: &str) -> Result<(CaseSummary, String)> {
    app.store
        .case_summary(Some(&m.institution), not_excluded(app, m, case_id).await?)
        .await?
        .ok_or(Error::NotFound)
}

/// Who a member must encrypt to when writing on a case: the institution's current readers and
/// the reporter. The member's own machine seals; the server never sees the text.
#[derive(Debug)]
pub struct CaseRecipients {
    pub readers: Vec<String>,
    pub reporter: String,
}

#[instrument(skip_all)]
pub async fn recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    require(m.is_reader())?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let readers = app.case_readers(&case).await?;
    audit(app, m, "view_recipients", Some(case_id)).await?;
    Ok(CaseRecipients {
        readers: readers.iter().map(ToString::to_string).collect(),
        reporter,
    })
}

/// Rejects anything that is not an age file. The server cannot check who it is sealed to
/// (X25519 stanzas do not name their recipient); the member's client chooses from
/// [`recipients`].
fn require_age_file(bytes: &[u8]) -> Result<()> {
    age::Decryptor::new_buffered(bytes)
        .map(|_| ())
        .map_err(|_| Error::Invalid("the envelope is not an age file".into()))
}

/// Refuses an envelope that cannot have been sealed to the `expected` recipients the server
/// handed out (readers and reporter): its number of X25519 stanzas must match. The server
/// cannot see *which* keys a stanza is for, but an envelope sealed to some other key alone —
/// which the reporter could never open — is refused here.
fn require_sealed_for(bytes: &[u8], expected: usize) -> Result<()> {
    require_stanzas(
        bytes,
        expected,
        "recipients (the readers and the reporter): fetch the recipients again and seal to \
         exactly those",
    )
}

/// [`require_sealed_for`] with `whom` saying in the refusal which recipients were expected.
fn require_stanzas(bytes: &[u8], expected: usize, whom: &str) -> Result<()> {
    require_age_file(bytes)?;
    match crate::crypto::envelope::x25519_stanza_count(bytes) {
        Some(n) if n == expected => Ok(()),
        _ => Err(Error::Invalid(format!(
            "the envelope is not sealed to this case's {expected} {whom}"
        ))),
    }
}

/// How many recipients a member seals to when writing on a case: its readers and the reporter.
async fn case_recipient_count(app: &App, case: &CaseSummary) -> Result<usize> {
    Ok(app.case_readers(case).await?.len() + 1)
}

/// A member's message to the reporter (and their colleagues), sealed on the member's machine.
#[instrument(skip_all)]
pub async fn reply(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<()> {
    require(m.is_reader())?;
    require_age_file(sealed)?;
    let case = owned_case(app, m, case_id).await?.0;
    require_sealed_for(sealed, case_recipient_count(app, &case).await?)?;
    let state = case.state;
    if is_final(state) {
        return Err(Error::Invalid(format!(
            "the case is {state}: reopen it before writing"
        )));
    }
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    app.store
        .add_message(case_id, &actor, app.clock.today(), None, sealed, None)
        .await?;
    audit(app, m, "reply", Some(case_id)).await?;
    Ok(())
}

/// Moves a case through the LAPOR states (see `domain::workflow`), recording who and which day.
#[instrument(skip_all)]
pub async fn set_state(
    app: &App,
    m: &Member,
    case_id: &str,
    to: CaseState,
    reason: Option<&[u8]>,
) -> Result<()> {
    require(m.is_reader())?;
    let case_id = checked_id(case_id)?;
    if let Some(r) = reason {
        require_age_file(r)?;
    }
    let (case, _) = owned_case(app, m, case_id).await?;
    if let Some(r) = reason {
        require_sealed_for(r, case_recipient_count(app, &case).await?)?;
    }
    let from = case.state;
    let today = app.clock.today();
    let roles: Vec<Role> = m.roles.iter().copied().collect();
    check_member_move(from, to, &roles, reason.is_some()).map_err(|e| match e {
        TransitionError::Role { .. } => Error::Denied(e.to_string()),
        _ => Error::Invalid(e.to_string()),
    })?;
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    if !app
        .store
        .transition(
            &m.institution,
            case_id,
            Move {
                from,
                to,
                due_on: super::deadline::due_after_move(app, &case, to, today),
            },
            today,
            &actor,
            reason,
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
    audit(app, m, &format!("set_state:{to}"), Some(case_id)).await?;
    Ok(())
}

/// What triage may change when classifying.
#[derive(Debug, Default)]
pub struct ClassifyRequest<'a> {
    pub kind: Option<&'a str>,
    /// `Some("")` clears the category.
    pub category: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub privacy: Option<&'a str>,
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 32
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_".contains(&b))
}

/// Triage reclassifies a case. Privacy can only be tightened (confidential → anonymous, which
/// destroys the identity envelope); never loosened.
#[instrument(skip_all)]
pub async fn classify(
    app: &App,
    m: &Member,
    case_id: &str,
    req: &ClassifyRequest<'_>,
) -> Result<()> {
    require(m.has(Role::Triage))?;
    let case_id = checked_id(case_id)?;
    let privacy = owned_case(app, m, case_id).await?.0.privacy;
    let mut change = Classification::default();
    if let Some(k) = req.kind {
        change.kind =
            Some(Kind::parse(k).ok_or_else(|| Error::Invalid(format!("unknown kind {k:?}")))?);
    }
    if let Some(c) = req.category {
        if !c.is_empty() && !app.config.categories.iter().any(|x| x.slug == c) {
            return Err(Error::Invalid(format!("unknown category {c:?}")));
        }
        change.category = Some((!c.is_empty()).then(|| c.to_owned()));
    }
    if let Some(tags) = req.tags {
        if tags.len() > 20 || !tags.iter().all(|t| valid_tag(t)) {
            return Err(Error::Invalid(
                "tags: at most 20, each 1–32 of a-z, 0-9, '-', '_'".into(),
            ));
        }
        change.tags = Some(tags.to_vec());
    }
    match req.privacy.map(Privacy::parse) {
        None => {}
        Some(None) => {
            return Err(Error::Invalid(
                "privacy must be anonymous or confidential".into(),
            ));
        }
        Some(Some(p)) if p == privacy => {}
        Some(Some(Privacy::Anonymous)) => change.drop_identity = true,
        Some(Some(Privacy::Confidential)) => {
            return Err(Error::Invalid(
                "privacy can be tightened, never loosened".into(),
            ));
        }
    }
    if !app.store.classify(&m.institution, case_id, &change).await? {
        return Err(Error::NotFound);
    }
    audit(app, m, "classify", Some(case_id)).await?;
    Ok(())
}

/// Extends the current stage's deadline by working days, with a reason the citizen reads
/// (sealed on the member's machine like a message).
#[instrument(skip_all)]
pub async fn extend(
    app: &App,
    m: &Member,
    case_id: &str,
    days: u32,
    reason: &[u8],
) -> Result<Option<time::Date>> {
    require(m.is_reader())?;
    require_age_file(reason)?;
    if !(1..=60).contains(&days) {
        return Err(Error::Invalid(
            "an extension is 1 to 60 working days".into(),
        ));
    }
    let (case, _) = owned_case(app, m, case_id).await?;
    require_sealed_for(reason, case_recipient_count(app, &case).await?)?;
    let mut times = super::deadline::times(&case);
    times.extended_days += days;
    let due = app
        .config
        .deadlines
        .due_on(&app.config.calendar, &times)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "a case that is {} has no deadline to extend",
                case.state
            ))
        })?;
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    if !app
        .store
        .extend(
            &m.institution,
            &case.id,
            case.state,
            days,
            due,
            app.clock.today(),
            &actor,
            reason,
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
    audit(app, m, "extend_deadline", Some(&case.id)).await?;
    Ok(Some(due))
}

/// Whom to seal to when forwarding a case to `to`: that institution's readers (and the
/// oversight body if the case is escalated) and the reporter.
#[instrument(skip_all)]
pub async fn forward_recipients(
    app: &App,
    m: &Member,
    case_id: &str,
    to: &str,
) -> Result<CaseRecipients> {
    require(m.has(Role::Triage))?;
    let (mut case, reporter) = owned_case(app, m, case_id).await?;
    let target = app
        .directory
        .get(to)
        .filter(|i| i.accepts_reports())
        .ok_or_else(|| Error::Invalid(format!("no institution {to:?} takes reports")))?;
    case.institution = target.slug.clone();
    let readers = app.case_readers(&case).await?;
    audit(app, m, "view_recipients", Some(&case.id)).await?;
    Ok(CaseRecipients {
        readers: readers.iter().map(ToString::to_string).collect(),
        reporter,
    })
}

/// A forwarding, re-sealed on the officer's machine.
#[derive(Debug)]
pub struct Forwarding<'a> {
    pub to: &'a str,
    pub reason: &'a [u8],
    pub resealed: crate::store::Resealed,
}

/// Re-sealed attachments as a client sends them: the new blob (uploaded first) and manifest.
#[derive(Debug)]
pub struct ClientAttachment {
    pub seq: i64,
    pub blob: String,
    pub manifest: Vec<u8>,
}

/// Checks what a client re-sealed and turns it into what the store swaps in.
pub fn resealed_from_client(
    app: &App,
    content: Vec<u8>,
    messages: Vec<(i64, Vec<u8>)>,
    reasons: Vec<(i64, Vec<u8>)>,
    attachments: Vec<ClientAttachment>,
    notes: Vec<(i64, Vec<u8>)>,
) -> Result<crate::store::Resealed> {
    require_age_file(&content)?;
    for (_, env) in messages.iter().chain(&reasons).chain(&notes) {
        require_age_file(env)?;
    }
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments {
        require_age_file(&a.manifest)?;
        let path = app
            .blobs
            .path(&a.blob)
            .map_err(|_| Error::Invalid("bad blob id".into()))?;
        let stored_size = std::fs::metadata(path)
            .map_err(|_| Error::Invalid(format!("blob {} was not uploaded", a.blob)))?
            .len();
        out.push(crate::store::ResealedAttachment {
            seq: a.seq,
            blob: a.blob,
            manifest: a.manifest,
            stored_size,
        });
    }
    Ok(crate::store::Resealed {
        content,
        messages,
        reasons,
        attachments: out,
        notes,
    })
}

/// Checks what a client re-sealed before anything is swapped in: every envelope sealed to the
/// `expected` number of recipients (readers and reporter) — internal notes to the readers
/// alone, one fewer, so a note re-sealed to the reporter too is refused — and every blob a
/// fresh upload of this member that no case refers to — so a member can never name (and so
/// have the server delete) another case's blob. A refusal is audited.
async fn check_resealed(
    app: &App,
    m: &Member,
    case_id: &str,
    r: &crate::store::Resealed,
    expected: usize,
    action: &str,
) -> Result<()> {
    let envelopes = std::iter::once(&r.content)
        .chain(r.messages.iter().map(|(_, e)| e))
        .chain(r.reasons.iter().map(|(_, e)| e))
        .chain(r.attachments.iter().map(|a| &a.manifest));
    let mut outcome = Ok(());
    for env in envelopes {
        if let Err(e) = require_sealed_for(env, expected) {
            outcome = Err(e);
            break;
        }
    }
    if outcome.is_ok() {
        let readers = expected.saturating_sub(1);
        for (_, env) in &r.notes {
            if let Err(e) = require_notes_sealed_for_readers(env, readers) {
                outcome = Err(e);
                break;
            }
        }
    }
    if outcome.is_ok() {
        let blobs: Vec<&str> = r.attachments.iter().map(|a| a.blob.as_str()).collect();
        if !app.store.are_fresh_uploads_of(&m.handle, &blobs).await? {
            outcome = Err(Error::Invalid(
                "a file refers to a blob that is not a fresh upload of yours: upload the \
                 re-sealed files again"
                    .into(),
            ));
        }
    }
    if outcome.is_err() {
        audit(app, m, &format!("{action}_refused"), Some(case_id)).await?;
    }
    outcome
}

/// After a forward or rekey: on success the replaced blobs go; on failure only the member's
/// uploads that are still unused are shredded — never a blob another re-seal committed
/// meanwhile.
async fn settle_reseal(
    app: &App,
    m: &Member,
    old: &[crate::store::StoredAttachment],
    resealed: &crate::store::Resealed,
    committed: bool,
) {
    if committed {
        super::evidence::settle(&app.blobs, old, resealed, true).await;
        return;
    }
    let mut unused = crate::store::Resealed::default();
    for a in &resealed.attachments {
        if matches!(
            app.store
                .are_fresh_uploads_of(&m.handle, &[a.blob.as_str()])
                .await,
            Ok(true)
        ) {
            unused.attachments.push(a.clone());
        }
    }
    super::evidence::settle(&app.blobs, &[], &unused, false).await;
}

/// Records a blob a member's client uploaded for a re-seal, so only they can use it, once.
#[instrument(skip_all)]
pub async fn record_upload(app: &App, m: &Member, blob: &str) -> Result<()> {
    app.store
        .record_member_upload(blob, &m.handle, app.clock.today())
        .await?;
    audit(app, m, "upload_blob", None).await?;
    Ok(())
}

/// Disposisi: triage moves a case to the institution with authority. Everything readable was
/// re-sealed for the new readers by the officer's CLI; the identity envelope stays with the
/// source's custodians until one of them hands it over.
#[instrument(skip_all)]
pub async fn forward(app: &App, m: &Member, case_id: &str, f: &Forwarding<'_>) -> Result<()> {
    require(m.has(Role::Triage))?;
    let (case, _) = owned_case(app, m, case_id).await?;
    if !can_forward(case.state) {
        return Err(Error::Invalid(format!(
            "a case that is {} cannot be forwarded",
            case.state
        )));
    }
    if f.to == case.institution {
        return Err(Error::Invalid(
            "the case is already with that institution".into(),
        ));
    }
    app.directory
        .get(f.to)
        .filter(|i| i.accepts_reports())
        .ok_or_else(|| Error::Invalid(format!("no institution {:?} takes reports", f.to)))?;
    require_age_file(f.reason)?;
    let expected = {
        let mut target = case.clone();
        target.institution = f.to.to_owned();
        case_recipient_count(app, &target).await?
    };
    if let Err(e) = require_sealed_for(f.reason, expected) {
        audit(app, m, "forward_refused", Some(&case.id)).await?;
        return Err(e);
    }
    check_resealed(app, m, &case.id, &f.resealed, expected, "forward").await?;
    let today = app.clock.today();
    let mv = Move {
        from: case.state,
        to: CaseState::Forwarded,
        due_on: super::deadline::due_after_move(app, &case, CaseState::Forwarded, today),
    };
    let actor = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    let old = app.store.attachments(&case.id).await?;
    let done = app
        .store
        .forward(
            &m.institution,
            &case.id,
            f.to,
            mv,
            today,
            &actor,
            f.reason,
            &f.resealed,
        )
        .await;
    settle_reseal(app, m, &old, &f.resealed, matches!(done, Ok(true))).await;
    if !done? {
        audit(app, m, "forward_refused", Some(&case.id)).await?;
        return Err(Error::Conflict(
            "the case changed meanwhile (a new message or file?); forward it again".into(),
        ));
    }
    audit(app, m, &format!("forward:{}", f.to), Some(&case.id)).await?;
    Ok(())
}

/// Whom a custodian seals a handed-over identity to: the current institution's custodians and
/// the reporter.
#[instrument(skip_all)]
pub async fn identity_recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    require(m.has(Role::Custodian))?;
    let id = not_excluded(app, m, case_id).await?;
    app.store
        .identity_for_institution(&m.institution, id)
        .await?
        .ok_or(Error::NotFound)?;
    let (case, reporter) = app
        .store
        .case_summary(None, id)
        .await?
        .ok_or(Error::NotFound)?;
    let custodians = app
        .directory
        .get(&case.institution)
        .map(|i| i.custodians())
        .unwrap_or_default();
    audit(app, m, "view_identity_recipients", Some(id)).await?;
    Ok(CaseRecipients {
        readers: custodians.iter().map(ToString::to_string).collect(),
        reporter,
    })
}

/// A custodian of the institution holding a confidential identity hands it over to the
/// custodians of the case's current institution (re-sealed on the custodian's machine).
#[instrument(skip_all)]
pub async fn hand_over_identity(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<()> {
    require(m.has(Role::Custodian))?;
    require_age_file(sealed)?;
    let id = not_excluded(app, m, case_id).await?;
    if let Some((case, _)) = app.store.case_summary(None, id).await? {
        // The current institution's custodians and the reporter (see `identity_recipients`).
        let custodians = app
            .directory
            .get(&case.institution)
            .map_or(0, |i| i.custodians().len());
        require_sealed_for(sealed, custodians + 1)?;
    }
    if !app
        .store
        .hand_over_identity(&m.institution, id, sealed)
        .await?
    {
        return Err(Error::NotFound);
    }
    audit(app, m, "hand_over_identity", Some(id)).await?;
    Ok(())
}

/// Parameters for an offline intake into the officer's own institution.
#[instrument(skip_all)]
pub async fn intake_params(app: &App, m: &Member) -> Result<(KdfParams, Vec<String>, Vec<String>)> {
    require(m.has(Role::Triage))?;
    let inst = app.directory.get(&m.institution).ok_or(Error::NotFound)?;
    let s = |v: Vec<age::x25519::Recipient>| v.iter().map(ToString::to_string).collect();
    Ok((app.kdf.params, s(inst.readers()), s(inst.custodians())))
}

/// An offline report, built and sealed on the officer's machine.
#[derive(Debug)]
pub struct Intake<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub category: Option<&'a str>,
    pub privacy: &'a str,
    pub lookup_id: u32,
    pub kdf_salt: &'a [u8],
    pub kdf: KdfParams,
    pub reporter_recipient: &'a str,
    pub content: &'a [u8],
    pub identity: Option<&'a [u8]>,
}

/// Staff intake (phone, post, complaint box, …) into the officer's own institution. Returns
/// the case id; a taken lookup id answers `Conflict` so the CLI draws another.
#[instrument(skip_all)]
pub async fn intake(app: &App, m: &Member, r: &Intake<'_>) -> Result<String> {
    require(m.has(Role::Triage))?;
    if r.channel == "web" || !crate::domain::case::CHANNELS.contains(&r.channel) {
        return Err(Error::Invalid(format!("unknown channel {:?}", r.channel)));
    }
    let kind =
        Kind::parse(r.kind).ok_or_else(|| Error::Invalid(format!("unknown kind {:?}", r.kind)))?;
    let privacy = Privacy::parse(r.privacy)
        .ok_or_else(|| Error::Invalid("privacy must be anonymous or confidential".into()))?;
    if let Some(c) = r.category
        && !app.config.categories.iter().any(|x| x.slug == c)
    {
        return Err(Error::Invalid(format!("unknown category {c:?}")));
    }
    if (privacy == Privacy::Confidential) != r.identity.is_some() {
        return Err(Error::Invalid(
            "a confidential report needs an identity envelope, an anonymous one none".into(),
        ));
    }
    let p = app.kdf.params;
    if r.kdf.memory_kib < p.memory_kib
        || r.kdf.iterations < p.iterations
        || r.kdf_salt.len() != crate::crypto::kdf::SALT_LEN
    {
        return Err(Error::Invalid(
            "the receipt's key derivation is weaker than this server's".into(),
        ));
    }
    // Exactly the server's parameters (the client takes them from `GET /intake`): a costlier
    // receipt would make its checks slower than an unknown code's, telling that it exists.
    if !app.kdf.allows(&r.kdf) {
        let max = app.kdf.max();
        return Err(Error::Invalid(format!(
            "the receipt's key derivation is costlier than this server allows (at most \
             memory_kib = {}, iterations = {}, parallelism = {})",
            max.memory_kib, max.iterations, max.parallelism
        )));
    }
    if r.kdf != p {
        return Err(Error::Invalid(format!(
            "the receipt's key derivation must use this server's parameters (memory_kib = {}, \
             iterations = {}, parallelism = {}): take them from GET /api/v1/intake",
            p.memory_kib, p.iterations, p.parallelism
        )));
    }
    crate::crypto::envelope::parse_recipient(r.reporter_recipient)
        .ok_or_else(|| Error::Invalid("bad reporter recipient".into()))?;
    // The institution's readers and the reporter; the identity: its custodians and the reporter.
    let inst = app.directory.get(&m.institution).ok_or(Error::NotFound)?;
    require_sealed_for(r.content, inst.readers().len() + 1)?;
    if let Some(i) = r.identity {
        require_sealed_for(i, inst.custodians().len() + 1)?;
    }
    let today = app.clock.today();
    let case_id = crate::domain::case::new_case_id()?;
    let new = crate::store::NewCase {
        id: &case_id,
        lookup_id: crate::crypto::receipt::LookupId::from_u32(r.lookup_id)
            .ok_or_else(|| Error::Invalid("bad lookup id".into()))?
            .as_u32(),
        institution: &m.institution,
        kind,
        category: r.category,
        privacy,
        received_on: today,
        kdf_salt: r.kdf_salt,
        kdf: r.kdf,
        reporter_recipient: r.reporter_recipient,
        content: r.content,
        identity: r.identity,
        due_on: super::deadline::due_for_new(app, kind, r.category, today),
        channel: r.channel,
        attachments: &[],
    };
    match app.store.insert_case(&new).await {
        Ok(()) => {}
        Err(crate::store::StoreError::Conflict(what)) => {
            return Err(Error::Conflict(format!("{what} taken; try again")));
        }
        Err(e) => return Err(e.into()),
    }
    audit(app, m, &format!("intake:{}", r.channel), Some(&case_id)).await?;
    Ok(case_id)
}

/// Recipients for sealing the reason of an exclusion: the case's readers without the member
/// being excluded, and the reporter.
#[instrument(skip_all)]
pub async fn recipients_without(
    app: &App,
    m: &Member,
    case_id: &str,
    handle: &str,
) -> Result<CaseRecipients> {
    // Triage excluding someone, or any member stepping aside themself.
    require(m.has(Role::Triage) || m.handle == handle)?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let readers = app.case_readers_without(&case, Some(handle)).await?;
    audit(app, m, "view_recipients", Some(&case.id)).await?;
    Ok(CaseRecipients {
        readers: readers.iter().map(ToString::to_string).collect(),
        reporter,
    })
}

/// Conflict of interest: triage (or the member themself) excludes a member from a case. The
/// excluded member no longer sees it and is left out of every envelope written afterwards.
#[instrument(skip_all)]
pub async fn exclude(
    app: &App,
    m: &Member,
    case_id: &str,
    handle: &str,
    reason: &[u8],
) -> Result<()> {
    require(m.has(Role::Triage) || m.handle == handle)?;
    require_age_file(reason)?;
    let (case, _) = owned_case(app, m, case_id).await?;
    app.directory
        .member(handle)
        .ok_or_else(|| Error::Invalid(format!("no member {handle:?}")))?;
    let readers = app.case_readers_without(&case, Some(handle)).await?.len();
    require_sealed_for(reason, readers + 1)?;
    if !app
        .store
        .exclude(
            &case.institution,
            &case.id,
            handle,
            app.clock.today(),
            &m.handle,
            reason,
        )
        .await?
    {
        return Err(Error::Invalid(format!(
            "{handle} is already excluded from this case"
        )));
    }
    audit(app, m, &format!("exclude:{handle}"), Some(&case.id)).await?;
    Ok(())
}

/// Replaces a case's envelopes with copies sealed (on a reader's machine) for its current
/// readers: after a member leaves, their key no longer opens the stored copies.
#[instrument(skip_all)]
pub async fn rekey(
    app: &App,
    m: &Member,
    case_id: &str,
    resealed: &crate::store::Resealed,
) -> Result<()> {
    require(m.is_reader())?;
    let (case, _) = owned_case(app, m, case_id).await?;
    let expected = case_recipient_count(app, &case).await?;
    check_resealed(app, m, &case.id, resealed, expected, "rekey").await?;
    let old = app.store.attachments(&case.id).await?;
    let done = app
        .store
        .rekey(&case.institution, &case.id, &m.handle, resealed)
        .await;
    settle_reseal(app, m, &old, resealed, matches!(done, Ok(true))).await;
    if !done? {
        audit(app, m, "rekey_refused", Some(&case.id)).await?;
        return Err(Error::Conflict(
            "the case changed meanwhile (a new message or file?); rekey it again".into(),
        ));
    }
    audit(app, m, "rekey", Some(&case.id)).await?;
    Ok(())
}

/// Stores a blob a member's client sealed (before a forward or rekey refers to it).
#[instrument(skip_all)]
pub fn may_upload_blob(m: &Member) -> Result<()> {
    require(m.is_reader())
}

/// Whom a reveal request's reason is sealed to: the custodians keeping the identity, the
/// requester, and the reporter (who is told).
#[instrument(skip_all)]
pub async fn reveal_recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    require(m.is_reader())?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    let holder = app
        .store
        .identity_holder(&case.id)
        .await?
        .ok_or_else(|| Error::Invalid("this case has no identity to reveal".into()))?;
    let mut readers = app.case_custodians(&case.id, &holder).await?;
    readers.push(m.recipient.clone());
    Ok(CaseRecipients {
        readers: readers.iter().map(ToString::to_string).collect(),
        reporter,
    })
}

/// A member working the case asks for the reporter's identity, with a reason.
#[instrument(skip_all)]
pub async fn request_reveal(app: &App, m: &Member, case_id: &str, reason: &[u8]) -> Result<i64> {
    require(m.is_reader())?;
    require_age_file(reason)?;
    let (case, _) = owned_case(app, m, case_id).await?;
    if let Some(holder) = app.store.identity_holder(&case.id).await? {
        // Custodians keeping the identity, the requester and the reporter.
        let custodians = app.case_custodians(&case.id, &holder).await?.len();
        require_sealed_for(reason, custodians + 2)?;
    }
    app.store
        .identity_holder(&case.id)
        .await?
        .ok_or_else(|| Error::Invalid("this case has no identity to reveal".into()))?;
    let seq = app
        .store
        .add_reveal_request(
            &case.id,
            &m.handle,
            &m.institution,
            app.clock.today(),
            reason,
        )
        .await?;
    audit(app, m, "reveal_request", Some(&case.id)).await?;
    Ok(seq)
}

/// A pending request as a custodian sees it, with what they need to decide and seal.
#[derive(Debug)]
pub struct PendingReveal {
    pub request: crate::store::RevealRequest,
    pub requester_recipient: String,
    /// Custodians, requester and reporter: for the decision's reason.
    pub recipients: Vec<String>,
}

#[instrument(skip_all)]
pub async fn pending_reveals(app: &App, m: &Member) -> Result<Vec<PendingReveal>> {
    require(m.has(Role::Custodian))?;
    let mut out = Vec::new();
    for request in app.store.pending_reveals(&m.institution).await? {
        if app
            .store
            .excluded(&request.case_id)
            .await?
            .contains(&m.handle)
        {
            continue;
        }
        let Some(requester) = app.directory.member(&request.requester) else {
            continue;
        };
        let Some((_, reporter)) = app.store.case_summary(None, &request.case_id).await? else {
            continue;
        };
        let mut recipients: Vec<String> = app
            .case_custodians(&request.case_id, &m.institution)
            .await?
            .iter()
            .map(ToString::to_string)
            .collect();
        recipients.push(requester.recipient.to_string());
        recipients.push(reporter);
        out.push(PendingReveal {
            requester_recipient: requester.recipient.to_string(),
            recipients,
            request,
        });
    }
    audit(app, m, "list_reveal_requests", None).await?;
    Ok(out)
}

/// A custodian decides. On approval `grant` is the identity sealed to the requester alone (on
/// the custodian's machine); it is handed out from today plus the institution's notice days.
#[instrument(skip_all)]
pub async fn decide_reveal(
    app: &App,
    m: &Member,
    case_id: &str,
    seq: i64,
    approve: bool,
    decision: &[u8],
    grant: Option<&[u8]>,
) -> Result<Option<time::Date>> {
    require(m.has(Role::Custodian))?;
    let id = not_excluded(app, m, case_id).await?;
    require_age_file(decision)?;
    match (approve, grant) {
        // Sealed to the requester alone.
        (true, Some(g)) => require_sealed_for(g, 1)?,
        (true, None) => {
            return Err(Error::Invalid(
                "an approval carries the identity sealed to the requester".into(),
            ));
        }
        (false, Some(_)) => return Err(Error::Invalid("a denial carries no identity".into())),
        (false, None) => {}
    }
    let today = app.clock.today();
    let notice = app
        .directory
        .get(&m.institution)
        .map_or(0, |i| i.reveal_notice_days);
    let available_on = approve.then(|| today + time::Duration::days(i64::from(notice)));
    let d = crate::store::RevealDecision {
        approve,
        day: today,
        decider: &m.handle,
        decision_envelope: decision,
        grant_envelope: grant,
        available_on,
    };
    if !app.store.decide_reveal(&m.institution, id, seq, &d).await? {
        return Err(Error::NotFound);
    }
    audit(
        app,
        m,
        if approve {
            "reveal_approve"
        } else {
            "reveal_deny"
        },
        Some(id),
    )
    .await?;
    Ok(available_on)
}

/// The identity granted to the requesting member, once the notice period is over.
#[instrument(skip_all)]
pub async fn identity_grant(app: &App, m: &Member, case_id: &str) -> Result<Vec<u8>> {
    let id = not_excluded(app, m, case_id).await?;
    let (grant, available_on) = app
        .store
        .reveal_grant(id, &m.handle)
        .await?
        .ok_or(Error::NotFound)?;
    if app.clock.today() < available_on {
        return Err(Error::Denied(format!(
            "approved; available from {} (the reporter is given notice first)",
            crate::domain::clock::day_string(available_on)
        )));
    }
    audit(app, m, "reveal_open", Some(id)).await?;
    Ok(grant)
}

/// A case's attachments (manifests only), for a member who may read the case.
#[instrument(skip_all)]
pub async fn attachments(
    app: &App,
    m: &Member,
    case_id: &str,
) -> Result<Vec<crate::store::StoredAttachment>> {
    let record = readable_case(app, m, case_id).await?;
    let list = app.store.attachments(&record.summary.id).await?;
    audit(app, m, "list_attachments", Some(&record.summary.id)).await?;
    Ok(list)
}

/// The blob of one attachment, as stored (an age file), for a member who may read the case.
#[instrument(skip_all)]
pub async fn attachment_blob(
    app: &App,
    m: &Member,
    case_id: &str,
    seq: i64,
) -> Result<std::path::PathBuf> {
    let record = readable_case(app, m, case_id).await?;
    let a = app
        .store
        .attachments(&record.summary.id)
        .await?
        .into_iter()
        .find(|a| a.seq == seq)
        .ok_or(Error::NotFound)?;
    audit(app, m, "download_attachment", Some(&record.summary.id)).await?;
    app.blobs
        .path(&a.blob)
        .map_err(|e| Error::Internal(e.to_string()))
}
