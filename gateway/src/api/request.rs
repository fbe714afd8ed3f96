//! Per-request telemetry: the server span, the request duration metric, and
//! the request id that problem responses quote.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;
use tracing::field::Empty;

use crate::telemetry::metrics::metrics;

/// Route whose 401 and 429 responses count as failed logins.
const LOGIN_ROUTE: &str = "/v1/auth/login";

/// Liveness and readiness routes, polled by orchestrators.
const PROBE_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Returns the `x-request-id` of the request being handled, or `None`
/// outside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Builds the `request` span, which is the OpenTelemetry server span. Its
/// name is `{METHOD} {route}`, or only the method when no route matched, as
/// the HTTP semantic conventions name server spans. Probe routes get a
/// `debug` span, which is not exported, so liveness and readiness checks
/// every few seconds do not crowd out request traces.
///
/// NOTE: an incoming `traceparent` header is not honoured, so each request
/// starts a new trace; a proxy's trace and the gateway's are not linked.
pub(super) fn make_span(request: &Request<Body>) -> Span {
    let method = method_name(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let span_name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let request_id = request_id(request);

    macro_rules! request_span {
        ($span_macro:ident) => {
            tracing::$span_macro!(
                "request",
                otel.name = span_name,
                otel.kind = "server",
                otel.status_code = Empty,
                http.request.method = method,
                http.route = Empty,
                http.response.status_code = Empty,
                request_id,
                user_id = Empty,
                note_id = Empty,
            )
        };
    }
    let span = if route.is_some_and(|route| PROBE_ROUTES.contains(&route)) {
        request_span!(debug_span)
    } else {
        request_span!(info_span)
    };
    if let Some(route) = route {
        span.record("http.route", route);
    }
    span
}

/// Middleware inside the request span: makes the request id available to
/// [`current_request_id`], then records the response status on the span and
/// the request in `http.server.request.duration`. A 5xx response marks the
/// server span as an error; a 4xx does not, as the conventions require.
pub(super) async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_name(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let id = request_id(&request).to_owned();

    let response = REQUEST_ID.scope(id, next.run(request)).await;

    let status = response.status();
    let span = Span::current();
    // As i64: tracing-opentelemetry 0.34 exports unsigned fields as strings.
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    if route.as_deref() == Some(LOGIN_ROUTE) {
        record_login_failure(status);
    }
    metrics().record_request(method, route, status.as_u16(), started.elapsed());
    response
}

fn record_login_failure(status: StatusCode) {
    match status {
        StatusCode::UNAUTHORIZED => metrics().record_login_failure("invalid_credentials"),
        StatusCode::TOO_MANY_REQUESTS => metrics().record_login_failure("throttled"),
        _ => {}
    }
}

fn request_id<B>(request: &Request<B>) -> &str {
    request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The method as `http.request.method` records it: a standard method's
/// name, or `_OTHER`, which keeps arbitrary client methods out of span names
/// and metric attributes.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonstandard_method_is_other() {
        let method = Method::from_bytes(b"BREW").unwrap();

        assert_eq!(method_name(&method), "_OTHER");
    }

    #[test]
    fn request_id_is_absent_outside_a_request() {
        assert_eq!(current_request_id(), None);
    }

    #[tokio::test]
    async fn request_id_is_visible_inside_its_scope() {
        let id = REQUEST_ID
            .scope("req-1".to_owned(), async { current_request_id() })
            .await;

        assert_eq!(id.as_deref(), Some("req-1"));
    }
}
