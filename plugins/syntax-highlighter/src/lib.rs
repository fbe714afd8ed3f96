//! The `syntax-highlighter` sample plugin: a code note as highlighted HTML.
//!
//! Supported languages: Rust, Python, JavaScript, TypeScript, Go, C, Java,
//! SQL, TOML and JSON. The tokenizer is lexical (no parsing), written for
//! this plugin, and classifies each token as one of the [`TokenClass`]
//! names.
//!
//! Arguments (JSON): `{"language": "rust"}` (names and aliases in
//! [`Language::from_name`]), or none to detect the language from the code.
//!
//! Output (HTML): one `<pre><code class="language-NAME">` whose tokens are
//! `<span class="CLASS">`, CLASS one of `keyword`, `string`, `comment`,
//! `number`, `function`, `type`, `operator`, `punctuation`. Everything else is
//! escaped text. The host's sanitizer must allow exactly these elements,
//! the `class` attribute on `code` and `span`, and these class values.
//!
//! Limits: when the highlighted HTML would exceed [`MAX_OUTPUT_BYTES`], the
//! code is returned escaped but without spans. When even that is too long,
//! the run fails with [`HighlightError::TooLarge`].

mod args;
mod class;
mod detect;
mod html;
mod language;
mod lexer;

pub use args::{ArgsError, parse_language};
pub use class::TokenClass;
pub use detect::{DETECTION_BYTES, DETECTION_LINES, MIN_LINES_PER_MATCH, detect};
pub use language::Language;

/// Largest HTML output, in bytes: the host's default output limit (1 MiB).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// A note that cannot be highlighted.
#[derive(Debug, thiserror::Error)]
pub enum HighlightError {
    #[error(
        "note too large to highlight: the escaped code alone is {0} bytes, over the {MAX_OUTPUT_BYTES}-byte output limit"
    )]
    TooLarge(usize),
}

/// Highlights `code` as `language`, or as the detected language when `None`.
pub fn highlight(code: &str, language: Option<Language>) -> Result<String, HighlightError> {
    let language = language.unwrap_or_else(|| detect(code));

    // Sizes are computed before rendering, so an oversized note costs one
    // pass over the text instead of two renderings.
    let plain_len = html::rendered_len(code, &[], language);
    if plain_len > MAX_OUTPUT_BYTES {
        return Err(HighlightError::TooLarge(plain_len));
    }
    let tokens = match language.rules() {
        Some(rules) => lexer::tokenize(code, rules),
        None => Vec::new(),
    };
    if html::rendered_len(code, &tokens, language) > MAX_OUTPUT_BYTES {
        return Ok(html::render(code, &[], language));
    }
    Ok(html::render(code, &tokens, language))
}

/// Returns the class of every character of `code`, in order: the
/// tokenizer's view, used by the comparison with Pygments.
pub fn classify_chars(code: &str, language: Language) -> Vec<Option<TokenClass>> {
    let tokens = match language.rules() {
        Some(rules) => lexer::tokenize(code, rules),
        None => Vec::new(),
    };
    let mut classes = Vec::with_capacity(code.len());
    let mut next = tokens.iter().peekable();
    for (offset, _) in code.char_indices() {
        while next.peek().is_some_and(|t| t.end <= offset) {
            next.next();
        }
        let class = next.peek().filter(|t| t.start <= offset).map(|t| t.class);
        classes.push(class);
    }
    classes
}

/// The plugin entry point: highlights the note body.
fn run(args: sandnotes_plugin_sdk::Args) -> Result<sandnotes_plugin_sdk::Output, String> {
    let language = parse_language(args.as_str()).map_err(|e| e.to_string())?;
    let html =
        highlight(&sandnotes_plugin_sdk::note::body(), language).map_err(|e| e.to_string())?;
    Ok(sandnotes_plugin_sdk::Output::html(html))
}

sandnotes_plugin_sdk::export_plugin!(run);

#[cfg(test)]
mod tests;
