//! The English stop-word list.
//!
//! `stopwords_en.txt` is the stop-word list of Cornell's SMART retrieval system
//! (571 words, lower case, one a line), as YAKE ships it, plus the honorific
//! `dr`. Function words like these say little about what a text is about, so the
//! summarizer ignores them when it compares sentences and the keyword extractor
//! never starts or ends a phrase with one.

use std::sync::OnceLock;

const STOP_WORDS_EN: &str = include_str!("stopwords_en.txt");

/// Returns the sorted list, parsed on first use.
fn stop_words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<&str> = STOP_WORDS_EN.lines().filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        words
    })
}

/// Returns whether `word` is an English stop word. `word` must already be in
/// lower case, because the list is.
pub fn is_stop_word(word: &str) -> bool {
    stop_words().binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_stop_words() {
        for word in ["the", "and", "of", "which", "herself", "don't", "mr"] {
            assert!(is_stop_word(word), "{word}");
        }
    }

    #[test]
    fn content_words_are_not_stop_words() {
        for word in ["ether", "whale", "daughter", "convict", "beauty"] {
            assert!(!is_stop_word(word), "{word}");
        }
    }

    #[test]
    fn lookup_is_case_sensitive() {
        assert!(!is_stop_word("The"));
    }
}
