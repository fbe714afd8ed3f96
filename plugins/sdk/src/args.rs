use serde::de::DeserializeOwned;

/// The caller's arguments for one run: JSON text, `null` when none were
/// given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    json: String,
}

impl Args {
    /// Wraps the JSON text that the host passed to `run`.
    pub fn new(json: impl Into<String>) -> Self {
        Self { json: json.into() }
    }

    /// Returns the arguments as the JSON text the host sent.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// Reports whether the caller gave no arguments (`null`, `{}` or an
    /// empty string).
    pub fn is_empty(&self) -> bool {
        matches!(self.json.trim(), "" | "null" | "{}")
    }

    /// Deserializes the arguments into `T`.
    ///
    /// An empty string is read as `null`, so an `Option` or a struct whose
    /// fields all have defaults accepts a run without arguments. The error
    /// is a message for the caller that names the problem.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        let text = if self.json.trim().is_empty() {
            "null"
        } else {
            &self.json
        };
        serde_json::from_str(text).map_err(|error| format!("invalid plugin arguments: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Options {
        limit: u32,
    }

    #[test]
    fn parse_reads_fields() {
        let args = Args::new(r#"{"limit": 3}"#);

        assert_eq!(args.parse::<Options>(), Ok(Options { limit: 3 }));
    }

    #[test]
    fn empty_string_parses_as_null() {
        let args = Args::new("");

        assert!(args.is_empty());
        assert_eq!(args.parse::<Option<Options>>(), Ok(None));
    }

    #[test]
    fn invalid_json_names_the_problem() {
        let error = Args::new("{").parse::<Options>().unwrap_err();

        assert!(error.starts_with("invalid plugin arguments:"), "{error}");
    }
}
