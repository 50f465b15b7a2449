//! Reading many cases at once (the desk's inbox and search): the same rules as reading one —
//! a reader of the owning institution, or the oversight body for an escalated case, never an
//! excluded member — and one audit entry per case, written in one commit.

use time::format_description::well_known::Rfc3339;
use tracing::instrument;

use super::actor;
use crate::domain::institution::Member;
use crate::error::{Error, Result};
use crate::service::App;

/// Who may read what in a bulk request: the member's institution if they read its cases, and
/// whether they are the oversight body (escalated cases of every institution). At most
/// `api::MAX_CONTENTS` ids; anyone else is refused.
fn scope<'m>(m: &'m Member, ids: &[String]) -> Result<(Option<&'m str>, bool)> {
    if ids.len() > crate::api::MAX_CONTENTS {
        return Err(Error::Invalid(format!(
            "at most {} cases at once",
            crate::api::MAX_CONTENTS
        )));
    }
    let reader = m.is_reader();
    let oversight = m.has(crate::domain::institution::Role::Oversight);
    if !reader && !oversight {
        return Err(Error::Forbidden);
    }
    Ok((reader.then_some(m.institution.as_str()), oversight))
}

/// The content envelopes of the cases in `ids` that `m` may read (others are left out).
#[instrument(skip_all)]
pub async fn contents(app: &App, m: &Member, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
    let (institution, oversight) = scope(m, ids)?;
    let out = app
        .store
        .contents_for(institution, oversight, &m.handle, ids)
        .await?;
    let at = app
        .clock
        .now()
        .format(&Rfc3339)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let read: Vec<&str> = out.iter().map(|(id, _)| id.as_str()).collect();
    app.store
        .append_audit_many(&at, &actor(m), "download_content", &read)
        .await?;
    Ok(out)
}

/// Which of the cases in `ids` that `m` may read (others are left out) hold something they
/// have not seen: never opened, or changed since (a count per case, never a time, of what they
/// may read). Audited, once per request.
#[instrument(skip_all)]
pub async fn unseen(
    app: &App,
    m: &Member,
    ids: &[String],
) -> Result<std::collections::HashMap<String, crate::domain::case::Unseen>> {
    let (institution, oversight) = scope(m, ids)?;
    let readable = app
        .store
        .readable_ids(institution, oversight, &m.handle, ids)
        .await?;
    let found = app
        .store
        .unseen(&super::seen_key(m), super::notes_of(m), &readable)
        .await?;
    super::audit(app, m, "view_unseen", None).await?;
    Ok(found)
}
