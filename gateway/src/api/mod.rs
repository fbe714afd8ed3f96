//! HTTP routes, middleware and request extractors.

mod auth;
mod health;
mod json;
mod notes;
mod plugins;
mod request;
mod runs;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::problem::ApiError;
use crate::state::AppState;

pub use json::ApiJson;
pub use request::current_request_id;

/// Builds the router with every route and middleware.
///
/// Each request gets an `x-request-id` (kept if the client sent one, echoed in
/// the response) and an `info`-level `request` span, the OpenTelemetry server
/// span, carrying that id, the HTTP semantic-convention attributes, and, once
/// known, the user id and note id. Requests and responses are logged at
/// `debug`; errors are logged by [`ApiError`]. Every response carries
/// `Cache-Control: no-store`, because responses can contain note plaintext
/// and tokens, and `X-Content-Type-Options: nosniff`.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_request_bytes;
    // One byte past the upload limit, so an oversized upload is read far
    // enough to be rejected with the size rule.
    let upload_limit = state.runtime.as_ref().map_or(body_limit, |runtime| {
        runtime.upload.max_bytes.saturating_add(1)
    });

    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request::make_span)
                .on_request(DefaultOnRequest::new().level(Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(request::observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::map_response(set_security_headers));

    Router::new()
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness))
        .route("/v1/auth/signup", post(auth::signup))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/notes", post(notes::create).get(notes::list))
        .route(
            "/v1/notes/{id}",
            get(notes::get).put(notes::replace).delete(notes::delete),
        )
        .route(
            "/v1/plugins",
            post(plugins::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .get(plugins::list),
        )
        .route(
            "/v1/plugins/{id}",
            get(plugins::get).delete(plugins::delete),
        )
        .route("/v1/notes/{id}/runs", post(runs::run))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware)
        .with_state(state)
}

async fn set_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
