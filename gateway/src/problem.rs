//! The API's error type and its one mapping to RFC 9457 problem details.
//!
//! Handlers return [`ApiError`]. Each variant has a stable `type` URI, an HTTP
//! status and a `title`; the `detail` is written for the caller and never
//! contains internals. The cause of an internal error goes to the log, inside
//! the request's span (request id, user id, note id), and not to the response.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::{PasswordError, TokenError};
use crate::crypto::NoteCryptoError;
use crate::store::StoreError;

/// Prefix of every problem `type` URI.
pub const PROBLEM_TYPE_BASE: &str = "https://sandnotes.dev/problems/";

/// Media type of problem responses.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Every way an API request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a value is out of range (400). The message
    /// is shown to the caller.
    #[error("{0}")]
    Validation(Cow<'static, str>),
    /// The bearer token or the credentials are missing or invalid (401).
    #[error("{reason}")]
    Unauthorized {
        /// Logged, never shown: the caller gets one generic message.
        reason: Cow<'static, str>,
    },
    /// The resource does not exist or belongs to someone else (404).
    #[error("resource not found")]
    NotFound,
    /// The request body or a field is larger than its limit (413). The message
    /// is shown to the caller.
    #[error("{0}")]
    PayloadTooLarge(Cow<'static, str>),
    /// The request body is not `application/json` (415).
    #[error("request body must have Content-Type: application/json")]
    UnsupportedMediaType,
    /// The request conflicts with existing state (409). The message is shown
    /// to the caller.
    #[error("{0}")]
    Conflict(Cow<'static, str>),
    /// The route exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A dependency such as the database is unreachable (503). The source is
    /// logged, never shown.
    #[error("service unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (500). The source is logged, never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The JSON body of a problem response (RFC 9457, section 3.1).
#[derive(Debug, Serialize)]
struct ProblemDetails {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
}

impl ApiError {
    /// Wraps any error as an internal error.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// Builds a validation error with a caller-facing message.
    pub fn validation(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Validation(detail.into())
    }

    /// Builds an unauthorized error; `reason` is logged, never shown.
    pub fn unauthorized(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Unauthorized {
            reason: reason.into(),
        }
    }

    /// Returns the stable last segment of the `type` URI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::Unauthorized { .. } => "unauthorized",
            Self::NotFound => "not-found",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Conflict(_) => "conflict",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Returns the HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "Invalid request",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::NotFound => "Not found",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Conflict(_) => "Conflict",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    /// Returns the caller-facing explanation. It is fixed text wherever the
    /// error's own message could reveal internals or tell accounts apart.
    fn detail(&self) -> String {
        match self {
            Self::Unauthorized { .. } => "missing, invalid or expired credentials".to_owned(),
            Self::NotFound => "no such resource".to_owned(),
            Self::Unavailable(_) => "a service the server depends on is unavailable".to_owned(),
            Self::Internal(_) => "the server failed to handle the request".to_owned(),
            other => other.to_string(),
        }
    }

    fn log(&self) {
        let kind = self.kind();
        match self {
            Self::Internal(source) | Self::Unavailable(source) => {
                tracing::error!(kind, error = %source, "request failed");
            }
            Self::Unauthorized { reason } => {
                tracing::warn!(kind, reason = %reason, "request rejected");
            }
            other => {
                tracing::warn!(kind, error = %other, "request rejected");
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();

        let status = self.status();
        let body = ProblemDetails {
            problem_type: format!("{PROBLEM_TYPE_BASE}{}", self.kind()),
            title: self.title(),
            status: status.as_u16(),
            detail: self.detail(),
        };
        let json = match serde_json::to_vec(&body) {
            Ok(json) => json,
            Err(_) => b"{}".to_vec(),
        };

        let mut response = (status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error)
    }
}

impl From<NoteCryptoError> for ApiError {
    fn from(error: NoteCryptoError) -> Self {
        Self::internal(error)
    }
}

impl From<PasswordError> for ApiError {
    fn from(error: PasswordError) -> Self {
        Self::internal(error)
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid(_) => Self::unauthorized(error.to_string()),
            TokenError::Sign(_) => Self::internal(error),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_error_detail_hides_its_source() {
        let error = ApiError::internal(std::io::Error::other("disk path /secret/db"));

        assert!(!error.detail().contains("/secret/db"));
    }

    #[test]
    fn unauthorized_detail_hides_its_reason() {
        let error = ApiError::unauthorized("no user named alice");

        assert!(!error.detail().contains("alice"));
    }
}
