//! Request and response messages.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::limits::{GuestLimits, ProcessLimits};

/// The one message the gateway sends to a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Run a plugin once on a note.
    Run(RunRequest),
    /// Compile a component to precompiled code for this worker's engine.
    Compile(CompileRequest),
}

/// Everything one plugin run needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    pub process: ProcessLimits,
    pub guest: GuestLimits,
    pub plugin: PluginCode,
    /// The caller's JSON arguments as text (`null` when none were given).
    pub args: String,
    pub note: NoteContent,
}

/// The plugin to run.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PluginCode {
    /// Output of a previous [`Request::Compile`] by a worker with the same
    /// engine fingerprint. Loading it executes its native code, so the
    /// gateway must authenticate it before sending it.
    Precompiled(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Component bytes, compiled by the worker before the run.
    Component(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The plugin that a zygote child inherited from the slot named in its
    /// spawn command. A worker without one rejects the request.
    Loaded,
}

impl std::fmt::Debug for PluginCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Precompiled(bytes) => write!(formatter, "Precompiled({} bytes)", bytes.len()),
            Self::Component(bytes) => write!(formatter, "Component({} bytes)", bytes.len()),
            Self::Loaded => formatter.write_str("Loaded"),
        }
    }
}

/// The decrypted note, zeroized on drop. Its `Debug` output shows sizes
/// only, so the text cannot reach a log by accident.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct NoteContent {
    pub title: String,
    pub body: String,
}

impl std::fmt::Debug for NoteContent {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NoteContent")
            .field("title_bytes", &self.title.len())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// A compile job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileRequest {
    pub process: ProcessLimits,
    #[serde(with = "serde_bytes")]
    pub component: Vec<u8>,
}

/// The one message a worker sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Run(RunResponse),
    Compile(CompileResponse),
    /// The worker could not act on the request (invalid limits, engine
    /// setup failed). The message names the problem and carries no note
    /// text.
    Rejected(String),
}

/// Result of one run with its resource figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResponse {
    pub outcome: RunOutcome,
    /// Plugin log lines, oldest first, within the run's log budget.
    pub logs: Vec<LogLine>,
    /// Fuel consumed by the guest.
    pub fuel_used: u64,
    /// Highest total linear memory of the instance, in bytes.
    pub memory_peak_bytes: u64,
    /// Time from instantiation to the end of the call, in microseconds.
    pub duration_us: u64,
}

/// Outcome of a run inside the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOutcome {
    /// `run` returned `ok`.
    Ok(Output),
    /// `run` returned `err` with this message.
    PluginError(String),
    /// The guest trapped for a reason other than the limits below (for
    /// example a panic, which executes `unreachable`).
    Trap { message: String },
    /// The fuel budget ran out.
    FuelExhausted,
    /// The epoch deadline passed.
    EpochDeadline,
    /// The guest tried to grow its memory past the limit.
    MemoryLimitExceeded { limit_bytes: u64 },
    /// The guest tried to grow a table past the limit.
    TableLimitExceeded { limit_elements: u64 },
    /// The wasm stack exceeded its maximum size.
    StackOverflow,
    /// `run` returned an output or error message larger than allowed.
    OutputTooLarge { size_bytes: u64, limit_bytes: u64 },
    /// The plugin kept logging after its log budget was spent.
    LogLimitExceeded { limit_bytes: u64 },
    /// The plugin could not be loaded or instantiated: invalid bytes,
    /// precompiled code for another engine, or imports the host does not
    /// provide.
    InvalidPlugin { message: String },
}

/// Kind of a successful output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Text,
    Json,
    Html,
}

/// A successful output as the plugin returned it, not yet checked or
/// sanitized. Zeroized on drop because it may quote the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Output {
    #[zeroize(skip)]
    pub kind: OutputKind,
    pub value: String,
}

/// Severity of a plugin log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// One plugin log line. Zeroized on drop because it may quote the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct LogLine {
    #[zeroize(skip)]
    pub level: LogLevel,
    pub message: String,
}

/// Result of a compile job.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompileResponse {
    /// Precompiled code for the worker's engine.
    Compiled(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The component is invalid; the message is wasmtime's error.
    Invalid(String),
}

impl std::fmt::Debug for CompileResponse {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Compiled(bytes) => write!(formatter, "Compiled({} bytes)", bytes.len()),
            Self::Invalid(message) => formatter.debug_tuple("Invalid").field(message).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{decode, encode};

    fn run_request() -> Request {
        Request::Run(RunRequest {
            process: ProcessLimits::default(),
            guest: GuestLimits::default(),
            plugin: PluginCode::Component(vec![0, 97, 115, 109]),
            args: "null".to_owned(),
            note: NoteContent {
                title: "Title".to_owned(),
                body: "Body text".to_owned(),
            },
        })
    }

    #[test]
    fn request_round_trips() {
        let request = run_request();

        let frame = encode(&request, 1 << 20).unwrap();

        assert_eq!(decode::<Request>(&frame, 1 << 20).unwrap(), request);
    }

    #[test]
    fn response_round_trips() {
        let response = Response::Run(RunResponse {
            outcome: RunOutcome::Ok(Output {
                kind: OutputKind::Json,
                value: "{}".to_owned(),
            }),
            logs: vec![LogLine {
                level: LogLevel::Info,
                message: "hello".to_owned(),
            }],
            fuel_used: 12,
            memory_peak_bytes: 65_536,
            duration_us: 40,
        });

        let frame = encode(&response, 1 << 20).unwrap();

        assert_eq!(decode::<Response>(&frame, 1 << 20).unwrap(), response);
    }

    #[test]
    fn note_debug_hides_text() {
        let note = NoteContent {
            title: "secret title".to_owned(),
            body: "secret body".to_owned(),
        };

        let debug = format!("{note:?}");

        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn plugin_code_debug_shows_size() {
        let debug = format!("{:?}", PluginCode::Precompiled(vec![0; 3]));

        assert_eq!(debug, "Precompiled(3 bytes)");
    }
}
