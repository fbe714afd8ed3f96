//! Logs, traces and metrics.
//!
//! Logs always go to stderr through `tracing`, as text or one JSON object per
//! line. Traces and metrics are exported over OTLP/HTTP (protobuf) only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise no OpenTelemetry layer or
//! provider exists and every instrument is a no-op. See [`otlp`] for the
//! `OTEL_*` variables that apply.
//!
//! What becomes telemetry: the spans and events of this crate, the sandbox
//! runner and the plugin registry, which carry ids, digests, outcomes and
//! figures. Note text, titles, plugin arguments, plugin log lines, tokens and
//! keys are never span fields or event fields in these crates.

mod fields;
mod json;
pub mod metrics;
pub mod otlp;
pub mod store;

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;
pub use otlp::OtlpError;

/// Name of the tracer and meter that this crate's telemetry comes from.
pub const INSTRUMENTATION_SCOPE: &str = "sandnotes-gateway";

/// The installed logging and, when configured, the OTLP pipelines. Call
/// [`Telemetry::shutdown`] before exit to flush what is still buffered.
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

impl Telemetry {
    /// Installs the global `tracing` subscriber and, when
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the OTLP trace and metric
    /// pipelines and the global meter provider.
    ///
    /// The log level comes from `RUST_LOG` (default `info`). Spans at `info`
    /// and above go to OpenTelemetry whatever level `RUST_LOG` sets.
    ///
    /// # Errors
    ///
    /// [`OtlpError`] when the `OTEL_*` settings are invalid or the exporters
    /// cannot be built. Nothing is installed then.
    pub fn init(format: LogFormat) -> Result<Self, OtlpError> {
        let settings = otlp::OtlpSettings::from_env()?;
        let providers = match &settings {
            Some(_) => Some(otlp::build_providers()?),
            None => None,
        };
        let tracing_enabled = providers.is_some();

        let log_filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let log_layer = match format {
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .json()
                .fmt_fields(fields::AppendJsonFields)
                .event_format(json::JsonWithTraceIds::new(tracing_enabled))
                .with_writer(std::io::stderr)
                .boxed(),
        }
        .with_filter(log_filter);

        let (tracer_provider, meter_provider) = match providers {
            Some((tracer_provider, meter_provider)) => {
                (Some(tracer_provider), Some(meter_provider))
            }
            None => (None, None),
        };
        let trace_layer = tracer_provider.as_ref().map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(INSTRUMENTATION_SCOPE))
                .with_filter(traced_targets())
        });

        Registry::default().with(log_layer).with(trace_layer).init();
        if let Some(provider) = &meter_provider {
            opentelemetry::global::set_meter_provider(provider.clone());
        }
        if let Some(settings) = &settings {
            tracing::info!(endpoint = %settings.endpoint, "exporting traces and metrics over OTLP/HTTP");
        }

        Ok(Self {
            tracer_provider,
            meter_provider,
        })
    }

    /// Returns whether traces and metrics are exported.
    pub fn is_exporting(&self) -> bool {
        self.tracer_provider.is_some()
    }

    /// Exports buffered spans and a last round of metrics, then stops the
    /// exporters. Blocks for up to about 5 s per pipeline (the SDK's
    /// shutdown timeout), so call it from a blocking context.
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "failed to flush traces at shutdown");
        }
        if let Some(provider) = self.meter_provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "failed to flush metrics at shutdown");
        }
    }
}

/// Selects the crates whose spans and events become OpenTelemetry spans and
/// span events. The SDK's own diagnostics (`opentelemetry*`) and the HTTP client
/// that exports them are left out, so exporting never produces spans.
fn traced_targets() -> Targets {
    Targets::new()
        .with_target("gateway", Level::INFO)
        .with_target("sandbox_runner", Level::INFO)
        .with_target("plugin_registry", Level::INFO)
}
