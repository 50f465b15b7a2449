//! What a member does through the API: log in with their age identity, list and fetch cases.
//!
//! The server never sees a member's private key and never decrypts anything for them: it hands
//! out envelopes, and the member's own machine opens them. Every action is audited.

use time::format_description::well_known::Rfc3339;
use tracing::instrument;
use zeroize::Zeroizing;

use crate::crypto::envelope;
use crate::crypto::kdf::KdfParams;
use crate::crypto::keys::{KeyKind, PartyKeys};
use crate::crypto::token;
use crate::domain::audit::AuditNew;
use crate::domain::case::CaseSummary;
use crate::domain::case::{Actor, CaseState, Kind, Privacy, is_case_id};
use crate::domain::institution::{Member, Role};
use crate::domain::records::{CaseFilter, CaseRecord, Classification};
use crate::domain::workflow::{TransitionError, can_forward, check_member_move, is_final};
use crate::error::{Error, Result};
use crate::store::{Reads, SeenMark, SessionClaim};

use super::App;

mod bulk;
mod casework;
mod custody;
mod intake;
mod oversight;
mod reply_files;
pub mod reports;
mod reseal;
mod session;
mod view;
pub use bulk::{contents, unseen};
use casework::require_notes_sealed_for_readers;
pub use casework::{assign, note, note_recipients};
pub use custody::{
    PendingReveal, decide_reveal, hand_over_identity, identity_grant, identity_recipients,
    pending_reveals, request_reveal, reveal_recipients,
};
pub use intake::{Intake, intake, intake_params};
pub use oversight::{oversight_message, recommend};
pub use reply_files::{ReplyDocument, message_files, reply_with_files};
pub use reseal::{
    ClientAttachment, Forwarding, forward, forward_recipients, may_upload_blob, record_upload,
    rekey, resealed_from_client,
};
pub use session::{
    IssuedChallenge, NewSession, Reading, SessionHints, answer, authenticate, authenticate_reading,
    challenge, logout,
};
pub use view::{CaseView, case_view};

/// The audit's name for a member. A machine member (role `integration`) is written
/// `integration:<institution>/<handle>`, so an auditor sees at a glance that a system acted.
fn actor(m: &Member) -> String {
    if m.is_machine() {
        return format!("integration:{}/{}", m.institution, m.handle);
    }
    Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    }
    .to_column()
}

/// The audit entry of `m`'s act, for the store to append in the act's own transaction (the act
/// and its entry commit together or not at all).
fn entry(app: &App, m: &Member, action: &str, case_id: Option<&str>) -> Result<AuditNew> {
    Ok(AuditNew {
        at: app
            .clock
            .now()
            .format(&Rfc3339)
            .map_err(|e| Error::Internal(e.to_string()))?,
        actor: actor(m),
        action: action.to_owned(),
        case_id: case_id.map(str::to_owned),
    })
}

async fn audit(app: &App, m: &Member, action: &str, case_id: Option<&str>) -> Result<()> {
    audit_as(app, &actor(m), action, case_id).await
}

async fn audit_as(app: &App, actor: &str, action: &str, case_id: Option<&str>) -> Result<()> {
    audit_with(app, actor, action, case_id, None).await
}

/// An audit entry, and with `seen` the member's "seen" marker in the same grouped commit.
async fn audit_with(
    app: &App,
    actor: &str,
    action: &str,
    case_id: Option<&str>,
    seen: Option<SeenMark>,
) -> Result<()> {
    let at = app
        .clock
        .now()
        .format(&Rfc3339)
        .map_err(|e| Error::Internal(e.to_string()))?;
    app.store
        .append_audit_seen(&at, actor, action, case_id, seen)
        .await?;
    Ok(())
}

/// Deny by default: every action names the roles that allow it.
fn require(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::Forbidden) }
}

/// Cases of the member's own institution; for the oversight body (the `oversight` role), the
/// escalated cases of every institution — an oversight-only member sees nothing else.
/// Read on the connection the member's session was read on.
#[instrument(skip_all)]
pub async fn list(
    app: &App,
    mut reading: Reading,
    filter: &CaseFilter,
    limit: u32,
    offset: u32,
) -> Result<Vec<CaseSummary>> {
    let cases = list_on(&mut reading.reads, &reading.member, filter, limit, offset).await;
    let (m, cases) = reading.done(app, cases).await?;
    audit(app, &m, "list_cases", None).await?;
    Ok(cases)
}

/// [`list`]'s read, on `reads`.
async fn list_on(
    reads: &mut Reads,
    m: &Member,
    filter: &CaseFilter,
    limit: u32,
    offset: u32,
) -> Result<Vec<CaseSummary>> {
    let limit = limit.clamp(1, 500);
    let own = m.is_reader() || m.has(Role::Custodian);
    if m.has(Role::Oversight) && (filter.escalated || !own) {
        let mut cases = reads.list_escalated(&m.handle, limit, offset).await?;
        // Cases are assigned within their institution: "mine" keeps only those (an
        // oversight-only member has none).
        if let Some(me) = &filter.assigned_to {
            cases.retain(|c| c.assigned_to.as_ref() == Some(me));
        }
        Ok(cases)
    } else {
        require(own)?;
        let mut filter = filter.clone();
        filter.viewer = Some(m.handle.clone());
        Ok(reads
            .list_cases(&m.institution, &filter, limit, offset)
            .await?)
    }
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
    let id = checked_id(case_id)?;
    readable_by(&mut app.store.reads().await?, m, id)
        .await?
        .ok_or(Error::NotFound)
}

