//! Errors of the runner itself, as opposed to run outcomes.

use std::path::PathBuf;

use sandbox_protocol::FrameError;

/// The runner could not complete a job. Plugin failures are not errors but
/// [`crate::RunOutcome`]s.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(
        "sandbox worker binary not found at {path}; build it with `cargo build -p sandbox-worker` or set the worker path"
    )]
    WorkerNotFound { path: PathBuf },

    #[error("failed to locate the current executable to find the sandbox worker")]
    CurrentExe(#[source] std::io::Error),

    #[error("failed to spawn the sandbox worker {path}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("failed to talk to the sandbox worker")]
    Io(#[from] std::io::Error),

    #[error("the sandbox zygote exited during the job")]
    ZygoteExited,

    #[error("failed to encode the request for the sandbox worker")]
    Encode(#[source] FrameError),

    #[error("invalid response from the sandbox worker")]
    Protocol(#[source] FrameError),

    #[error("sandbox worker response exceeds {max_bytes} bytes")]
    ResponseTooLarge { max_bytes: usize },

    #[error("sandbox worker answered a {expected} request with another kind of response")]
    UnexpectedResponse { expected: &'static str },

    #[error("sandbox worker rejected the request: {message}")]
    Rejected { message: String },

    #[error("sandbox worker did not finish within {deadline_ms} ms")]
    DeadlineExceeded { deadline_ms: u128 },

    #[error("sandbox worker exited with status {exit_code}: {stderr}")]
    Crashed { exit_code: i32, stderr: String },

    #[error("sandbox worker was killed by signal {signal}: {stderr}")]
    KilledBySignal { signal: i32, stderr: String },

    #[error("sandbox worker printed an invalid engine fingerprint")]
    InvalidFingerprint,

    #[error("sandbox worker printed an invalid self-check report: {output}")]
    InvalidSelfCheck { output: String },
}

/// A compile job failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The component is invalid; the message is wasmtime's error.
    #[error("invalid component: {0}")]
    InvalidComponent(String),

    #[error(transparent)]
    Runner(#[from] RunnerError),
}
