//! The one error type of the server: each variant is an HTTP status and renders the
//! `{code, message}` envelope of SPEC.md section 1. Internal causes are logged, never sent.

use app::model::Envelope;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("body: must be at most 64 KiB")]
    PayloadTooLarge,
    #[error("{0}")]
    Unprocessable(String),
    /// 429: a limit was reached; the message says which, `Retry-After` says when to retry.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 503, with `Retry-After` when a retry is known to be worth it soon.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after: Option<u64>,
    },
}

impl ApiError {
    pub fn unprocessable(field: &str, rule: impl std::fmt::Display) -> Self {
        Self::Unprocessable(format!("{field}: {rule}"))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    /// Unique-constraint violations become 409 here, once, named after the constraint;
    /// two transactions that each waited for the other (PostgreSQL picks one to fail) 503
    /// with `Retry-After`; so does a database out of reach (a proxy then asks another
    /// replica, and a client knows to retry); everything else the database says is
    /// internal.
    fn from(err: sqlx::Error) -> Self {
        if let Some(message) = crate::db::conflict_message(&err) {
            return Self::Conflict(message.to_owned());
        }
        if crate::db::is_collision(&err) {
            return Self::Unavailable {
                message: "database: this change collided with a simultaneous one; try again".into(),
                retry_after: Some(1),
            };
        }
        if matches!(
            err,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
        ) {
            tracing::warn!(error = %err, "database: unreachable");
            return Self::Unavailable {
                message: "database: unreachable; try again".into(),
                retry_after: Some(1),
            };
        }
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, source = ?cause.source(), "request failed");
        }
        let body = Envelope::error(status.as_u16(), self.to_string());
        let mut response = (status, Json(body)).into_response();
        let retry_after = match self {
            Self::TooManyRequests { retry_after, .. } => Some(retry_after),
            Self::Unavailable { retry_after, .. } => retry_after,
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
