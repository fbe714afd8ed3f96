//! Checks on what a plugin returns, before it reaches the caller.
//!
//! A plugin is untrusted and its output is shown to users, so each kind is
//! checked for what it claims to be: JSON must parse, HTML passes through an
//! allow-list sanitizer (`ammonia`), and text loses its control characters
//! other than newline and tab. Every kind must fit the output limit after the
//! check, because sanitizing can grow HTML (escaping) as well as shrink it.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use sandbox_protocol::OutputKind;

/// Token classes the syntax highlighter puts on `<span>`; the sanitizer keeps
/// these and removes any other class.
pub const TOKEN_CLASSES: [&str; 8] = [
    "keyword",
    "string",
    "comment",
    "number",
    "function",
    "type",
    "operator",
    "punctuation",
];

/// Language classes allowed on `<pre>` and `<code>`, as `language-NAME`.
const LANGUAGE_CLASSES: [&str; 13] = [
    "language-rust",
    "language-python",
    "language-javascript",
    "language-typescript",
    "language-go",
    "language-c",
    "language-java",
    "language-sql",
    "language-toml",
    "language-json",
    "language-text",
    "language-plaintext",
    "language-unknown",
];

/// Formatting tags a plugin may use. No scripts, styles, forms, frames,
/// media or images: nothing that loads, runs or submits anything.
const ALLOWED_TAGS: [&str; 33] = [
    "a",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "tr",
];

/// Output that passed its kind's checks.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedOutput {
    /// Text without control characters other than `\n` and `\t`.
    Text(String),
    /// Parsed JSON.
    Json(serde_json::Value),
    /// Sanitized HTML.
    Html(String),
}

/// Output that failed its checks. Messages never quote the output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The plugin declared JSON but the value does not parse.
    #[error("the plugin returned invalid JSON: {0}")]
    InvalidJson(String),
    /// The checked output is larger than the limit.
    #[error("the plugin output is {size} bytes after checks, above the limit of {limit} bytes")]
    TooLarge {
        /// Size after the check.
        size: usize,
        /// The output limit.
        limit: usize,
    },
}

/// Checks `value` as output of `kind` and enforces `max_bytes` on the result.
pub fn check(
    kind: OutputKind,
    value: &str,
    max_bytes: usize,
) -> Result<CheckedOutput, OutputError> {
    let checked = match kind {
        OutputKind::Text => CheckedOutput::Text(strip_control_characters(value)),
        OutputKind::Json => {
            // serde_json stops at 128 levels of nesting, so hostile depth
            // cannot exhaust the stack.
            let parsed = serde_json::from_str(value)
                .map_err(|error| OutputError::InvalidJson(error.to_string()))?;
            CheckedOutput::Json(parsed)
        }
        OutputKind::Html => CheckedOutput::Html(sanitizer().clean(value).to_string()),
    };

    let size = match &checked {
        CheckedOutput::Text(text) | CheckedOutput::Html(text) => text.len(),
        CheckedOutput::Json(_) => value.len(),
    };
    if size > max_bytes {
        return Err(OutputError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(checked)
}

/// Removes every control character except newline and tab.
pub fn strip_control_characters(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static SANITIZER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let language_classes: HashSet<&str> = LANGUAGE_CLASSES.into_iter().collect();
        let allowed_classes = HashMap::from([
            ("span", TOKEN_CLASSES.into_iter().collect::<HashSet<_>>()),
            ("code", language_classes.clone()),
            ("pre", language_classes),
        ]);

        let mut builder = ammonia::Builder::empty();
        builder
            .add_tags(ALLOWED_TAGS)
            .add_tag_attributes("a", ["href"])
            .add_tag_attributes("td", ["colspan", "rowspan"])
            .add_tag_attributes("th", ["colspan", "rowspan"])
            .allowed_classes(allowed_classes)
            .url_schemes(HashSet::from(["http", "https"]))
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"))
            .strip_comments(true);
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(value: &str) -> String {
        match check(OutputKind::Html, value, 1 << 20).expect("html passes") {
            CheckedOutput::Html(html) => html,
            other => panic!("expected html, got {other:?}"),
        }
    }

    #[test]
    fn script_tags_are_removed_with_their_content() {
        let cleaned = html("<p>hi</p><script>alert(1)</script>");
        assert_eq!(cleaned, "<p>hi</p>");
    }

    #[test]
    fn event_handlers_and_styles_are_removed() {
        let cleaned = html(r#"<span class="keyword" onclick="x()" style="color:red">fn</span>"#);
        assert_eq!(cleaned, r#"<span class="keyword">fn</span>"#);
    }

    #[test]
    fn token_classes_survive_and_others_do_not() {
        for class in TOKEN_CLASSES {
            let span = format!(r#"<span class="{class}">x</span>"#);
            assert_eq!(html(&span), span, "class {class} is kept");
        }
        let cleaned = html(r#"<span class="evil keyword">x</span>"#);
        assert!(!cleaned.contains("evil"), "{cleaned}");
        assert!(cleaned.contains("keyword"), "{cleaned}");
    }

    #[test]
    fn highlighted_code_block_is_kept() {
        let block = r#"<pre><code class="language-rust"><span class="keyword">fn</span> <span class="function">main</span><span class="punctuation">()</span></code></pre>"#;
        assert_eq!(html(block), block);
    }

    #[test]
    fn javascript_urls_are_removed() {
        let cleaned = html(r#"<a href="javascript:alert(1)">x</a>"#);
        assert!(!cleaned.contains("javascript"), "{cleaned}");
    }

    #[test]
    fn https_links_get_a_safe_rel() {
        let cleaned = html(r#"<a href="https://example.org/">x</a>"#);
        assert!(
            cleaned.contains(r#"rel="noopener noreferrer nofollow""#),
            "{cleaned}"
        );
    }

    #[test]
    fn images_iframes_and_forms_are_removed() {
        let cleaned = html(
            r#"<img src=x onerror=alert(1)><iframe src="https://example.org"></iframe><form><input></form>"#,
        );
        assert!(!cleaned.contains("<img"), "{cleaned}");
        assert!(!cleaned.contains("<iframe"), "{cleaned}");
        assert!(!cleaned.contains("<form"), "{cleaned}");
        assert!(!cleaned.contains("<input"), "{cleaned}");
    }

    #[test]
    fn text_loses_control_characters_but_keeps_newline_and_tab() {
        let checked = check(OutputKind::Text, "a\u{0}b\u{1b}[31mc\td\ne\r", 100).expect("text");
        assert_eq!(checked, CheckedOutput::Text("ab[31mc\td\ne".to_owned()));
    }

    #[test]
    fn invalid_json_is_rejected() {
        let error = check(OutputKind::Json, "{\"words\": ", 100).expect_err("invalid");
        assert!(matches!(error, OutputError::InvalidJson(_)));
    }

    #[test]
    fn deeply_nested_json_is_rejected() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = check(OutputKind::Json, &deep, 1 << 20).expect_err("too deep");
        assert!(matches!(error, OutputError::InvalidJson(_)));
    }

    #[test]
    fn valid_json_is_parsed() {
        let checked = check(OutputKind::Json, r#"{"words": 3}"#, 100).expect("json");
        assert_eq!(
            checked,
            CheckedOutput::Json(serde_json::json!({"words": 3}))
        );
    }

    #[test]
    fn html_that_grows_past_the_limit_is_rejected() {
        let error = check(OutputKind::Html, "<<<<<<<<", 10).expect_err("too large");
        assert!(matches!(error, OutputError::TooLarge { .. }));
    }
}
