//! `text-analyzer`: readability statistics of a note's body.
//!
//! The output is one JSON object:
//!
//! | field | meaning |
//! | --- | --- |
//! | `words` | words, as counted by [`readability::count_words`] |
//! | `sentences` | sentences, as counted by [`readability::count_sentences`] |
//! | `syllables` | syllables, as estimated by [`syllables::count_in_word`] |
//! | `characters` | characters other than whitespace, punctuation included |
//! | `average_words_per_sentence` | `words / sentences` |
//! | `flesch_reading_ease` | `206.835 - 1.015 * words / sentences - 84.6 * syllables / words` |
//! | `flesch_kincaid_grade` | `0.39 * words / sentences + 11.8 * syllables / words - 15.59` |
//!
//! The three ratios are `null` when the text has no words. Scores are not
//! rounded. The counting rules follow the `textstat` Python package (0.7.4)
//! for words, sentences and characters; syllables come from a vowel-group
//! heuristic, where textstat looks words up in the CMU pronouncing
//! dictionary first, so syllable counts and the scores can differ slightly
//! from textstat's. The plugin takes no arguments and ignores the title.

pub mod readability;
pub mod syllables;

use sandnotes_plugin_sdk::{Args, Output, export_plugin, note};

fn run(_args: Args) -> Result<Output, String> {
    let body = note::body();
    let report = readability::analyze(&body);
    Output::json(&report)
}

export_plugin!(run);
