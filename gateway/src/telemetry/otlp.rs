//! The OTLP/HTTP trace and metric pipelines, configured by the standard
//! OpenTelemetry environment variables.
//!
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (for example `http://collector:4318`)
//!   turns export on; unset or empty leaves it off. Spans go to
//!   `{endpoint}/v1/traces` and metrics to `{endpoint}/v1/metrics`.
//! - `OTEL_EXPORTER_OTLP_PROTOCOL` may only be `http/protobuf`, the one
//!   protocol this build includes; any other value is a start-up error.
//! - `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` set the resource; the
//!   service name defaults to `sandnotes-gateway`.
//! - `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` pick the sampler
//!   (default `parentbased_always_on`), `OTEL_METRIC_EXPORT_INTERVAL` the
//!   metric export interval in milliseconds (default 60,000), and
//!   `OTEL_EXPORTER_OTLP_TIMEOUT` and `OTEL_EXPORTER_OTLP_HEADERS` apply as
//!   the OpenTelemetry SDK 0.33 documents them.
//! - `OTEL_SDK_DISABLED=true` turns export off even with an endpoint.
//!
//! NOTE: the HTTP client is built without TLS, so only `http://` endpoints
//! work; run a collector next to the gateway and let it forward over TLS.

use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_otlp::{MetricExporter, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Service name used when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` names one.
pub const DEFAULT_SERVICE_NAME: &str = "sandnotes-gateway";

/// The only value of `OTEL_EXPORTER_OTLP_PROTOCOL` this build supports.
const SUPPORTED_PROTOCOL: &str = "http/protobuf";

/// Invalid OpenTelemetry settings or exporters that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` names a protocol this build lacks.
    #[error(
        "OTEL_EXPORTER_OTLP_PROTOCOL={0} is not supported: this gateway exports \
         http/protobuf only; unset the variable or set it to http/protobuf"
    )]
    UnsupportedProtocol(String),
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is not an `http://` URL.
    #[error(
        "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// URL such as \
         http://127.0.0.1:4318, got {0:?}"
    )]
    UnsupportedEndpoint(String),
    /// The span or metric exporter could not be built.
    #[error("failed to build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// The OTLP settings read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpSettings {
    /// Base URL of the collector's OTLP/HTTP receiver.
    pub endpoint: String,
}

impl OtlpSettings {
    /// Reads the settings; `None` when export is off.
    pub fn from_env() -> Result<Option<Self>, OtlpError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, which returns a variable's value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, OtlpError> {
        let disabled = lookup("OTEL_SDK_DISABLED")
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
        let endpoint = lookup("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|value| value.trim().to_owned())
            .unwrap_or_default();
        if disabled || endpoint.is_empty() {
            return Ok(None);
        }

        if let Some(protocol) = lookup("OTEL_EXPORTER_OTLP_PROTOCOL")
            && !protocol.trim().is_empty()
            && protocol.trim() != SUPPORTED_PROTOCOL
        {
            return Err(OtlpError::UnsupportedProtocol(protocol));
        }
        if !endpoint.starts_with("http://") {
            return Err(OtlpError::UnsupportedEndpoint(endpoint));
        }
        Ok(Some(Self { endpoint }))
    }
}

/// Builds the tracer provider (batch export) and the meter provider
/// (periodic export). The exporters read the endpoint from the environment
/// themselves, so `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and
/// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` override the base endpoint per signal.
pub fn build_providers() -> Result<(SdkTracerProvider, SdkMeterProvider), OtlpError> {
    let resource = resource();

    let span_exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(span_exporter)
        .with_resource(resource.clone())
        .build();

    let metric_exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    let meter_provider = SdkMeterProvider::builder()
        .with_periodic_exporter(metric_exporter)
        .with_resource(resource)
        .build();

    Ok((tracer_provider, meter_provider))
}

/// The resource from the SDK's detectors (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`, SDK name and version), with this service's
/// name and version where those leave them unset.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let service_name = Key::from_static_str("service.name");
    let service_version = Key::from_static_str("service.version");

    let named = detected
        .get(&service_name)
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let mut builder = Resource::builder();
    if !named {
        builder = builder.with_service_name(DEFAULT_SERVICE_NAME);
    }
    if detected.get(&service_version).is_none() {
        builder = builder.with_attribute(KeyValue::new(
            service_version,
            Value::from(env!("CARGO_PKG_VERSION")),
        ));
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(variables: &[(&str, &str)]) -> Result<Option<OtlpSettings>, OtlpError> {
        let variables: HashMap<String, String> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        OtlpSettings::from_lookup(|name| variables.get(name).cloned())
    }

    #[test]
    fn export_is_off_without_endpoint() {
        assert_eq!(settings(&[]).unwrap(), None);
        assert_eq!(
            settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]).unwrap(),
            None
        );
    }

    #[test]
    fn endpoint_turns_export_on() {
        let on = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).unwrap();

        assert_eq!(on.unwrap().endpoint, "http://127.0.0.1:4318");
    }

    #[test]
    fn sdk_disabled_wins_over_endpoint() {
        let off = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ])
        .unwrap();

        assert_eq!(off, None);
    }

    #[test]
    fn grpc_protocol_is_rejected() {
        let result = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);

        assert!(matches!(result, Err(OtlpError::UnsupportedProtocol(_))));
    }

    #[test]
    fn https_endpoint_is_rejected() {
        let result = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318")]);

        assert!(matches!(result, Err(OtlpError::UnsupportedEndpoint(_))));
    }
}
