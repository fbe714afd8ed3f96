//! HTML rendering of classified tokens.

use crate::language::Language;
use crate::lexer::Token;

/// Renders `code` as one `<pre><code class="language-NAME">` element with
/// each token in a `<span class="CLASS">`. All text is HTML-escaped.
pub(crate) fn render(code: &str, tokens: &[Token], language: Language) -> String {
    let mut html = String::with_capacity(code.len() * 2 + 64);
    html.push_str("<pre><code class=\"language-");
    html.push_str(language.name());
    html.push_str("\">");

    let mut pos = 0;
    for token in tokens {
        escape_into(&mut html, &code[pos..token.start]);
        html.push_str("<span class=\"");
        html.push_str(token.class.as_str());
        html.push_str("\">");
        escape_into(&mut html, &code[token.start..token.end]);
        html.push_str("</span>");
        pos = token.end;
    }
    escape_into(&mut html, &code[pos..]);

    html.push_str("</code></pre>");
    html
}

/// Returns the length in bytes of what [`render`] returns for the same
/// arguments, without building it.
pub(crate) fn rendered_len(code: &str, tokens: &[Token], language: Language) -> usize {
    let wrapper =
        "<pre><code class=\"language-\">".len() + language.name().len() + "</code></pre>".len();
    let spans: usize = tokens
        .iter()
        .map(|t| "<span class=\"\">".len() + t.class.as_str().len() + "</span>".len())
        .sum();
    wrapper + spans + escaped_len(code)
}

fn escaped_len(text: &str) -> usize {
    let extra: usize = text
        .bytes()
        .map(|b| match b {
            b'&' => "&amp;".len() - 1,
            b'<' | b'>' => "&lt;".len() - 1,
            _ => 0,
        })
        .sum();
    text.len() + extra
}

/// Appends `text` with `&`, `<` and `>` replaced by entities. Quotes stay
/// as they are, because text is only ever placed in element content, never
/// in an attribute value.
pub(crate) fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            c => html.push(c),
        }
    }
}
