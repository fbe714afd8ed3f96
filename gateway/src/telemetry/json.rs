//! JSON log lines that carry the OpenTelemetry trace and span ids.

use std::fmt;

use opentelemetry::trace::TraceContextExt as _;
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::fmt::format::{Format, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `tracing-subscriber`'s JSON format (event fields, the current span and the
/// list of entered spans, which contains the request span's `request_id`) with
/// top-level `trace_id` and `span_id` members added when tracing is on and
/// the event happens inside a span.
pub(super) struct JsonWithTraceIds {
    inner: Format<Json>,
    tracing_enabled: bool,
}

impl JsonWithTraceIds {
    pub(super) fn new(tracing_enabled: bool) -> Self {
        Self {
            inner: tracing_subscriber::fmt::format()
                .json()
                .with_current_span(true)
                .with_span_list(true),
            tracing_enabled,
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTraceIds
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ids = if self.tracing_enabled {
            current_trace_ids()
        } else {
            None
        };
        let Some((trace_id, span_id)) = ids else {
            return self.inner.format_event(ctx, writer, event);
        };

        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let object = line.trim_end();
        match object.strip_suffix('}') {
            // The inner format always writes at least a timestamp and a
            // level, so the object is never empty and a comma can follow.
            Some(members) if !members.ends_with('{') => {
                writer.write_str(members)?;
                writeln!(
                    writer,
                    ",\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"}}"
                )
            }
            _ => writer.write_str(&line),
        }
    }
}

/// Returns the trace and span ids of the current span, as lowercase hex.
fn current_trace_ids() -> Option<(String, String)> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        (
            span_context.trace_id().to_string(),
            span_context.span_id().to_string(),
        )
    })
}
