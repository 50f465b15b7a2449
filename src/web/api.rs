//! The member API, `/api/v1`: JSON in and out, bearer sessions from an age challenge.
//!
//! Every route goes through [`AuthMember`] and a `service::member` function that checks role and
//! institution in the query itself. Envelopes leave as they are stored; the member's machine
//! decrypts them.
//!
//! The routes are mounted by [`openapi::router`], each at the path and methods of its handler's
//! `#[utoipa::path]` attribute, which is also what `GET /api/v1/openapi.json` describes.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::{
    AttachmentJson, AttachmentsResponse, BlobUploaded, CaseListResponse, CaseResponse,
    CaseSummaryJson, ChallengeRequest, ChallengeResponse, ClassifyRequest, EventJson,
    ExcludeRequest, ExtendRequest, ExtendResponse, ForwardRequest, IdentityRequest,
    InstitutionJson, InstitutionsResponse, IntakeParamsResponse, IntakeRequest, IntakeResponse,
    MessageJson, OkResponse, OverdueCount, OverdueResponse, PendingRevealJson,
    PendingRevealsResponse, RecipientsQuery, RecipientsResponse, RekeyRequest, ReplyRequest,
    RevealCreated, RevealDecided, RevealDecisionBody, RevealRequestBody, SealedAttachment,
    SealedItem, SessionRequest, SessionResponse, StateRequest,
};
use crate::crypto::token;
use crate::domain::case::{CaseState, Kind};
use crate::domain::institution::Member;
use crate::domain::records::CaseFilter;
use crate::error::{Error, Result};
use crate::service::member as svc;

use super::AppState;

mod casework;
mod custody;
pub mod openapi;
mod oversight;
pub mod reports;
pub use casework::{assign, contents, note, note_recipients, unseen};
pub use custody::*;
pub use oversight::{message as oversight_message, recommend};

/// The authenticated member of a request.
#[derive(Debug)]
pub struct AuthMember(pub Member);

fn bearer(headers: &axum::http::HeaderMap) -> Result<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Error::Unauthorized)
}

impl FromRequestParts<AppState> for AuthMember {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        Ok(AuthMember(
            svc::authenticate(&state.app, bearer(&parts.headers)?)
                .await?
                .clone(),
        ))
    }
}

/// Ends the session behind the bearer token.
#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    responses((status = 200, description = "The session is ended; its token no longer works.", body = OkResponse))
)]
pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Json<OkResponse>> {
    svc::logout(&state.app, bearer(&headers)?).await?;
    Ok(Json(OkResponse { ok: true }))
}

/// Login, step one: a random secret sealed to the member's age recipient.
#[utoipa::path(
    post,
    path = "/session/challenge",
    tag = "session",
    request_body = ChallengeRequest,
    responses((status = 200, description = "A challenge sealed to the recipient. A key that is no member's gets one of the same shape that can never be answered.", body = ChallengeResponse))
)]
pub async fn challenge(
    State(state): State<AppState>,
    Json(req): Json<ChallengeRequest>,
) -> Result<Json<ChallengeResponse>> {
    let c = svc::challenge(&state.app, &req.recipient).await?;
    Ok(Json(ChallengeResponse {
        challenge_id: c.id,
        challenge: token::encode(&c.envelope),
    }))
}

/// Login, step two: the decrypted secret traded for a bearer token.
#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    request_body = SessionRequest,
    responses((status = 200, description = "A session: send `token` as `Authorization: Bearer …`.", body = SessionResponse))
)]
pub async fn session(
    State(state): State<AppState>,
    Json(req): Json<SessionRequest>,
) -> Result<Json<SessionResponse>> {
    let response = token::decode(&req.response).ok_or(Error::Unauthorized)?;
    let s = svc::answer(&state.app, &req.challenge_id, &response).await?;
    Ok(Json(SessionResponse {
        token: s.token.to_string(),
        handle: s.member.handle.clone(),
        institution: s.member.institution.clone(),
        roles: s
            .member
            .roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        expires_at: s.expires_at,
        time_zone: state.app.config.time_zone.name().to_owned(),
    }))
}

