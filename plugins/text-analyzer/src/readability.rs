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
//! - **Syllables** are summed over the words, each lowercased and without
//!   punctuation: hyphenation points plus one, see [`crate::syllables`].
//!   textstat finds the points with Pyphen's `hyph_en_US` dictionary, and
//!   this crate with the hyph-utf8 en-US patterns in the `hyphenation`
//!   crate.

use serde::Serialize;

use crate::scan::{Counts, scan};
use crate::syllables::{SyllableCounter, VocabularyTooLarge};

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
    match analyze_with(text, &mut SyllableCounter::unbounded()) {
        Ok(report) => report,
        Err(error) => unreachable!("an unbounded syllable counter failed: {error}"),
    }
}

/// Computes every statistic of `text`, counting syllables with `counter`.
///
/// # Errors
///
/// Returns the counter's error when the text's distinct words exceed its
/// maximum total length.
pub fn analyze_with(
    text: &str,
    counter: &mut SyllableCounter,
) -> Result<Report, VocabularyTooLarge> {
    let Counts {
        words,
        sentences,
        syllables,
        characters,
    } = scan(text, counter)?;

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

    Ok(Report {
        words,
        sentences,
        syllables,
        characters,
        average_words_per_sentence,
        flesch_reading_ease,
        flesch_kincaid_grade,
    })
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

/// Counts every figure of `text` with no bound on its distinct words.
fn scan_unbounded(text: &str) -> Counts {
    match scan(text, &mut SyllableCounter::unbounded()) {
        Ok(counts) => counts,
        Err(error) => unreachable!("an unbounded syllable counter failed: {error}"),
    }
}

/// Counts the words of `text`.
pub fn count_words(text: &str) -> usize {
    scan_unbounded(text).words
}

/// Counts the sentences of `text`, at least one.
pub fn count_sentences(text: &str) -> usize {
    scan_unbounded(text).sentences
}

/// Counts the syllables of all words of `text`.
pub fn count_syllables(text: &str) -> usize {
    scan_unbounded(text).syllables
}

/// Counts the characters of `text` other than whitespace.
pub fn count_characters(text: &str) -> usize {
    scan_unbounded(text).characters
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
        // textstat's segments are "Hello,\" she said.", "3." and
        // "5 is big!". The middle one has one word and is not a sentence.
        assert_eq!(count_sentences("\"Hello,\" she said. 3.5 is big!"), 2);
        assert_eq!(count_words("\"Hello,\" she said. 3.5 is big!"), 6);
    }

    #[test]
    fn segments_start_at_word_characters() {
        // "... and then" is not a segment start; the segment begins at
        // "and" and ends after "?!".
        assert_eq!(count_sentences("... and then what?! -- one two three"), 2);
        assert_eq!(count_sentences("Yes. No. Maybe so."), 1);
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
    fn analyze_pins_hyphenation_figures() {
        // Syllables: "Readability" 4 (read-abil-i-ty), "formulas" 3
        // (for-mu-las), "estimate" 3 (es-ti-mate), "how" 1, "difficult" 3
        // (dif-fi-cult), "a" 1, "passage" 2 (pas-sage), "is" 1, "to" 1,
        // "understand" 3 (un-der-stand): 22 in 10 words, one sentence.
        let report =
            analyze("Readability formulas estimate how difficult a passage is to understand.");

        assert_eq!(report.words, 10);
        assert_eq!(report.sentences, 1);
        assert_eq!(report.syllables, 22);
        assert_eq!(report.characters, 62);

        // 206.835 - 1.015 * 10 - 84.6 * 2.2 and 0.39 * 10 + 11.8 * 2.2 - 15.59.
        let ease = report.flesch_reading_ease.unwrap();
        let grade = report.flesch_kincaid_grade.unwrap();
        assert!((ease - 10.565).abs() < 1e-9, "{ease}");
        assert!((grade - 14.27).abs() < 1e-9, "{grade}");
    }

    #[test]
    fn syllables_of_non_ascii_words() {
        // "Mémoires" is lowercased to "mémoires" (mé-moires, 2 syllables).
        // "İstanbul" is lowercased to "i", a combining dot and "stanbul";
        // the dot is not a word character, which leaves "istanbul"
        // (is-tan-bul, 3 syllables).
        assert_eq!(count_syllables("Mémoires"), 2);
        assert_eq!(count_syllables("İstanbul"), 3);
        assert_eq!(count_words("İstanbul"), 1);
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
