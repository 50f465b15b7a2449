//! A member opens one case: everything its page shows, read once, audited once.

use tracing::instrument;

use crate::domain::institution::{Member, Role};
use crate::domain::records::{CaseRecord, StoredMessage};
use crate::error::{Error, Result};
use crate::store::SeenMark;
use crate::store::sql::{CaseExtras, MessageFile};

use super::super::App;
use super::{actor, audit_with, not_excluded_in, notes_of, readable_by, seen_key};

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

/// One case with its content envelope, messages, history, the notes and recommendations the
/// member may read, and which files belong to which message. Every read is made on one
/// connection (`Reads`: one connection taken from the pool and given back, not five), the
/// exclusion list read once; the read's audit entry and the member's "seen" marker are one
/// grouped commit, and the notes and files are read while it is on its way to disk — nothing
/// is answered before it is.
#[instrument(skip_all)]
pub async fn case_view(app: &App, m: &Member, case_id: &str) -> Result<CaseView> {
    let mut reads = app.store.reads().await?;
    let id = not_excluded_in(&mut reads, m, case_id).await?;
    let mut record = match readable_by(&mut reads, m, id).await? {
        Some(r) => r,
        // An institution that forwarded the case away still sees its state and history.
        None if m.is_reader() => reads
            .case_for_past_owner(&m.institution, id)
            .await?
            .ok_or(Error::NotFound)?,
        None => return Err(Error::NotFound),
    };
    let case = &record.summary;
    let owner = m.is_reader() && m.institution == case.institution;
    let oversight = m.has(Role::Oversight) && case.escalated_on.is_some();
    let seen = SeenMark {
        member: seen_key(m),
        notes_of: notes_of(m).map(str::to_owned),
        case_id: case.id.clone(),
    };
    let who = actor(m);
    let audited = audit_with(app, &who, "view_case", Some(&case.id), Some(seen));
    // The connection goes back to the pool as soon as the extras are read, not when the audit
    // commit ends: that commit may itself need a connection of the pool (`Reads`).
    let extras = async move {
        let extras = reads.case_extras(&case.id, owner, owner || oversight).await;
        drop(reads);
        extras
    };
    let (audited, extras) = tokio::join!(audited, extras);
    audited?;
    let CaseExtras {
        notes,
        recommendations,
        files,
    } = extras?;
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
