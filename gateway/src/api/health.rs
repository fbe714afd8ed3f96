//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves requests.
pub(super) async fn liveness() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database responds to a query, 503 otherwise.
pub(super) async fn readiness(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(error.into()))?;
    Ok(Json(json!({ "status": "ready" })))
}
