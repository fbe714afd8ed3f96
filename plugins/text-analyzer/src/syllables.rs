//! Syllable counts from Knuth-Liang hyphenation.
//!
//! textstat 0.7.4 counts a word's syllables as the number of hyphenation
//! points that Pyphen finds in it, plus one. This module counts the same
//! way with the en-US dictionary of the `hyphenation` crate (0.8.4, MIT or
//! Apache-2.0), made from the hyph-utf8 files `hyph-en-us.pat.txt`
//! (Liang's patterns) and `hyph-en-us.hyp.txt` (exception words). The
//! crate's README refers to the hyph-utf8 master files for the licenses of
//! the patterns. An exception word takes its listed breaks in place of
//! the patterns.
//!
//! The build script copies that dictionary into static tables, and
//! [`crate::liang`] applies them as the crate's `Standard::hyphenate`
//! does, so a run loads no dictionary. The test
//! `tests/hyphenation_crate.rs` checks that the counts equal the crate's.
//!
//! A break needs at least [`MIN_CHARS_BEFORE_BREAK`] characters before it
//! and [`MIN_CHARS_AFTER_BREAK`] after it, Pyphen's defaults (the crate's
//! en-US default is two and three). A word of three characters or fewer
//! is therefore one syllable. The patterns contain only `a` to `z`, so
//! digits, `_` and other letters never start a break. They still count as
//! characters for the margins.
//!
//! NOTE: Pyphen 0.18.1 uses its `hyph_en_US.dic`, which its README
//! describes as plain TeX's `hyphen.tex` patterns with the TUGboat
//! exception list turned into patterns. On the 5,780 distinct words of
//! `corpus/`, 73 get a different count here (`every` and `woman` are 2 for
//! Pyphen and 1 here), and the corpus total is 0.15 % lower.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::liang;

/// Minimum characters before a break, as Pyphen's default `left=2`.
pub const MIN_CHARS_BEFORE_BREAK: usize = 2;
/// Minimum characters after a break, as Pyphen's default `right=2`.
pub const MIN_CHARS_AFTER_BREAK: usize = 2;

/// Soft hyphen, which the `hyphenation` crate takes as the only breaks of
/// a word that contains one.
const SOFT_HYPHEN: char = '\u{ad}';

/// Counts the syllables of one word: its hyphenation points plus one.
///
/// `word` should be one token without whitespace or punctuation, as
/// [`crate::readability`] splits the text. Uppercase letters are matched
/// as lowercase.
pub fn count_in_word(word: &str) -> usize {
    count_breaks(word) + 1
}

/// Counts the breaks that `hyphenation::Standard::hyphenate` 0.8.4 finds
/// in `word`, with Pyphen's margins.
fn count_breaks(word: &str) -> usize {
    // The crate returns the soft hyphens as they are, margins ignored.
    if word.contains(SOFT_HYPHEN) {
        return word.matches(SOFT_HYPHEN).count();
    }

    let word = fold_case(word);
    let Some((first, last)) = break_bounds(&word) else {
        return 0;
    };
    match liang::exception_breaks(&word) {
        Some(breaks) => breaks
            .iter()
            .filter(|&&offset| (first..=last).contains(&usize::from(offset)))
            .count(),
        None => liang::count_pattern_breaks(&word, first, last),
    }
}

/// Lowercases `word` as the `hyphenation` crate does: `to_lowercase`, and
/// where that changes the length (the crate expects only from `İ`), `i`
/// with a combining dot above becomes a plain `i`.
fn fold_case(word: &str) -> Cow<'_, str> {
    if !word.chars().any(char::is_uppercase) {
        return Cow::Borrowed(word);
    }
    let lowercase = word.to_lowercase();
    if lowercase.len() == word.len() {
        Cow::Owned(lowercase)
    } else {
        Cow::Owned(lowercase.replace("i\u{307}", "i"))
    }
}

/// Returns the first and last byte offsets where the margins allow a break
/// before that byte, or `None` when the word is too short for any.
fn break_bounds(word: &str) -> Option<(usize, usize)> {
    if word.chars().count() < MIN_CHARS_BEFORE_BREAK + MIN_CHARS_AFTER_BREAK {
        return None;
    }
    let (first, _) = word.char_indices().nth(MIN_CHARS_BEFORE_BREAK)?;
    let (last, _) = word.char_indices().rev().nth(MIN_CHARS_AFTER_BREAK - 1)?;
    Some((first, last))
}

/// Syllable counter for one text that hyphenates each distinct word once.
///
/// Hyphenation is the costly step, so a text's cost grows with the total
/// length of its distinct words (its vocabulary) more than with its length.
/// A counter can bound that total so that a run stays within a fuel budget.
#[derive(Debug)]
pub struct SyllableCounter {
    /// Syllables of each distinct word seen so far.
    known: FxHashMap<String, usize>,
    vocabulary_bytes: usize,
    max_vocabulary_bytes: usize,
}

