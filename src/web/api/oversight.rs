//! Member routes for what the oversight body writes on an escalated case (see
//! `service::member::oversight`).

use axum::Json;
use axum::extract::{Path, State};

use super::{AuthMember, envelope_bytes};
use crate::api::{NoteCreated, NoteRequest, OkResponse, OversightMessageRequest};
use crate::error::Result;
use crate::service::member as svc;
use crate::web::AppState;

/// `POST /cases/{id}/recommendations`: a recommendation to the institution, a `bisik.note`
/// document sealed to exactly the note recipients (the case's readers, never the reporter).
#[utoipa::path(
    post,
    path = "/cases/{id}/recommendations",
    tag = "oversight",
    request_body = NoteRequest,
    responses((status = 200, description = "The recommendation's position (shared with the notes).", body = NoteCreated))
)]
pub async fn recommend(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<NoteRequest>,
) -> Result<Json<NoteCreated>> {
    let seq = svc::recommend(&state.app, &m, &id, &envelope_bytes(&req.envelope)?).await?;
    Ok(Json(NoteCreated { seq }))
}

/// `POST /cases/{id}/oversight-messages`: a message to the citizen, a `bisik.message` document
/// sealed to exactly the case's recipients (readers and reporter).
#[utoipa::path(
    post,
    path = "/cases/{id}/oversight-messages",
    tag = "oversight",
    operation_id = "oversight_message",
    request_body = OversightMessageRequest,
    responses((status = 200, description = "The message is stored for the reporter.", body = OkResponse))
)]
pub async fn message(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<OversightMessageRequest>,
) -> Result<Json<OkResponse>> {
    svc::oversight_message(&state.app, &m, &id, &envelope_bytes(&req.envelope)?).await?;
    Ok(Json(OkResponse { ok: true }))
}
