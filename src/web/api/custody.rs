//! Member routes for a confidential reporter's identity: handing it over after a forward, and
//! reveal requests with the custodians' decisions (see `service::member::custody`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;

use super::cases::{age_file, recipients_response};
use super::{AuthMember, envelope_bytes};
use crate::api::{
    IdentityRequest, OkResponse, PendingRevealJson, PendingRevealsResponse, RecipientsResponse,
    RevealCreated, RevealDecided, RevealDecisionBody, RevealRequestBody,
};
use crate::crypto::token;
use crate::error::Result;
use crate::service::member as svc;
use crate::web::AppState;

/// Whom to seal a confidential identity to when handing it over.
#[utoipa::path(
    get,
    path = "/cases/{id}/identity-recipients",
    tag = "custody",
    responses((status = 200, description = "Whom to seal the identity to when handing it over (custodians and reporter).", body = RecipientsResponse))
)]
pub async fn identity_recipients(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<RecipientsResponse>> {
    let r = svc::identity_recipients(&state.app, &m, &id).await?;
    Ok(Json(recipients_response(r)))
}

/// Hands a confidential identity over, re-sealed to the current custodians.
#[utoipa::path(
    post,
    path = "/cases/{id}/identity",
    tag = "custody",
    request_body = IdentityRequest,
    responses((status = 200, description = "The identity is re-sealed to the current custodians.", body = OkResponse))
)]
pub async fn hand_over_identity(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<IdentityRequest>,
) -> Result<Json<OkResponse>> {
    svc::hand_over_identity(&state.app, &m, &id, &envelope_bytes(&req.envelope)?).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Whom to seal a reveal request's reason to.
#[utoipa::path(
    get,
    path = "/cases/{id}/reveal-recipients",
    tag = "custody",
    responses((status = 200, description = "Whom to seal a reveal request's reason to.", body = RecipientsResponse))
)]
pub async fn reveal_recipients(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<RecipientsResponse>> {
    let r = svc::reveal_recipients(&state.app, &m, &id).await?;
    Ok(Json(recipients_response(r)))
}

/// Asks the custodians to reveal a confidential reporter's identity.
#[utoipa::path(
    post,
    path = "/cases/{id}/reveal-requests",
    tag = "custody",
    request_body = RevealRequestBody,
    responses((status = 200, description = "The request, waiting for the custodians.", body = RevealCreated))
)]
pub async fn request_reveal(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<RevealRequestBody>,
) -> Result<Json<RevealCreated>> {
    let seq =
        svc::request_reveal(&state.app, &m, &id, &envelope_bytes(&req.reason_envelope)?).await?;
    Ok(Json(RevealCreated { seq }))
}

/// Reveal requests waiting for this custodian's decision.
#[utoipa::path(
    get,
    path = "/custody/requests",
    tag = "custody",
    responses((status = 200, description = "Reveal requests waiting for this custodian's decision.", body = PendingRevealsResponse))
)]
pub async fn pending_reveals(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<PendingRevealsResponse>> {
    let requests = svc::pending_reveals(&state.app, &m)
        .await?
        .into_iter()
        .map(|p| PendingRevealJson {
            case_id: p.request.case_id.clone(),
            seq: p.request.seq,
            requester: p.request.requester.clone(),
            requester_institution: p.request.institution.clone(),
            requester_recipient: p.requester_recipient,
            requested_on: crate::domain::clock::day_string(p.request.requested_on),
            reason_envelope: token::encode(&p.request.reason_envelope),
            recipients: p.recipients,
        })
        .collect();
    Ok(Json(PendingRevealsResponse { requests }))
}

/// A custodian approves or refuses a reveal request.
#[utoipa::path(
    post,
    path = "/cases/{id}/reveal-requests/{seq}/decision",
    tag = "custody",
    request_body = RevealDecisionBody,
    responses((status = 200, description = "The decision, and when an approved identity becomes available.", body = RevealDecided))
)]
pub async fn decide_reveal(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path((id, seq)): Path<(String, i64)>,
    Json(req): Json<RevealDecisionBody>,
) -> Result<Json<RevealDecided>> {
    let decision = envelope_bytes(&req.decision_envelope)?;
    let grant = req
        .grant_envelope
        .as_deref()
        .map(envelope_bytes)
        .transpose()?;
    let available = svc::decide_reveal(
        &state.app,
        &m,
        &id,
        seq,
        req.approve,
        &decision,
        grant.as_deref(),
    )
    .await?;
    Ok(Json(RevealDecided {
        available_on: available.map(crate::domain::clock::day_string),
    }))
}

/// A granted identity, sealed to the requester alone, as a raw age file.
#[utoipa::path(
    get,
    path = "/cases/{id}/identity-grant",
    tag = "custody",
    responses((status = 200, description = "The identity sealed to the requester alone, once the notice has passed.", content_type = "application/octet-stream", body = super::openapi::AgeFile))
)]
pub async fn identity_grant(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::identity_grant(&state.app, &m, &id).await?))
}
