//! An OTLP/HTTP receiver on loopback that keeps what a gateway exports.
//!
//! It accepts `POST /v1/traces` and `POST /v1/metrics` with protobuf bodies
//! (`application/x-protobuf`), as `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`
//! sends them, decodes them with the OpenTelemetry protocol's own message
//! types, and responds with an empty export response. The raw bodies are kept
//! too, so a test can search everything that left the process.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// Largest export body accepted, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What the receiver has been sent so far.
#[derive(Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    raw_bodies: Vec<Vec<u8>>,
}

/// A running receiver; it stops when dropped.
pub struct OtlpReceiver {
    endpoint: String,
    received: Arc<Mutex<Received>>,
    server: tokio::task::JoinHandle<()>,
}

/// One exported span with the resource it came from.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    /// The span as exported.
    pub span: Span,
    /// The attributes of its resource, such as `service.name`.
    pub resource: Vec<KeyValue>,
}

impl ReceivedSpan {
    /// Returns the span's name.
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// Returns the value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&any_value::Value> {
        find_attribute(&self.span.attributes, key)
    }

    /// Returns the value of string attribute `key`.
    pub fn string_attribute(&self, key: &str) -> Option<&str> {
        match self.attribute(key) {
            Some(any_value::Value::StringValue(value)) => Some(value),
            _ => None,
        }
    }

    /// Returns the value of integer attribute `key`.
    pub fn int_attribute(&self, key: &str) -> Option<i64> {
        match self.attribute(key) {
            Some(any_value::Value::IntValue(value)) => Some(*value),
            _ => None,
        }
    }

    /// Returns the value of the resource's string attribute `key`.
    pub fn resource_attribute(&self, key: &str) -> Option<&str> {
        match find_attribute(&self.resource, key) {
            Some(any_value::Value::StringValue(value)) => Some(value),
            _ => None,
        }
    }

    /// Returns whether `parent` is this span's parent in the same trace.
    pub fn is_child_of(&self, parent: &ReceivedSpan) -> bool {
        self.span.trace_id == parent.span.trace_id
            && self.span.parent_span_id == parent.span.span_id
    }

    /// Returns the trace id as lowercase hex, as logs print it.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.span.trace_id)
    }
}

impl OtlpReceiver {
    /// Starts a receiver on `127.0.0.1` at a free port.
    ///
    /// # Panics
    ///
    /// Panics when no loopback port can be bound.
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let app = Router::new()
            .route("/v1/traces", post(receive_traces))
            .route("/v1/metrics", post(receive_metrics))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(Arc::clone(&received));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP receiver on loopback");
        let address = listener.local_addr().expect("receiver address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        Self {
            endpoint: format!("http://{address}"),
            received,
            server,
        }
    }

    /// Returns the base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Returns every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let received = self.received.lock().expect("receiver lock");
        let mut spans = Vec::new();
        for request in &received.traces {
            for resource_spans in &request.resource_spans {
                let resource = resource_spans
                    .resource
                    .as_ref()
                    .map(|resource| resource.attributes.clone())
                    .unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    for span in &scope_spans.spans {
                        spans.push(ReceivedSpan {
                            span: span.clone(),
                            resource: resource.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// Returns the names of every metric received so far, without repeats.
    pub fn metric_names(&self) -> Vec<String> {
        let received = self.received.lock().expect("receiver lock");
        let mut names: Vec<String> = received
            .metrics
            .iter()
            .flat_map(|request| &request.resource_metrics)
            .flat_map(|resource| &resource.scope_metrics)
            .flat_map(|scope| &scope.metrics)
            .map(|metric| metric.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Returns whether any received body contains `needle` as bytes, whatever field
    /// or encoding layer it sits in.
    pub fn any_body_contains(&self, needle: &str) -> bool {
        let received = self.received.lock().expect("receiver lock");
        received
            .raw_bodies
            .iter()
            .any(|body| contains_bytes(body, needle.as_bytes()))
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive_traces(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> Response {
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return (StatusCode::BAD_REQUEST, "not an ExportTraceServiceRequest").into_response();
    };
    if let Ok(mut received) = received.lock() {
        received.traces.push(request);
        received.raw_bodies.push(body.to_vec());
    }
    protobuf_response(ExportTraceServiceResponse::default().encode_to_vec())
}

async fn receive_metrics(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> Response {
    let Ok(request) = ExportMetricsServiceRequest::decode(body.as_ref()) else {
        return (
            StatusCode::BAD_REQUEST,
            "not an ExportMetricsServiceRequest",
        )
            .into_response();
    };
    if let Ok(mut received) = received.lock() {
        received.metrics.push(request);
        received.raw_bodies.push(body.to_vec());
    }
    protobuf_response(ExportMetricsServiceResponse::default().encode_to_vec())
}

fn protobuf_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        body,
    )
        .into_response()
}

fn find_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value: &AnyValue| value.value.as_ref())
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
