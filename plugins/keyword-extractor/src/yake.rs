//! YAKE keyword scoring (Campos et al., "YAKE! Keyword extraction from single
//! documents using multiple local features", Information Sciences 509, 2020).
//!
//! Each distinct word (a *term*: lower case, with a final `s` dropped from
//! words longer than three letters) gets a score from five statistics of its
//! occurrences: casing, position, frequency, relatedness to its neighbours and
//! spread over sentences. A candidate phrase of one to [`MAX_NGRAM`] words
//! combines the scores of its words. Lower scores are better.

use std::collections::BTreeMap;

use sandnotes_nlp::{is_stop_word, split_sentences};

use crate::tokens::{Tag, tag, tokenize};

/// Maximum length of a candidate phrase, in words.
pub(crate) const MAX_NGRAM: usize = 3;

/// A candidate phrase and its score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScoredPhrase {
    /// The phrase as it first appears in the text, words joined by one space.
    pub(crate) surface: String,
    /// The phrase in lower case, used to compare candidates.
    pub(crate) key: String,
    pub(crate) score: f64,
}

#[derive(Debug, Default)]
struct Term {
    stop_word: bool,
    frequency: f64,
    acronym_count: f64,
    proper_noun_count: f64,
    /// Ids of the distinct sentences the term occurs in, ascending.
    sentences: Vec<usize>,
    score: f64,
}

#[derive(Debug)]
struct Candidate {
    surface: String,
    key: String,
    terms: Vec<usize>,
    frequency: f64,
    /// Whether any occurrence consists only of words that are neither numbers
    /// nor unusual.
    has_plain_occurrence: bool,
}

/// Word statistics of one document.
#[derive(Default)]
struct Document {
    terms: Vec<Term>,
    term_ids: BTreeMap<String, usize>,
    /// How often term `.0` is directly followed by term `.1` inside a phrase
    /// block.
    cooccurrence: BTreeMap<(usize, usize), f64>,
    /// Ids of the distinct lower-case words, so that a candidate phrase is
    /// keyed by its word ids instead of a new string per occurrence.
    word_ids: BTreeMap<String, u32>,
    candidates: Vec<Candidate>,
    /// Candidate index by word ids, padded with [`NO_WORD`].
    candidate_ids: BTreeMap<[u32; MAX_NGRAM], usize>,
    sentence_count: usize,
}

/// Scores every valid candidate phrase in `text`, best first. Only the first
/// `max_words` word tokens are read. Ties keep the order of first appearance.
pub(crate) fn score_phrases(text: &str, max_words: usize) -> Vec<ScoredPhrase> {
    let document = Document::read(text, max_words);
    document.into_scored_phrases()
}

/// Padding in a candidate's key after its last word.
const NO_WORD: u32 = u32::MAX;

/// A word occurrence inside a block of words not separated by punctuation.
struct Occurrence<'a> {
    word: &'a str,
    word_id: u32,
    tag: Tag,
    term: usize,
}

impl Document {
    fn read(text: &str, max_words: usize) -> Self {
        let mut document = Self::default();
        let mut words_read = 0;

        for sentence in split_sentences(text) {
            if words_read >= max_words {
                break;
            }
            // A sentence can be the whole note when it has no terminator, so
            // it is tokenized only as far as the word budget can reach.
            let token_budget = (max_words - words_read)
                .saturating_mul(2)
                .saturating_add(16);
            let tokens = tokenize(sentence.source, token_budget);
            if tokens.is_empty() {
                continue;
            }
            let sentence_id = document.sentence_count;
            document.sentence_count += 1;

            let mut block: Vec<Occurrence<'_>> = Vec::new();
            for (position, &word) in tokens.iter().enumerate() {
                if word.chars().all(|c| c.is_ascii_punctuation()) {
                    block.clear();
                    continue;
                }
                if words_read >= max_words {
                    break;
                }
                words_read += 1;
                let tag = tag(word, position);
                let term = document.add_occurrence(word, tag, sentence_id);
                let previous = block.last().filter(|o| !o.tag.is_discarded());
                if let Some(previous) = previous.filter(|_| !tag.is_discarded()) {
                    *document
                        .cooccurrence
                        .entry((previous.term, term))
                        .or_default() += 1.0;
                }
                let word_id = document.word_id(word);
                block.push(Occurrence {
                    word,
                    word_id,
                    tag,
                    term,
                });
                document.add_candidates(&block);
            }
        }
        document
    }

