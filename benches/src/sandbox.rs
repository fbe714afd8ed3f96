//! Plugin runs without HTTP: the in-process floor against sandboxed runs
//! through `sandbox-runner`, measured side by side.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sandbox_runner::{
    CodeKey, GuestLimits, LoadedRun, NoteContent, PluginCode, RunOutcome, RunRequest, Runner,
    RunnerConfig,
};

use crate::floor::InProcessPlugin;
use crate::notes::TITLE;
use crate::stats::Samples;

/// Key of the benchmarked plugin in the zygote's plugin slots.
const CODE_KEY: CodeKey = CodeKey([0x5a; 32]);

/// The floor and one runner per worker mode, for one plugin.
pub struct SandboxBench {
    floor: InProcessPlugin,
    precompiled: Vec<u8>,
}

impl SandboxBench {
    /// Compiles `component` in process, and once through `runner` into
    /// precompiled code, which is what the gateway sends to workers.
    pub async fn new(component: &[u8], runner: &Runner) -> Result<Self> {
        let floor = InProcessPlugin::compile(component)?;
        let precompiled = runner
            .compile(component)
            .await
            .context("failed to compile the plugin in a worker")?;
        Ok(Self { floor, precompiled })
    }

    /// Runs the plugin in process `runs` times on `body`.
    pub fn measure_floor(&self, body: &str, runs: usize) -> Result<Samples> {
        // One warm-up run outside the samples.
        self.floor.run(TITLE, body)?;
        let mut latencies = Vec::with_capacity(runs);
        let started = Instant::now();
        for _ in 0..runs {
            let run_started = Instant::now();
            std::hint::black_box(self.floor.run(TITLE, std::hint::black_box(body))?);
            latencies.push(run_started.elapsed());
        }
        Ok(Samples::new(latencies, started.elapsed()))
    }

    /// Runs the plugin `runs` times on `body` through `runner`, one run at
    /// a time. Each latency covers encoding the request, the worker's whole
    /// life and decoding the response.
    pub async fn measure_runner(
        &self,
        runner: &Runner,
        body: &str,
        runs: usize,
    ) -> Result<Samples> {
        self.run_once(runner, body).await?;
        let mut latencies = Vec::with_capacity(runs);
        let started = Instant::now();
        for _ in 0..runs {
            let run_started = Instant::now();
            self.run_once(runner, body).await?;
            latencies.push(run_started.elapsed());
        }
        Ok(Samples::new(latencies, started.elapsed()))
    }

    /// Runs the plugin once on `body` through `runner`, as the gateway
    /// does: with the plugin the zygote has loaded if it has, otherwise
    /// with the precompiled code, which a zygote then loads.
    pub async fn run_once(&self, runner: &Runner, body: &str) -> Result<()> {
        let request = RunRequest {
            plugin: PluginCode::Loaded,
            args: "null".to_owned(),
            note: NoteContent {
                title: TITLE.to_owned(),
                body: body.to_owned(),
            },
            limits: GuestLimits::default(),
        };
        let report = match runner.run_loaded(CODE_KEY, request).await? {
            LoadedRun::Finished(report) => report,
            LoadedRun::NotLoaded(mut request) => {
                request.plugin = PluginCode::Precompiled(self.precompiled.clone());
                runner.run_keyed(CODE_KEY, request).await?
            }
        };
        match report.outcome {
            RunOutcome::Ok { .. } => Ok(()),
            outcome => bail!("sandboxed run did not succeed: {}", outcome.name()),
        }
    }
}

/// Creates a runner for the worker binary at `worker`, with a 30 s run
/// deadline and `config` otherwise.
pub fn runner(worker: &Path, config: RunnerConfig) -> Result<Runner> {
    Ok(Runner::new(RunnerConfig {
        worker_path: Some(worker.to_owned()),
        run_deadline: Duration::from_secs(30),
        ..config
    })?)
}
