//! Span fields stored as a JSON object that grows in place.
//!
//! The JSON log layer keeps each span's fields as JSON text, which log lines
//! inside the span copy into their `span` and `spans` members.
//! `tracing-subscriber`'s own `JsonFields` parses that text into a map and
//! writes it out again each time a field is recorded after the span was
//! created. The request span records its route, user, note and status that
//! way, so every request paid for several parses although almost no request
//! logs anything. [`AppendJsonFields`] writes the new members before the
//! closing brace instead. A field recorded twice appears twice; JSON readers
//! such as `serde_json` keep the last value, the one recorded last.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, FormattedFields};

/// Formats span fields as one JSON object and appends later fields to it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct AppendJsonFields;

impl<'writer> FormatFields<'writer> for AppendJsonFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut members = Members::default();
        fields.record(&mut members);
        writer.write_char('{')?;
        writer.write_str(&members.text)?;
        writer.write_char('}')
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut members = Members::default();
        fields.record(&mut members);
        if members.text.is_empty() {
            return Ok(());
        }
        let stored = &mut current.fields;
        match stored.strip_suffix('}') {
            Some(rest) => {
                let had_members = !rest.ends_with('{');
                stored.pop();
                if had_members {
                    stored.push(',');
                }
            }
            // Not written by `format_fields`; start a new object.
            None => {
                stored.clear();
                stored.push('{');
            }
        }
        stored.push_str(&members.text);
        stored.push('}');
        Ok(())
    }
}

/// Collects visited fields as comma-separated JSON object members.
#[derive(Default)]
struct Members {
    text: String,
}

impl Members {
    fn push(&mut self, field: &Field, value: impl FnOnce(&mut String)) {
        let name = field.name();
        let name = name.strip_prefix("r#").unwrap_or(name);
        if !self.text.is_empty() {
            self.text.push(',');
        }
        push_json_string(&mut self.text, name);
        self.text.push(':');
        value(&mut self.text);
    }
}

impl Visit for Members {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, |text| {
            if value.is_finite() {
                // A finite f64 prints as a JSON number.
                let _ = write!(text, "{value}");
            } else {
                text.push_str("null");
            }
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, |text| {
            let _ = write!(text, "{value}");
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, |text| {
            let _ = write!(text, "{value}");
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, |text| {
            text.push_str(if value { "true" } else { "false" });
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, |text| push_json_string(text, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, |text| push_json_string(text, &format!("{value:?}")));
    }
}

/// Appends `value` as a quoted, escaped JSON string.
fn push_json_string(text: &mut String, value: &str) {
    // serde_json fails only on maps with non-string keys and on failing
    // `Serialize` implementations, so this always succeeds for a `str`.
    if let Ok(quoted) = serde_json::to_string(value) {
        text.push_str(&quoted);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tracing::field::Empty;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Log lines written by a JSON layer with these fields, one per line.
    fn log_lines(emit: impl FnOnce()) -> Vec<Value> {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let writer = {
            let buffer = buffer.clone();
            move || BufferWriter(buffer.clone())
        };
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .fmt_fields(AppendJsonFields)
            .with_writer(writer);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().expect("buffer lock").clone();
        String::from_utf8(bytes)
            .expect("UTF-8 log lines")
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect()
    }

    struct BufferWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for BufferWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn fields_recorded_later_join_the_span_object() {
        let lines = log_lines(|| {
            let span = tracing::info_span!(
                "request",
                request_id = "req-1",
                user_id = Empty,
                http.response.status_code = Empty,
            );
            span.record("user_id", "u-7");
            span.record("http.response.status_code", 404_i64);
            span.in_scope(|| tracing::warn!("request rejected"));
        });
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0]["span"],
            json!({
                "name": "request",
                "request_id": "req-1",
                "user_id": "u-7",
                "http.response.status_code": 404,
            })
        );
        assert_eq!(lines[0]["spans"][0]["user_id"], "u-7");
    }

    #[test]
    fn empty_span_gains_recorded_field() {
        let lines = log_lines(|| {
            let span = tracing::info_span!("quiet", later = Empty);
            span.in_scope(|| tracing::info!("first"));
            span.record("later", true);
            span.in_scope(|| tracing::info!("second"));
        });
        assert_eq!(lines[0]["span"], json!({"name": "quiet"}));
        assert_eq!(lines[1]["span"], json!({"name": "quiet", "later": true}));
    }

    #[test]
    fn values_are_escaped_and_typed() {
        let lines = log_lines(|| {
            let span = tracing::info_span!(
                "typed",
                quote = "a \"b\"\n",
                count = 3_u64,
                ratio = 0.5_f64,
                undefined = f64::NAN,
                debug = ?Some(1),
                r#type = "raw",
            );
            span.in_scope(|| tracing::info!("inside"));
        });
        let span = &lines[0]["span"];
        assert_eq!(span["quote"], "a \"b\"\n");
        assert_eq!(span["count"], 3);
        assert_eq!(span["ratio"], 0.5);
        assert_eq!(span["undefined"], Value::Null);
        assert_eq!(span["debug"], "Some(1)");
        assert_eq!(span["type"], "raw");
    }

    #[test]
    fn twice_recorded_field_keeps_last_value() {
        let lines = log_lines(|| {
            let span = tracing::info_span!("twice", status = Empty);
            span.record("status", "first");
            span.record("status", "second");
            span.in_scope(|| tracing::info!("inside"));
        });
        assert_eq!(lines[0]["span"]["status"], "second");
    }
}
