//! Syllable estimate for one English word.
//!
//! A vowel-group count with English adjustments, in this order:
//!
//! 1. The word is lowercased, accented Latin vowels are folded to their base
//!    vowel (`é` counts as `e`), and everything but `a` to `z` is dropped.
//!    A token with no letters left (a number such as `1813`) is one
//!    syllable.
//! 2. Each maximal group of vowels counts one. The vowels are `a e i o u`,
//!    and `y` except as the first letter (`yes`, but `happy`).
//! 3. Silent endings subtract one:
//!    - a final `e` after a consonant (`make`, `there`), except `le` after a
//!      consonant (`table`, `little`) and an accented final `é` (`café`);
//!    - `es` after a consonant (`makes`, `lives`), except after `s`, `x`,
//!      `z`, `c`, `g`, `ch`, `sh` (`boxes`, `places`, `wishes`) and `les`
//!      after a consonant (`tables`);
//!    - `ed` after a consonant other than `t` or `d` (`walked`), except
//!      `led` or `red` after a consonant other than `l` or `r` (`settled`,
//!      `hundred`);
//!    - an `e` before the suffixes `ly`, `ment`, `ful`, `less` or `ness`
//!      when a vowel and a consonant precede it (`lovely`, `movement`).
//! 4. Vowel pairs that are spoken as two syllables add one each:
//!    - `ia` and `io` unless after `c`, `t`, `s`, `x` or `g` (`media`,
//!      `lion`, but `social`, `nation`, `region`);
//!    - `ua` unless after `q` or `g` (`actual`, but `equal`);
//!    - `eo` unless before `p`, `r` or `u` (`video`, but `people`, `George`,
//!      `gorgeous`);
//!    - a final `ier` or `iest` after a consonant in a word of five letters
//!      or more (`happier`).
//! 5. Every word has at least one syllable.
//!
//! NOTE: a heuristic misses irregular words (`recipe`, `element`, `area`),
//! and textstat 0.7.4 counts with the Pyphen hyphenation dictionary
//! instead, so syllable counts differ from textstat's by a few percent.

/// Estimates the syllables of one word.
pub fn count_in_word(word: &str) -> usize {
    let letters = fold_letters(word);
    if letters.is_empty() {
        return 1;
    }

    let accented_final_e = word
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, 'é' | 'É'));
    let word = Letters {
        letters: &letters,
        accented_final_e,
    };
    let count = word.vowel_groups() + word.hiatuses();
    count.saturating_sub(word.silent_endings()).max(1)
}

/// Lowercases `word`, folds accented vowels and keeps `a` to `z`.
fn fold_letters(word: &str) -> Vec<u8> {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| {
            let folded = match c {
                'à'..='å' => 'a',
                'è'..='ë' => 'e',
                'ì'..='ï' => 'i',
                'ò'..='ö' => 'o',
                'ù'..='ü' => 'u',
                other => other,
            };
            folded.is_ascii_lowercase().then_some(folded as u8)
        })
        .collect()
}

/// A word as lowercase ASCII letters.
struct Letters<'a> {
    letters: &'a [u8],
    /// Whether the word ends in `é`, which is spoken.
    accented_final_e: bool,
}

