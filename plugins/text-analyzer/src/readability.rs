//! Counting rules and readability scores.
//!
//! The rules follow the `textstat` Python package, version 0.7.4, so that
//! the figures agree with that common tool on ordinary English prose:
//!
//! - **Punctuation** is every character that is neither a word character
//!   (a Unicode letter or number, or `_`) nor whitespace. Removing it joins
//!   the parts of a word: `don't` becomes `dont` and `well-known` becomes
//!   `wellknown`, one word each.
//! - **Words** are the whitespace-separated tokens left after removing
//!   punctuation. A token of punctuation alone (a dash between spaces) is
//!   not a word.
//! - **Sentences** are the text's segments that start at a word character
//!   and run through the next group of `.`, `!` or `?` (or the end of the
//!   text). A segment with two words or fewer is not counted, which keeps
//!   abbreviations such as `Mr.` and `e.g.` from splitting a sentence. Every
//!   text has at least one sentence.
//! - **Characters** are all characters other than whitespace, punctuation
//!   included.
//! - **Syllables** are summed over the words, lowercased; see
//!   [`crate::syllables`]. Here textstat differs: it uses the Pyphen
//!   hyphenation dictionary.

use serde::Serialize;

use crate::syllables;

/// Base of the Flesch reading-ease score.
const FLESCH_BASE: f64 = 206.835;
/// Flesch reading-ease weight of the average words per sentence.
const FLESCH_SENTENCE_WEIGHT: f64 = 1.015;
/// Flesch reading-ease weight of the average syllables per word.
const FLESCH_SYLLABLE_WEIGHT: f64 = 84.6;

/// Flesch-Kincaid grade weight of the average words per sentence.
const KINCAID_SENTENCE_WEIGHT: f64 = 0.39;
/// Flesch-Kincaid grade weight of the average syllables per word.
const KINCAID_SYLLABLE_WEIGHT: f64 = 11.8;
/// Flesch-Kincaid grade offset.
const KINCAID_OFFSET: f64 = 15.59;

/// Readability statistics of one text, serialized as the plugin's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
    pub characters: usize,
    /// `words / sentences`; `None` when there are no words.
    pub average_words_per_sentence: Option<f64>,
    /// Flesch reading ease; `None` when there are no words.
    pub flesch_reading_ease: Option<f64>,
    /// Flesch-Kincaid grade level; `None` when there are no words.
    pub flesch_kincaid_grade: Option<f64>,
}

/// Computes every statistic of `text`.
pub fn analyze(text: &str) -> Report {
    let words = count_words(text);
    let sentences = count_sentences(text);
    let syllables = count_syllables(text);
    let characters = count_characters(text);

    let (average_words_per_sentence, flesch_reading_ease, flesch_kincaid_grade) = if words == 0 {
        (None, None, None)
    } else {
        let words_per_sentence = words as f64 / sentences as f64;
        let syllables_per_word = syllables as f64 / words as f64;
        (
            Some(words_per_sentence),
            Some(flesch_reading_ease(words_per_sentence, syllables_per_word)),
            Some(flesch_kincaid_grade(words_per_sentence, syllables_per_word)),
        )
    };

    Report {
        words,
        sentences,
        syllables,
        characters,
        average_words_per_sentence,
        flesch_reading_ease,
        flesch_kincaid_grade,
    }
}

/// Flesch reading ease: higher is easier, 60 to 70 is plain English.
pub fn flesch_reading_ease(words_per_sentence: f64, syllables_per_word: f64) -> f64 {
    FLESCH_BASE
        - FLESCH_SENTENCE_WEIGHT * words_per_sentence
        - FLESCH_SYLLABLE_WEIGHT * syllables_per_word
}

/// Flesch-Kincaid grade: the US school grade that can read the text.
pub fn flesch_kincaid_grade(words_per_sentence: f64, syllables_per_word: f64) -> f64 {
    KINCAID_SENTENCE_WEIGHT * words_per_sentence + KINCAID_SYLLABLE_WEIGHT * syllables_per_word
        - KINCAID_OFFSET
}

/// Reports whether `c` is a word character: a letter, a number or `_`, as
/// Python's `\w`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_sentence_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// Returns `text` without punctuation: only word characters and whitespace
/// remain.
pub fn remove_punctuation(text: &str) -> String {
    text.chars()
        .filter(|&c| is_word_char(c) || c.is_whitespace())
        .collect()
}

