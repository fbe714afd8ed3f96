//! Syllable counts of the plugin's static tables against the `hyphenation`
//! crate 0.8.4 that they are generated from, with the same margins.

use std::collections::BTreeSet;
use std::path::Path;

use hyphenation::{Hyphenator, Language, Load, Standard};
use text_analyzer::syllables::{MIN_CHARS_AFTER_BREAK, MIN_CHARS_BEFORE_BREAK, count_in_word};

fn dictionary() -> Standard {
    let mut dictionary = Standard::from_embedded(Language::EnglishUS).unwrap();
    dictionary.minima = (MIN_CHARS_BEFORE_BREAK, MIN_CHARS_AFTER_BREAK);
    dictionary
}

fn crate_count(dictionary: &Standard, word: &str) -> usize {
    dictionary.hyphenate(word).breaks.len() + 1
}

/// Returns the words that differ, with the plugin's and the crate's count.
fn mismatches<'w>(
    dictionary: &Standard,
    words: impl IntoIterator<Item = &'w str>,
) -> Vec<(&'w str, usize, usize)> {
    words
        .into_iter()
        .map(|word| (word, count_in_word(word), crate_count(dictionary, word)))
        .filter(|&(_, ours, theirs)| ours != theirs)
        .collect()
}

/// Reads the distinct tokens of every corpus text, both as the plugin
/// passes them to the counter (lowercase word characters) and with their
/// case and inner punctuation kept.
fn corpus_words() -> BTreeSet<String> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let mut words = BTreeSet::new();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for token in text.split_whitespace() {
            let lowercase: String = token
                .to_lowercase()
                .chars()
                .filter(|&c| c.is_alphanumeric() || c == '_')
                .collect();
            words.insert(lowercase);
            words.insert(
                token
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_owned(),
            );
        }
    }
    words.remove("");
    words
}

#[test]
fn corpus_words_match_crate() {
    let dictionary = dictionary();
    let words = corpus_words();
    // The corpus has about 6,800 distinct words in these two forms.
    assert!(words.len() > 5_000, "only {} corpus words", words.len());

    assert_eq!(
        mismatches(&dictionary, words.iter().map(String::as_str)),
        []
    );
}

#[test]
fn exception_words_match_crate() {
    let dictionary = dictionary();
    let words: Vec<String> = dictionary.exceptions.0.keys().cloned().collect();
    let uppercase: Vec<String> = words.iter().map(|word| word.to_uppercase()).collect();
    assert!(words.len() > 1_000, "only {} exception words", words.len());

    assert_eq!(
        mismatches(&dictionary, words.iter().map(String::as_str)),
        []
    );
    assert_eq!(
        mismatches(&dictionary, uppercase.iter().map(String::as_str)),
        []
    );
}

#[test]
fn unusual_words_match_crate() {
    let dictionary = dictionary();
    let words = [
        // Soft hyphens are the only breaks, even inside the margins.
        "a\u{ad}b",
        "hy\u{ad}phen\u{ad}ation",
        // `İ` lowercases to two characters, which the crate folds to `i`.
        "İnstitution",
        "DİSTRİBUTİON",
        // Other letters, marks and digits in and around pattern letters.
        "ménage",
        "naïveté",
        "coöperation",
        "straße",
        "αβγδεζ",
        "hyphen1ation",
        "re_adability",
        "ǅungla",
        // Long words.
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "supercalifragilisticexpialidocious",
        "antidisestablishmentarianismantidisestablishmentarianismantidisestablishmentarianism",
        // Margins at the ends.
        "abcd",
        "also",
        "into",
        "éabc",
        "abcé",
    ];

    assert_eq!(mismatches(&dictionary, words), []);
}

#[test]
fn words_around_stack_buffer_match_crate() {
    // The plugin keeps words of up to 64 bytes on the stack.
    let dictionary = dictionary();
    let words: Vec<String> = (60..=70)
        .map(|length| "hyphenation".repeat(7)[..length].to_owned())
        .chain((30..=34).map(|length| "é".repeat(length)))
        .collect();

    assert_eq!(
        mismatches(&dictionary, words.iter().map(String::as_str)),
        []
    );
}

#[test]
fn generated_words_match_crate() {
    // Every four-letter string over an alphabet that reaches many
    // patterns, alone (where patterns with `.` match at both ends) and
    // inside `re...ing` and `un...tion`.
    let dictionary = dictionary();
    let alphabet = ['a', 'e', 'i', 'n', 'o', 'r', 's', 't', 'y', 'h', 'c', 'l'];
    let mut words = Vec::new();
    for &a in &alphabet {
        for &b in &alphabet {
            for &c in &alphabet {
                for &d in &alphabet {
                    let core: String = [a, b, c, d].iter().collect();
                    words.push(core.clone());
                    words.push(format!("re{core}ing"));
                    words.push(format!("un{core}tion"));
                }
            }
        }
    }

    assert_eq!(
        mismatches(&dictionary, words.iter().map(String::as_str)),
        []
    );
}

#[test]
fn random_mixed_words_match_crate() {
    // Characters that take each branch of the crate's preprocessing: case
    // folding, `İ` with its refold, soft hyphens, multi-byte letters and
    // marks, digits and bytes in no pattern.
    let characters = [
        'a', 'e', 'i', 'o', 'u', 'n', 'r', 's', 't', 'l', 'c', 'h', 'y', 'E', 'T', 'İ', 'é', 'ß',
        '\u{307}', '\u{ad}', '1', '_', 'ǅ', 'ω',
    ];
    let dictionary = dictionary();
    // A fixed linear congruential generator keeps the words the same on
    // every run.
    let mut state: u64 = 0x5eed;
    let mut next = |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % bound
    };
    let mut words = Vec::new();
    for _ in 0..20_000 {
        let length = 1 + next(16);
        let word: String = (0..length)
            .map(|_| {
                // Mostly pattern letters, so that patterns match.
                if next(4) == 0 {
                    characters[13 + next(characters.len() - 13)]
                } else {
                    characters[next(13)]
                }
            })
            .collect();
        words.push(word);
    }

    assert_eq!(
        mismatches(&dictionary, words.iter().map(String::as_str)),
        []
    );
}
