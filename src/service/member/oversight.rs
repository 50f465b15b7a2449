//! The oversight body (Ombudsman) writes on an escalated case: a recommendation to the
//! institution — sealed on its member's machine to the case's readers (the institution's and the
//! oversight body's), never to the reporter — and a message to the citizen, sealed to the
//! readers and the reporter. Both are recorded in the case's history and audited. Deny by
//! default: the oversight role, an escalated case, a member not excluded from it.

use tracing::instrument;

use super::{
    case_recipient_count, entry, not_excluded, require, require_age_file, require_sealed_for,
};
use crate::crypto::keys::PartyKeys;
use crate::domain::case::Actor;
use crate::domain::case::CaseSummary;
use crate::domain::institution::{Member, Role};
use crate::domain::workflow::is_final;
use crate::error::{Error, Result};
use crate::service::App;

use super::casework::require_notes_sealed_for_readers;

/// An escalated case an oversight member may write on, with the reporter's recipient.
pub(super) async fn oversight_case(
    app: &App,
    m: &Member,
    case_id: &str,
) -> Result<(CaseSummary, PartyKeys)> {
    require(m.has(Role::Oversight))?;
    let id = not_excluded(app, m, case_id).await?;
    match app.store.case_summary(None, id).await? {
        Some((case, reporter)) if case.escalated_on.is_some() => Ok((case, reporter)),
        _ => Err(Error::NotFound),
    }
}

fn author(m: &Member) -> Actor {
    Actor::Member {
        handle: m.handle.clone(),
        institution: m.institution.clone(),
    }
}

/// A recommendation to the institution. Returns its position among the case's notes.
#[instrument(skip_all)]
pub async fn recommend(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<i64> {
    require_age_file(sealed)?;
    let (case, _) = oversight_case(app, m, case_id).await?;
    require_notes_sealed_for_readers(sealed, &app.case_readers(&case).await?)?;
    let seq = app
        .store
        .add_recommendation(
            &case.id,
            &author(m),
            app.clock.today(),
            sealed,
            &entry(app, m, "recommend", Some(&case.id))?,
        )
        .await?
        .ok_or_else(|| Error::Conflict("the case changed meanwhile; look at it again".into()))?;
    Ok(seq)
}

/// A message from the oversight body to the citizen.
#[instrument(skip_all)]
pub async fn oversight_message(app: &App, m: &Member, case_id: &str, sealed: &[u8]) -> Result<()> {
    require_age_file(sealed)?;
    let (case, reporter) = oversight_case(app, m, case_id).await?;
    require_sealed_for(sealed, case_recipient_count(app, &case, &reporter).await?)?;
    if is_final(case.state) {
        return Err(Error::Invalid(format!(
            "the case is {}: nothing more can be written on it",
            case.state
        )));
    }
    if !app
        .store
        .add_oversight_message(
            &case.id,
            &author(m),
            app.clock.today(),
            sealed,
            &entry(app, m, "oversight_message", Some(&case.id))?,
        )
        .await?
    {
        return Err(Error::Conflict(
            "the case changed meanwhile; look at it again".into(),
        ));
    }
    Ok(())
}
