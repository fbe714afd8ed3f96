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
//! Limits: ranking is quadratic in the number of sentences, so only the
//! sentences within the first [`MAX_RANKED_SENTENCES`] sentences and the
//! first [`MAX_RANKED_WORDS`] words are ranked. A returned sentence longer
//! than [`MAX_SENTENCE_BYTES`] is cut at a word boundary and ends in `…`,
//! which keeps the output of 100 sentences under 1 MiB.

mod args;
mod textrank;

use std::collections::BTreeMap;

use rust_stemmers::{Algorithm, Stemmer};
use sandnotes_nlp::{is_stop_word, split_sentences};
use serde::Serialize;

pub use args::{ArgsError, DEFAULT_SENTENCES, MAX_SENTENCES, SummaryLength};

/// Number of sentences, from the start of the note, that are ranked. Later
/// sentences never appear in a summary. At 500 sentences the similarity graph
/// has at most about 125,000 edges. The longest corpus text has about 400.
pub const MAX_RANKED_SENTENCES: usize = 500;

/// Number of words, from the start of the note, whose sentences are ranked.
/// It bounds the cost of comparing sentences when they are long.
pub const MAX_RANKED_WORDS: usize = 20_000;

/// Maximum length of a returned sentence, in bytes. Longer sentences are cut.
pub const MAX_SENTENCE_BYTES: usize = 4096;

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
    let mut words_read = 0;
    for sentence in split_sentences(text).take(MAX_RANKED_SENTENCES) {
        words_read += sentence.source.split_whitespace().count();
        if words_read > MAX_RANKED_WORDS {
            break;
        }
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
            .map(|i| shorten(candidates[i].normalized()))
            .collect(),
    }
}

/// Cuts a sentence longer than [`MAX_SENTENCE_BYTES`] at the last space that
/// fits and appends `…`.
fn shorten(mut sentence: String) -> String {
    if sentence.len() <= MAX_SENTENCE_BYTES {
        return sentence;
    }
    let mut cut = MAX_SENTENCE_BYTES - '…'.len_utf8();
    while !sentence.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(space) = sentence[..cut].rfind(' ') {
        cut = space;
    }
    sentence.truncate(cut);
    sentence.push('…');
    sentence
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
    fn long_sentence_is_cut_at_a_word() {
        let text = format!("{}end.", "word ".repeat(2000));
        let summary = summarize(&text, SummaryLength::Sentences(1));
        let sentence = &summary.sentences[0];
        assert!(sentence.len() <= MAX_SENTENCE_BYTES, "{}", sentence.len());
        assert!(
            sentence.ends_with("word…"),
            "{}",
            &sentence[sentence.len() - 20..]
        );
    }

    #[test]
    fn sentences_past_the_word_cap_are_not_ranked() {
        // The long sentence crosses the word cap, so neither it nor the
        // sentence after it is ranked.
        let long = format!(
            "{}ships.\n\n",
            "many words about ships ".repeat(MAX_RANKED_WORDS / 4)
        );
        let text = format!("Ships sail. Ships sink.\n\n{long}Unique ships appear here.");
        let summary = summarize(&text, SummaryLength::Sentences(100));
        assert_eq!(summary.sentences.len(), 2);
        assert_eq!(summary.sentences[0], "Ships sail.");
        assert_eq!(summary.sentences[1], "Ships sink.");
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

    #[test]
    fn plugin_entry_point_reads_note_and_args() {
        sandnotes_plugin_sdk::testing::set_note("Whales", WHALES);
        let output = run(sandnotes_plugin_sdk::Args::new(r#"{"sentences": 1}"#)).unwrap();
        assert_eq!(
            output,
            sandnotes_plugin_sdk::Output::Json(
                r#"{"sentences":["Whales are large marine mammals."]}"#.to_owned()
            )
        );
    }

    #[test]
    fn plugin_entry_point_rejects_invalid_args() {
        sandnotes_plugin_sdk::testing::set_note("Whales", WHALES);
        let error = run(sandnotes_plugin_sdk::Args::new(r#"{"ratio": 2}"#)).unwrap_err();
        assert_eq!(
            error,
            "invalid \"ratio\": 2; expected a number greater than 0 and at most 1"
        );
    }
}
