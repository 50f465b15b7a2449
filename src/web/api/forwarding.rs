//! Member routes that hand a case over or reseal it: forwarding, intake from other channels,
//! conflict-of-interest exclusions and rekeying.

use axum::Json;
use axum::extract::{Path, State};

use super::workflow::documents;
use super::{AuthMember, envelope_bytes};
use crate::api::{
    ExcludeRequest, ForwardRequest, IntakeParamsResponse, IntakeRequest, IntakeResponse,
    OkResponse, RekeyRequest, SealedAttachment, SealedItem,
};
use crate::error::Result;
use crate::service::member as svc;
use crate::web::AppState;

fn sealed_items(items: &[SealedItem]) -> Result<Vec<(i64, Vec<u8>)>> {
    items
        .iter()
        .map(|i| Ok((i.seq, envelope_bytes(&i.envelope)?)))
        .collect()
}

fn client_resealed(
    state: &AppState,
    content: &str,
    messages: &[SealedItem],
    reasons: &[SealedItem],
    attachments: &[SealedAttachment],
    notes: &[SealedItem],
) -> Result<crate::domain::records::Resealed> {
    let attachments = attachments
        .iter()
        .map(|a| {
            Ok(svc::ClientAttachment {
                seq: a.seq,
                blob: a.blob.clone(),
                manifest: envelope_bytes(&a.manifest)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    svc::resealed_from_client(
        &state.app,
        envelope_bytes(content)?,
        sealed_items(messages)?,
        sealed_items(reasons)?,
        attachments,
        sealed_items(notes)?,
    )
}

/// Forwards a case to another institution, every envelope re-sealed for it.
#[utoipa::path(
    post,
    path = "/cases/{id}/forward",
    tag = "cases",
    request_body = ForwardRequest,
    responses((status = 200, description = "The case now belongs to the target institution.", body = OkResponse))
)]
pub async fn forward(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<ForwardRequest>,
) -> Result<Json<OkResponse>> {
    let reason = envelope_bytes(&req.reason_envelope)?;
    let resealed = client_resealed(
        &state,
        &req.content,
        &req.messages,
        &req.reasons,
        &req.attachments,
        &req.notes,
    )?;
    let f = svc::Forwarding {
        to: &req.to,
        reason: &reason,
        resealed,
    };
    svc::forward(&state.app, &m, &id, &f).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// What an officer's client needs to seal a report received offline.
#[utoipa::path(
    get,
    path = "/intake",
    tag = "cases",
    responses((status = 200, description = "What a report received offline is sealed with.", body = IntakeParamsResponse))
)]
pub async fn intake_params(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<IntakeParamsResponse>> {
    let (kdf, readers, custodians) = svc::intake_params(&state.app, &m).await?;
    Ok(Json(IntakeParamsResponse {
        institution: m.institution.clone(),
        kdf,
        readers,
        custodians,
    }))
}

/// Files a report received offline, built and sealed on the officer's machine.
#[utoipa::path(
    post,
    path = "/intake",
    tag = "cases",
    request_body = IntakeRequest,
    responses((status = 200, description = "The new case.", body = IntakeResponse))
)]
pub async fn intake(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Json(req): Json<IntakeRequest>,
) -> Result<Json<IntakeResponse>> {
    let salt = envelope_bytes(&req.kdf_salt)?;
    let content = envelope_bytes(&req.content)?;
    let identity = req.identity.as_deref().map(envelope_bytes).transpose()?;
    let r = svc::Intake {
        channel: &req.channel,
        kind: &req.kind,
        category: req.category.as_deref().filter(|c| !c.is_empty()),
        privacy: &req.privacy,
        lookup_id: req.lookup_id,
        kdf_salt: &salt,
        kdf: req.kdf,
        reporter_recipient: &req.reporter_recipient,
        reporter_pq_recipient: req.reporter_pq_recipient.as_deref(),
        content: &content,
        identity: identity.as_deref(),
        files: documents(&req.files)?,
    };
    Ok(Json(IntakeResponse {
        case_id: svc::intake(&state.app, &m, &r).await?,
    }))
}

/// Excludes a member from a case (conflict of interest), with a sealed reason.
#[utoipa::path(
    post,
    path = "/cases/{id}/exclusions",
    tag = "cases",
    request_body = ExcludeRequest,
    responses((status = 200, description = "The member is excluded from the case.", body = OkResponse))
)]
pub async fn exclude(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<ExcludeRequest>,
) -> Result<Json<OkResponse>> {
    svc::exclude(
        &state.app,
        &m,
        &id,
        &req.handle,
        &envelope_bytes(&req.reason_envelope)?,
    )
    .await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Re-seals every envelope of a case to its current readers.
#[utoipa::path(
    post,
    path = "/cases/{id}/rekey",
    tag = "cases",
    request_body = RekeyRequest,
    responses((status = 200, description = "The case is re-sealed to the current readers.", body = OkResponse))
)]
pub async fn rekey(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Json(req): Json<RekeyRequest>,
) -> Result<Json<OkResponse>> {
    let resealed = client_resealed(
        &state,
        &req.content,
        &req.messages,
        &req.reasons,
        &req.attachments,
        &req.notes,
    )?;
    svc::rekey(&state.app, &m, &id, &resealed).await?;
    Ok(Json(OkResponse { ok: true }))
}
