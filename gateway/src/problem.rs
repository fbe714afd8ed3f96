//! The API's error type and its one mapping to RFC 9457 problem details.
//!
//! Handlers return [`ApiError`]. Each variant has a stable `type` URI, an HTTP
//! status and a `title`; the `detail` is written for the caller and never
//! contains internals. The cause of an internal error goes to the log, inside
//! the request's span (request id, user id, note id), and not to the response.
//! Every problem body carries the request's `request_id`, so a caller can
//! quote it and an operator can find the matching log lines.
//!
//! Security-relevant rejections are logged at warn with an `event` field:
//! `auth_failed`, `login_throttled`, `upload_rejected` and
//! `note_integrity_failure`. The run handler and the runtime log the
//! sandbox's own events (`run_limit_exceeded`, `sandbox_kill`,
//! `artifact_integrity_failure` and others).

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
    /// An uploaded plugin failed a validation rule: 413 for the size rule,
    /// 422 for the others. The message names the rule's subject (an import
    /// or export name, a count) and is shown to the caller.
    #[error("{message}")]
    PluginRejected {
        /// Stable name of the failed rule, also sent as the `rule` member.
        rule: &'static str,
        /// What failed.
        message: String,
    },
    /// A plugin run ended without a usable output. The detail may quote the
    /// plugin's own error message, which can contain note text, so it goes
    /// to the caller only and is never logged.
    #[error("{detail}")]
    RunFailed {
        /// The way the run ended.
        failure: RunFailure,
        /// The explanation for the caller.
        detail: String,
        /// The plugin's log lines, returned to the caller.
        logs: Vec<crate::runs::LogLineBody>,
    },
    /// Too many login attempts for one username (429 with `Retry-After`).
    #[error("too many login attempts; retry after {retry_after_seconds} s")]
    TooManyRequests {
        /// Seconds to wait before retrying.
        retry_after_seconds: u64,
    },
    /// Every run slot is taken (503 with `Retry-After`).
    #[error("too many plugin runs in progress; retry after {retry_after_seconds} s")]
    Busy {
        /// Seconds to wait before retrying.
        retry_after_seconds: u64,
    },
    /// The gateway is shutting down and cancelled the request's work (503
    /// with `Retry-After`); another replica can take the retry.
    #[error("the server is shutting down; retry the request")]
    ShuttingDown,
    /// A dependency such as the database is unreachable (503). The source is
    /// logged, never shown.
    #[error("service unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (500). The source is logged, never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The way a plugin run failed. Each has its own problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFailure {
    /// `run` returned `err` (422).
    PluginError,
    /// The guest trapped, for example on a panic (422).
    Trap,
    /// The fuel budget ran out (422, limit `fuel`).
    FuelExhausted,
    /// The guest tried to grow memory past the limit (422, limit `memory`).
    MemoryLimit,
    /// The guest tried to grow a table past the limit (422, limit `table`).
    TableLimit,
    /// The wasm stack overflowed (422, limit `stack`).
    StackOverflow,
    /// The run passed its epoch or wall-clock deadline (422, limit `time`).
    Deadline,
    /// The output was larger than allowed (422, limit `output`).
    OutputTooLarge,
    /// The plugin logged past its budget (422, limit `log`).
    LogLimit,
    /// The output was not valid for its declared kind (422).
    InvalidOutput,
    /// The plugin could not be loaded or instantiated (422).
    InvalidPlugin,
    /// The worker crashed, was killed by a signal, or broke the protocol
    /// (500). Details are logged with the signal or exit code.
    Sandbox,
}