impl SyllableCounter {
    /// Creates a counter that rejects a word once the distinct words seen
    /// so far, that word included, exceed `max_vocabulary_bytes` bytes in
    /// total.
    pub fn with_max_vocabulary_bytes(max_vocabulary_bytes: usize) -> Self {
        Self {
            known: FxHashMap::default(),
            vocabulary_bytes: 0,
            max_vocabulary_bytes,
        }
    }

    /// Creates a counter without a vocabulary bound.
    pub fn unbounded() -> Self {
        Self::with_max_vocabulary_bytes(usize::MAX)
    }

    /// Counts the syllables of `word`, as [`count_in_word`] does.
    ///
    /// # Errors
    ///
    /// Returns [`VocabularyTooLarge`] when `word` is new and would take the
    /// total length of distinct words over the counter's maximum.
    pub fn count(&mut self, word: &str) -> Result<usize, VocabularyTooLarge> {
        // Fewer bytes than the two margins means fewer characters too, so
        // there is no room for a break.
        if word.len() < MIN_CHARS_BEFORE_BREAK + MIN_CHARS_AFTER_BREAK {
            return Ok(1);
        }
        if let Some(&syllables) = self.known.get(word) {
            return Ok(syllables);
        }

        let vocabulary_bytes = self.vocabulary_bytes.saturating_add(word.len());
        if vocabulary_bytes > self.max_vocabulary_bytes {
            return Err(VocabularyTooLarge {
                max_vocabulary_bytes: self.max_vocabulary_bytes,
            });
        }
        self.vocabulary_bytes = vocabulary_bytes;

        let syllables = count_in_word(word);
        self.known.insert(word.to_owned(), syllables);
        Ok(syllables)
    }
}

/// Error of a text whose distinct words exceed a [`SyllableCounter`]'s
/// maximum total length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabularyTooLarge {
    /// The counter's maximum total length of distinct words, in bytes.
    pub max_vocabulary_bytes: usize,
}

impl fmt::Display for VocabularyTooLarge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "the distinct words of the text exceed {} bytes in total, the maximum that \
             text-analyzer hyphenates in one run; split the note into smaller notes",
            self.max_vocabulary_bytes
        )
    }
}

impl std::error::Error for VocabularyTooLarge {}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn assert_syllables(cases: &[(&str, usize)]) {
        for &(word, expected) in cases {
            assert_eq!(count_in_word(word), expected, "syllables of {word:?}");
        }
    }

    // Expected counts are Pyphen 0.18.1's (`hyph_en_US`, left=2, right=2),
    // except in `counts_that_differ_from_pyphen`.

    #[test]
    fn pattern_breaks_count_one_each() {
        assert_syllables(&[
            ("readability", 4),
            ("beautiful", 3),
            ("happy", 2),
            ("little", 2),
            ("sentence", 2),
        ]);
    }

    #[test]
    fn words_without_breaks_are_one_syllable() {
        assert_syllables(&[
            ("cat", 1),
            ("the", 1),
            ("there", 1),
            ("walked", 1),
            ("rhythm", 1),
        ]);
    }

    #[test]
    fn margins_are_two_characters() {
        // Too short for two characters on each side of a break.
        assert_syllables(&[("a", 1), ("an", 1), ("ago", 1)]);
        // "al-so" and "in-to" have exactly two.
        assert_syllables(&[("also", 2), ("into", 2)]);
    }

    #[test]
    fn exception_words_use_listed_breaks() {
        // hyph-en-us.hyp.txt lists "acro-nym", "ar-chive" and "acad-e-my";
        // the patterns alone find no break in the first two.
        assert_syllables(&[("acronym", 2), ("archive", 2), ("academy", 3)]);
    }

    #[test]
    fn counts_that_differ_from_pyphen() {
        // Pyphen's hyph_en_US gives ev-ery, wom-an, hy-phen-ation, method.
        assert_syllables(&[
            ("every", 1),
            ("woman", 1),
            ("hyphenation", 4),
            ("method", 2),
        ]);
    }

    #[test]
    fn counter_matches_count_in_word() {
        let mut counter = SyllableCounter::unbounded();

        for word in ["readability", "readability", "cat", "academy", "woman"] {
            assert_eq!(counter.count(word), Ok(count_in_word(word)), "{word:?}");
        }
    }

    #[test]
    fn counter_limits_distinct_word_bytes() {
        let mut counter = SyllableCounter::with_max_vocabulary_bytes(12);

        assert_eq!(counter.count("readable"), Ok(2));
        // Seen words and words under four bytes add nothing.
        assert_eq!(counter.count("readable"), Ok(2));
        assert_eq!(counter.count("cat"), Ok(1));
        assert_eq!(counter.count("also"), Ok(2));
        assert_eq!(
            counter.count("beautiful"),
            Err(VocabularyTooLarge {
                max_vocabulary_bytes: 12
            })
        );
    }

    #[test]
    fn uppercase_matches_as_lowercase() {
        assert_eq!(count_in_word("Hyphenation"), count_in_word("hyphenation"));
        assert_eq!(count_in_word("READABILITY"), 4);
    }

    #[test]
    fn digits_and_other_scripts_have_no_breaks() {
        assert_syllables(&[("1813", 1), ("186000", 1), ("_", 1), ("ménage", 2)]);
    }
}
