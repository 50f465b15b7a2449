//! A member opens one case: everything its page shows, read once, audited once.

use tracing::instrument;

use crate::domain::institution::{Member, Role};
use crate::domain::records::{CaseRecord, StoredMessage};
use crate::error::{Error, Result};
use crate::store::sql::{CaseExtras, MessageFile};
use crate::store::{Reads, SeenMark};

use super::super::App;
use super::{Reading, actor, audit_with, checked_id, notes_of, readable_by, seen_key};

/// One case as a member sees it.
#[derive(Debug)]
pub struct CaseView {
    /// Content envelope, messages and history — never the identity envelope.
    pub record: CaseRecord,
    /// The officers' internal notes: for the owning institution's readers only — not the
    /// oversight body reading an escalated case, not an institution it was forwarded away from.
    pub notes: Vec<StoredMessage>,
    /// The oversight body's recommendations: for the owning institution's readers, and for the
    /// oversight body while the case is escalated.
    pub recommendations: Vec<StoredMessage>,
    /// Which message each attachment belongs to.
    pub files: Vec<MessageFile>,
}

/// The case `case_id` as member `m` may read it, and its page's extras, read on `reads`.
async fn read_case(
    reads: &mut Reads,
    m: &Member,
    case_id: &str,
) -> Result<(CaseRecord, Option<CaseExtras>)> {
    let id = checked_id(case_id)?;
    // The page's notes and files come in the statement that reads the case's lists: at most
    // what the member could see of any case, narrowed below to what they may see of this one.
    reads.with_extras(m.is_reader(), m.is_reader() || m.has(Role::Oversight));
    let record = match readable_by(reads, m, id).await? {
        Some(r) => r,
        // An institution that forwarded the case away still sees its state and history.
        None if m.is_reader() => reads
            .case_for_past_owner(&m.institution, id, &m.handle)
            .await?
            .ok_or(Error::NotFound)?,
        None => return Err(Error::NotFound),
    };
    Ok((record, reads.take_extras()))
}

/// One case with its content envelope, messages, history, the notes and recommendations the
/// member may read, and which files belong to which message. Every read is made on the
/// request's one connection ([`Reading`]): the case row (none if the member is excluded from
/// the case; it checks the member's session too when this instance has seen the token before),
/// then its lists with the page's notes and files — two statements for a case of the member's
/// institution. An escalated case read by the oversight body, or a case the institution
/// forwarded away, takes a case-row statement more each; a session no read proved, one more.
/// The read's audit entry and the member's "seen" marker are one grouped commit — nothing is
/// answered before it is.
#[instrument(skip_all)]
pub async fn case_view(app: &App, mut reading: Reading, case_id: &str) -> Result<CaseView> {
    let read = read_case(&mut reading.reads, &reading.member, case_id).await;
    let (m, (mut record, extras)) = reading.done(app, read).await?;
    let m = &m;
    let CaseExtras {
        mut notes,
        mut recommendations,
        files,
    } = extras.ok_or_else(|| Error::Internal("a case page read without its extras".into()))?;
    let case = &record.summary;
    // Internal notes are the owning institution's; recommendations its and, once the case is
    // escalated, the oversight body's.
    let owner = m.is_reader() && m.institution == case.institution;
    let oversight = m.has(Role::Oversight) && case.escalated_on.is_some();
    if !owner {
        notes.clear();
        if !oversight {
            recommendations.clear();
        }
    }
    let seen = SeenMark {
        member: seen_key(m),
        notes_of: notes_of(m).map(str::to_owned),
        case_id: case.id.clone(),
    };
    audit_with(app, &actor(m), "view_case", Some(&case.id), Some(seen)).await?;
    // A flag is written when the reporter looks: shown from the next day on, so it never
    // tells an officer when the reporter came (DESIGN 2.4).
    let today = app.clock.today();
    record
        .reporter_unreadable
        .retain(|(_, _, day)| *day < today);
    Ok(CaseView {
        record,
        notes,
        recommendations,
        files,
    })
}
