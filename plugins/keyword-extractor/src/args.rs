//! The plugin's arguments: how many keywords to return.

use serde::Deserialize;

/// Number of keywords returned when the caller gives no arguments.
pub const DEFAULT_MAX_KEYWORDS: usize = 10;
/// Largest accepted `max_keywords` argument.
pub const MAX_KEYWORDS: usize = 100;

/// Invalid plugin arguments.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("invalid arguments: {0}; expected {{\"max_keywords\": n}}")]
    Json(#[from] serde_json::Error),
    #[error("invalid \"max_keywords\": {0}; expected an integer from 1 to {MAX_KEYWORDS}")]
    MaxKeywords(u64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgs {
    max_keywords: Option<u64>,
}

/// Parses the plugin's JSON arguments into the number of keywords to return.
/// `null`, an empty string and `{}` select [`DEFAULT_MAX_KEYWORDS`].
pub fn parse_max_keywords(args: &str) -> Result<usize, ArgsError> {
    if args.trim().is_empty() {
        return Ok(DEFAULT_MAX_KEYWORDS);
    }
    let raw: Option<RawArgs> = serde_json::from_str(args)?;
    let Some(n) = raw.and_then(|raw| raw.max_keywords) else {
        return Ok(DEFAULT_MAX_KEYWORDS);
    };
    match usize::try_from(n) {
        Ok(n) if (1..=MAX_KEYWORDS).contains(&n) => Ok(n),
        _ => Err(ArgsError::MaxKeywords(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_args_select_default() {
        for args in ["", "null", "{}"] {
            assert_eq!(parse_max_keywords(args).unwrap(), 10, "{args}");
        }
    }

    #[test]
    fn max_keywords_parses() {
        assert_eq!(parse_max_keywords(r#"{"max_keywords": 1}"#).unwrap(), 1);
        assert_eq!(parse_max_keywords(r#"{"max_keywords": 100}"#).unwrap(), 100);
    }

    #[test]
    fn invalid_args_are_rejected() {
        for args in [
            r#"{"max_keywords": 0}"#,
            r#"{"max_keywords": 101}"#,
            r#"{"max_keywords": -3}"#,
            r#"{"max_keywords": "5"}"#,
            r#"{"top": 5}"#,
            "[]",
            "{",
        ] {
            assert!(parse_max_keywords(args).is_err(), "{args}");
        }
    }

    #[test]
    fn error_message_names_the_value_and_range() {
        let message = parse_max_keywords(r#"{"max_keywords": 0}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "invalid \"max_keywords\": 0; expected an integer from 1 to 100"
        );
    }
}
