//! Language detection for code given without a `language` argument.
//!
//! Each language scores one point per line that contains one of its
//! telltale patterns. The highest score wins, and a tie goes to the earlier
//! language in [`Language::SUPPORTED`]. A score below one line in
//! [`MIN_LINES_PER_MATCH`] of the non-empty lines read means plain text, so
//! that prose which happens to contain `from ` or `let ` is not lexed as
//! code. Only the first [`DETECTION_LINES`] lines and [`DETECTION_BYTES`]
//! bytes are read. JSON is recognized by parsing the whole code.
//!
//! This is a heuristic: short snippets that use little syntax are often
//! taken for another language or for plain text.

use crate::language::Language;

/// Number of lines, from the start, that detection reads.
pub const DETECTION_LINES: usize = 200;

/// Number of bytes, from the start, that detection reads, so that one very
/// long line costs no more than many short ones.
pub const DETECTION_BYTES: usize = 16 * 1024;

/// The winning language must match at least one non-empty line in this many.
pub const MIN_LINES_PER_MATCH: usize = 10;

/// Patterns that suggest a language when a line contains them.
const PATTERNS: &[(Language, &[&str])] = &[
    (
        Language::Rust,
        &[
            "fn ",
            "let mut ",
            "impl ",
            "pub fn",
            "use std::",
            "::new(",
            "-> Self",
            "#[derive",
            "&self",
            "match ",
        ],
    ),
    (
        Language::Python,
        &[
            "def ", "import ", "elif ", "self.", "print(", "None", "__init__", "\"\"\"", "):",
        ],
    ),
    (
        Language::JavaScript,
        &[
            "function ",
            "const ",
            "=> ",
            "console.",
            "require(",
            "document.",
            "let ",
            "var ",
        ],
    ),
    (
        Language::TypeScript,
        &[
            "interface ",
            ": string",
            ": number",
            ": boolean",
            "export type ",
            "readonly ",
        ],
    ),
    (
        Language::Go,
        &["package ", "func ", ":= ", "fmt.", "err != nil", "chan "],
    ),
    (
        Language::C,
        &[
            "#include", "#define", "int main", "printf(", "->", "NULL", "sizeof(", "#if",
        ],
    ),
    (
        Language::Java,
        &[
            "public class ",
            "private ",
            "public static ",
            "System.out",
            "import java.",
            "@Override",
            "new ",
        ],
    ),
    (
        Language::Sql,
        &[
            "SELECT ",
            "FROM ",
            "WHERE ",
            "CREATE TABLE",
            "INSERT INTO",
            "select ",
            "from ",
            "where ",
            "create table",
        ],
    ),
    (
        Language::Toml,
        &["[package]", "[dependencies]", " = \"", "[[", "]\n"],
    ),
];

/// Guesses the language of `code`. Returns [`Language::PlainText`] when no
/// pattern matches.
pub fn detect(code: &str) -> Language {
    let trimmed = code.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(code).is_ok()
    {
        return Language::Json;
    }

    let mut scores = [0usize; PATTERNS.len()];
    let mut non_empty_lines: usize = 0;
    let mut sample_end = code.len().min(DETECTION_BYTES);
    while !code.is_char_boundary(sample_end) {
        sample_end -= 1;
    }
    for line in code[..sample_end].lines().take(DETECTION_LINES) {
        if !line.trim().is_empty() {
            non_empty_lines += 1;
        }
        for (score, (language, patterns)) in scores.iter_mut().zip(PATTERNS) {
            let table_header = *language == Language::Toml
                && line.starts_with('[')
                && line.trim_end().ends_with(']');
            if table_header || patterns.iter().any(|p| line.contains(p)) {
                *score += 1;
            }
        }
    }

    let min_score = non_empty_lines.div_ceil(MIN_LINES_PER_MATCH).max(1);
    let mut best = (min_score - 1, Language::PlainText);
    for (score, (language, _)) in scores.iter().zip(PATTERNS) {
        if *score > best.0 {
            best = (*score, *language);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_language_from_a_snippet() {
        let cases = [
            (
                Language::Rust,
                "use std::io;\n\npub fn main() {\n    let mut x = Vec::new();\n}\n",
            ),
            (
                Language::Python,
                "import os\n\ndef main():\n    print(os.getcwd())\n",
            ),
            (
                Language::JavaScript,
                "const x = require('x');\nfunction f(a) {\n  console.log(a);\n}\n",
            ),
            (
                Language::TypeScript,
                "interface User {\n  name: string;\n  age: number;\n}\n",
            ),
            (
                Language::Go,
                "package main\n\nfunc main() {\n\tx := 1\n\tfmt.Println(x)\n}\n",
            ),
            (
                Language::C,
                "#include <stdio.h>\n\nint main(void) {\n    printf(\"hi\");\n}\n",
            ),
            (
                Language::Java,
                "public class Main {\n    public static void main(String[] a) {\n        System.out.println(1);\n    }\n}\n",
            ),
            (
                Language::Sql,
                "SELECT id, name\nFROM users\nWHERE id = 1;\n",
            ),
            (
                Language::Toml,
                "[package]\nname = \"x\"\nversion = \"1.0\"\n",
            ),
            (Language::Json, "{\"a\": [1, 2, true]}"),
        ];
        for (expected, code) in cases {
            assert_eq!(detect(code), expected, "{code}");
        }
    }

    #[test]
    fn prose_is_plain_text() {
        assert_eq!(
            detect("Dear diary, today was calm.\nNothing happened."),
            Language::PlainText
        );
    }
}
