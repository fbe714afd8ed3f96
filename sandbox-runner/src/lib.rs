//! The gateway side of the plugin sandbox.
//!
//! [`Runner`] starts one `sandbox-worker` process per job, sends it one
//! request frame and reads one response frame. [`WorkerMode::Spawn`]
//! executes a fresh worker per job; [`WorkerMode::Zygote`] forks each job's
//! process from a long-lived worker that never receives a request. In both:
//!
//! - the worker gets an empty environment, stdin, stdout and stderr pipes
//!   and no other descriptor (every other descriptor is marked close-on-exec
//!   in the child before `exec`, even one a library opened without
//!   `O_CLOEXEC`), and no secret in its arguments;
//! - the request frame is zeroized after it is written, and the caller's
//!   [`NoteContent`] is dropped (and zeroized) with the request;
//! - a wall-clock deadline kills the worker with SIGKILL when it passes;
//! - stdout and stderr reads keep at most a configured number of bytes;
//! - at most [`RunnerConfig::max_concurrent_workers`] workers run at once.
//!
//! Every way a run can end is a [`RunOutcome`]; [`RunnerError`] is for
//! failures of the runner itself (spawn failed, protocol violated).

mod config;
mod error;
mod process;
mod report;
mod runner;
mod self_check;
mod zygote;

pub use config::{DEFAULT_WORKER_NAME, RunnerConfig, WorkerMode};
pub use error::{CompileError, RunnerError};
pub use report::{RunOutcome, RunReport};
pub use runner::{LoadedRun, RunRequest, Runner};
pub use sandbox_protocol::{
    GuestLimits, LogLevel, LogLine, NoteContent, Output, OutputKind, PluginCode, ProcessLimits,
};
pub use self_check::{LayerState, SandboxLayer, SandboxLayers};
pub use zygote::CodeKey;
#[doc(hidden)]
pub use zygote::IdleZygoteChild;