/// Filters, order and page of `GET /cases`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many cases (default 100).
    #[serde(default = "default_limit")]
    limit: u32,
    /// Skip this many first.
    #[serde(default)]
    offset: u32,
    /// Only cases in this state (e.g. `received`, `in_progress`).
    #[serde(default)]
    state: Option<String>,
    /// Only cases of this kind (`complaint`, `whistleblowing`, …).
    #[serde(default)]
    kind: Option<String>,
    /// Only cases in this report category (its slug).
    #[serde(default)]
    category: Option<String>,
    /// Only cases past their due day.
    #[serde(default)]
    overdue: bool,
    /// Only cases escalated to the oversight body.
    #[serde(default)]
    escalated: bool,
    /// Only cases assigned to the member asking.
    #[serde(default)]
    assigned_to_me: bool,
    /// Only cases carrying this tag.
    #[serde(default)]
    tag: Option<String>,
    /// Only cases received on or after / on or before this day (`YYYY-MM-DD`).
    #[serde(default)]
    received_from: Option<String>,
    #[serde(default)]
    received_to: Option<String>,
    /// The cases the member's institution forwarded to another one (metadata only).
    #[serde(default)]
    forwarded_away: bool,
    /// `newest` (default), `oldest`, `due` or `state`.
    #[serde(default)]
    sort: Option<String>,
}

fn query_day(name: &str, v: Option<&str>) -> Result<Option<time::Date>> {
    v.map(|d| {
        crate::domain::clock::parse_day(d)
            .ok_or_else(|| Error::Invalid(format!("{name} must be a day, YYYY-MM-DD")))
    })
    .transpose()
}

fn default_limit() -> u32 {
    100
}

/// The cases the member may see (metadata only), filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/cases",
    tag = "cases",
    params(ListQuery),
    responses((status = 200, description = "The cases the member may see, metadata only.", body = CaseListResponse))
)]
pub async fn list(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Query(p): Query<ListQuery>,
) -> Result<Json<CaseListResponse>> {
    let filter = CaseFilter {
        state: p
            .state
            .as_deref()
            .map(|s| {
                CaseState::parse(s).ok_or_else(|| Error::Invalid(format!("unknown state {s:?}")))
            })
            .transpose()?,
        kind: p
            .kind
            .as_deref()
            .map(|k| Kind::parse(k).ok_or_else(|| Error::Invalid(format!("unknown kind {k:?}"))))
            .transpose()?,
        category: p.category,
        overdue_on: p.overdue.then(|| state.app.clock.today()),
        escalated: p.escalated,
        viewer: None,
        assigned_to: p.assigned_to_me.then(|| m.handle.clone()),
        tag: p.tag,
        received_from: query_day("received_from", p.received_from.as_deref())?,
        received_to: query_day("received_to", p.received_to.as_deref())?,
        forwarded_away: p.forwarded_away,
        sort: p
            .sort
            .as_deref()
            .map(|s| {
                crate::domain::records::CaseSort::parse(s)
                    .ok_or_else(|| Error::Invalid(format!("unknown sort {s:?}")))
            })
            .transpose()?
            .unwrap_or_default(),
    };
    let cases = svc::list(&state.app, &m, &filter, p.limit, p.offset).await?;
    Ok(Json(CaseListResponse {
        cases: cases.iter().map(CaseSummaryJson::from).collect(),
    }))
}

