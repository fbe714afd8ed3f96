//! The plugin's arguments: which language the code is in.

use serde::Deserialize;

use crate::language::Language;

/// Invalid plugin arguments.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("invalid arguments: {0}; expected {{\"language\": \"rust\"}} or no arguments")]
    Json(#[from] serde_json::Error),
    #[error(
        "unsupported \"language\": {0:?}; expected one of rust, python, javascript, typescript, go, c, java, sql, toml, json, plaintext"
    )]
    Language(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgs {
    language: Option<String>,
}

/// Parses the plugin's JSON arguments. Returns `None` when no language is
/// given (`null`, an empty string, `{}`), so the caller detects it.
pub fn parse_language(args: &str) -> Result<Option<Language>, ArgsError> {
    if args.trim().is_empty() {
        return Ok(None);
    }
    let raw: Option<RawArgs> = serde_json::from_str(args)?;
    let Some(name) = raw.and_then(|raw| raw.language) else {
        return Ok(None);
    };
    match Language::from_name(&name) {
        Some(language) => Ok(Some(language)),
        // Long names are cut so that the message stays short.
        None => Err(ArgsError::Language(name.chars().take(40).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_aliases_parse() {
        assert_eq!(
            parse_language(r#"{"language": "rust"}"#).unwrap(),
            Some(Language::Rust)
        );
        assert_eq!(
            parse_language(r#"{"language": "TS"}"#).unwrap(),
            Some(Language::TypeScript)
        );
        assert_eq!(parse_language("null").unwrap(), None);
        assert_eq!(parse_language("{}").unwrap(), None);
    }

    #[test]
    fn unknown_language_is_rejected_with_a_short_message() {
        let long = format!(r#"{{"language": "{}"}}"#, "x".repeat(1000));
        let message = parse_language(&long).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(parse_language(r#"{"language": "cobol"}"#).is_err());
        assert!(parse_language(r#"{"lang": "rust"}"#).is_err());
        assert!(parse_language(r#"{"language": 3}"#).is_err());
    }
}
