//! Spawning the real `gateway` binary on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a gateway may take to start or stop before the test fails. A
/// generous bound for loaded CI machines, not a speed target.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How to start a gateway.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// `SANDNOTES_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `SANDNOTES_MASTER_KEY` (sent base64-encoded); `None` sets no key.
    pub master_key: Option<[u8; 32]>,
    /// `DATABASE_URL`; `None` uses the SQLite default in the data folder.
    pub database_url: Option<String>,
    /// `RUST_LOG`; default `info`.
    pub log_filter: String,
    /// Further environment variables. The gateway starts with an empty
    /// environment plus these and the ones above.
    pub env: Vec<(String, String)>,
}

impl GatewayOptions {
    /// Options for a SQLite gateway in `data_dir` with the given master key.
    pub fn new(data_dir: &Path, master_key: [u8; 32]) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            master_key: Some(master_key),
            database_url: None,
            log_filter: "info".to_owned(),
            env: Vec::new(),
        }
    }
}

/// Failure to start a gateway: it exited first, or never logged its address.
#[derive(Debug)]
pub struct StartError {
    /// The exit status, if the process exited.
    pub status: Option<ExitStatus>,
    /// Everything the process wrote to stderr.
    pub logs: String,
}

/// A running gateway process, killed when dropped.
///
/// Its stderr (the log) is collected in memory, so a test can assert on what
/// was logged.
pub struct GatewayProcess {
    child: Child,
    base_url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

/// Returns the path of the `gateway` binary: `SANDNOTES_GATEWAY_BIN`, or
/// `gateway` in the target profile folder that contains this test executable
/// (`target/<profile>/deps/<test>` lives two levels below it).
///
/// # Panics
///
/// Panics when the binary does not exist, saying how to build it.
pub fn gateway_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SANDNOTES_GATEWAY_BIN") {
        return PathBuf::from(path);
    }

    let exe = std::env::current_exe().expect("locate the test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is inside target/<profile>/deps");
    let binary = profile_dir.join("gateway");
    assert!(
        binary.is_file(),
        "{} does not exist: run `cargo build -p gateway` (same profile) before these tests, \
         or set SANDNOTES_GATEWAY_BIN",
        binary.display()
    );
    binary
}

impl GatewayProcess {
    /// Starts a gateway on `127.0.0.1:0` and waits until `/healthz` returns 200.
    ///
    /// # Panics
    ///
    /// Panics with the process's log when it fails to start.
    pub async fn start(options: &GatewayOptions) -> Self {
        match Self::try_start(options).await {
            Ok(gateway) => gateway,
            Err(error) => panic!(
                "gateway failed to start (exit status {:?}); its log:\n{}",
                error.status, error.logs
            ),
        }
    }

