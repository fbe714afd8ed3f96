//! Runner configuration and its defaults.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use sandbox_protocol::{DEFAULT_MAX_REQUEST_BYTES, ProcessLimits};

/// File name of the worker binary looked up next to the current executable.
pub const DEFAULT_WORKER_NAME: &str = "sandbox-worker";

/// How the runner starts the process of each job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerMode {
    /// Fork each job from one long-lived `sandbox-worker --zygote`, which
    /// never receives note data. Falls back to [`WorkerMode::Spawn`], with
    /// a warning, when no zygote can start on this host.
    Zygote,
    /// Execute a fresh `sandbox-worker` per job.
    #[default]
    Spawn,
}

/// Settings of a [`crate::Runner`]. Every field has a documented default.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Path of the worker binary. Default: `sandbox-worker` in the directory
    /// of the current executable.
    pub worker_path: Option<PathBuf>,
    /// Wall-clock deadline of a run, from spawn to exit. Default 2 s.
    pub run_deadline: Duration,
    /// Wall-clock deadline of a compile job. Default 30 s.
    pub compile_deadline: Duration,
    /// Process limits of a run worker. Default [`ProcessLimits::default`]
    /// (2 s CPU, 1 GiB address space).
    pub run_process_limits: ProcessLimits,
    /// Process limits of a compile worker. Default
    /// [`ProcessLimits::for_compile`] (20 s CPU, 2 GiB address space).
    pub compile_process_limits: ProcessLimits,
    /// Maximum request payload, passed to the worker as
    /// `--max-request-bytes`. Default 128 MiB.
    pub max_request_bytes: usize,
    /// Maximum precompiled code a compile job may return, in bytes.
    /// Default 128 MiB.
    pub max_compiled_bytes: usize,
    /// Bytes of worker stderr kept for error reports; the rest is read and
    /// discarded. Default 16 KiB.
    pub max_stderr_bytes: usize,
    /// Workers allowed to run at once; further jobs wait. Default: the
    /// number of CPUs the process may use.
    pub max_concurrent_workers: usize,
    /// How each job's process starts. Default [`WorkerMode::Spawn`], the
    /// mode with the fewest moving parts; the gateway selects the zygote.
    /// Engine fingerprint and self-check calls always execute a worker.
    pub worker_mode: WorkerMode,
    /// Deserialized plugins each zygote process keeps, so that a run of one
    /// of them skips loading its code. Each costs the zygote about the size
    /// of the plugin's precompiled code in memory. Default 16; 0 turns the
    /// cache off.
    pub zygote_plugin_slots: usize,
    /// Children the runner keeps forked ahead for the plugins loaded in
    /// the zygote's slots, so that a run of one of them skips the fork.
    /// Each is a process, with its own copy of its plugin, waiting for one
    /// run's request. Default 2; 0 turns them off.
    pub zygote_warm_children: usize,
    /// Extra worker arguments. Default none. They must never carry a secret;
    /// tests use them to select the worker's diagnostic hooks.
    pub worker_args: Vec<OsString>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            worker_path: None,
            run_deadline: Duration::from_secs(2),
            compile_deadline: Duration::from_secs(30),
            run_process_limits: ProcessLimits::default(),
            compile_process_limits: ProcessLimits::for_compile(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_compiled_bytes: 128 << 20,
            max_stderr_bytes: 16 << 10,
            max_concurrent_workers: std::thread::available_parallelism().map_or(1, usize::from),
            worker_mode: WorkerMode::default(),
            zygote_plugin_slots: 16,
            zygote_warm_children: 2,
            worker_args: Vec::new(),
        }
    }
}
