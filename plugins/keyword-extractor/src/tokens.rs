//! Word tokenization and YAKE's word tags.

/// Abbreviations that keep their period as part of the token, lower case and
/// without the period.
const ABBREVIATIONS: &[&str] = &[
    "capt", "col", "dr", "esq", "gen", "hon", "jr", "lt", "messrs", "mr", "mrs", "ms", "mt",
    "prof", "rev", "sgt", "sr", "st", "vs",
];

/// Contraction endings dropped from a word, because they carry no topic.
const CLITICS: &[&str] = &["s", "ll", "re", "ve", "d", "m"];

/// Splits a sentence into tokens: words (with inner hyphens and apostrophes),
/// numbers (with inner `.` and `,`), abbreviations with their period, and one
/// token per other non-space character. `n't` becomes a token of its own and
/// the endings `'s`, `'ll`, `'re`, `'ve`, `'d` and `'m` are dropped.
/// Stops after `max_tokens` tokens.
pub(crate) fn tokenize(sentence: &str, max_tokens: usize) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = sentence;

    while let Some(c) = rest.chars().next() {
        if tokens.len() >= max_tokens {
            break;
        }
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if !c.is_alphanumeric() {
            tokens.push(&rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let end = word_end(rest);
        push_word(&mut tokens, &rest[..end]);
        rest = &rest[end..];
    }
    tokens
}

/// Returns the byte length of the word at the start of `text`.
fn word_end(text: &str) -> usize {
    let mut end = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let joins = match c {
            c if c.is_alphanumeric() => true,
            '\'' | '’' | '-' => next.is_some_and(char::is_alphanumeric) && end > 0,
            '.' | ',' => {
                let previous_digit = text[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit());
                previous_digit && next.is_some_and(|n| n.is_ascii_digit())
            }
            _ => false,
        };
        if !joins {
            break;
        }
        end = i + c.len_utf8();
    }

    // An abbreviation keeps its period ("Mr.", "e.g."), and so does a run of
    // single letters with periods ("U.S.A.").
    let word = &text[..end];
    if is_single_letter(word) {
        let mut acronym_end = end;
        while let Some(rest) = text[acronym_end..].strip_prefix('.') {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(letter), Some('.')) if letter.is_alphabetic() => {
                    acronym_end += 1 + letter.len_utf8();
                }
                _ => break,
            }
        }
        if acronym_end > end {
            return acronym_end + 1;
        }
    }
    let lower = word.to_lowercase();
    if text[end..].starts_with('.') && ABBREVIATIONS.contains(&lower.as_str()) {
        return end + 1;
    }
    end
}

fn is_single_letter(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
}

fn push_word<'a>(tokens: &mut Vec<&'a str>, word: &'a str) {
    let negation_stem = word
        .strip_suffix("n't")
        .or_else(|| word.strip_suffix("n’t"));
    if let Some(stem) = negation_stem.filter(|stem| !stem.is_empty()) {
        tokens.push(stem);
        tokens.push(&word[stem.len()..]);
        return;
    }
    if let Some(apostrophe) = word.rfind(['\'', '’']) {
        let ending = &word[apostrophe..];
        let ending = ending.trim_start_matches(['\'', '’']).to_lowercase();
        if CLITICS.contains(&ending.as_str()) {
            tokens.push(&word[..apostrophe]);
            return;
        }
    }
    tokens.push(word);
}

/// YAKE's classification of a word occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// A number, such as `1,000` or `3.5`.
    Digit,
    /// Mixed letters and digits, no letters or digits at all, or more than one
    /// ASCII punctuation character.
    Unusual,
    /// All letters upper case: an acronym.
    Acronym,
    /// Starts with its only capital letter and is not the first token of its
    /// sentence: a proper noun.
    ProperNoun,
    /// Anything else.
    Plain,
}

impl Tag {
    /// Returns whether words with this tag are left out of co-occurrence
    /// counts and of keyword phrases.
    pub(crate) fn is_discarded(self) -> bool {
        matches!(self, Self::Digit | Self::Unusual)
    }
}

/// Tags a word that is the `position`-th token (from 0) of its sentence.
pub(crate) fn tag(word: &str, position: usize) -> Tag {
    let without_commas: String = word.chars().filter(|&c| c != ',').collect();
    if is_number(&without_commas) {
        return Tag::Digit;
    }

    let digits = word.chars().filter(char::is_ascii_digit).count();
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let punctuation = word.chars().filter(char::is_ascii_punctuation).count();
    if (digits > 0 && letters > 0) || (digits == 0 && letters == 0) || punctuation > 1 {
        return Tag::Unusual;
    }

    let has_cased = word.chars().any(|c| c.is_uppercase() || c.is_lowercase());
    if has_cased && !word.chars().any(char::is_lowercase) {
        return Tag::Acronym;
    }
    let mut chars = word.chars();
    let starts_upper = chars.next().is_some_and(char::is_uppercase);
    let capitals = word.chars().filter(|c| c.is_uppercase()).count();
    if position > 0 && starts_upper && word.chars().count() > 1 && capitals == 1 {
        return Tag::ProperNoun;
    }
    Tag::Plain
}

/// Returns whether `text` is digits with at most one `.` among them.
fn is_number(text: &str) -> bool {
    let without_point = text.replacen('.', "", 1);
    !without_point.is_empty() && without_point.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenize_all(sentence: &str) -> Vec<&str> {
        tokenize(sentence, usize::MAX)
    }

    #[test]
    fn token_budget_stops_early() {
        assert_eq!(tokenize("one, two three", 2), ["one", ","]);
    }

    #[test]
    fn words_and_punctuation_are_separate_tokens() {
        assert_eq!(
            tokenize_all("Mr. Bennet, a well-known man, paid 1,000 or 3.50!"),
            [
                "Mr.",
                "Bennet",
                ",",
                "a",
                "well-known",
                "man",
                ",",
                "paid",
                "1,000",
                "or",
                "3.50",
                "!"
            ]
        );
    }

    #[test]
    fn contractions_split_and_clitics_drop() {
        assert_eq!(
            tokenize_all("I don't know; it's the ship's mast. They'll go"),
            [
                "I", "do", "n't", "know", ";", "it", "the", "ship", "mast", ".", "They", "go"
            ]
        );
    }

    #[test]
    fn acronyms_keep_their_periods() {
        assert_eq!(
            tokenize_all("The U.S.A. and e.g. this."),
            ["The", "U.S.A.", "and", "e.g.", "this", "."]
        );
    }

    #[test]
    fn dashes_and_quotes_are_tokens() {
        assert_eq!(
            tokenize_all("\"Stop—now\" -- he"),
            ["\"", "Stop", "—", "now", "\"", "-", "-", "he"]
        );
    }

    #[test]
    fn tags_follow_yake() {
        assert_eq!(tag("1,000", 3), Tag::Digit);
        assert_eq!(tag("3.50", 0), Tag::Digit);
        assert_eq!(tag("B52", 2), Tag::Unusual);
        assert_eq!(tag("—", 2), Tag::Unusual);
        assert_eq!(tag("U.S.A.", 2), Tag::Unusual);
        assert_eq!(tag("NASA", 0), Tag::Acronym);
        assert_eq!(tag("I", 4), Tag::Acronym);
        assert_eq!(tag("Bennet", 1), Tag::ProperNoun);
        assert_eq!(tag("Bennet", 0), Tag::Plain);
        assert_eq!(tag("McDonald", 3), Tag::Plain);
        assert_eq!(tag("whale", 3), Tag::Plain);
    }
}
