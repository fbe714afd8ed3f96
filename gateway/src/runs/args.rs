//! Command-line flags and environment variables of the plugin runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sandbox_runner::WorkerMode;

use super::RuntimeConfig;

/// Plugin runtime settings; each flag also reads the environment variable
/// named in `--help`.
#[derive(Debug, Clone, clap::Args)]
pub struct RuntimeArgs {
    /// Path of the `sandbox-worker` binary. Default: next to the gateway
    /// binary.
    #[arg(long, env = "SANDNOTES_WORKER_PATH")]
    pub worker_path: Option<PathBuf>,

    /// How each run's worker process starts: `zygote` forks it from one
    /// long-lived worker that never receives note data, `spawn` executes a
    /// fresh worker per run. When no zygote can start on this host, the
    /// gateway logs a warning and spawns.
    #[arg(long, env = "SANDNOTES_WORKER_MODE", value_enum, default_value_t = WorkerMode::Zygote)]
    pub worker_mode: WorkerMode,

    /// Plugins the zygote keeps deserialized, so that their runs skip
    /// loading code; each costs about its precompiled size in memory. 0
    /// turns this off, and the zygote accepts at most 64. Used in zygote
    /// mode only.
    #[arg(long, env = "SANDNOTES_ZYGOTE_PLUGIN_SLOTS", default_value_t = 16, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub zygote_plugin_slots: u16,

    /// Processes kept forked from the zygote ahead of runs of the plugins
    /// it keeps loaded, so that those runs skip the fork. Each waits for
    /// one run's request. 0 turns this off, and at most 32 are allowed.
    /// Used in zygote mode only.
    #[arg(long, env = "SANDNOTES_ZYGOTE_WARM_CHILDREN", default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=32))]
    pub zygote_warm_children: u16,

    /// Plugin runs in progress at once. Default: two per CPU.
    #[arg(long, env = "SANDNOTES_MAX_CONCURRENT_RUNS")]
    pub max_concurrent_runs: Option<usize>,

    /// Maximum wait for a run slot, in milliseconds, before a run request
    /// gets 503 with Retry-After.
    #[arg(long, env = "SANDNOTES_RUN_QUEUE_WAIT_MS", default_value_t = 1_000)]
    pub run_queue_wait_ms: u64,

    /// Wall-clock deadline of one plugin run, in milliseconds, after which
    /// the worker is killed.
    #[arg(long, env = "SANDNOTES_RUN_DEADLINE_MS", default_value_t = 2_000)]
    pub run_deadline_ms: u64,

    /// Largest plugin upload, in bytes.
    #[arg(long, env = "SANDNOTES_MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: usize,
}

impl RuntimeArgs {
    /// Builds the runtime configuration these flags describe, with the
    /// precompiled-code cache in `data_dir/artifacts`.
    pub fn runtime_config(&self, data_dir: &Path) -> RuntimeConfig {
        let mut config = RuntimeConfig::with_data_dir(data_dir);
        config.runner.worker_path = self.worker_path.clone();
        config.runner.worker_mode = self.worker_mode;
        config.runner.zygote_plugin_slots = usize::from(self.zygote_plugin_slots);
        config.runner.zygote_warm_children = usize::from(self.zygote_warm_children);
        config.runner.run_deadline = Duration::from_millis(self.run_deadline_ms);
        if let Some(max_concurrent) = self.max_concurrent_runs {
            config.slots.max_concurrent = max_concurrent.max(1);
            config.slots.max_queued = config.slots.max_concurrent * 4;
            config.runner.max_concurrent_workers = config.slots.max_concurrent;
        }
        config.slots.queue_wait = Duration::from_millis(self.run_queue_wait_ms);
        config.upload.max_bytes = self.max_upload_bytes;
        config
    }
}
