//! Plugin runs: admission, precompiled code, the sandboxed run and the checks
//! on its output.
//!
//! [`PluginRuntime`] is the gateway's one handle on the sandbox. It owns the
//! [`Runner`] that spawns workers, the authenticated precompiled-code cache,
//! and the run slots that bound concurrent runs. Compilation happens in a
//! worker in compile mode, never in the gateway, because the compiler is fed
//! untrusted input; the gateway itself links no WebAssembly engine.
//!
//! At shutdown, [`PluginRuntime::cancel_runs`] ends the runs still going:
//! their workers are killed and the callers get [`RunError::Cancelled`].

mod args;
pub mod output;
pub mod slots;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::Instrument as _;

use plugin_registry::{ArtifactCache, ArtifactMacKey, Lookup, PluginDigest, UploadLimits};
use sandbox_protocol::{GuestLimits, NoteContent, PluginCode};
use sandbox_runner::{
    CodeKey, CompileError, LoadedRun, RunReport, RunRequest, Runner, RunnerConfig, RunnerError,
    SandboxLayers,
};

use crate::crypto::MasterKey;
use crate::store::Store;
pub use args::RuntimeArgs;
pub use slots::{Busy, RunSlot, RunSlots, SlotLimits};

/// Settings of the plugin runtime, each with its default.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Worker binary, process limits and wall-clock deadlines.
    pub runner: RunnerConfig,
    /// Limits inside the guest: fuel, memory, stack, output and logs.
    pub guest: GuestLimits,
    /// Upload validation limits (10 MiB by default).
    pub upload: UploadLimits,
    /// Concurrent runs and the queue in front of them.
    pub slots: SlotLimits,
    /// Compile jobs at once, each within the runner's compile limits
    /// (20 s of CPU and 2 GiB of address space by default). Default: the
    /// number of CPUs.
    pub max_concurrent_compiles: usize,
    /// Folder of the precompiled-code cache.
    pub cache_dir: PathBuf,
    /// Largest `args` value accepted, in bytes of JSON. Default 64 KiB.
    pub max_args_bytes: usize,
}

