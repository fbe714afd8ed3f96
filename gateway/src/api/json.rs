//! A JSON body extractor whose failures are problem responses.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::state::AppState;

/// Like [`axum::Json`], but rejects with [`ApiError`]: 413 past the body
/// limit, 415 without a JSON content type, 400 for malformed JSON or the
/// wrong shape.
///
/// The 400 details name no values from the body, because a body can contain
/// passwords and note text and rejections are logged.
pub struct ApiJson<T>(pub T);

impl<T> FromRequest<AppState> for ApiJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_problem(
                &rejection,
                state.limits.max_request_bytes,
            )),
        }
    }
}

fn rejection_to_problem(rejection: &JsonRejection, max_request_bytes: usize) -> ApiError {
    match rejection {
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge(
                format!("request body is larger than the limit of {max_request_bytes} bytes")
                    .into(),
            )
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) => ApiError::validation("request body is not valid JSON"),
        JsonRejection::JsonDataError(_) => {
            ApiError::validation("request body JSON does not have the expected fields and types")
        }
        _ => ApiError::validation("request body could not be read"),
    }
}
