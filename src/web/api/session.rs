//! Member routes for logging in and out: an age challenge traded for a bearer session.

use axum::Json;
use axum::extract::State;

use super::bearer;
use crate::api::{
    ChallengeRequest, ChallengeResponse, OkResponse, SessionRequest, SessionResponse,
};
use crate::crypto::token;
use crate::error::{Error, Result};
use crate::service::member as svc;
use crate::web::AppState;

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