impl RunFailure {
    /// The problem type's last segment.
    pub fn kind(self) -> &'static str {
        match self {
            Self::PluginError => "plugin-error",
            Self::Trap => "plugin-trap",
            Self::FuelExhausted => "fuel-exhausted",
            Self::MemoryLimit => "memory-limit-exceeded",
            Self::TableLimit => "table-limit-exceeded",
            Self::StackOverflow => "stack-overflow",
            Self::Deadline => "deadline-exceeded",
            Self::OutputTooLarge => "output-too-large",
            Self::LogLimit => "log-limit-exceeded",
            Self::InvalidOutput => "invalid-output",
            Self::InvalidPlugin => "plugin-invalid",
            Self::Sandbox => "sandbox-failure",
        }
    }

    /// The limit that was hit, sent as the `limit` member.
    pub fn limit(self) -> Option<&'static str> {
        match self {
            Self::FuelExhausted => Some("fuel"),
            Self::MemoryLimit => Some("memory"),
            Self::TableLimit => Some("table"),
            Self::StackOverflow => Some("stack"),
            Self::Deadline => Some("time"),
            Self::OutputTooLarge => Some("output"),
            Self::LogLimit => Some("log"),
            _ => None,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::PluginError => "Plugin returned an error",
            Self::Trap => "Plugin trapped",
            Self::FuelExhausted
            | Self::MemoryLimit
            | Self::TableLimit
            | Self::StackOverflow
            | Self::Deadline
            | Self::OutputTooLarge
            | Self::LogLimit => "Plugin exceeded a limit",
            Self::InvalidOutput => "Plugin output is invalid",
            Self::InvalidPlugin => "Plugin cannot be loaded",
            Self::Sandbox => "Sandbox failure",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Sandbox => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// The JSON body of a problem response (RFC 9457, section 3.1), with the
/// extension members some problem types carry.
#[derive(Debug, Serialize)]
struct ProblemDetails {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
    /// The upload rule that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'static str>,
    /// The run limit that was hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<&'static str>,
    /// The plugin's log lines of a failed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    logs: Option<Vec<crate::runs::LogLineBody>>,
    /// The request's `x-request-id`; absent only for a problem built
    /// outside a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
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
            Self::PluginRejected { .. } => "plugin-rejected",
            Self::RunFailed { failure, .. } => failure.kind(),
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Busy { .. } => "busy",
            Self::ShuttingDown => "shutting-down",
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
            Self::PluginRejected { rule, .. } if *rule == "too_large" => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::PluginRejected { rule, .. } if *rule == "content_type" => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::PluginRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RunFailed { failure, .. } => failure.status(),
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::PluginRejected { .. } => "Plugin rejected",
            Self::RunFailed { failure, .. } => failure.title(),
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Busy { .. } => "Too many plugin runs",
            Self::ShuttingDown => "Shutting down",
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
            Self::Internal(source) if is_integrity_failure(source.as_ref()) => {
                tracing::error!(
                    kind,
                    event = "note_integrity_failure",
                    error = %source,
                    "a stored note failed its integrity check"
                );
            }
            Self::Internal(source) | Self::Unavailable(source) => {
                tracing::error!(kind, error = %source, "request failed");
            }
            Self::Unauthorized { reason } => {
                tracing::warn!(kind, event = "auth_failed", reason = %reason, "request rejected");
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                tracing::warn!(
                    kind,
                    event = "login_throttled",
                    retry_after_seconds,
                    "login rejected: too many attempts for one username"
                );
            }
            // The detail can quote plugin output, which can quote the note.
            // The run handler has logged the run's end with its figures.
            Self::RunFailed { failure, .. } => {
                tracing::debug!(kind, limit = failure.limit(), "plugin run failed");
            }
            Self::PluginRejected { rule, message } => {
                crate::telemetry::metrics::metrics().record_upload_rejection(rule);
                tracing::warn!(kind, rule, error = %message, event = "upload_rejected", "plugin upload rejected");
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
        let retry_after = match &self {
            Self::Busy {
                retry_after_seconds,
            }
            | Self::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let retry_after = match &self {
            Self::ShuttingDown => Some(1),
            _ => retry_after,
        };
        let (rule, limit) = match &self {
            Self::PluginRejected { rule, .. } => (Some(*rule), None),
            Self::RunFailed { failure, .. } => (None, failure.limit()),
            _ => (None, None),
        };
        let detail = self.detail();
        let problem_type = format!("{PROBLEM_TYPE_BASE}{}", self.kind());
        let title = self.title();
        let logs = match self {
            Self::RunFailed { logs, .. } => Some(logs),
            _ => None,
        };
        let body = ProblemDetails {
            problem_type,
            title,
            status: status.as_u16(),
            detail,
            rule,
            limit,
            logs,
            request_id: crate::api::current_request_id(),
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
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Whether `error` is a note that failed to open because its ciphertext or
/// its binding to owner, note and field does not verify.
fn is_integrity_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        error.downcast_ref::<NoteCryptoError>(),
        Some(NoteCryptoError::Integrity { .. })
    )
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
    fn integrity_failure_is_recognised() {
        let error = ApiError::from(NoteCryptoError::Integrity {
            note: crate::ids::NoteId::new_time_ordered(),
            field: crate::crypto::NoteField::Body,
            source: crate::crypto::EnvelopeError::Authentication,
        });

        let ApiError::Internal(source) = &error else {
            panic!("a crypto error maps to an internal error");
        };
        assert!(is_integrity_failure(source.as_ref()));
    }

    #[test]
    fn shutting_down_is_503() {
        assert_eq!(
            ApiError::ShuttingDown.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn unauthorized_detail_hides_its_reason() {
        let error = ApiError::unauthorized("no user named alice");

        assert!(!error.detail().contains("alice"));
    }
}