    /// Starts a gateway and returns its log if it exits or stalls first.
    pub async fn try_start(options: &GatewayOptions) -> Result<Self, StartError> {
        let mut command = Command::new(gateway_binary());
        command
            .env_clear()
            .env("SANDNOTES_BIND", "127.0.0.1:0")
            .env("SANDNOTES_DATA_DIR", &options.data_dir)
            .env("RUST_LOG", &options.log_filter)
            .envs(options.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(key) = options.master_key {
            command.env("SANDNOTES_MASTER_KEY", STANDARD.encode(key));
        }
        if let Some(url) = &options.database_url {
            command.env("DATABASE_URL", url);
        }

        let mut child = command.spawn().expect("spawn the gateway binary");
        let logs = Arc::new(Mutex::new(Vec::new()));
        collect_lines(&mut child, Arc::clone(&logs));

        let address = wait_for_address(&mut child, &logs).await?;
        let gateway = Self {
            child,
            base_url: format!("http://{address}"),
            logs,
        };
        gateway.wait_until_healthy().await;
        Ok(gateway)
    }

    /// Returns the base URL, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Returns the full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Returns everything logged so far, one line per log event.
    pub fn logs(&self) -> String {
        self.logs
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }

    /// Waits until a log line contains every one of `needles`, and returns
    /// that line; `None` if none does within the start-up deadline.
    pub async fn wait_for_log(&self, needles: &[&str]) -> Option<String> {
        let deadline = tokio::time::Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Some(line) = find_line(&self.logs, needles) {
                return Some(line);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Process id of the gateway, or `None` once it has exited.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit status.
    pub async fn stop(mut self) -> ExitStatus {
        if let Some(id) = self.child.id() {
            let pid = Pid::from_raw(i32::try_from(id).expect("process ids fit in i32"));
            let _ = signal::kill(pid, Signal::SIGTERM);
        }
        tokio::time::timeout(STARTUP_DEADLINE, self.child.wait())
            .await
            .expect("the gateway exits after SIGTERM")
            .expect("wait for the gateway")
    }

    /// Sends SIGTERM, waits for a graceful exit, and returns the exit status
    /// with the whole log, including the lines written while stopping.
    pub async fn stop_with_logs(self) -> (ExitStatus, String) {
        let logs = Arc::clone(&self.logs);
        let status = self.stop().await;

        // The reader task drains the closed pipe on its own; wait until the
        // log stops growing.
        let line_count = || logs.lock().map(|lines| lines.len()).unwrap_or_default();
        let mut seen = line_count();
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = line_count();
            if now == seen {
                break;
            }
            seen = now;
        }
        let text = logs
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default();
        (status, text)
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        let url = self.url("/healthz");
        let deadline = tokio::time::Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gateway never became healthy; its log:\n{}",
                self.logs()
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

fn collect_lines(child: &mut Child, logs: Arc<Mutex<Vec<String>>>) {
    let stderr = child.stderr.take().expect("stderr is piped");
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut logs) = logs.lock() {
                logs.push(line);
            }
        }
    });
}

fn find_line(logs: &Mutex<Vec<String>>, needles: &[&str]) -> Option<String> {
    let lines = logs.lock().ok()?;
    lines
        .iter()
        .find(|line| needles.iter().all(|needle| line.contains(needle)))
        .cloned()
}

/// Returns the `address` field of a `listening` log line, in the text
/// (`address=127.0.0.1:8080`) or the JSON (`"address":"127.0.0.1:8080"`)
/// format.
fn listening_address(line: &str) -> Option<String> {
    if let Some(rest) = line.split("address=").nth(1) {
        return rest.split_whitespace().next().map(str::to_owned);
    }
    let rest = line.split("\"address\":\"").nth(1)?;
    rest.split('"').next().map(str::to_owned)
}

/// Waits for the `listening` log line and returns its `address` value.
async fn wait_for_address(
    child: &mut Child,
    logs: &Arc<Mutex<Vec<String>>>,
) -> Result<String, StartError> {
    let all_logs = || {
        logs.lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    };
    let deadline = tokio::time::Instant::now() + STARTUP_DEADLINE;

    loop {
        if let Some(address) = find_line(logs, &["listening"])
            .as_deref()
            .and_then(listening_address)
        {
            return Ok(address);
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Let the reader task drain the pipe before reporting.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Err(StartError {
                status: Some(status),
                logs: all_logs(),
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StartError {
                status: None,
                logs: all_logs(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_read_from_a_text_line() {
        let line =
            "2026-12-04T21:00:00Z  INFO gateway: listening address=127.0.0.1:4100 store=Sqlite";

        assert_eq!(listening_address(line).as_deref(), Some("127.0.0.1:4100"));
    }

    #[test]
    fn address_is_read_from_a_json_line() {
        let line =
            r#"{"level":"INFO","fields":{"message":"listening","address":"127.0.0.1:4100"}}"#;

        assert_eq!(listening_address(line).as_deref(), Some("127.0.0.1:4100"));
    }
}
