//! The `summarizer` sample plugin: an extractive summary of a note.
//!
//! The note body is split into sentences. Each sentence is reduced to the
//! Snowball (Porter 2) stems of its words, without English stop words and
//! numbers. TextRank then ranks the sentences by how much they share with the
//! rest of the text, and the best ones are returned in note order.
//!
//! Arguments (JSON): `{"sentences": n}` with n in 1..=100, or `{"ratio": r}`
//! with r in (0, 1] (the fraction of ranked sentences, rounded down, at least
//! one). Without arguments the summary has 3 sentences.
//!
//! Output (JSON): `{"sentences": ["...", ...]}`, each sentence with its runs of
//! whitespace collapsed to one space. A sentence made only of stop words and
//! numbers is never ranked or returned.
//!
//! Limits: only the first [`MAX_RANKED_SENTENCES`] sentences are ranked,
//! because ranking is quadratic in the number of sentences.

mod args;
mod textrank;

use std::collections::BTreeMap;

use rust_stemmers::{Algorithm, Stemmer};
use sandnotes_nlp::{is_stop_word, split_sentences};
use serde::Serialize;

pub use args::{ArgsError, DEFAULT_SENTENCES, MAX_SENTENCES, SummaryLength};

/// Number of sentences, from the start of the note, that are ranked. Later
/// sentences never appear in a summary. At 1,000 sentences the similarity graph
/// has at most about 500,000 edges.
pub const MAX_RANKED_SENTENCES: usize = 1000;

/// The plugin's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The chosen sentences in note order.
    pub sentences: Vec<String>,
}

/// Summarizes `text`. Deterministic: ties in rank go to the earlier sentence.
pub fn summarize(text: &str, length: SummaryLength) -> Summary {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut vocabulary = BTreeMap::new();

    let mut candidates = Vec::new();
    let mut terms = Vec::new();
    for sentence in split_sentences(text).into_iter().take(MAX_RANKED_SENTENCES) {
        let sentence_terms = term_ids(sentence.source, &stemmer, &mut vocabulary);
        if !sentence_terms.is_empty() {
            candidates.push(sentence);
            terms.push(sentence_terms);
        }
    }

    let scores = textrank::rank_sentences(&terms);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(length.sentence_count(candidates.len()));
    order.sort_unstable();

    Summary {
        sentences: order
            .into_iter()
            .map(|i| candidates[i].normalized())
            .collect(),
    }
}

/// Maps a sentence to the ids of its terms: the stems of its alphabetic words,
/// lower-cased, minus stop words. Repeats are kept because the similarity
/// measure counts them in the sentence length.
fn term_ids(sentence: &str, stemmer: &Stemmer, vocabulary: &mut BTreeMap<String, u32>) -> Vec<u32> {
    let lower = sentence.to_lowercase();
    let mut ids = Vec::new();
    for word in lower.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() || is_stop_word(word) {
            continue;
        }
        let stem = stemmer.stem(word).into_owned();
        let next_id = u32::try_from(vocabulary.len()).unwrap_or(u32::MAX);
        ids.push(*vocabulary.entry(stem).or_insert(next_id));
    }
    ids
}

/// The plugin entry point: summarizes the note body.
fn run(args: sandnotes_plugin_sdk::Args) -> Result<sandnotes_plugin_sdk::Output, String> {
    let length = SummaryLength::from_json(args.as_str()).map_err(|e| e.to_string())?;
    let summary = summarize(&sandnotes_plugin_sdk::note::body(), length);
    sandnotes_plugin_sdk::Output::json(&summary)
}

sandnotes_plugin_sdk::export_plugin!(run);

#[cfg(test)]
mod tests {
    use super::*;

    const WHALES: &str = "Whales are large marine mammals. \
        Many whales eat krill, and some whales eat fish. \
        The weather was pleasant on Tuesday. \
        Blue whales are the largest mammals that ever lived. \
        Krill are small crustaceans that whales filter from sea water.";

    #[test]
    fn picks_central_sentences_in_text_order() {
        // summa 1.2.0 ranks the same two sentences first on this text.
        let summary = summarize(WHALES, SummaryLength::Sentences(2));
        assert_eq!(
            summary.sentences,
            [
                "Whales are large marine mammals.",
                "Blue whales are the largest mammals that ever lived.",
            ]
        );
    }

    #[test]
    fn off_topic_sentence_is_ranked_last() {
        let summary = summarize(WHALES, SummaryLength::Sentences(4));
        assert!(
            !summary.sentences.iter().any(|s| s.contains("weather")),
            "{summary:?}"
        );
    }

    #[test]
    fn ratio_selects_fraction_of_sentences() {
        assert_eq!(
            summarize(WHALES, SummaryLength::Ratio(0.4)).sentences.len(),
            2
        );
        assert_eq!(
            summarize(WHALES, SummaryLength::Ratio(1.0)).sentences.len(),
            5
        );
    }

    #[test]
    fn short_text_returns_every_sentence() {
        let summary = summarize(
            "One idea.\nAnother\nidea here.",
            SummaryLength::Sentences(5),
        );
        assert_eq!(summary.sentences, ["One idea.", "Another idea here."]);
    }

    #[test]
    fn unrelated_sentences_fall_back_to_text_order() {
        let summary = summarize(
            "Cats purr. Rivers flood. Stars burn.",
            SummaryLength::Sentences(2),
        );
        assert_eq!(summary.sentences, ["Cats purr.", "Rivers flood."]);
    }

    #[test]
    fn stop_word_sentences_are_skipped() {
        let summary = summarize(
            "It is what it is. 1999. Ships sail.",
            SummaryLength::Sentences(3),
        );
        assert_eq!(summary.sentences, ["Ships sail."]);
    }

    #[test]
    fn empty_note_has_empty_summary() {
        assert!(summarize("", SummaryLength::default()).sentences.is_empty());
        assert!(
            summarize(" \n\n ", SummaryLength::default())
                .sentences
                .is_empty()
        );
    }

    #[test]
    fn output_serializes_as_documented() {
        let json = serde_json::to_string(&summarize(
            "Ships sail. Ships sink.",
            SummaryLength::Sentences(1),
        ))
        .unwrap();
        assert_eq!(json, r#"{"sentences":["Ships sail."]}"#);
    }

    #[test]
    fn sentences_past_the_cap_are_not_ranked() {
        let mut text = String::new();
        for i in 0..MAX_RANKED_SENTENCES {
            text.push_str(&format!("Filler sentence number {i} about ships.\n"));
        }
        text.push_str("Unique words beyond the cap appear here.");
        let summary = summarize(&text, SummaryLength::Sentences(100));
        assert_eq!(summary.sentences.len(), 100);
        assert!(!summary.sentences.iter().any(|s| s.starts_with("Unique")));
    }
}
