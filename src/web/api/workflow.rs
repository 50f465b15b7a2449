//! Member routes that move a case on: replies to the reporter, state changes, classification
//! and extensions.

use axum::Json;
use axum::extract::{Path, State};

use super::{AuthMember, envelope_bytes};
use crate::api::{
    ClassifyRequest, ExtendRequest, ExtendResponse, OkResponse, ReplyRequest, StateRequest,
};
use crate::domain::case::CaseState;
use crate::error::{Error, Result};
use crate::service::member as svc;
use crate::web::AppState;

/// Files a member's client sealed and uploaded, as the service takes them.
pub(super) fn documents(files: &[crate::api::ReplyFile]) -> Result<Vec<svc::ReplyDocument>> {
    files
        .iter()
        .map(|f| {
            Ok(svc::ReplyDocument {
                blob: f.blob.clone(),
                manifest: envelope_bytes(&f.manifest)?,
            })
        })
        .collect()
}

/// A message to the reporter, sealed on the member's machine, with optional files.
#[utoipa::path(
    post,
    path = "/cases/{id}/messages",
    tag = "cases",
    request_body = ReplyRequest,
    responses((status = 200, description = "The message is stored for the reporter.", body = OkResponse))
)]
pub async fn reply(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<ReplyRequest>,
) -> Result<Json<OkResponse>> {
    let files = documents(&req.files)?;
    svc::reply_with_files(&state.app, &m, &id, &envelope_bytes(&req.envelope)?, files).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Moves a case to another state (with a sealed reason where the citizen is owed one).
#[utoipa::path(
    post,
    path = "/cases/{id}/state",
    tag = "cases",
    request_body = StateRequest,
    responses((status = 200, description = "The case moved.", body = OkResponse))
)]
pub async fn set_state(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<StateRequest>,
) -> Result<Json<OkResponse>> {
    let to = CaseState::parse(&req.state)
        .ok_or_else(|| Error::Invalid(format!("unknown state {:?}", req.state)))?;
    let reason = req
        .reason_envelope
        .as_deref()
        .map(envelope_bytes)
        .transpose()?;
    svc::set_state(&state.app, &m, &id, to, reason.as_deref()).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Changes a case's kind, category, tags or privacy.
#[utoipa::path(
    post,
    path = "/cases/{id}/classify",
    tag = "cases",
    request_body = ClassifyRequest,
    responses((status = 200, description = "The case is reclassified.", body = OkResponse))
)]
pub async fn classify(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<ClassifyRequest>,
) -> Result<Json<OkResponse>> {
    let r = svc::ClassifyRequest {
        kind: req.kind.as_deref(),
        category: req.category.as_deref(),
        tags: req.tags.as_deref(),
        privacy: req.privacy.as_deref(),
    };
    svc::classify(&state.app, &m, &id, &r).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Extends the current stage's deadline by working days, with a sealed reason.
#[utoipa::path(
    post,
    path = "/cases/{id}/extend",
    tag = "cases",
    request_body = ExtendRequest,
    responses((status = 200, description = "The new due day.", body = ExtendResponse))
)]
pub async fn extend(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<ExtendRequest>,
) -> Result<Json<ExtendResponse>> {
    let reason = envelope_bytes(&req.reason_envelope)?;
    let due = svc::extend(&state.app, &m, &id, req.days, &reason).await?;
    Ok(Json(ExtendResponse {
        due_on: due.map(crate::domain::clock::day_string),
    }))
}
