//! A starting point for a sandnotes plugin: counts the lines and words of
//! the note body.
//!
//! Arguments (JSON): `{"min_length": n}`, n in 1..=100, counts only words
//! of at least n characters (default 1).
//!
//! Output (JSON): `{"lines": n, "words": n}`.

use sandnotes_plugin_sdk::{Args, Output, export_plugin, log, note};
use serde::{Deserialize, Serialize};

/// The plugin's arguments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    min_length: Option<usize>,
}

/// The plugin's output.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub lines: usize,
    pub words: usize,
}

/// Counts the lines of `text` and its words of at least `min_length`
/// characters.
pub fn count(text: &str, min_length: usize) -> Counts {
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().count() >= min_length)
        .count();
    Counts {
        lines: text.lines().count(),
        words,
    }
}

fn run(args: Args) -> Result<Output, String> {
    let options: Option<Options> = if args.is_empty() {
        None
    } else {
        Some(args.parse()?)
    };
    let min_length = options.and_then(|o| o.min_length).unwrap_or(1);
    if !(1..=100).contains(&min_length) {
        return Err(format!(
            "invalid \"min_length\": {min_length}; expected an integer from 1 to 100"
        ));
    }

    let body = note::body();
    log::info(&format!("counting a note of {} bytes", body.len()));
    Output::json(&count(&body, min_length))
}

export_plugin!(run);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_words() {
        assert_eq!(count("one two\nthree", 1), Counts { lines: 2, words: 3 });
        assert_eq!(count("a bb ccc", 2), Counts { lines: 1, words: 2 });
    }
}
