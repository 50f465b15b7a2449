//! The member API, `/api/v1`: JSON in and out, bearer sessions from an age challenge.
//!
//! Every route goes through [`AuthMember`] and a `service::member` function that checks role and
//! institution in the query itself. Envelopes leave as they are stored; the member's machine
//! decrypts them.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::{
    CaseListResponse, CaseResponse, CaseSummaryJson, ChallengeRequest, ChallengeResponse,
    EventJson, MessageJson, SessionRequest, SessionResponse,
};
use crate::crypto::token;
use crate::domain::institution::Member;
use crate::error::{Error, Result};
use crate::service::member as svc;

use super::AppState;

/// The authenticated member of a request.
#[derive(Debug)]
pub struct AuthMember(pub Member);

impl FromRequestParts<AppState> for AuthMember {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Error::Unauthorized)?;
        Ok(AuthMember(
            svc::authenticate(&state.app, bearer).await?.clone(),
        ))
    }
}

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
    }))
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn default_limit() -> u32 {
    100
}

pub async fn list(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Query(p): Query<Paging>,
) -> Result<Json<CaseListResponse>> {
    let cases = svc::list(&state.app, &m, p.limit, p.offset).await?;
    Ok(Json(CaseListResponse {
        cases: cases.iter().map(CaseSummaryJson::from).collect(),
    }))
}

pub async fn show(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Json<CaseResponse>> {
    let r = svc::case(&state.app, &m, &id).await?;
    Ok(Json(CaseResponse {
        case: CaseSummaryJson::from(&r.summary),
        has_identity: r.has_identity,
        content: token::encode(&r.content),
        events: r.events.iter().map(EventJson::from).collect(),
        messages: r
            .messages
            .iter()
            .map(|msg| MessageJson {
                seq: msg.seq,
                author: msg.author.to_column(),
                written_on: crate::domain::clock::day_string(msg.written_on),
                envelope: token::encode(&msg.envelope),
            })
            .collect(),
    }))
}

fn age_file(bytes: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

pub async fn envelope(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::content_envelope(&state.app, &m, &id).await?))
}

pub async fn identity(
    State(state): State<AppState>,
    AuthMember(m): AuthMember,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(age_file(svc::identity_envelope(&state.app, &m, &id).await?))
}

pub async fn not_found() -> Error {
    Error::NotFound
}
