//! One pass over a text that applies every counting rule of
//! [`crate::readability`].
//!
//! The loop costs about 100 fuel units per byte (measured on 1.2 MB of
//! spaces), and each extra pass over a 1 MiB note would add about 40 M
//! units. Hyphenating each distinct word costs more, see
//! [`SyllableCounter`].

use crate::syllables::{SyllableCounter, VocabularyTooLarge};

/// Counts of one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) words: usize,
    pub(crate) sentences: usize,
    pub(crate) syllables: usize,
    pub(crate) characters: usize,
}

/// Reports whether `c` is a word character: a letter, a number or `_`, as
/// Python's `\w`.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_sentence_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// Counts words, sentences, syllables and characters of `text`.
///
/// # Errors
///
/// Returns the counter's error when the text's distinct words exceed its
/// maximum total length.
pub(crate) fn scan(
    text: &str,
    counter: &mut SyllableCounter,
) -> Result<Counts, VocabularyTooLarge> {
    let mut tokens = TokenScanner::new(counter);
    let mut sentences = SentenceScanner::default();
    let mut characters = 0;

    for c in text.chars() {
        if c.is_whitespace() {
            tokens.end_token()?;
        } else {
            characters += 1;
            tokens.push(c);
        }
        sentences.push(c);
    }
    tokens.end_token()?;

    Ok(Counts {
        words: tokens.words,
        sentences: sentences.finish(),
        syllables: tokens.syllables,
        characters,
    })
}

/// Words and syllables of whitespace-separated tokens.
///
/// A token is a word when it contains a word character. Its syllables are
/// those of its lowercase word characters: each character is lowercased
/// before punctuation is removed, the order textstat 0.7.4 applies to the
/// whole text.
struct TokenScanner<'c> {
    counter: &'c mut SyllableCounter,
    words: usize,
    syllables: usize,
    has_word_char: bool,
    /// Lowercase word characters of the current token.
    word: String,
}

impl<'c> TokenScanner<'c> {
    fn new(counter: &'c mut SyllableCounter) -> Self {
        Self {
            counter,
            words: 0,
            syllables: 0,
            has_word_char: false,
            word: String::new(),
        }
    }

    fn push(&mut self, c: char) {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() || c == '_' {
                self.has_word_char = true;
                self.word.push(c.to_ascii_lowercase());
            }
            return;
        }

        self.has_word_char |= is_word_char(c);
        // Lowercasing can expand a character: `İ` becomes `i` and a
        // combining dot, which is not a word character.
        self.word
            .extend(c.to_lowercase().filter(|&lower| is_word_char(lower)));
    }

    fn end_token(&mut self) -> Result<(), VocabularyTooLarge> {
        if self.has_word_char {
            self.words += 1;
        }
        if !self.word.is_empty() {
            self.syllables += self.counter.count(&self.word)?;
        }
        self.has_word_char = false;
        self.word.clear();
        Ok(())
    }
}

/// Sentences, found as the segments of textstat 0.7.4's regular
/// expression `\b[^.!?]+[.!?]*`: each starts at a word character and runs
/// through the next group of `.`, `!` or `?`, or to the end of the text.
/// A segment counts when it has more than two words, that is more than two
/// whitespace-separated pieces with a word character.
#[derive(Debug, Default)]
struct SentenceScanner {
    sentences: usize,
    in_segment: bool,
    after_terminator: bool,
    /// Words of the current segment so far.
    words: usize,
    /// Whether the current piece of the segment has a word character.
    piece_has_word_char: bool,
}

impl SentenceScanner {
    fn push(&mut self, c: char) {
        let terminator = is_sentence_terminator(c);
        if self.in_segment && self.after_terminator && !terminator {
            self.end_segment();
        }
        if !self.in_segment {
            if !is_word_char(c) {
                return;
            }
            self.in_segment = true;
        }

        if terminator {
            self.after_terminator = true;
        } else if c.is_whitespace() {
            self.end_piece();
        } else if is_word_char(c) {
            self.piece_has_word_char = true;
        }
    }

    fn end_piece(&mut self) {
        if self.piece_has_word_char {
            self.words += 1;
        }
        self.piece_has_word_char = false;
    }

    fn end_segment(&mut self) {
        self.end_piece();
        if self.words > 2 {
            self.sentences += 1;
        }
        self.words = 0;
        self.in_segment = false;
        self.after_terminator = false;
    }

    /// Returns the sentence count, at least one.
    fn finish(mut self) -> usize {
        if self.in_segment {
            self.end_segment();
        }
        self.sentences.max(1)
    }
}
