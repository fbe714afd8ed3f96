//! The plugin's arguments: how long the summary is.

use serde::Deserialize;

/// Summary length used when the caller gives no arguments.
pub const DEFAULT_SENTENCES: usize = 3;
/// Largest accepted `sentences` argument.
pub const MAX_SENTENCES: usize = 100;

/// How many sentences the summary keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SummaryLength {
    /// A fixed number of sentences, 1 to [`MAX_SENTENCES`].
    Sentences(usize),
    /// A fraction of the ranked sentences, in (0, 1], rounded down but at
    /// least one sentence.
    Ratio(f64),
}

impl Default for SummaryLength {
    fn default() -> Self {
        Self::Sentences(DEFAULT_SENTENCES)
    }
}

/// Invalid plugin arguments.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("invalid arguments: {0}; expected {{\"sentences\": n}} or {{\"ratio\": r}}")]
    Json(#[from] serde_json::Error),
    #[error("invalid arguments: give either \"sentences\" or \"ratio\", not both")]
    Both,
    #[error("invalid \"sentences\": {0}; expected an integer from 1 to {MAX_SENTENCES}")]
    Sentences(u64),
    #[error("invalid \"ratio\": {0}; expected a number greater than 0 and at most 1")]
    Ratio(f64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgs {
    sentences: Option<u64>,
    ratio: Option<f64>,
}

impl SummaryLength {
    /// Parses the plugin's JSON arguments. `null`, an empty string and `{}`
    /// select the default of [`DEFAULT_SENTENCES`] sentences.
    pub fn from_json(args: &str) -> Result<Self, ArgsError> {
        if args.trim().is_empty() {
            return Ok(Self::default());
        }
        let raw: Option<RawArgs> = serde_json::from_str(args)?;
        let Some(raw) = raw else {
            return Ok(Self::default());
        };

        match (raw.sentences, raw.ratio) {
            (Some(_), Some(_)) => Err(ArgsError::Both),
            (Some(n), None) => match usize::try_from(n) {
                Ok(n) if (1..=MAX_SENTENCES).contains(&n) => Ok(Self::Sentences(n)),
                _ => Err(ArgsError::Sentences(n)),
            },
            (None, Some(r)) if r > 0.0 && r <= 1.0 => Ok(Self::Ratio(r)),
            (None, Some(r)) => Err(ArgsError::Ratio(r)),
            (None, None) => Ok(Self::default()),
        }
    }

    /// Returns how many of `available` sentences the summary keeps.
    pub fn sentence_count(self, available: usize) -> usize {
        let wanted = match self {
            Self::Sentences(n) => n,
            // The product is at most `available`, so the cast cannot overflow.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            Self::Ratio(r) => ((available as f64 * r).floor() as usize).max(1),
        };
        wanted.min(available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_args_select_default() {
        for args in ["", "null", "{}", "  "] {
            assert_eq!(
                SummaryLength::from_json(args).unwrap(),
                SummaryLength::Sentences(3),
                "{args}"
            );
        }
    }

    #[test]
    fn sentences_and_ratio_parse() {
        assert_eq!(
            SummaryLength::from_json(r#"{"sentences": 5}"#).unwrap(),
            SummaryLength::Sentences(5)
        );
        assert_eq!(
            SummaryLength::from_json(r#"{"ratio": 0.25}"#).unwrap(),
            SummaryLength::Ratio(0.25)
        );
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        for args in [
            r#"{"sentences": 0}"#,
            r#"{"sentences": 101}"#,
            r#"{"sentences": -1}"#,
            r#"{"sentences": 2.5}"#,
            r#"{"ratio": 0}"#,
            r#"{"ratio": 1.5}"#,
            r#"{"ratio": -0.1}"#,
            r#"{"sentences": 2, "ratio": 0.5}"#,
            r#"{"sentence": 2}"#,
            r#"[1]"#,
            "not json",
        ] {
            assert!(SummaryLength::from_json(args).is_err(), "{args}");
        }
    }

    #[test]
    fn error_message_names_the_value_and_range() {
        let message = SummaryLength::from_json(r#"{"sentences": 500}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "invalid \"sentences\": 500; expected an integer from 1 to 100"
        );
    }

    #[test]
    fn ratio_rounds_down_but_keeps_one_sentence() {
        assert_eq!(SummaryLength::Ratio(0.2).sentence_count(12), 2);
        assert_eq!(SummaryLength::Ratio(0.2).sentence_count(3), 1);
        assert_eq!(SummaryLength::Ratio(1.0).sentence_count(7), 7);
        assert_eq!(SummaryLength::Sentences(10).sentence_count(4), 4);
        assert_eq!(SummaryLength::Sentences(2).sentence_count(0), 0);
    }
}
