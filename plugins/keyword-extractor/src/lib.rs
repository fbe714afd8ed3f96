//! The `keyword-extractor` sample plugin: YAKE keywords and keyphrases of a
//! note.
//!
//! Candidates are phrases of one to three words that neither start nor end
//! with an English stop word and contain no number. Each gets a YAKE score
//! (lower is better) from the casing, position, frequency, context and spread
//! of its words. A candidate whose lower-case form is more than 90% similar
//! (normalized Levenshtein) to a better one is dropped as a duplicate.
//!
//! Arguments (JSON): `{"max_keywords": n}` with n in 1..=100, default 10.
//!
//! Output (JSON): `{"keywords": [{"phrase": "...", "score": x}, ...]}`, best
//! (lowest score) first, each phrase as it first appears in the note.
//!
//! Limits: only the first [`MAX_WORDS`] words of the note are read, which
//! bounds memory on a 1 MiB note.

mod args;
mod dedup;
mod tokens;
mod yake;

use serde::Serialize;

pub use args::{ArgsError, DEFAULT_MAX_KEYWORDS, MAX_KEYWORDS, parse_max_keywords};

/// Number of words, from the start of the note, that are read. Later words
/// do not count. 10,000 words is about 60 KB of English prose, more than the
/// longest corpus text (7,699 words). At this cap a 1,000,000-byte note of
/// distinct words costs about half the default fuel budget in the worker.
pub const MAX_WORDS: usize = 10_000;

/// The plugin's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keywords {
    /// The keywords, best first.
    pub keywords: Vec<Keyword>,
}

/// One keyword or keyphrase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyword {
    /// The phrase as it first appears in the note.
    pub phrase: String,
    /// YAKE score: positive, and lower means more relevant.
    pub score: f64,
}

/// Extracts up to `max_keywords` keywords from `text`. Deterministic: equal
/// scores keep the order in which the phrases first appear.
pub fn extract_keywords(text: &str, max_keywords: usize) -> Keywords {
    let mut selected: Vec<yake::ScoredPhrase> = Vec::new();
    for phrase in yake::score_phrases(text, MAX_WORDS) {
        if selected.len() >= max_keywords {
            break;
        }
        let duplicate = selected
            .iter()
            .any(|k| dedup::similarity(&k.key, &phrase.key) > dedup::DUPLICATE_THRESHOLD);
        if !duplicate {
            selected.push(phrase);
        }
    }

    Keywords {
        keywords: selected
            .into_iter()
            .map(|p| Keyword {
                phrase: p.surface,
                score: p.score,
            })
            .collect(),
    }
}

/// The plugin entry point: extracts keywords from the note body.
fn run(args: sandnotes_plugin_sdk::Args) -> Result<sandnotes_plugin_sdk::Output, String> {
    let max_keywords = parse_max_keywords(args.as_str()).map_err(|e| e.to_string())?;
    let keywords = extract_keywords(&sandnotes_plugin_sdk::note::body(), max_keywords);
    sandnotes_plugin_sdk::Output::json(&keywords)
}

sandnotes_plugin_sdk::export_plugin!(run);

#[cfg(test)]
mod tests {
    use super::*;

    const ETHER: &str = "The luminiferous ether was thought to fill all space. \
        Light waves travel through the ether, physicists said. \
        Michelson and Morley measured the speed of light in two directions. \
        They found no motion through the ether. \
        Einstein later showed that the ether was not needed to explain light.";

    fn phrases(keywords: &Keywords) -> Vec<&str> {
        keywords
            .keywords
            .iter()
            .map(|k| k.phrase.as_str())
            .collect()
    }

    #[test]
    fn pins_top_keywords_of_short_text() {
        // yake 0.7.3 returns the same five phrases first on this text.
        let keywords = extract_keywords(ETHER, 5);
        assert_eq!(
            phrases(&keywords),
            [
                "fill all space",
                "thought to fill",
                "luminiferous ether",
                "ether",
                "space"
            ]
        );
        assert!(
            (keywords.keywords[0].score - 0.035_318_873).abs() < 1e-6,
            "{keywords:?}"
        );
    }

    #[test]
    fn scores_ascend() {
        let keywords = extract_keywords(ETHER, 20);
        for pair in keywords.keywords.windows(2) {
            assert!(pair[0].score <= pair[1].score, "{pair:?}");
        }
        assert!(keywords.keywords.iter().all(|k| k.score > 0.0));
    }

    #[test]
    fn max_keywords_bounds_output() {
        assert_eq!(extract_keywords(ETHER, 1).keywords.len(), 1);
        assert_eq!(extract_keywords(ETHER, 3).keywords.len(), 3);
    }

    #[test]
    fn same_input_gives_same_output() {
        assert_eq!(extract_keywords(ETHER, 10), extract_keywords(ETHER, 10));
    }

    #[test]
    fn near_duplicates_are_dropped() {
        let text =
            "Whale ships hunt whales. The whale ship and whale ships sail. A whale ship sank.";
        let keywords = extract_keywords(text, 20);
        let lower: Vec<String> = keywords
            .keywords
            .iter()
            .map(|k| k.phrase.to_lowercase())
            .collect();
        assert!(
            !(lower.contains(&"whale ship".to_owned())
                && lower.contains(&"whale ships".to_owned())),
            "{lower:?}"
        );
    }

    #[test]
    fn empty_note_has_no_keywords() {
        assert!(extract_keywords("", 10).keywords.is_empty());
    }

    #[test]
    fn output_serializes_as_documented() {
        let json = serde_json::to_value(extract_keywords("Ether waves. Ether drift.", 1)).unwrap();
        assert_eq!(json["keywords"][0]["phrase"], "Ether waves");
        assert!(json["keywords"][0]["score"].is_f64());
    }

    #[test]
    fn plugin_entry_point_reads_note_and_args() {
        sandnotes_plugin_sdk::testing::set_note("Ether", ETHER);
        let output = run(sandnotes_plugin_sdk::Args::new(r#"{"max_keywords": 2}"#)).unwrap();
        let sandnotes_plugin_sdk::Output::Json(json) = output else {
            panic!("expected JSON output, got {output:?}");
        };
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["keywords"][0]["phrase"], "fill all space");
        assert_eq!(value["keywords"][1]["phrase"], "thought to fill");
        assert_eq!(value["keywords"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn plugin_entry_point_rejects_invalid_args() {
        sandnotes_plugin_sdk::testing::set_note("Ether", ETHER);
        let error = run(sandnotes_plugin_sdk::Args::new(r#"{"max_keywords": 500}"#)).unwrap_err();
        assert_eq!(
            error,
            "invalid \"max_keywords\": 500; expected an integer from 1 to 100"
        );
    }
}
