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
        match with_trace_ids(&line, &trace_id, &span_id) {
            Some(extended) => writer.write_str(&extended),
            None => writer.write_str(&line),
        }
    }
}

/// Returns the JSON object `line` with `trace_id` and `span_id` members
/// appended, or `None` when `line` is not a non-empty JSON object. The ids
/// are hex digits, so they need no escaping.
fn with_trace_ids(line: &str, trace_id: &str, span_id: &str) -> Option<String> {
    let members = line.trim_end().strip_suffix('}')?;
    if !members.starts_with('{') || members.trim_end().ends_with('{') {
        return None;
    }
    Some(format!(
        "{members},\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"}}\n"
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_appended_to_the_object() {
        let line = "{\"level\":\"INFO\",\"fields\":{\"message\":\"hi\"}}\n";

        let extended = with_trace_ids(line, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
            .expect("an object");
        let parsed: serde_json::Value = serde_json::from_str(&extended).expect("valid JSON");

        assert_eq!(parsed["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(parsed["span_id"], "b7ad6b7169203331");
        assert_eq!(parsed["fields"]["message"], "hi");
        assert!(extended.ends_with("}\n"));
    }

    #[test]
    fn empty_object_and_other_text_are_left_alone() {
        assert_eq!(with_trace_ids("{}\n", "a", "b"), None);
        assert_eq!(with_trace_ids("not json\n", "a", "b"), None);
    }
}
