//! Rule-based sentence segmentation for English prose.
//!
//! A sentence ends at a paragraph break (a line that is empty or only
//! whitespace), or at a run of `.`, `!`, `?` or `…`, with any closing quotes and
//! brackets after it, that is followed by whitespace. A period does not end a
//! sentence after a common abbreviation (`Mr.`, `Dr.`, `e.g.`) or a single
//! capital letter (the initials in `B. H.`), and no terminator ends one when the
//! next word starts in lower case, as in `"Who is there?" said he.`.
//!
//! Non-goals: languages other than English, and text without sentence
//! punctuation (each paragraph is then one sentence).

/// Abbreviations, lower case and without their final period, after which a
/// period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "capt", "cf", "ch", "col", "dr", "e.g", "esq", "fig", "gen", "hon", "i.e", "jr", "lt",
    "messrs", "mr", "mrs", "ms", "mt", "pp", "prof", "rev", "sgt", "sr", "st", "viz", "vol", "vs",
];

const TERMINATORS: &[char] = &['.', '!', '?', '…'];
const CLOSERS: &[char] = &['"', '\'', '”', '’', ')', ']', '»'];

/// One sentence of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence<'a> {
    /// Byte offset of the sentence's first character in the text.
    pub start: usize,
    /// The sentence as it appears in the text, line breaks included, without
    /// leading or trailing whitespace.
    pub source: &'a str,
}

impl Sentence<'_> {
    /// Returns the sentence with every run of whitespace, line breaks
    /// included, replaced by one space.
    pub fn normalized(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        for word in self.source.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }
}

/// Splits `text` into sentences, in the order they appear. The iterator is
/// lazy, so a caller that stops early does not pay for the rest of the text.
/// Splitting a whole text takes time linear in its length.
pub fn split_sentences(text: &str) -> Sentences<'_> {
    Sentences {
        text,
        pos: 0,
        start: None,
    }
}

/// Iterator over the sentences of a text, created by [`split_sentences`].
#[derive(Debug, Clone)]
pub struct Sentences<'a> {
    text: &'a str,
    /// Byte offset of the next character to read.
    pos: usize,
    /// Byte offset where the sentence being read began, if one has.
    start: Option<usize>,
}

impl<'a> Iterator for Sentences<'a> {
    type Item = Sentence<'a>;

    fn next(&mut self) -> Option<Sentence<'a>> {
        let text = self.text;
        while let Some(c) = text[self.pos..].chars().next() {
            let i = self.pos;
            if c == '\n' {
                self.pos += 1;
                if is_paragraph_break(text, i)
                    && let Some(sentence) = make_sentence(text, self.start.take(), i)
                {
                    return Some(sentence);
                }
                continue;
            }
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            let sentence_start = *self.start.get_or_insert(i);

            if !TERMINATORS.contains(&c) {
                self.pos += c.len_utf8();
                continue;
            }
            let after_terminators = skip_chars(text, i, TERMINATORS);
            let end = skip_chars(text, after_terminators, CLOSERS);
            self.pos = end;
            let followed_by_space = text[end..].chars().next().is_none_or(char::is_whitespace);
            if followed_by_space
                && ends_sentence(text, sentence_start, i, after_terminators, end)
                && let Some(sentence) = make_sentence(text, self.start.take(), end)
            {
                return Some(sentence);
            }
        }
        make_sentence(text, self.start.take(), text.len())
    }
}

/// Returns whether the line break at `newline` is followed by a blank line.
fn is_paragraph_break(text: &str, newline: usize) -> bool {
    for c in text[newline + 1..].chars() {
        match c {
            '\n' => return true,
            c if c.is_whitespace() => continue,
            _ => return false,
        }
    }
    false
}

/// Returns the byte offset of the first character at or after `from` that is
/// not in `set`.
fn skip_chars(text: &str, from: usize, set: &[char]) -> usize {
    text[from..]
        .char_indices()
        .find(|(_, c)| !set.contains(c))
        .map_or(text.len(), |(offset, _)| from + offset)
}