impl Letters<'_> {
    fn len(&self) -> usize {
        self.letters.len()
    }

    fn at(&self, index: usize) -> Option<u8> {
        self.letters.get(index).copied()
    }

    /// Reports whether the letter at `index` is a vowel; `y` is one except
    /// as the first letter.
    fn is_vowel(&self, index: usize) -> bool {
        match self.at(index) {
            Some(b'a' | b'e' | b'i' | b'o' | b'u') => true,
            Some(b'y') => index > 0,
            _ => false,
        }
    }

    fn is_consonant(&self, index: usize) -> bool {
        self.at(index).is_some() && !self.is_vowel(index)
    }

    fn ends_with(&self, suffix: &str) -> bool {
        self.letters.ends_with(suffix.as_bytes())
    }

    /// Index of the letter `back` places before the end (0 is the last).
    fn index_from_end(&self, back: usize) -> Option<usize> {
        self.len().checked_sub(back + 1)
    }

    fn vowel_groups(&self) -> usize {
        (0..self.len())
            .filter(|&i| self.is_vowel(i) && (i == 0 || !self.is_vowel(i - 1)))
            .count()
    }

    fn hiatuses(&self) -> usize {
        let mut count = 0;
        for i in 0..self.len().saturating_sub(1) {
            let previous = i.checked_sub(1).and_then(|p| self.at(p));
            let next = self.at(i + 2);
            let is_hiatus = match (self.letters[i], self.letters[i + 1]) {
                (b'i', b'a' | b'o') => !matches!(previous, Some(b'c' | b't' | b's' | b'x' | b'g')),
                (b'u', b'a') => !matches!(previous, Some(b'q' | b'g')),
                (b'e', b'o') => !matches!(next, Some(b'p' | b'r' | b'u')),
                _ => false,
            };
            count += usize::from(is_hiatus);
        }

        let comparative = (self.ends_with("ier")
            && self.index_from_end(3).is_some_and(|i| self.is_consonant(i)))
            || (self.ends_with("iest")
                && self.index_from_end(4).is_some_and(|i| self.is_consonant(i)));
        if comparative && self.len() >= 5 {
            count += 1;
        }
        count
    }

    fn silent_endings(&self) -> usize {
        let mut count = 0;

        if self.ends_with("e") {
            count += usize::from(self.has_silent_final_e());
        } else if self.ends_with("es") {
            count += usize::from(self.has_silent_es());
        } else if self.ends_with("ed") {
            count += usize::from(self.has_silent_ed());
        }

        count += usize::from(self.has_silent_e_before_suffix());
        count
    }

    fn has_silent_final_e(&self) -> bool {
        let Some(before) = self.index_from_end(1) else {
            return false;
        };
        if self.accented_final_e {
            return false;
        }
        if !self.is_consonant(before) {
            return false;
        }
        let is_consonant_le =
            self.ends_with("le") && self.index_from_end(2).is_some_and(|i| self.is_consonant(i));
        !is_consonant_le
    }

    fn has_silent_es(&self) -> bool {
        let (Some(before), Some(second)) = (self.index_from_end(2), self.index_from_end(3)) else {
            return false;
        };
        if !self.is_consonant(before) {
            return false;
        }
        let sibilant = matches!(self.letters[before], b's' | b'x' | b'z' | b'c' | b'g')
            || (self.letters[before] == b'h' && matches!(self.letters[second], b'c' | b's'));
        let consonant_les = self.letters[before] == b'l' && self.is_consonant(second);
        !sibilant && !consonant_les
    }

    fn has_silent_ed(&self) -> bool {
        let (Some(before), Some(second)) = (self.index_from_end(2), self.index_from_end(3)) else {
            return false;
        };
        if !self.is_consonant(before) || matches!(self.letters[before], b't' | b'd') {
            return false;
        }
        let spoken_led_or_red = matches!(self.letters[before], b'l' | b'r')
            && self.is_consonant(second)
            && !matches!(self.letters[second], b'l' | b'r');
        !spoken_led_or_red
    }

    fn has_silent_e_before_suffix(&self) -> bool {
        ["ly", "ment", "ful", "less", "ness"].iter().any(|suffix| {
            let Some(e) = self.len().checked_sub(suffix.len() + 1) else {
                return false;
            };
            self.letters[e] == b'e'
                && self.ends_with(suffix)
                && e >= 2
                && self.is_consonant(e - 1)
                && self.is_vowel(e - 2)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn assert_syllables(cases: &[(&str, usize)]) {
        for &(word, expected) in cases {
            assert_eq!(count_in_word(word), expected, "syllables of {word:?}");
        }
    }

    #[test]
    fn vowel_groups_count_one_each() {
        assert_syllables(&[
            ("cat", 1),
            ("happy", 2),
            ("beautiful", 3),
            ("yes", 1),
            ("rhythm", 1),
        ]);
    }

    #[test]
    fn silent_final_e_is_not_counted() {
        assert_syllables(&[
            ("make", 1),
            ("there", 1),
            ("the", 1),
            ("free", 1),
            ("eye", 1),
        ]);
    }

    #[test]
    fn consonant_le_is_a_syllable() {
        assert_syllables(&[("table", 2), ("little", 2), ("tables", 2), ("whole", 1)]);
    }

    #[test]
    fn es_endings() {
        assert_syllables(&[
            ("makes", 1),
            ("lives", 1),
            ("boxes", 2),
            ("places", 2),
            ("wishes", 2),
            ("goes", 1),
        ]);
    }

    #[test]
    fn ed_endings() {
        assert_syllables(&[
            ("walked", 1),
            ("called", 1),
            ("wanted", 2),
            ("needed", 2),
            ("settled", 2),
            ("hundred", 2),
            ("wondered", 2),
            ("need", 1),
        ]);
    }

    #[test]
    fn silent_e_before_suffix() {
        assert_syllables(&[
            ("lovely", 2),
            ("completely", 3),
            ("movement", 2),
            ("careful", 2),
            ("useless", 2),
        ]);
    }

    #[test]
    fn vowel_pairs_spoken_apart() {
        assert_syllables(&[
            ("media", 3),
            ("lion", 2),
            ("curious", 3),
            ("actual", 3),
            ("video", 3),
            ("happier", 3),
            ("social", 2),
            ("nation", 2),
            ("region", 2),
            ("equal", 2),
            ("people", 2),
        ]);
    }

    #[test]
    fn words_without_letters_are_one_syllable() {
        assert_syllables(&[("1813", 1), ("_", 1)]);
    }

    #[test]
    fn accented_vowels_count() {
        assert_syllables(&[("café", 2), ("résumé", 3), ("über", 2)]);
    }
}