impl RuntimeConfig {
    /// Defaults with the cache under `data_dir/artifacts`. The runner
    /// admits as many workers at once as there are run slots.
    pub fn with_data_dir(data_dir: &Path) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let slots = SlotLimits::default();
        let runner = RunnerConfig {
            max_concurrent_workers: slots.max_concurrent,
            ..RunnerConfig::default()
        };
        Self {
            runner,
            guest: GuestLimits::default(),
            upload: UploadLimits::default(),
            slots,
            max_concurrent_compiles: cpus,
            cache_dir: data_dir.join("artifacts"),
            max_args_bytes: 64 * 1024,
        }
    }
}

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeStartError {
    /// The worker could not be found or asked for its engine fingerprint.
    #[error("the sandbox worker is unusable: {0}")]
    Worker(#[from] RunnerError),
    /// The cache folder could not be created.
    #[error(transparent)]
    Cache(#[from] plugin_registry::ArtifactCacheError),
}

/// A run ended without a report from the worker.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The runner failed, or the worker broke the protocol.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// The gateway is shutting down and killed the worker.
    #[error("the run was cancelled because the gateway is shutting down")]
    Cancelled,
    /// The zygote dropped the plugin after [`PluginRuntime::plugin_code`]
    /// found it loaded, and fetching its precompiled code then failed.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

/// Precompiled code could not be produced for a plugin.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The stored component no longer compiles (for example after an engine
    /// upgrade that dropped a feature it uses).
    #[error("the plugin does not compile: {0}")]
    Invalid(String),
    /// The plugin's bytes are missing from the store.
    #[error("the bytes of plugin {0} are missing from the store")]
    MissingBytes(PluginDigest),
    /// The worker or the cache failed.
    #[error(transparent)]
    Sandbox(#[from] RunnerError),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] plugin_registry::ArtifactCacheError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A blocking task failed.
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
}

impl From<CompileError> for ArtifactError {
    fn from(error: CompileError) -> Self {
        match error {
            CompileError::InvalidComponent(message) => Self::Invalid(message),
            CompileError::Runner(error) => Self::Sandbox(error),
        }
    }
}

/// The gateway's handle on the sandbox.
pub struct PluginRuntime {
    runner: Runner,
    cache: Arc<ArtifactCache>,
    /// Bounds concurrent runs and the queue in front of them.
    pub slots: Arc<RunSlots>,
    /// Limits of every run.
    pub guest: GuestLimits,
    /// Upload validation limits.
    pub upload: UploadLimits,
    /// Largest `args` value accepted, in bytes of JSON.
    pub max_args_bytes: usize,
    /// The worker's confinement layers on this host, from its self-check
    /// at start-up.
    pub sandbox_layers: SandboxLayers,
    /// One lock per digest being compiled, so concurrent misses compile once.
    compiling: Mutex<HashMap<PluginDigest, Arc<tokio::sync::Mutex<()>>>>,
    /// Permits that bound concurrent compile jobs, which take the same
    /// runner workers as runs.
    compile_permits: tokio::sync::Semaphore,
    /// Becomes `true` once, at shutdown; runs still going are then cancelled.
    cancel: tokio::sync::watch::Sender<bool>,
}

impl PluginRuntime {
    /// Finds the worker, queries its engine fingerprint, and opens the
    /// cache for that engine with a MAC key derived from `master_key`.
    pub async fn start(
        config: RuntimeConfig,
        master_key: &MasterKey,
    ) -> Result<Self, RuntimeStartError> {
        let runner = Runner::new(config.runner)?;
        let fingerprint = runner.engine_fingerprint().await?;
        let key = ArtifactMacKey::new(master_key.artifact_mac_key());
        let cache = ArtifactCache::open(&config.cache_dir, fingerprint, key)?;
        let sandbox_layers = runner.self_check().await?;
        log_sandbox_layers(&sandbox_layers);
        tracing::info!(
            worker = %runner.worker_path().display(),
            engine_fingerprint = %fingerprint,
            cache = %config.cache_dir.display(),
            "plugin runtime ready"
        );

        Ok(Self {
            runner,
            cache: Arc::new(cache),
            slots: Arc::new(RunSlots::new(config.slots)),
            guest: config.guest,
            upload: config.upload,
            max_args_bytes: config.max_args_bytes,
            sandbox_layers,
            compiling: Mutex::new(HashMap::new()),
            compile_permits: tokio::sync::Semaphore::new(config.max_concurrent_compiles.max(1)),
            cancel: tokio::sync::watch::Sender::new(false),
        })
    }

    /// Compiles a validated upload in a worker and caches the result.
    pub async fn compile_upload(
        &self,
        digest: PluginDigest,
        component: Vec<u8>,
    ) -> Result<(), ArtifactError> {
        let _guard = self.compile_lock(digest).await;
        let artifact = self.compile(digest, &component).await?;
        self.store_artifact(digest, artifact).await?;
        Ok(())
    }

    /// Returns authenticated precompiled code for `digest`, compiling it in a
    /// worker on a cache miss. A cached file that fails authentication is
    /// deleted (and logged by the cache) and rebuilt.
    pub async fn precompiled(
        &self,
        store: &dyn Store,
        digest: PluginDigest,
    ) -> Result<Vec<u8>, ArtifactError> {
        if let Some(artifact) = self.cached(digest).await? {
            return Ok(artifact);
        }

        let _guard = self.compile_lock(digest).await;
        // Another request may have compiled it while this one waited.
        if let Some(artifact) = self.cached(digest).await? {
            return Ok(artifact);
        }

        let component = store
            .plugin_bytes(digest.as_bytes())
            .await?
            .ok_or(ArtifactError::MissingBytes(digest))?;
        tracing::info!(plugin_sha256 = %digest, "compiling plugin after a cache miss");
        let artifact = self.compile(digest, &component).await?;
        self.store_artifact(digest, artifact.clone()).await?;
        Ok(artifact)
    }

    /// Returns the code to run the plugin `digest` with:
    /// [`PluginCode::Loaded`] when the sandbox zygote has loaded it already, so
    /// the gateway reads and authenticates nothing, otherwise the
    /// authenticated precompiled code (see [`Self::precompiled`]).
    pub async fn plugin_code(
        &self,
        store: &dyn Store,
        digest: PluginDigest,
    ) -> Result<PluginCode, ArtifactError> {
        if self
            .runner
            .is_loaded(code_key(digest), self.guest.wasm_stack_bytes)
            .await
        {
            return Ok(PluginCode::Loaded);
        }
        Ok(PluginCode::Precompiled(
            self.precompiled(store, digest).await?,
        ))
    }

    /// Runs the plugin `digest` on a note in a fresh worker, inside a
    /// `sandbox.worker` span, with `code` from [`Self::plugin_code`]. The
    /// note is moved into the request and zeroized once the run ends (or,
    /// with code sent along, once written to the worker), or dropped (and
    /// zeroized) when the run is cancelled first.
    ///
    /// Precompiled code is loaded into the sandbox zygote under the
    /// plugin's digest, so that later runs skip loading it. When `code` is
    /// [`PluginCode::Loaded`] but the zygote has dropped that plugin since,
    /// the code is fetched from `store` and the cache and sent with the
    /// request.
    ///
    /// # Errors
    ///
    /// [`RunError::Cancelled`] when [`Self::cancel_runs`] was called before
    /// or during the run; the worker is killed then.
    pub async fn run(
        &self,
        store: &dyn Store,
        digest: PluginDigest,
        code: PluginCode,
        args: String,
        note: NoteContent,
    ) -> Result<RunReport, RunError> {
        let mut cancel = self.cancel.subscribe();
        if *cancel.borrow_and_update() {
            return Err(RunError::Cancelled);
        }

        let request = RunRequest {
            limits: self.guest,
            plugin: code,
            args,
            note,
        };
        let span = tracing::info_span!(
            "sandbox.worker",
            otel.name = "sandbox.worker run",
            sandbox.job = "run",
        );
        let run = async {
            let key = code_key(digest);
            let mut request = match request.plugin {
                PluginCode::Loaded => match self.runner.run_loaded(key, request).await? {
                    LoadedRun::Finished(report) => return Ok(report),
                    LoadedRun::NotLoaded(request) => request,
                },
                _ => request,
            };
            if let PluginCode::Loaded = request.plugin {
                request.plugin = PluginCode::Precompiled(self.precompiled(store, digest).await?);
            }
            Ok(self.runner.run_keyed(key, request).await?)
        };
        // Dropping the runner's future kills the worker, which the runner
        // spawns with kill-on-drop.
        tokio::select! {
            result = run.instrument(span) => result,
            () = wait_for_cancel(&mut cancel) => Err(RunError::Cancelled),
        }
    }

    /// Cancels every run in progress and every later one. Called once the
    /// shutdown grace period has passed.
    pub fn cancel_runs(&self) {
        self.cancel.send_replace(true);
    }

    async fn compile(
        &self,
        digest: PluginDigest,
        component: &[u8],
    ) -> Result<Vec<u8>, CompileError> {
        let span = tracing::info_span!(
            "sandbox.worker",
            otel.name = "sandbox.worker compile",
            sandbox.job = "compile",
            plugin.sha256 = %digest,
        );
        // The semaphore is never closed, so `acquire` always returns a
        // permit.
        let _permit = self.compile_permits.acquire().await.ok();
        self.runner.compile(component).instrument(span).await
    }

    async fn cached(&self, digest: PluginDigest) -> Result<Option<Vec<u8>>, ArtifactError> {
        let cache = Arc::clone(&self.cache);
        let lookup = tokio::task::spawn_blocking(move || cache.get(&digest)).await??;
        match lookup {
            Lookup::Hit(artifact) => Ok(Some(artifact)),
            Lookup::Miss => Ok(None),
            Lookup::Tampered => {
                tracing::warn!(
                    plugin_sha256 = %digest,
                    event = "artifact_integrity_failure",
                    "discarded a tampered precompiled artifact; recompiling"
                );
                Ok(None)
            }
        }
    }

    async fn store_artifact(
        &self,
        digest: PluginDigest,
        artifact: Vec<u8>,
    ) -> Result<(), ArtifactError> {
        let cache = Arc::clone(&self.cache);
        tokio::task::spawn_blocking(move || cache.put(&digest, &artifact)).await??;
        Ok(())
    }

    async fn compile_lock(&self, digest: PluginDigest) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut compiling = self
                .compiling
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Drop locks that no request holds, so the map does not grow with every
            // plugin ever compiled.
            compiling.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(compiling.entry(digest).or_default())
        };
        lock.lock_owned().await
    }
}

