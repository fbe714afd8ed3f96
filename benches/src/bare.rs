//! The HTTP ceiling: a bare axum server that responds to note get and note
//! create with fixed bytes, with no authentication, database or encryption.
//!
//! It runs as its own process (this benchmark binary started with
//! `--serve-bare-http`) on the same axum, hyper and Tokio as the gateway,
//! and responds with the bodies the gateway sent for the same requests. The
//! same client measures it, so its throughput is the most any handler can
//! reach on this machine with the client on the same cores.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Command-line flag that turns this binary into the bare server.
pub const SERVE_FLAG: &str = "--serve-bare-http";

/// Maximum bytes the bare server reads from stdin before it listens.
const MAX_RESPONSES_BYTES: u64 = 16 << 20;

/// How long the bare server may take to print its address.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// The response bodies the bare server sends, copied from the gateway.
#[derive(Serialize, Deserialize)]
pub struct Responses {
    /// Body of `GET /v1/notes/{id}` (200 OK).
    pub note_get: String,
    /// Body of `POST /v1/notes` (201 Created).
    pub note_create: String,
}

/// A running bare server, killed on drop.
pub struct BareServer {
    _child: Child,
    address: SocketAddr,
}

impl BareServer {
    /// Starts this executable as a bare server that responds with
    /// `responses`, and waits for its address.
    pub async fn start(responses: &Responses) -> Result<Self> {
        let exe = std::env::current_exe().context("failed to locate this executable")?;
        let mut child = Command::new(exe)
            .arg(SERVE_FLAG)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("failed to start the bare HTTP server")?;

        let mut stdin = child.stdin.take().context("no stdin pipe")?;
        stdin.write_all(&serde_json::to_vec(responses)?).await?;
        drop(stdin);

        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut line = String::new();
        tokio::time::timeout(
            STARTUP_DEADLINE,
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .context("the bare HTTP server did not print its address in time")??;
        let address = line
            .trim()
            .parse()
            .with_context(|| format!("the bare HTTP server printed {line:?}, not an address"))?;
        Ok(Self {
            _child: child,
            address,
        })
    }

    /// Returns the server's loopback address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

/// Runs the bare server: reads [`Responses`] as JSON from stdin, listens on
/// a free loopback port, prints the address on stdout and serves until
/// killed.
pub async fn serve() -> Result<()> {
    // Read before the server starts, so blocking on stdin stalls nothing.
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_RESPONSES_BYTES)
        .read_to_end(&mut input)?;
    let responses: Responses =
        serde_json::from_slice(&input).context("stdin is not the bare server's responses")?;
    let note_get = Bytes::from(responses.note_get);
    let note_create = Bytes::from(responses.note_create);

    let app = Router::new()
        .route(
            "/v1/notes/{id}",
            get(move || async move { json(StatusCode::OK, note_get) }),
        )
        .route(
            "/v1/notes",
            // Reads the whole body (axum's default limit, 2 MiB) like the
            // gateway, then discards it.
            post(move |_body: Bytes| async move { json(StatusCode::CREATED, note_create) }),
        );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{address}")?;
    stdout.flush()?;
    axum::serve(listener, app).await?;
    bail!("the bare HTTP server stopped")
}

fn json(status: StatusCode, body: Bytes) -> axum::response::Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}
