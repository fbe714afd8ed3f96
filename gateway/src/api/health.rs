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
/// The body's `sandbox.layers` lists the worker's confinement layers and
/// their state on this host (`active`, `partial` or `unavailable`), so an
/// operator sees what a restricted host lost.
pub(super) async fn readiness(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(error.into()))?;
    let layers = state
        .runtime
        .as_ref()
        .map(|runtime| json!(runtime.sandbox_layers));
    Ok(Json(json!({
        "status": "ready",
        "sandbox": { "layers": layers },
    })))
}
