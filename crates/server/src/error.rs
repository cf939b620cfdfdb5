//! The one place where errors become HTTP responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use strata_core::api::ErrorBody;
use strata_core::{Error, ErrorKind};

/// An error on its way to the client as a status code and a JSON body.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::NameTooLong => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::PermissionDenied | ErrorKind::ReadOnly | ErrorKind::LimitExceeded | ErrorKind::QuotaExceeded => {
            StatusCode::FORBIDDEN
        }
        ErrorKind::NotFound | ErrorKind::NoSuchAttribute => StatusCode::NOT_FOUND,
        ErrorKind::VolumeGone => StatusCode::GONE,
        ErrorKind::AlreadyExists
        | ErrorKind::NotADirectory
        | ErrorKind::IsADirectory
        | ErrorKind::DirectoryNotEmpty
        | ErrorKind::Conflict
        | ErrorKind::Locked => StatusCode::CONFLICT,
        ErrorKind::Stale => StatusCode::PRECONDITION_FAILED,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0.kind {
            ErrorKind::Internal => tracing::error!(error = %self.0, "internal error"),
            // A store or database that does not answer: one line per request that it failed.
            ErrorKind::Unavailable => tracing::warn!(error = %self.0, "unavailable"),
            _ => {}
        }
        let message = ErrorMessage(self.0.message.clone());
        let mut response = (status_of(self.0.kind), axum::Json(ErrorBody { error: self.0 })).into_response();
        response.extensions_mut().insert(message);
        response
    }
}

/// The message of an error response, for the audit log to say why a request was refused.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

pub type ApiResult<T> = Result<T, ApiError>;
