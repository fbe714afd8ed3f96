//! Span fields stored as a JSON object that grows in place.
//!
//! The JSON log layer keeps each span's fields as JSON text, which log lines
//! inside the span copy into their `span` and `spans` members.
//! `tracing-subscriber`'s own `JsonFields` parses that text into a map and
//! writes it out again each time a field is recorded after the span was
//! created. The request span records its route, user, note and status that
//! way, so every request paid for several parses although almost no request
//! logs anything. [`AppendJsonFields`] writes the new members before the
//! closing brace instead. A field recorded twice is stored twice, but the
//! JSON event formatter reads the text into a map before it writes a log
//! line, so the line shows only the value recorded last.
//!
//! Values are written as `JsonFields` writes them: numbers, booleans and
//! strings as JSON values, byte slices as arrays of numbers, non-finite
//! floats as `null`, and fields named `log.*` (metadata of records from the
//! `log` crate) not at all.

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
        // The stored text comes from `format_fields` of this type, so it is
        // an object. Anything else is left as it is.
        let Some(rest) = stored.strip_suffix('}') else {
            return Err(fmt::Error);
        };
        let had_members = !rest.ends_with('{');
        stored.pop();
        if had_members {
            stored.push(',');
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
        // `tracing` has already removed the `r#` of raw identifiers.
        let name = field.name();
        if !self.text.is_empty() {
            self.text.push(',');
        }
        push_json(&mut self.text, name);
        self.text.push(':');
        value(&mut self.text);
    }
}

impl Visit for Members {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // serde_json writes `2.0` as a float and a non-finite value as `null`.
        self.push(field, |text| push_json(text, &value));
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
        self.push(field, |text| push_json(text, value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.push(field, |text| push_json(text, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name().starts_with("log.") {
            return;
        }
        self.push(field, |text| push_json(text, &format!("{value:?}")));
    }
}

/// Appends `value` as JSON text.
fn push_json<T: serde::Serialize + ?Sized>(text: &mut String, value: &T) {
    // serde_json fails only on maps with non-string keys and on failing
    // `Serialize` implementations. The callers pass strings, floats and
    // byte slices, which always serialize.
    if let Ok(json) = serde_json::to_string(value) {
        text.push_str(&json);
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
    fn floats_and_bytes_read_back_as_written() {
        let lines = log_lines(|| {
            let span = tracing::info_span!(
                "floats",
                largest = f64::MAX,
                whole = 2.0_f64,
                infinite = f64::INFINITY,
                bytes = &b"ab"[..],
            );
            span.in_scope(|| tracing::info!("inside"));
        });
        let span = &lines[0]["span"];
        assert_eq!(span["largest"], f64::MAX);
        assert!(span["whole"].is_f64(), "{}", span["whole"]);
        assert_eq!(span["infinite"], Value::Null);
        assert_eq!(span["bytes"], json!([97, 98]));
    }

    #[test]
    fn empty_record_keeps_object_valid() {
        let lines = log_lines(|| {
            let span = tracing::info_span!("gaps", first = 1_u64, second = Empty);
            span.record("second", Empty);
            span.in_scope(|| tracing::info!("inside"));
        });
        assert_eq!(lines[0]["span"], json!({"name": "gaps", "first": 1}));
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