    fn add_occurrence(&mut self, word: &str, tag: Tag, sentence_id: usize) -> usize {
        let lower = word.to_lowercase();
        let listed = is_stop_word(&lower);
        let key = match lower.strip_suffix('s') {
            Some(singular) if lower.chars().count() > 3 => singular.to_owned(),
            _ => lower,
        };

        let id = match self.term_ids.get(&key) {
            Some(&id) => id,
            None => {
                let letters = key.chars().filter(|c| !c.is_ascii_punctuation()).count();
                let stop_word = listed || is_stop_word(&key) || letters < 3;
                self.terms.push(Term {
                    stop_word,
                    ..Term::default()
                });
                self.term_ids.insert(key, self.terms.len() - 1);
                self.terms.len() - 1
            }
        };

        let term = &mut self.terms[id];
        term.frequency += 1.0;
        match tag {
            Tag::Acronym => term.acronym_count += 1.0,
            Tag::ProperNoun => term.proper_noun_count += 1.0,
            _ => {}
        }
        if term.sentences.last() != Some(&sentence_id) {
            term.sentences.push(sentence_id);
        }
        id
    }

    fn word_id(&mut self, word: &str) -> u32 {
        let lower = word.to_lowercase();
        if let Some(&id) = self.word_ids.get(&lower) {
            return id;
        }
        // Word counts are capped far below u32::MAX, so the id never reaches
        // the padding value.
        let id = u32::try_from(self.word_ids.len()).unwrap_or(NO_WORD - 1);
        self.word_ids.insert(lower, id);
        id
    }