/// Key of a plugin's precompiled code in the sandbox zygote's slots: the
/// component's SHA-256, which the precompiled-code cache is keyed by too.
fn code_key(digest: PluginDigest) -> CodeKey {
    CodeKey(*digest.as_bytes())
}

/// Logs the worker's confinement layers: one info line listing them all,
/// and a warning naming each layer this host does not fully allow.
fn log_sandbox_layers(layers: &SandboxLayers) {
    tracing::info!(layers = %layers.summary(), "sandbox layers");
    for layer in layers.0.iter().filter(|layer| !layer.is_active()) {
        tracing::warn!(
            layer = %layer.name,
            reason = layer.reason.as_deref().unwrap_or(""),
            "sandbox layer unavailable or partial on this host; runs continue without it"
        );
    }
}

/// Completes once `cancel` is `true`, or never if its sender is gone.
async fn wait_for_cancel(cancel: &mut tokio::sync::watch::Receiver<bool>) {
    if cancel.wait_for(|cancelled| *cancelled).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A plugin log line as the API returns it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLineBody {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The line, with control characters other than tab removed.
    pub message: String,
}

impl LogLineBody {
    /// Converts the worker's log lines for the API.
    pub fn from_lines(lines: &[sandbox_protocol::LogLine]) -> Vec<Self> {
        lines
            .iter()
            .map(|line| Self {
                level: match line.level {
                    sandbox_protocol::LogLevel::Debug => "debug",
                    sandbox_protocol::LogLevel::Info => "info",
                    sandbox_protocol::LogLevel::Warn => "warn",
                    sandbox_protocol::LogLevel::Error => "error",
                },
                message: output::strip_control_characters(&line.message).replace('\n', " "),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_admit_every_slot() {
        let config = RuntimeConfig::with_data_dir(Path::new("data"));
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);

        assert_eq!(config.slots.max_concurrent, cpus * slots::RUNS_PER_CPU);
        assert_eq!(config.max_concurrent_compiles, cpus);
        assert_eq!(
            config.runner.max_concurrent_workers,
            config.slots.max_concurrent
        );
    }
}
