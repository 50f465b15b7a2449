//! Member routes for work distribution and internal notes (see `service::member::casework`).

use axum::Json;
use axum::extract::{Path, State};

use super::{AuthMember, envelope_bytes};
use crate::api::{AssignRequest, AssignResponse, NoteCreated, NoteRecipientsResponse, NoteRequest};
use crate::error::Result;
use crate::service::member as svc;
use crate::web::AppState;

/// `POST /cases/{id}/assignment`: `{"handle": "…"}` assigns, `{"handle": null}` clears.
#[utoipa::path(
    post,
    path = "/cases/{id}/assignment",
    tag = "cases",
    request_body = AssignRequest,
    responses((status = 200, description = "Who the case is assigned to now.", body = AssignResponse))
)]
pub async fn assign(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<AssignRequest>,
) -> Result<Json<AssignResponse>> {
    let assigned_to = svc::assign(&state.app, &m, &id, req.handle.as_deref()).await?;
    Ok(Json(AssignResponse { assigned_to }))
}

/// `GET /cases/{id}/note-recipients`: the readers, without the reporter.
#[utoipa::path(
    get,
    path = "/cases/{id}/note-recipients",
    tag = "cases",
    responses((status = 200, description = "Whom to seal an internal note to.", body = NoteRecipientsResponse))
)]
pub async fn note_recipients(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<NoteRecipientsResponse>> {
    let readers = svc::note_recipients(&state.app, &m, &id).await?;
    Ok(Json(NoteRecipientsResponse { readers }))
}

/// `POST /cases/{id}/notes`: an internal note sealed to the note recipients.
#[utoipa::path(
    post,
    path = "/cases/{id}/notes",
    tag = "cases",
    request_body = NoteRequest,
    responses((status = 200, description = "The note's position.", body = NoteCreated))
)]
pub async fn note(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<NoteRequest>,
) -> Result<Json<NoteCreated>> {
    let seq = svc::note(&state.app, &m, &id, &envelope_bytes(&req.envelope)?).await?;
    Ok(Json(NoteCreated { seq }))
}

/// `POST /contents`: the content envelopes of many cases at once (see `api::ContentsRequest`).
#[utoipa::path(
    post,
    path = "/contents",
    tag = "cases",
    request_body = crate::api::ContentsRequest,
    responses((status = 200, description = "The content envelopes of the readable cases among those asked for.", body = crate::api::ContentsResponse))
)]
pub async fn contents(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Json(req): Json<crate::api::ContentsRequest>,
) -> Result<Json<crate::api::ContentsResponse>> {
    let found = svc::contents(&state.app, &m, &req.ids).await?;
    Ok(Json(crate::api::ContentsResponse {
        contents: found
            .into_iter()
            .map(|(id, content)| crate::api::CaseContentJson {
                id,
                content: crate::crypto::token::encode(&content),
            })
            .collect(),
    }))
}

/// `POST /unseen`: which of the cases asked for hold something this member has not seen (see
/// `api::UnseenResponse`).
#[utoipa::path(
    post,
    path = "/unseen",
    tag = "cases",
    request_body = crate::api::ContentsRequest,
    responses((status = 200, description = "The cases among those asked for that hold something new to this member.", body = crate::api::UnseenResponse))
)]
pub async fn unseen(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Json(req): Json<crate::api::ContentsRequest>,
) -> Result<Json<crate::api::UnseenResponse>> {
    let found = svc::unseen(&state.app, &m, &req.ids).await?;
    let mut cases: Vec<crate::api::UnseenJson> = req
        .ids
        .iter()
        .filter_map(|id| {
            found.get(id).map(|u| crate::api::UnseenJson {
                id: id.clone(),
                unseen: u.as_str().to_owned(),
            })
        })
        .collect();
    cases.dedup_by(|a, b| a.id == b.id);
    Ok(Json(crate::api::UnseenResponse { cases }))
}
