//! The `gateway` binary started on a free loopback port, and throwaway
//! PostgreSQL databases.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Base64 of 32 bytes of 7, the benchmark's master key.
const MASTER_KEY_BASE64: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// How long the gateway may take to log its address.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// Default administrative URL of the local PostgreSQL server; override it
/// with `SANDNOTES_TEST_POSTGRES_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A running gateway, killed on drop.
pub struct GatewayProcess {
    child: Child,
    address: SocketAddr,
    base_url: String,
}

impl GatewayProcess {
    /// Starts `binary` with an empty environment plus the data folder, the
    /// benchmark master key, `database_url` and `env`, and waits for the
    /// log line with its address.
    pub async fn start(
        binary: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(String, String)],
    ) -> Result<Self> {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("SANDNOTES_BIND", "127.0.0.1:0")
            .env("SANDNOTES_DATA_DIR", data_dir)
            .env("SANDNOTES_MASTER_KEY", MASTER_KEY_BASE64)
            .env("SANDNOTES_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;

        let stderr = child
            .stderr
            .take()
            .context("the gateway has no stderr pipe")?;
        let mut lines = BufReader::new(stderr).lines();
        let address = tokio::time::timeout(STARTUP_DEADLINE, async {
            let mut log = Vec::new();
            while let Some(line) = lines.next_line().await? {
                if let Some(address) = listening_address(&line) {
                    return Ok(address);
                }
                log.push(line);
            }
            bail!(
                "the gateway exited before listening; its log:\n{}",
                log.join("\n")
            )
        })
        .await
        .context("the gateway did not log its address in time")??;

        let address: SocketAddr = address
            .parse()
            .with_context(|| format!("the gateway logged an invalid address {address:?}"))?;

        // Keep draining the log so the gateway never blocks on a full pipe.
        // Copying the bytes away without splitting them into lines keeps
        // the harness's share of the CPU small under load.
        let mut log = lines.into_inner();
        tokio::spawn(async move { tokio::io::copy_buf(&mut log, &mut tokio::io::sink()).await });

        Ok(Self {
            child,
            address,
            base_url: format!("http://{address}"),
        })
    }

    /// The gateway's process id.
    pub fn pid(&self) -> Result<u32> {
        self.child.id().context("the gateway has exited")
    }

    /// Returns the gateway's loopback address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the full URL of `path`, which starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Finds `127.0.0.1:PORT` in the gateway's "listening" log line.
fn listening_address(line: &str) -> Option<String> {
    if !line.contains("listening") {
        return None;
    }
    let start = line.find("127.0.0.1:")?;
    let address: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    Some(address)
}

/// An empty PostgreSQL database, dropped with this value.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates `sandnotes_bench_<uuid>` on the server at
    /// `SANDNOTES_TEST_POSTGRES_URL` (default [`DEFAULT_POSTGRES_URL`]).
    pub async fn create() -> Result<Self> {
        let admin_url = std::env::var("SANDNOTES_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("sandnotes_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("PostgreSQL is not reachable at {admin_url}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;

        let (server, _) = admin_url
            .rsplit_once('/')
            .context("the PostgreSQL URL has no database name")?;
        let url = format!("{server}/{name}");
        Ok(Self {
            admin_url,
            name,
            url,
        })
    }

    /// URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, closing any open connection.
    pub async fn drop_database(self) -> Result<()> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        Ok(())
    }
}
