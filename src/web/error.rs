//! How the one [`Error`](crate::error::Error) becomes a response: JSON with a stable code for
//! the member API. Citizen routes never show this body: the error-page layer replaces it with a
//! page in the citizen's language. Internal details go to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::ErrorResponse;
use crate::error::Error;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::Denied(_) => StatusCode::FORBIDDEN,
            Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "not_found",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden | Error::Denied(_) => "forbidden",
            Error::Invalid(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::Busy => "busy",
            _ => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        (
            status,
            Json(ErrorResponse {
                error: self.code().into(),
                message,
            }),
        )
            .into_response()
    }
}
