//! Work distribution and internal notes inside the owning institution.
//!
//! Triage assigns a case to one of its investigators. Officers write internal notes to each
//! other: sealed on the member's machine to the case's readers only — never to the reporter —
//! and shown apart from the conversation. The server checks who may act and how many keys an
//! envelope is sealed to; it never sees a note's text.

use tracing::instrument;

use super::{Expected, audit, entry, owned_case, require, require_age_file, require_stanzas};
use crate::crypto::keys::PartyKeys;
use crate::domain::case::Actor;
use crate::domain::institution::{Member, Role};
use crate::error::{Error, Result};
use crate::service::App;

/// Refuses a note that is not sealed to exactly the case's `readers` (triage, investigators —
/// and the oversight body once escalated): in particular one sealed to the reporter as well,
/// which has one stanza too many.
pub(super) fn require_notes_sealed_for_readers(bytes: &[u8], readers: &[PartyKeys]) -> Result<()> {
    require_stanzas(
        bytes,
        Expected::of(readers)?,
        "readers (internal notes are sealed to the readers only, never to the reporter): \
         fetch the note recipients again and seal to exactly those",
    )
}

/// Triage assigns a case of its institution to one of that institution's investigators, or
/// clears the assignment (`None`). Returns who it is assigned to now.
#[instrument(skip_all)]
pub async fn assign(
    app: &App,
    m: &Member,
    case_id: &str,
    handle: Option<&str>,
) -> Result<Option<String>> {
    require(m.has(Role::Triage))?;
    let (case, _) = owned_case(app, m, case_id).await?;
    if let Some(h) = handle {
        let investigator = app
            .directory
            .member(h)
            .filter(|x| x.institution == case.institution && x.has(Role::Investigator));
        if investigator.is_none() {
            return Err(Error::Invalid(format!(
                "{h:?} is not an investigator of {}: a case is assigned to one of its own \
                 institution's investigators",
                case.institution
            )));
        }
        if app.store.excluded(&case.id).await?.iter().any(|e| e == h) {
            return Err(Error::Invalid(format!(
                "{h} is excluded from this case (conflict of interest) and cannot be assigned"
            )));
        }
    }
    let action = handle.map_or_else(|| "unassign".to_owned(), |h| format!("assign:{h}"));
    if !app
        .store
        .assign(
            &case.institution,
            &case.id,
            handle,
            app.clock.today(),
            &entry(app, m, &action, Some(&case.id))?,
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
    Ok(handle.map(str::to_owned))
}

/// Whom an internal note is sealed to: the case's readers (as for a message), never the
/// reporter.
#[instrument(skip_all)]
pub async fn note_recipients(app: &App, m: &Member, case_id: &str) -> Result<Vec<String>> {
    // The oversight body seals its recommendations on an escalated case to the same readers.
    let case = if m.has(Role::Oversight) && !m.is_reader() {
        super::oversight::oversight_case(app, m, case_id).await?.0
    } else {
        require(m.is_reader())?;
        match owned_case(app, m, case_id).await {
            Err(Error::NotFound) if m.has(Role::Oversight) => {
                super::oversight::oversight_case(app, m, case_id).await?.0
            }
            other => other?.0,
        }
    };
    let readers = crate::service::sealing_for(&app.case_readers(&case).await?)?;
    audit(app, m, "view_note_recipients", Some(&case.id)).await?;
    Ok(readers.recipients.iter().map(ToString::to_string).collect())
}

/// An internal note, sealed on the member's machine to the note recipients. Returns its
/// position among the case's notes.
#[instrument(skip_all)]
pub async fn note(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<i64> {
    require(m.is_writer())?;
    require_age_file(sealed)?;
    let (case, _) = owned_case(app, m, case_id).await?;
    require_notes_sealed_for_readers(sealed, &app.case_readers(&case).await?)?;
    let author = Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    };
    let seq = app
        .store
        .add_note(
            &case.institution,
            &case.id,
            &author,
            app.clock.today(),
            sealed,
            &entry(app, m, "note", Some(&case.id))?,
        )
        .await?
        .ok_or_else(|| Error::Conflict("the case changed meanwhile; look at it again".into()))?;
    Ok(seq)
}