    /// Records the phrases of 1 to [`MAX_NGRAM`] words that end with the last
    /// word of `block`.
    fn add_candidates(&mut self, block: &[Occurrence<'_>]) {
        for length in 1..=MAX_NGRAM.min(block.len()) {
            let words = &block[block.len() - length..];
            let mut ids = [NO_WORD; MAX_NGRAM];
            for (slot, occurrence) in ids.iter_mut().zip(words) {
                *slot = occurrence.word_id;
            }
            let plain = words.iter().all(|o| !o.tag.is_discarded());

            let id = match self.candidate_ids.get(&ids) {
                Some(&id) => id,
                None => {
                    let surface = words.iter().map(|o| o.word).collect::<Vec<_>>().join(" ");
                    self.candidates.push(Candidate {
                        key: surface.to_lowercase(),
                        surface,
                        terms: words.iter().map(|o| o.term).collect(),
                        frequency: 0.0,
                        has_plain_occurrence: false,
                    });
                    self.candidate_ids.insert(ids, self.candidates.len() - 1);
                    self.candidates.len() - 1
                }
            };
            let candidate = &mut self.candidates[id];
            candidate.frequency += 1.0;
            candidate.has_plain_occurrence |= plain;
        }
    }

    fn into_scored_phrases(mut self) -> Vec<ScoredPhrase> {
        if !self.score_terms() {
            return Vec::new();
        }
        let mut phrases: Vec<ScoredPhrase> = self
            .candidates
            .iter()
            .filter(|c| self.is_valid(c))
            .map(|c| ScoredPhrase {
                surface: c.surface.clone(),
                key: c.key.clone(),
                score: self.phrase_score(c),
            })
            .collect();
        // A stable sort keeps first-appearance order among equal scores.
        phrases.sort_by(|a, b| a.score.total_cmp(&b.score));
        phrases
    }

    fn is_valid(&self, candidate: &Candidate) -> bool {
        let (Some(&first), Some(&last)) = (candidate.terms.first(), candidate.terms.last()) else {
            return false;
        };
        candidate.has_plain_occurrence
            && !self.terms[first].stop_word
            && !self.terms[last].stop_word
    }

    /// Computes every term's score. Returns false when the text has no term
    /// that is not a stop word.
    fn score_terms(&mut self) -> bool {
        let content: Vec<f64> = self
            .terms
            .iter()
            .filter(|t| !t.stop_word)
            .map(|t| t.frequency)
            .collect();
        if content.is_empty() {
            return false;
        }
        #[allow(clippy::cast_precision_loss)]
        let count = content.len() as f64;
        let mean = content.iter().sum::<f64>() / count;
        let std_dev = (content.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / count).sqrt();
        let max_frequency = self.terms.iter().map(|t| t.frequency).fold(0.0, f64::max);

        let (left, right) = self.neighbour_diversity();
        #[allow(clippy::cast_precision_loss)]
        let sentence_count = self.sentence_count as f64;
        for (id, term) in self.terms.iter_mut().enumerate() {
            let relative_frequency = term.frequency / max_frequency;
            let relatedness =
                0.5 + left[id] * relative_frequency + 0.5 + right[id] * relative_frequency;
            let frequency = term.frequency / (mean + std_dev);
            #[allow(clippy::cast_precision_loss)]
            let spread = term.sentences.len() as f64 / sentence_count;
            let casing =
                term.acronym_count.max(term.proper_noun_count) / (1.0 + term.frequency.ln());
            let position = (3.0 + median(&term.sentences)).ln().ln();
            term.score =
                position * relatedness / (casing + frequency / relatedness + spread / relatedness);
        }
        true
    }

    /// Returns, per term, the number of distinct left and right neighbours
    /// divided by the number of co-occurrences on that side (0 without any).
    fn neighbour_diversity(&self) -> (Vec<f64>, Vec<f64>) {
        let mut distinct = vec![(0.0, 0.0); self.terms.len()];
        let mut total = vec![(0.0, 0.0); self.terms.len()];
        for (&(from, to), &count) in &self.cooccurrence {
            distinct[from].1 += 1.0;
            total[from].1 += count;
            distinct[to].0 += 1.0;
            total[to].0 += count;
        }
        let ratio = |d: f64, t: f64| if t == 0.0 { 0.0 } else { d / t };
        let left = distinct
            .iter()
            .zip(&total)
            .map(|(d, t)| ratio(d.0, t.0))
            .collect();
        let right = distinct
            .iter()
            .zip(&total)
            .map(|(d, t)| ratio(d.1, t.1))
            .collect();
        (left, right)
    }

    /// Combines the scores of a phrase's words. A stop word inside the phrase
    /// adds a penalty that shrinks the more often it links its neighbours.
    fn phrase_score(&self, candidate: &Candidate) -> f64 {
        let mut product = 1.0;
        let mut sum = 0.0;
        for (i, &id) in candidate.terms.iter().enumerate() {
            let term = &self.terms[id];
            if !term.stop_word {
                product *= term.score;
                sum += term.score;
                continue;
            }
            let from_left = match i.checked_sub(1).map(|p| candidate.terms[p]) {
                Some(previous) => self.cooccurrence_share(previous, id, previous),
                None => 0.0,
            };
            let to_right = match candidate.terms.get(i + 1) {
                Some(&next) => self.cooccurrence_share(id, next, next),
                None => 0.0,
            };
            let probability = from_left * to_right;
            product *= 2.0 - probability;
            sum -= 1.0 - probability;
        }
        product / ((sum + 1.0) * candidate.frequency)
    }

    /// Returns how often `from` is followed by `to`, divided by the frequency
    /// of `base`.
    fn cooccurrence_share(&self, from: usize, to: usize, base: usize) -> f64 {
        self.cooccurrence
            .get(&(from, to))
            .map_or(0.0, |count| count / self.terms[base].frequency)
    }
}

/// Returns the median of an ascending, non-empty list (the mean of the two
/// middle values for an even length).
fn median(sorted: &[usize]) -> f64 {
    let middle = sorted.len() / 2;
    #[allow(clippy::cast_precision_loss)]
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[middle] as f64,
        _ => (sorted[middle - 1] + sorted[middle]) as f64 / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&[4]), 4.0);
        assert_eq!(median(&[1, 2, 9]), 2.0);
        assert_eq!(median(&[1, 2, 4, 9]), 3.0);
    }

    #[test]
    fn phrases_never_start_or_end_with_stop_words() {
        let phrases = score_phrases("The house of the rising sun is a house in the city.", 1000);
        for phrase in &phrases {
            let words: Vec<&str> = phrase.key.split(' ').collect();
            assert!(!is_stop_word(words[0]), "{phrase:?}");
            assert!(!is_stop_word(words[words.len() - 1]), "{phrase:?}");
        }
        assert!(phrases.iter().any(|p| p.key == "house"));
    }

    #[test]
    fn numbers_are_not_keywords() {
        let phrases = score_phrases("In 1850 the ship sailed. In 1851 the ship sank.", 1000);
        assert!(
            phrases.iter().all(|p| !p.key.contains("185")),
            "{phrases:?}"
        );
    }

    #[test]
    fn surface_form_is_first_occurrence() {
        let phrases = score_phrases("Whaling ships sailed. whaling ships returned.", 1000);
        assert!(
            phrases.iter().any(|p| p.surface == "Whaling ships"),
            "{phrases:?}"
        );
    }

    #[test]
    fn stop_words_only_give_nothing() {
        assert!(score_phrases("It is what it is, and so on.", 1000).is_empty());
        assert!(score_phrases("", 1000).is_empty());
    }

    #[test]
    fn word_budget_limits_reading() {
        let phrases = score_phrases("Alpha beta gamma. Delta epsilon zeta.", 3);
        assert!(
            phrases.iter().all(|p| !p.key.contains("delta")),
            "{phrases:?}"
        );
    }
}