/// One case: metadata, events, and its envelopes (content, messages, notes).
#[utoipa::path(
    get,
    path = "/cases/{id}",
    tag = "cases",
    responses((status = 200, description = "The case with its envelopes (decrypted on the member's machine).", body = CaseResponse))
)]
pub async fn show(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<CaseResponse>> {
    let svc::CaseView {
        record: r,
        notes,
        recommendations,
        files,
    } = svc::case_view(&state.app, &m, &id).await?;
    let with_files = |msg: &crate::domain::records::StoredMessage| {
        let mut j = message_json(msg);
        j.files = files
            .iter()
            .filter(|f| f.message_seq == msg.seq)
            .map(|f| f.attachment_seq)
            .collect();
        j
    };
    Ok(Json(CaseResponse {
        case: CaseSummaryJson::from(&r.summary),
        has_identity: r.has_identity,
        tags: r.tags.clone(),
        content: token::encode(&r.content),
        events: r.events.iter().map(EventJson::from).collect(),
        messages: r.messages.iter().map(with_files).collect(),
        notes: notes.iter().map(message_json).collect(),
        recommendations: recommendations.iter().map(message_json).collect(),
        reporter_could_not_open: r
            .reporter_unreadable
            .iter()
            .map(|(item, seq, _)| match item.as_str() {
                "content" | "identity" => item.clone(),
                _ => format!("{item} {seq}"),
            })
            .collect(),
    }))
}

fn message_json(msg: &crate::domain::records::StoredMessage) -> MessageJson {
    MessageJson {
        seq: msg.seq,
        author: msg.author.to_column(),
        written_on: crate::domain::clock::day_string(msg.written_on),
        envelope: token::encode(&msg.envelope),
        files: Vec::new(),
    }
}

fn age_file(bytes: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

/// The case's content envelope as a raw age file.
#[utoipa::path(
    get,
    path = "/cases/{id}/envelope",
    tag = "cases",
    responses((status = 200, description = "The content envelope as an age file.", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn envelope(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::content_envelope(&state.app, &m, &id).await?))
}

/// A confidential case's identity envelope (custodians only), as a raw age file.
#[utoipa::path(
    get,
    path = "/cases/{id}/identity",
    tag = "custody",
    responses((status = 200, description = "The confidential identity envelope (custodians only).", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn identity(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::identity_envelope(&state.app, &m, &id).await?))
}

/// Whom to seal a message or reason to: the readers and the reporter.
#[utoipa::path(
    get,
    path = "/cases/{id}/recipients",
    tag = "cases",
    params(RecipientsQuery),
    responses((status = 200, description = "Whom to seal a message or reason to.", body = RecipientsResponse))
)]
pub async fn recipients(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
    Query(q): Query<RecipientsQuery>,
) -> Result<Json<RecipientsResponse>> {
    let r = match (q.for_institution.as_deref(), q.without.as_deref()) {
        (Some(to), _) => svc::forward_recipients(&state.app, &m, &id, to).await?,
        (None, Some(handle)) => svc::recipients_without(&state.app, &m, &id, handle).await?,
        (None, None) => svc::recipients(&state.app, &m, &id).await?,
    };
    Ok(Json(recipients_response(r)))
}

fn recipients_response(r: svc::CaseRecipients) -> RecipientsResponse {
    RecipientsResponse {
        kind: r.kind.as_str().to_owned(),
        readers: r.readers,
        reporter: r.reporter,
    }
}

fn envelope_bytes(b64: &str) -> Result<Vec<u8>> {
    token::decode(b64).ok_or_else(|| Error::Invalid("the envelope is not valid base64url".into()))
}

/// Files a member's client sealed and uploaded, as the service takes them.
fn documents(files: &[crate::api::ReplyFile]) -> Result<Vec<svc::ReplyDocument>> {
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

/// Overdue cases counted per institution (oversight body).
#[utoipa::path(
    get,
    path = "/oversight/overdue",
    tag = "oversight",
    responses((status = 200, description = "Overdue cases counted per institution.", body = OverdueResponse))
)]
pub async fn overdue(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<OverdueResponse>> {
    let counts = svc::overdue_counts(&state.app, &m).await?;
    Ok(Json(OverdueResponse {
        institutions: counts
            .into_iter()
            .map(|(institution, overdue)| OverdueCount {
                institution,
                overdue,
            })
            .collect(),
    }))
}

/// `GET /oversight/overdue-cases`: every institution's overdue cases, metadata only.
#[utoipa::path(
    get,
    path = "/oversight/overdue-cases",
    tag = "oversight",
    responses((status = 200, description = "Every institution's overdue cases, metadata only.", body = CaseListResponse))
)]
pub async fn overdue_cases(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
) -> Result<Json<CaseListResponse>> {
    let cases = svc::overdue_cases(&state.app, &m).await?;
    Ok(Json(CaseListResponse {
        cases: cases.iter().map(CaseSummaryJson::from).collect(),
    }))
}

/// The institutions and report categories of the deployment.
#[utoipa::path(
    get,
    path = "/institutions",
    tag = "cases",
    responses((status = 200, description = "The institutions and report categories.", body = InstitutionsResponse))
)]
pub async fn institutions(
    State(state): State<AppState>,
    AuthMember(_m): AuthMember,
) -> Json<InstitutionsResponse> {
    let institutions = state
        .app
        .directory
        .all()
        .map(|i| InstitutionJson {
            slug: i.slug.clone(),
            name_id: i.name_id.clone(),
            name_en: i.name_en.clone(),
            parent: i.parent.clone(),
            categories: i.categories.clone(),
            intake_desk: i.intake_desk,
            accepts_reports: i.accepts_reports(),
        })
        .collect();
    let categories = state
        .app
        .config
        .categories
        .iter()
        .map(|c| crate::api::CategoryJson {
            slug: c.slug.clone(),
            name_id: c.name_id.clone(),
            name_en: c.name_en.clone(),
        })
        .collect();
    Json(InstitutionsResponse {
        institutions,
        categories,
    })
}

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

