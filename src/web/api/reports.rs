//! Member routes for reports: a case's audit entries and the institution's own counts (see
//! `service::member::reports`). Metadata only, never a time of day.

use axum::Json;
use axum::extract::{Path, State};

use super::AuthMember;
use crate::api::{AuditEntryJson, CaseAuditResponse, InstitutionStatsResponse, StateCountJson};
use crate::error::Result;
use crate::service::member::reports as svc;
use crate::web::AppState;

/// `GET /cases/{id}/audit`: who did what to the case, by day (members who may read it).
#[utoipa::path(
    get,
    path = "/cases/{id}/audit",
    tag = "reports",
    responses((status = 200, description = "The case's audit entries, by day.", body = CaseAuditResponse))
)]
pub async fn case_audit(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<CaseAuditResponse>> {
    let entries = svc::case_audit(&state.app, &m, &id).await?;
    Ok(Json(CaseAuditResponse {
        entries: entries
            .into_iter()
            .map(|e| AuditEntryJson {
                seq: e.seq,
                day: e.at,
                actor: e.actor,
                action: e.action,
            })
            .collect(),
    }))
}

/// `GET /institution/stats`: the member's institution's cases by state and answers on time.
#[utoipa::path(
    get,
    path = "/institution/stats",
    tag = "reports",
    responses((status = 200, description = "The member's institution's cases by state, and first answers on time.", body = InstitutionStatsResponse))
)]
pub async fn institution_stats(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<InstitutionStatsResponse>> {
    let counts = svc::institution_counts(&state.app, &m).await?;
    Ok(Json(InstitutionStatsResponse {
        institution: m.institution.clone(),
        states: counts
            .by_state
            .into_iter()
            .map(|(state, cases)| StateCountJson { state, cases })
            .collect(),
        answered_on_time: counts.answered_on_time,
        answered_late: counts.answered_late,
    }))
}
