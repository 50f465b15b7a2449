//! Retention: closed and archived cases are deleted after the number of days their institution
//! declares (`retention_days` in its keys file), with every envelope, message, file and identity.
//! Driven by the app's clock; audited as counts, never content.

use time::format_description::well_known::Rfc3339;
use tracing::instrument;

use crate::error::{Error, Result};

use super::App;

/// What a purge would remove (or removed), per institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub institution: String,
    pub retention_days: u32,
    pub cases: Vec<String>,
    pub blobs: usize,
}

/// What is due for deletion today.
#[instrument(skip_all)]
pub async fn plan(app: &App) -> Result<Vec<(Plan, Vec<String>)>> {
    let today = app.clock.today();
    let mut out = Vec::new();
    for inst in app.directory.all() {
        let Some(days) = inst.retention_days else {
            continue;
        };
        let before = today - time::Duration::days(i64::from(days));
        let found = app.store.purge_candidates(&inst.slug, before).await?;
        if found.is_empty() {
            continue;
        }
        let blobs: Vec<String> = found.iter().flat_map(|(_, b)| b.iter().cloned()).collect();
        out.push((
            Plan {
                institution: inst.slug.clone(),
                retention_days: days,
                cases: found.into_iter().map(|(c, _)| c).collect(),
                blobs: blobs.len(),
            },
            blobs,
        ));
    }
    Ok(out)
}

/// Deletes what is due; returns what was deleted. Each institution's cases are chosen again
/// inside the deleting transaction (so a case reopened, or a file re-sealed, since [`plan`]
/// ran is not touched), and the audit entry counts what was really deleted.
#[instrument(skip_all)]
pub async fn purge(app: &App) -> Result<Vec<Plan>> {
    let today = app.clock.today();
    let mut done = Vec::new();
    for inst in app.directory.all() {
        let Some(days) = inst.retention_days else {
            continue;
        };
        let before = today - time::Duration::days(i64::from(days));
        let at = app
            .clock
            .now()
            .format(&Rfc3339)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let (cases, blobs) = app.store.purge(&inst.slug, before, &at).await?;
        if cases.is_empty() {
            continue;
        }
        done.push(Plan {
            institution: inst.slug.clone(),
            retention_days: days,
            cases,
            blobs: blobs.len(),
        });
        app.blobs.shred_many(blobs).await;
    }
    Ok(done)
}