/// A blob sealed on a member's machine, streamed to disk as it arrives.
#[utoipa::path(
    post,
    path = "/blobs",
    tag = "files",
    request_body(content = openapi::AgeFile, content_type = "application/octet-stream", description = "A blob sealed on the member's machine (an age file), streamed."),
    responses((status = 200, description = "The stored blob, to be named in a message, intake, forward or rekey.", body = BlobUploaded))
)]
pub async fn upload_blob(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    body: axum::body::Body,
) -> Result<Json<BlobUploaded>> {
    use futures_util_lite::next_frame;
    svc::may_upload_blob(&m)?;
    let max = state
        .app
        .config
        .attachments
        .max_file_bytes
        .saturating_add(2 * 1024 * 1024);
    if !crate::service::evidence::has_room(&state.app.config) {
        return Err(Error::Invalid(
            "the server's disk is below its free-space floor: nothing was stored (tell the \
             operator)"
                .into(),
        ));
    }
    let (tx, handle) = crate::service::evidence::start_sealed_upload(state.app.blobs.clone(), max);
    let mut body = body;
    loop {
        match next_frame(&mut body).await {
            Some(Ok(chunk)) => {
                if tx
                    .send(crate::service::evidence::Piece::Chunk(chunk))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Some(Err(())) => break,
            None => {
                let _ = tx.send(crate::service::evidence::Piece::End).await;
                break;
            }
        }
    }
    drop(tx);
    match handle.await {
        Ok(Ok((blob, stored_size))) => {
            svc::record_upload(&state.app, &m, &blob).await?;
            Ok(Json(BlobUploaded { blob, stored_size }))
        }
        Ok(Err(e)) => Err(Error::Invalid(e.to_string())),
        Err(_) => Err(Error::Internal("upload task failed".into())),
    }
}

/// Reading a body frame by frame without pulling in a futures crate.
mod futures_util_lite {
    use axum::body::Body;
    use bytes::Bytes;
    use http_body::Body as _;

    pub async fn next_frame(body: &mut Body) -> Option<Result<Bytes, ()>> {
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await?;
            match frame {
                Ok(f) => match f.into_data() {
                    Ok(d) => return Some(Ok(d)),
                    Err(_) => continue, // trailers
                },
                Err(_) => return Some(Err(())),
            }
        }
    }
}

/// The case's files: manifest envelopes and sizes.
#[utoipa::path(
    get,
    path = "/cases/{id}/attachments",
    tag = "files",
    responses((status = 200, description = "The case's files (manifest envelopes).", body = AttachmentsResponse))
)]
pub async fn attachments(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<AttachmentsResponse>> {
    let list = svc::attachments(&state.app, &m, &id).await?;
    // Documents sent with a message: which message, and who wrote it.
    let links = match list.first() {
        Some(_) => svc::message_files(&state.app, &id).await?,
        None => Vec::new(),
    };
    Ok(Json(AttachmentsResponse {
        attachments: list
            .into_iter()
            .map(|a| {
                let link = links.iter().find(|l| l.attachment_seq == a.seq);
                AttachmentJson {
                    seq: a.seq,
                    manifest: token::encode(&a.manifest),
                    stored_size: a.stored_size,
                    added_on: crate::domain::clock::day_string(a.added_on),
                    message: link.map(|l| l.message_seq),
                    author: link.map(|l| l.author.to_column()),
                }
            })
            .collect(),
    }))
}

/// Streams a blob from disk: memory stays flat whatever its size.
#[utoipa::path(
    get,
    path = "/cases/{id}/attachments/{seq}",
    tag = "files",
    responses((status = 200, description = "The attachment's blob, an age file.", content_type = "application/octet-stream", body = openapi::AgeFile))
)]
pub async fn attachment(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path((id, seq)): Path<(String, i64)>,
) -> Result<Response> {
    let path = svc::attachment_blob(&state.app, &m, &id, seq).await?;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(([(CONTENT_TYPE, "application/octet-stream")], body).into_response())
}

pub async fn not_found() -> Error {
    Error::NotFound
}
