//! `text-analyzer`: readability statistics of a note's body.
//!
//! The output is one JSON object:
//!
//! | field | meaning |
//! | --- | --- |
//! | `words` | words, as counted by [`readability::count_words`] |
//! | `sentences` | sentences, as counted by [`readability::count_sentences`] |
//! | `syllables` | syllables, hyphenation points plus one per word, see [`syllables::count_in_word`] |
//! | `characters` | characters other than whitespace, punctuation included |
//! | `average_words_per_sentence` | `words / sentences` |
//! | `flesch_reading_ease` | `206.835 - 1.015 * words / sentences - 84.6 * syllables / words` |
//! | `flesch_kincaid_grade` | `0.39 * words / sentences + 11.8 * syllables / words - 15.59` |
//!
//! The three ratios are `null` when the text has no words. Nothing is
//! rounded.
//!
//! # Agreement with textstat
//!
//! Words, sentences and characters follow the `textstat` Python package,
//! version 0.7.4 (`lexicon_count`, `sentence_count`, `char_count`), and
//! match it exactly on all twelve texts in `corpus/`. Syllables follow its
//! `syllable_count`: hyphenation points plus one per word, with breaks at
//! least two characters from either end. Two differences remain:
//!
//! - textstat finds the points with Pyphen's `hyph_en_US` dictionary, and
//!   this plugin with the hyph-utf8 en-US patterns and exceptions that the
//!   `hyphenation` crate embeds. The totals on the corpus texts differ by
//!   0.5 % at most (1090 against 1093 on the Austen chapter);
//! - textstat rounds the averages to one decimal before it computes the
//!   scores, and rounds the scores to two decimals. This plugin does not,
//!   so its Flesch reading ease can differ by up to 4.3 points
//!   (`84.6 * 0.05 + 1.015 * 0.05`) even where every count agrees.
//!
//! `reference/readability.py` implements the same rules in Python for
//! checking expected figures. The plugin takes no arguments and ignores
//! the title.
//!
//! # Cost and the vocabulary limit
//!
//! The hyphenation patterns are static tables in the component, which
//! `build.rs` generates, so a run loads no dictionary. A run on a one-line
//! note costs about 140,000 fuel units. Hyphenation is the costly step per
//! word: roughly 800 to 1,300 fuel units per byte of a distinct word (an
//! estimate from the corpus words and the runs below). So the plugin
//! hyphenates each distinct word once and rejects a note whose distinct
//! words exceed [`MAX_VOCABULARY_BYTES`] in total. Such a run ends with a
//! plugin error that names the limit, never with partial figures. On the
//! stress notes of `plugins/quality/compare.py --limits` (1,000,000 bytes,
//! default limits), the plugin used at most 27 % of the default fuel
//! budget of 1,000,000,000 units:
//!
//! | note | outcome | fuel |
//! | --- | --- | ---: |
//! | the corpus, repeated | ok | 206 M |
//! | 200,000 generated words on one line | ok | 225 M |
//! | random words | vocabulary limit error | 105 M |
//! | 128 KiB of distinct words, repeated | ok | 265 M |
//!
//! Two English documents of 1 MB that were measured (Vim 9.0's
//! `version8.txt` and `version9.txt` help files) have about 100 KB of
//! distinct words each, under the limit.

mod liang;
pub mod readability;
mod scan;
pub mod syllables;

use sandnotes_plugin_sdk::{Args, Output, export_plugin, note};

use crate::syllables::SyllableCounter;

/// Maximum total length in bytes of a note's distinct words, lowercased
/// and without punctuation. Words under four bytes are one syllable and do
/// not count. The limit keeps hyphenation under about 170 M of the default
/// 1,000 M fuel units (an estimate from the 128 KiB stress note).
pub const MAX_VOCABULARY_BYTES: usize = 128 * 1024;

fn run(_args: Args) -> Result<Output, String> {
    let body = note::body();
    let mut counter = SyllableCounter::with_max_vocabulary_bytes(MAX_VOCABULARY_BYTES);
    let report =
        readability::analyze_with(&body, &mut counter).map_err(|error| error.to_string())?;
    Output::json(&report)
}

export_plugin!(run);

#[cfg(test)]
mod tests {
    use sandnotes_plugin_sdk::{Args, Output, testing};

    use super::*;

    fn run_on(body: &str) -> Result<Output, String> {
        testing::set_note("Title", body);
        run(Args::new(""))
    }

    #[test]
    fn run_outputs_report_as_json() {
        let output = run_on("The cat sat on the mat. It was a happy little cat.").unwrap();
        let Output::Json(json) = output else {
            panic!("expected JSON output, got {output:?}");
        };
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();

        assert_eq!(value["words"], 12);
        assert_eq!(value["syllables"], 14);
    }

    #[test]
    fn run_rejects_note_over_vocabulary_limit() {
        // Distinct 8-byte words: "w0000000", "w0000001", ...
        let words = MAX_VOCABULARY_BYTES / 8 + 1;
        let body: Vec<String> = (0..words).map(|i| format!("w{i:07}")).collect();

        let error = run_on(&body.join(" ")).unwrap_err();

        assert_eq!(
            error,
            "the distinct words of the text exceed 131072 bytes in total, the maximum that \
             text-analyzer hyphenates in one run; split the note into smaller notes"
        );
    }

    #[test]
    fn run_accepts_repeated_words_beyond_limit() {
        // 400,000 bytes of text but 20 bytes of distinct words.
        let body = "readable sentences! ".repeat(20_000);

        let output = run_on(&body).unwrap();

        let Output::Json(json) = output else {
            panic!("expected JSON output, got {output:?}");
        };
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["words"], 40_000);
    }
}
