//! Reports for the institution's own officers: a case's audit entries (for the printed case
//! file) and the institution's own counts. Metadata only, day-granular, each read audited.

use tracing::instrument;

use super::{audit, readable_case, require};
use crate::domain::audit::AuditEntry;
use crate::domain::institution::Member;
use crate::domain::stats::InstitutionCounts;
use crate::error::Result;
use crate::service::App;

/// The audit entries about a case, for members who may read it (the owning institution's
/// readers; the oversight body once it is escalated) — anyone else is told it does not exist.
/// Each entry's time is cut to its day here, so no caller can see a time of day.
#[instrument(skip_all)]
pub async fn case_audit(app: &App, m: &Member, case_id: &str) -> Result<Vec<AuditEntry>> {
    let record = readable_case(app, m, case_id).await?;
    let id = record.summary.id;
    let mut entries = app.store.audit_entries_for_case(&id).await?;
    audit(app, m, "view_case_audit", Some(&id)).await?;
    for e in &mut entries {
        e.at = e.at.chars().take(10).collect();
        e.prev_hash.clear();
        e.hash.clear();
    }
    Ok(entries)
}

/// The member's institution's own numbers: its readers only.
#[instrument(skip_all)]
pub async fn institution_counts(app: &App, m: &Member) -> Result<InstitutionCounts> {
    require(m.is_reader())?;
    let counts = app.store.institution_counts(&m.institution).await?;
    audit(app, m, "view_institution_stats", None).await?;
    Ok(counts)
}
