//! The typed result of one run.

use std::time::Duration;

use sandbox_protocol::{LogLine, Output};
use serde::Serialize;

/// Outcome of a run. Serialized with an `outcome` tag in snake case, for
/// example `{"outcome": "fuel_exhausted"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// `run` returned `ok`. The output is not yet checked or sanitized.
    Ok { output: Output },
    /// `run` returned `err` with this message for the caller.
    PluginError { message: String },
    /// The guest trapped (a panic, an invalid memory access and so on).
    Trap { message: String },
    /// The fuel budget ran out.
    FuelExhausted,
    /// The worker's epoch deadline passed while guest code ran.
    EpochDeadline,
    /// The guest tried to grow its memory past the limit.
    MemoryLimitExceeded { limit_bytes: u64 },
    /// The guest tried to grow a table past the limit.
    TableLimitExceeded { limit_elements: u64 },
    /// The wasm stack exceeded its maximum size.
    StackOverflow,
    /// The output or error message was larger than allowed.
    OutputTooLarge { size_bytes: u64, limit_bytes: u64 },
    /// The plugin kept logging after its log budget was spent.
    LogLimitExceeded { limit_bytes: u64 },
    /// The plugin could not be compiled, loaded or instantiated.
    InvalidPlugin { message: String },
    /// The runner's wall-clock deadline passed and it killed the worker.
    DeadlineExceeded { deadline_ms: u64 },
    /// The worker exited with a failure status and no response.
    Crashed { exit_code: i32, stderr: String },
    /// The worker was killed by a signal: SIGSYS (31) from the seccomp
    /// filter, SIGXCPU (24) or SIGKILL (9) from the CPU rlimit, and so on.
    KilledBySignal { signal: i32, stderr: String },
}

impl RunOutcome {
    /// Short snake-case name of the outcome, as used in the JSON tag, for
    /// logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ok { .. } => "ok",
            Self::PluginError { .. } => "plugin_error",
            Self::Trap { .. } => "trap",
            Self::FuelExhausted => "fuel_exhausted",
            Self::EpochDeadline => "epoch_deadline",
            Self::MemoryLimitExceeded { .. } => "memory_limit_exceeded",
            Self::TableLimitExceeded { .. } => "table_limit_exceeded",
            Self::StackOverflow => "stack_overflow",
            Self::OutputTooLarge { .. } => "output_too_large",
            Self::LogLimitExceeded { .. } => "log_limit_exceeded",
            Self::InvalidPlugin { .. } => "invalid_plugin",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
            Self::Crashed { .. } => "crashed",
            Self::KilledBySignal { .. } => "killed_by_signal",
        }
    }
}

impl From<sandbox_protocol::RunOutcome> for RunOutcome {
    fn from(outcome: sandbox_protocol::RunOutcome) -> Self {
        use sandbox_protocol::RunOutcome as Worker;

        match outcome {
            Worker::Ok(output) => Self::Ok { output },
            Worker::PluginError(message) => Self::PluginError { message },
            Worker::Trap { message } => Self::Trap { message },
            Worker::FuelExhausted => Self::FuelExhausted,
            Worker::EpochDeadline => Self::EpochDeadline,
            Worker::MemoryLimitExceeded { limit_bytes } => {
                Self::MemoryLimitExceeded { limit_bytes }
            }
            Worker::TableLimitExceeded { limit_elements } => {
                Self::TableLimitExceeded { limit_elements }
            }
            Worker::StackOverflow => Self::StackOverflow,
            Worker::OutputTooLarge {
                size_bytes,
                limit_bytes,
            } => Self::OutputTooLarge {
                size_bytes,
                limit_bytes,
            },
            Worker::LogLimitExceeded { limit_bytes } => Self::LogLimitExceeded { limit_bytes },
            Worker::InvalidPlugin { message } => Self::InvalidPlugin { message },
        }
    }
}

/// Result of one run with its resource figures. Figures the worker could
/// not report (the worker was killed) are zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub outcome: RunOutcome,
    /// Plugin log lines, oldest first. User data: return them to the user
    /// who started the run, never to server logs.
    pub logs: Vec<LogLine>,
    /// Fuel the guest consumed.
    pub fuel_used: u64,
    /// Highest total linear memory of the instance, in bytes.
    pub memory_peak_bytes: u64,
    /// Time the worker measured from instantiation to the end of the call.
    #[serde(rename = "duration_us", serialize_with = "as_micros")]
    pub duration: Duration,
    /// Time from spawning the worker to its exit, as the runner measured it.
    #[serde(rename = "wall_time_us", serialize_with = "as_micros")]
    pub wall_time: Duration,
}

impl RunReport {
    /// A report for a run that ended without a response from the worker.
    pub(crate) fn without_response(outcome: RunOutcome, wall_time: Duration) -> Self {
        Self {
            outcome,
            logs: Vec::new(),
            fuel_used: 0,
            memory_peak_bytes: 0,
            duration: Duration::ZERO,
            wall_time,
        }
    }
}

fn as_micros<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}