/// Counts the words of `text`.
pub fn count_words(text: &str) -> usize {
    remove_punctuation(text).split_whitespace().count()
}

/// Counts the characters of `text` other than whitespace.
pub fn count_characters(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// Counts the syllables of all words of `text`.
pub fn count_syllables(text: &str) -> usize {
    remove_punctuation(&text.to_lowercase())
        .split_whitespace()
        .map(syllables::count_in_word)
        .sum()
}

/// Counts the sentences of `text`, at least one.
pub fn count_sentences(text: &str) -> usize {
    let counted = sentence_segments(text)
        .filter(|segment| count_words(segment) > 2)
        .count();
    counted.max(1)
}

/// Splits `text` into segments that start at a word character and end after
/// the next run of sentence terminators, the same segments as textstat's
/// regular expression `\b[^.!?]+[.!?]*`.
fn sentence_segments(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(is_word_char)?;
        let segment = &rest[start..];

        let body_end = segment
            .find(is_sentence_terminator)
            .unwrap_or(segment.len());
        let terminators_end = segment[body_end..]
            .find(|c| !is_sentence_terminator(c))
            .map_or(segment.len(), |offset| body_end + offset);

        rest = &segment[terminators_end..];
        Some(&segment[..terminators_end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_ignore_punctuation() {
        assert_eq!(count_words("Don't stop -- it's well-known."), 4);
    }

    #[test]
    fn words_of_empty_text_are_zero() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words(" \n\t ... "), 0);
    }

    #[test]
    fn characters_exclude_whitespace_only() {
        assert_eq!(count_characters("Hi, you!\n"), 7);
    }

    #[test]
    fn sentences_end_at_terminators() {
        let text = "The cat sat down. Did the dog bark at it? It surely did!";

        assert_eq!(count_sentences(text), 3);
    }

    #[test]
    fn short_segments_are_not_sentences() {
        let text = "Mr. Bennet went to town. He came back late.";

        assert_eq!(count_sentences(text), 2);
    }

    #[test]
    fn terminator_runs_end_one_sentence() {
        assert_eq!(
            count_sentences("What did you say?! I said nothing at all..."),
            2
        );
    }

    #[test]
    fn text_without_terminator_is_one_sentence() {
        assert_eq!(count_sentences("a list of words without an end"), 1);
        assert_eq!(count_sentences(""), 1);
    }

    #[test]
    fn segments_match_textstat_regex() {
        let segments: Vec<&str> = sentence_segments("\"Hello,\" she said. 3.5 is big!").collect();

        assert_eq!(segments, ["Hello,\" she said.", "3.", "5 is big!"]);
    }

    #[test]
    fn analyze_computes_scores() {
        // 12 words, 2 sentences, 14 syllables: "The" 1, "cat" 1, "sat" 1,
        // "on" 1, "the" 1, "mat" 1; "It" 1, "was" 1, "a" 1, "happy" 2,
        // "little" 2, "cat" 1.
        let report = analyze("The cat sat on the mat. It was a happy little cat.");

        assert_eq!(report.words, 12);
        assert_eq!(report.sentences, 2);
        assert_eq!(report.syllables, 14);
        assert_eq!(report.characters, 39);
        assert_eq!(report.average_words_per_sentence, Some(6.0));

        let ease = report.flesch_reading_ease.unwrap();
        let grade = report.flesch_kincaid_grade.unwrap();
        assert!(
            (ease - (206.835 - 1.015 * 6.0 - 84.6 * 14.0 / 12.0)).abs() < 1e-9,
            "{ease}"
        );
        assert!(
            (grade - (0.39 * 6.0 + 11.8 * 14.0 / 12.0 - 15.59)).abs() < 1e-9,
            "{grade}"
        );
    }

    #[test]
    fn analyze_of_empty_text_has_no_scores() {
        let report = analyze("");

        assert_eq!(report.words, 0);
        assert_eq!(report.sentences, 1);
        assert_eq!(report.flesch_reading_ease, None);
        assert_eq!(report.flesch_kincaid_grade, None);
    }

    #[test]
    fn report_serializes_snake_case_fields() {
        let json = serde_json::to_value(analyze("One two three.")).unwrap();

        for field in [
            "words",
            "sentences",
            "syllables",
            "characters",
            "average_words_per_sentence",
            "flesch_reading_ease",
            "flesch_kincaid_grade",
        ] {
            assert!(json.get(field).is_some(), "missing field {field}");
        }
    }
}