/// The case `id` as the member may read it: their institution's, or an escalated case for the
/// oversight body; `None` if neither, or if the member is excluded from it (the store's reads
/// find nothing then).
async fn readable_by(reads: &mut Reads, m: &Member, id: &str) -> Result<Option<CaseRecord>> {
    require(m.is_reader() || m.has(Role::Oversight))?;
    if m.is_reader()
        && let Some(r) = reads
            .case_for_institution(&m.institution, id, &m.handle)
            .await?
    {
        return Ok(Some(r));
    }
    if m.has(Role::Oversight)
        && let Some(r) = reads.escalated_case(id, &m.handle).await?
    {
        return Ok(Some(r));
    }
    Ok(None)
}

/// A member excluded from a case (conflict of interest) is told it does not exist.
async fn not_excluded<'a>(app: &App, m: &Member, case_id: &'a str) -> Result<&'a str> {
    let id = checked_id(case_id)?;
    if app.store.excluded(id).await?.contains(&m.handle) {
        return Err(Error::NotFound);
    }
    Ok(id)
}

/// Whose "seen" markers these are: `institution/handle`.
fn seen_key(m: &Member) -> String {
    format!("{}/{}", m.institution, m.handle)
}

/// The institution whose cases' internal notes count in the member's "seen" markers: their own,
/// if they read its cases; none for the oversight body (it may not read them).
fn notes_of(m: &Member) -> Option<&str> {
    m.is_reader().then_some(m.institution.as_str())
}

fn checked_id(case_id: &str) -> Result<&str> {
    if is_case_id(case_id) {
        Ok(case_id)
    } else {
        Err(Error::NotFound)
    }
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

/// The case (and its reporter's keys) if the member's institution owns it; 404 otherwise.
async fn owned_case(app: &App, m: &Member, case_id: &str) -> Result<(CaseSummary, PartyKeys)> {
    app.store
        .case_summary(Some(&m.institution), not_excluded(app, m, case_id).await?)
        .await?
        .ok_or(Error::NotFound)
}

/// Who a member must encrypt to when writing on a case: the institution's current readers and
/// the reporter, all of one kind (post-quantum when every one of them has a post-quantum key).
/// The member's own machine seals; the server never sees the text.
#[derive(Debug)]
pub struct CaseRecipients {
    pub kind: KeyKind,
    pub readers: Vec<String>,
    pub reporter: String,
}

impl CaseRecipients {
    /// `readers` and the reporter, in the kind they all have.
    fn choose(mut readers: Vec<PartyKeys>, reporter: &PartyKeys) -> Result<Self> {
        readers.push(reporter.clone());
        let sealing = super::sealing_for(&readers)?;
        let mut texts: Vec<String> = sealing.recipients.iter().map(ToString::to_string).collect();
        let reporter = texts.pop().unwrap_or_default();
        Ok(Self {
            kind: sealing.kind,
            readers: texts,
            reporter,
        })
    }
}

/// What an envelope a member sends must be sealed to: how many recipients, of which kind. The
/// server cannot see which keys a stanza is for, but it can count them and see their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected {
    kind: KeyKind,
    count: usize,
}

impl Expected {
    /// What an envelope for `parties` holds (see `sealing_for`).
    fn of(parties: &[PartyKeys]) -> Result<Self> {
        let sealing = super::sealing_for(parties)?;
        Ok(Self {
            kind: sealing.kind,
            count: sealing.recipients.len(),
        })
    }

    /// [`Self::of`] `parties` and `more`.
    fn with(mut parties: Vec<PartyKeys>, more: &[&PartyKeys]) -> Result<Self> {
        parties.extend(more.iter().map(|p| (*p).clone()));
        Self::of(&parties)
    }
}

