//! The one error type above the store. The web layer turns it into a response
//! (`web::error`): JSON for the member API, a page in the citizen's language otherwise.

use thiserror::Error;

use crate::crypto::envelope::EnvelopeError;
use crate::crypto::kdf::KdfError;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum Error {
    /// Not there, or not yours: both answer the same.
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("your role does not allow this")]
    Forbidden,
    /// Refused for a reason the member should read (e.g. which role a transition needs).
    #[error("{0}")]
    Denied(String),
    /// The request is well-formed but not acceptable (an illegal transition, a bad field).
    #[error("{0}")]
    Invalid(String),
    /// Too much work is waiting: try again shortly (nothing was saved).
    #[error("too busy right now")]
    Busy,
    /// The case changed meanwhile; fetch it again.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Kdf(#[from] KdfError),
    #[error("the operating system's random generator failed")]
    Rng(#[from] getrandom::Error),
    #[error("document encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// A fixed word for the kind of failure, for counting without details.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound => "not_found",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden | Error::Denied(_) => "forbidden",
            Error::Invalid(_) => "invalid",
            Error::Busy => "busy",
            Error::Conflict(_) => "conflict",
            Error::Store(_) => "database",
            Error::Envelope(_) => "envelope",
            Error::Kdf(_) => "key_derivation",
            Error::Rng(_) => "random_generator",
            Error::Json(_) => "document",
            Error::Internal(_) => "internal",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