/// Decides whether the terminators at `terminator..after_terminators`, which
/// are followed by whitespace from `end` on, close the sentence that began at
/// `sentence_start`.
fn ends_sentence(
    text: &str,
    sentence_start: usize,
    terminator: usize,
    after_terminators: usize,
    end: usize,
) -> bool {
    let single_period = &text[terminator..after_terminators] == ".";
    if single_period && is_abbreviation(&text[sentence_start..terminator]) {
        return false;
    }
    let next = text[end..].chars().find(|c| !c.is_whitespace());
    !next.is_some_and(char::is_lowercase)
}

/// Returns whether the word at the end of `before` (the text up to a period)
/// is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphabetic() || *c == '.'))
        .map_or(0, |(offset, c)| offset + c.len_utf8());
    let word = before[word_start..].trim_start_matches('.');

    let mut chars = word.chars();
    if let (Some(first), None) = (chars.next(), chars.next()) {
        return first.is_uppercase();
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

fn make_sentence(text: &str, start: Option<usize>, end: usize) -> Option<Sentence<'_>> {
    let start = start?;
    let source = text[start..end].trim_end();
    (!source.is_empty()).then_some(Sentence { start, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        split_sentences(text).map(|s| s.normalized()).collect()
    }

    #[test]
    fn terminators_end_sentences() {
        assert_eq!(
            split("It rained. Did it stop? No! It went on"),
            ["It rained.", "Did it stop?", "No!", "It went on"]
        );
    }

    #[test]
    fn hard_wrapped_lines_join() {
        assert_eq!(
            split("The sea was\ncalm that day.\nWe sailed."),
            ["The sea was calm that day.", "We sailed."]
        );
    }

    #[test]
    fn paragraph_break_ends_sentence() {
        assert_eq!(
            split("CHAPTER I\n\nIt was dark.\n  \nEnd"),
            ["CHAPTER I", "It was dark.", "End"]
        );
    }

    #[test]
    fn closing_quote_stays_with_sentence() {
        assert_eq!(
            split("\"Hold your noise!\" cried a voice. \"Keep still.\" He ran."),
            [
                "\"Hold your noise!\" cried a voice.",
                "\"Keep still.\"",
                "He ran."
            ]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_end_sentences() {
        assert_eq!(
            split("Mr. Bennet met Dr. Jekyll, e.g. at home. Signed B. H. Harrow. Done."),
            [
                "Mr. Bennet met Dr. Jekyll, e.g. at home.",
                "Signed B. H. Harrow.",
                "Done."
            ]
        );
    }

    #[test]
    fn ellipsis_and_mixed_terminators() {
        assert_eq!(
            split("Wait... What?! Go… Now."),
            ["Wait...", "What?!", "Go…", "Now."]
        );
    }

    #[test]
    fn period_inside_number_does_not_split() {
        assert_eq!(
            split("It cost 3.50 dollars. Fine."),
            ["It cost 3.50 dollars.", "Fine."]
        );
    }

    #[test]
    fn offsets_point_into_text() {
        let text = "  One.\n\nTwo three.";
        let sentences: Vec<Sentence<'_>> = split_sentences(text).collect();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].start, 2);
        assert_eq!(&text[sentences[1].start..], "Two three.");
    }

    #[test]
    fn empty_and_blank_text_have_no_sentences() {
        assert_eq!(split_sentences("").count(), 0);
        assert_eq!(split_sentences(" \n\n\t ").count(), 0);
    }

    #[test]
    fn iterator_stops_early() {
        let mut sentences = split_sentences("One. Two. Three.");
        assert_eq!(sentences.next().map(|s| s.source), Some("One."));
        assert_eq!(sentences.next().map(|s| s.source), Some("Two."));
    }

    #[test]
    fn multibyte_text_splits_on_char_boundaries() {
        assert_eq!(
            split("Ça va? Très bien… Oui."),
            ["Ça va?", "Très bien…", "Oui."]
        );
    }
}
