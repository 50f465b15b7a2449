//! The member API, `/api/v1`: JSON in and out, bearer sessions from an age challenge.
//!
//! Every route goes through [`AuthMember`] and a `service::member` function that checks role and
//! institution in the query itself. Envelopes leave as they are stored; the member's machine
//! decrypts them.
//!
//! The routes are mounted by [`openapi::router`], each at the path and methods of its handler's
//! `#[utoipa::path]` attribute, which is also what `GET /api/v1/openapi.json` describes.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::crypto::token;
use crate::domain::institution::Member;
use crate::error::{Error, Result};
use crate::service::member as svc;

use super::AppState;

mod cases;
mod casework;
mod custody;
mod files;
mod forwarding;
pub mod openapi;
mod oversight;
pub mod reports;
mod session;
mod workflow;
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

/// The member of a read request, with one connection for the request's reads; their session
/// is read on it, or checked in its first read (see [`svc::Reading`]).
#[derive(Debug)]
pub struct AuthReading(pub svc::Reading);

impl FromRequestParts<AppState> for AuthReading {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        Ok(AuthReading(
            svc::authenticate_reading(&state.app, bearer(&parts.headers)?).await?,
        ))
    }
}

fn envelope_bytes(b64: &str) -> Result<Vec<u8>> {
    token::decode(b64).ok_or_else(|| Error::Invalid("the envelope is not valid base64url".into()))
}

pub async fn not_found() -> Error {
    Error::NotFound
}
