use serde::Serialize;

use crate::__private::bindings;

/// Result of a successful run, returned to the caller.
///
/// The host checks each kind before the caller sees it: JSON must parse,
/// HTML passes through an allow-list sanitizer, and text loses control
/// characters other than newline and tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Plain text.
    Text(String),
    /// A JSON document, as text.
    Json(String),
    /// An HTML fragment.
    Html(String),
}

impl Output {
    /// Creates a plain-text output.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// Creates an HTML output.
    pub fn html(html: impl Into<String>) -> Self {
        Self::Html(html.into())
    }

    /// Serializes `value` into a JSON output.
    ///
    /// Fails only when `value`'s `Serialize` implementation fails (for
    /// example a map with non-string keys); the error is a message for the
    /// caller.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, String> {
        serde_json::to_string(value)
            .map(Self::Json)
            .map_err(|error| format!("failed to serialize the plugin output as JSON: {error}"))
    }

    pub(crate) fn into_world(self) -> bindings::Output {
        match self {
            Self::Text(text) => bindings::Output::Text(text),
            Self::Json(json) => bindings::Output::Json(json),
            Self::Html(html) => bindings::Output::Html(html),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_serializes_value() {
        let output = Output::json(&serde_json::json!({ "words": 3 }));

        assert_eq!(output, Ok(Output::Json(r#"{"words":3}"#.to_owned())));
    }

    #[test]
    fn json_rejects_non_string_map_keys() {
        let map = std::collections::BTreeMap::from([((1, 2), 3)]);

        assert!(Output::json(&map).is_err());
    }
}