#[instrument(skip_all)]
pub async fn recipients(app: &App, m: &Member, case_id: &str) -> Result<CaseRecipients> {
    // The oversight body writes to the citizen of an escalated case with the same recipients.
    let (case, reporter) = if m.has(Role::Oversight) && !m.is_reader() {
        oversight::oversight_case(app, m, case_id).await?
    } else {
        require(m.is_reader())?;
        match owned_case(app, m, case_id).await {
            Err(Error::NotFound) if m.has(Role::Oversight) => {
                oversight::oversight_case(app, m, case_id).await?
            }
            other => other?,
        }
    };
    let recipients = CaseRecipients::choose(app.case_readers(&case).await?, &reporter)?;
    audit(app, m, "view_recipients", Some(case_id)).await?;
    Ok(recipients)
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
/// handed out (readers and reporter): its number of stanzas of the expected kind must match,
/// with none of the other kind. The server cannot see *which* keys a stanza is for, but an
/// envelope sealed to some other key alone — which the reporter could never open — is refused
/// here, and so is a classic envelope on a case sealed post-quantum.
fn require_sealed_for(bytes: &[u8], expected: Expected) -> Result<()> {
    require_stanzas(
        bytes,
        expected,
        "recipients (the readers and the reporter): fetch the recipients again and seal to \
         exactly those",
    )
}

/// [`require_sealed_for`] with `whom` saying in the refusal which recipients were expected.
fn require_stanzas(bytes: &[u8], expected: Expected, whom: &str) -> Result<()> {
    require_age_file(bytes)?;
    match crate::crypto::envelope::stanza_counts(bytes) {
        Some(c) if c.is_exactly(expected.kind, expected.count) => Ok(()),
        _ => Err(Error::Invalid(format!(
            "the envelope is not sealed to this case's {} {whom}{}",
            expected.count,
            if expected.kind.is_post_quantum() {
                " (post-quantum keys, age1pq1…)"
            } else {
                ""
            }
        ))),
    }
}

/// What a member seals to when writing on a case: its readers and the reporter.
async fn case_recipient_count(
    app: &App,
    case: &CaseSummary,
    reporter: &PartyKeys,
) -> Result<Expected> {
    Expected::with(app.case_readers(case).await?, &[reporter])
}

/// A member's message to the reporter (and their colleagues), sealed on the member's machine.
#[instrument(skip_all)]
pub async fn reply(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<()> {
    require(m.is_writer())?;
    require_age_file(sealed)?;
    let (case, reporter) = owned_case(app, m, case_id).await?;
    require_sealed_for(sealed, case_recipient_count(app, &case, &reporter).await?)?;
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
        .add_message(
            case_id,
            &actor,
            app.clock.today(),
            None,
            sealed,
            None,
            Some(&entry(app, m, "reply", Some(case_id))?),
        )
        .await?;
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
    require(m.is_writer())?;
    let case_id = checked_id(case_id)?;
    if let Some(r) = reason {
        require_age_file(r)?;
    }
    let (case, reporter) = owned_case(app, m, case_id).await?;
    if let Some(r) = reason {
        require_sealed_for(r, case_recipient_count(app, &case, &reporter).await?)?;
    }
    let from = case.state;
    let today = app.clock.today();
    // An on-hold case has no due day: putting an overdue case on hold would take it off the
    // oversight body's overdue list and take escalation away from the citizen. The delay stays
    // visible; an extension (with a reason the citizen reads) comes first.
    if to == CaseState::OnHold
        && let Some(due) = case.due_on.filter(|d| *d < today)
    {
        return Err(Error::Invalid(format!(
            "the case is overdue (due {due}): putting it on hold now would hide the delay; \
             extend the deadline, with a reason the citizen reads, before asking them"
        )));
    }
    let roles: Vec<Role> = m.roles.iter().copied().collect();
    check_member_move(from, case.held_from, to, &roles, reason.is_some()).map_err(|e| match e {
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
            super::deadline::next_move(app, &case, to, today),
            today,
            &actor,
            reason,
            Some(&entry(app, m, &format!("set_state:{to}"), Some(case_id))?),
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
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
    let audited = entry(app, m, "classify", Some(case_id))?;
    if !app
        .store
        .classify(&m.institution, case_id, &change, &audited)
        .await?
    {
        return Err(Error::NotFound);
    }
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
    require(m.is_writer())?;
    require_age_file(reason)?;
    if !(1..=60).contains(&days) {
        return Err(Error::Invalid(
            "an extension is 1 to 60 working days".into(),
        ));
    }
    let (case, reporter) = owned_case(app, m, case_id).await?;
    require_sealed_for(reason, case_recipient_count(app, &case, &reporter).await?)?;
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
            &entry(app, m, "extend_deadline", Some(&case.id))?,
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
    Ok(Some(due))
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
    let recipients = CaseRecipients::choose(readers, &reporter)?;
    audit(app, m, "view_recipients", Some(&case.id)).await?;
    Ok(recipients)
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
    let (case, reporter) = owned_case(app, m, case_id).await?;
    app.directory
        .member(handle)
        .ok_or_else(|| Error::Invalid(format!("no member {handle:?}")))?;
    let readers = app.case_readers_without(&case, Some(handle)).await?;
    require_sealed_for(reason, Expected::with(readers, &[&reporter])?)?;
    if !app
        .store
        .exclude(
            &case.institution,
            &case.id,
            handle,
            app.clock.today(),
            &m.handle,
            reason,
            &entry(app, m, &format!("exclude:{handle}"), Some(&case.id))?,
        )
        .await?
    {
        return Err(Error::Invalid(format!(
            "{handle} is already excluded from this case"
        )));
    }
    Ok(())
}

/// A case's attachments (manifests only), for a member who may read the case.
#[instrument(skip_all)]
pub async fn attachments(
    app: &App,
    m: &Member,
    case_id: &str,
) -> Result<Vec<crate::domain::records::StoredAttachment>> {
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
