//! text-analyzer run through a real spawned worker on corpus texts.
//!
//! Words, sentences and characters are the figures of the textstat Python
//! package 0.7.4 (`lexicon_count`, `sentence_count`, `char_count`) on the
//! same files. Syllables and the scores come from
//! `plugins/text-analyzer/reference/readability.py`, an implementation of
//! the documented rules written separately from the Rust code. textstat
//! finds hyphenation points with Pyphen's `hyph_en_US` dictionary instead,
//! which gives 1093 syllables for the Austen chapter and 506 for the
//! Melville chapter.

mod common;

use sandbox_runner::{OutputKind, RunOutcome};
use serde_json::Value;

struct Expected {
    file: &'static str,
    words: u64,
    sentences: u64,
    syllables: u64,
    characters: u64,
    flesch_reading_ease: f64,
    flesch_kincaid_grade: f64,
}

const TOLERANCE: f64 = 1e-9;

async fn analyze(file: &str) -> Value {
    let runner = common::runner();
    let report = common::run(&runner, "text-analyzer", &common::corpus(file)).await;

    let RunOutcome::Ok { output } = &report.outcome else {
        panic!("text-analyzer did not succeed: {report:?}");
    };
    assert_eq!(output.kind, OutputKind::Json);
    assert!(report.fuel_used > 0, "{report:?}");
    assert!(report.memory_peak_bytes > 0, "{report:?}");
    serde_json::from_str(&output.value).expect("text-analyzer outputs JSON")
}

#[track_caller]
fn assert_close(actual: &Value, expected: f64, field: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number: {actual}"));
    assert!(
        (actual - expected).abs() < TOLERANCE,
        "{field}: got {actual}, expected {expected}"
    );
}

async fn check(expected: Expected) {
    let report = analyze(expected.file).await;

    assert_eq!(report["words"], expected.words, "words");
    assert_eq!(report["sentences"], expected.sentences, "sentences");
    assert_eq!(report["syllables"], expected.syllables, "syllables");
    assert_eq!(report["characters"], expected.characters, "characters");
    assert_close(
        &report["average_words_per_sentence"],
        expected.words as f64 / expected.sentences as f64,
        "average_words_per_sentence",
    );
    assert_close(
        &report["flesch_reading_ease"],
        expected.flesch_reading_ease,
        "flesch_reading_ease",
    );
    assert_close(
        &report["flesch_kincaid_grade"],
        expected.flesch_kincaid_grade,
        "flesch_kincaid_grade",
    );
}

#[tokio::test]
async fn austen_chapter_figures() {
    check(Expected {
        file: "austen-pride-and-prejudice-ch01.txt",
        words: 849,
        sentences: 64,
        syllables: 1090,
        characters: 3603,
        flesch_reading_ease: 84.75554963560072,
        flesch_kincaid_grade: 4.733181500294467,
    })
    .await;
}

#[tokio::test]
async fn melville_chapter_figures() {
    check(Expected {
        file: "melville-moby-dick-ch023-the-lee-shore.txt",
        words: 364,
        sentences: 20,
        syllables: 507,
        characters: 1808,
        flesch_reading_ease: 70.52628571428575,
        flesch_kincaid_grade: 7.943714285714286,
    })
    .await;
}

#[tokio::test]
async fn empty_note_has_null_scores() {
    let runner = common::runner();
    let report = common::run(&runner, "text-analyzer", "").await;

    let RunOutcome::Ok { output } = &report.outcome else {
        panic!("text-analyzer did not succeed: {report:?}");
    };
    let value: Value = serde_json::from_str(&output.value).unwrap();
    assert_eq!(value["words"], 0);
    assert_eq!(value["flesch_reading_ease"], Value::Null);
}
