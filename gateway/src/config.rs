//! Command-line flags and environment variables of the `gateway` binary.
//!
//! Every flag can also be set through the environment variable shown in
//! `--help`; a flag on the command line wins over the variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use zeroize::Zeroizing;

use crate::state::Limits;
use crate::store::StoreTarget;

/// Name of the SQLite database file inside the data folder.
pub const SQLITE_FILE_NAME: &str = "sandnotes.db";

/// Name of the development master key file the gateway generates inside the
/// data folder when no key is configured and the embedded store is in use.
pub const DEV_MASTER_KEY_FILE_NAME: &str = "master.key";

/// Configuration of one gateway process.
#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "sandnotes HTTP API: accounts and encrypted notes",
    long_about = None
)]
pub struct Config {
    /// Address and port to listen on. Port 0 picks a free port; the bound
    /// address is logged at start-up.
    #[arg(long, env = "SANDNOTES_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder for the SQLite database and the generated development key.
    /// Created with mode 0700 if missing.
    #[arg(long, env = "SANDNOTES_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL. `postgres://` or `postgresql://` selects PostgreSQL,
    /// `sqlite:` a SQLite database. Default: `sandnotes.db` in the data folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// File containing the 32-byte master key (raw bytes, mode 0600).
    #[arg(long, env = "SANDNOTES_MASTER_KEY_FILE", conflicts_with = "master_key")]
    pub master_key_file: Option<PathBuf>,

    /// The 32-byte master key, base64 (standard alphabet). Prefer the
    /// environment variable or a key file: command lines are visible to
    /// other local users.
    #[arg(long, env = "SANDNOTES_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<Secret>,

    /// Lifetime of issued access tokens, in seconds.
    #[arg(
        long,
        env = "SANDNOTES_TOKEN_LIFETIME_SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub token_lifetime_secs: u64,

    /// Maximum size of a request body, in bytes.
    #[arg(long, env = "SANDNOTES_MAX_REQUEST_BYTES", default_value_t = Limits::DEFAULT.max_request_bytes)]
    pub max_request_bytes: usize,

    /// Maximum size of a note title, in bytes of UTF-8.
    #[arg(long, env = "SANDNOTES_MAX_TITLE_BYTES", default_value_t = Limits::DEFAULT.max_title_bytes)]
    pub max_title_bytes: usize,

    /// Maximum size of a note body, in bytes of UTF-8.
    #[arg(long, env = "SANDNOTES_MAX_NOTE_BODY_BYTES", default_value_t = Limits::DEFAULT.max_note_body_bytes)]
    pub max_note_body_bytes: usize,

    /// Maximum Argon2id password hashes computed at once; each uses 19 MiB
    /// of memory. Further logins and signups wait for a free slot.
    #[arg(
        long,
        env = "SANDNOTES_MAX_CONCURRENT_PASSWORD_HASHES",
        default_value_t = Limits::DEFAULT.max_concurrent_password_hashes,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024)
    )]
    pub max_concurrent_password_hashes: usize,

    /// Maximum notes one user may keep; creating more is rejected with 409.
    #[arg(long, env = "SANDNOTES_MAX_NOTES_PER_USER", default_value_t = Limits::DEFAULT.max_notes_per_user)]
    pub max_notes_per_user: u64,

    /// Login attempts allowed per username per minute (successful or not),
    /// all usable at once. Further attempts get 429 with `Retry-After`.
    #[arg(long, env = "SANDNOTES_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = Limits::DEFAULT.login_attempts_per_minute)]
    pub login_attempts_per_minute: std::num::NonZeroU32,

    /// Plugin runtime: worker path, run slots, deadlines, upload size.
    #[command(flatten)]
    pub runtime: crate::runs::RuntimeArgs,

    /// Log output format. The level filter comes from `RUST_LOG` (default
    /// `info`; `debug` adds a line per request).
    #[arg(long, env = "SANDNOTES_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Time in-flight requests get to finish after SIGTERM or SIGINT, in
    /// milliseconds. Plugin runs still going then are cancelled (their
    /// workers killed, their callers answered 503). Exit follows after up to
    /// 2 s for those responses, 2 s to close the database pool and about 5 s
    /// per telemetry pipeline to flush.
    #[arg(long, env = "SANDNOTES_SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Invalid combinations of settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The database URL has a scheme no backend handles.
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")]
    UnsupportedDatabaseUrl,
}

/// A configuration value that must not appear in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Returns the secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(Zeroizing::new(text.to_owned())))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Config {
    /// Returns where the store lives, from `DATABASE_URL` or the data folder.
    pub fn store_target(&self) -> Result<StoreTarget, ConfigError> {
        let Some(url) = &self.database_url else {
            return Ok(StoreTarget::SqliteFile(
                self.data_dir.join(SQLITE_FILE_NAME),
            ));
        };

        let url = url.expose();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(StoreTarget::PostgresUrl(url.to_owned()))
        } else if url.starts_with("sqlite:") {
            Ok(StoreTarget::SqliteUrl(url.to_owned()))
        } else {
            Err(ConfigError::UnsupportedDatabaseUrl)
        }
    }

    /// Returns the request and field limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_request_bytes: self.max_request_bytes,
            max_title_bytes: self.max_title_bytes,
            max_note_body_bytes: self.max_note_body_bytes,
            max_concurrent_password_hashes: self.max_concurrent_password_hashes,
            max_notes_per_user: self.max_notes_per_user,
            login_attempts_per_minute: self.login_attempts_per_minute,
            ..Limits::DEFAULT
        }
    }

    /// Returns the lifetime of issued access tokens.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_lifetime_secs)
    }

    /// Returns the shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("gateway").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn command_definition_is_valid() {
        Config::command().debug_assert();
    }

    #[test]
    fn default_store_is_sqlite_file_in_data_dir() {
        let config = parse(&["--data-dir", "/srv/notes"]);

        let target = config.store_target().unwrap();

        assert!(
            matches!(target, StoreTarget::SqliteFile(path) if path == Path::new("/srv/notes/sandnotes.db"))
        );
    }

    #[test]
    fn postgres_url_selects_postgres() {
        let config = parse(&["--database-url", "postgres://db.internal/notes"]);

        let target = config.store_target().unwrap();

        assert!(matches!(target, StoreTarget::PostgresUrl(_)));
    }

    #[test]
    fn unknown_database_scheme_is_rejected() {
        let config = parse(&["--database-url", "mysql://db.internal/notes"]);

        assert!(config.store_target().is_err());
    }

    #[test]
    fn key_file_and_key_value_conflict() {
        let result = Config::try_parse_from([
            "gateway",
            "--master-key-file",
            "/run/secrets/key",
            "--master-key",
            "AAAA",
        ]);

        assert!(result.is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = parse(&[
            "--master-key",
            "c2VjcmV0",
            "--database-url",
            "postgres://u:pw@h/db",
        ]);

        let printed = format!("{config:?}");

        assert!(!printed.contains("c2VjcmV0"));
        assert!(!printed.contains("pw@h"));
    }
}
