//! Splits the latency of a zygote run of text-analyzer on a 4 KiB note
//! into the instantiate-and-call that the worker times inside its child
//! (`RunReport::duration`) and everything around it (process, pipes,
//! limits, seccomp, encoding), next to the in-process floor. Runs with and
//! without warm children alternate in rounds.
//!
//! `cargo run --release -p sandnotes-bench --example zygote_breakdown`
//! after `cargo build --release -p sandbox-worker` and
//! `cargo run -p plugin-build`.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sandbox_runner::{
    CodeKey, GuestLimits, LoadedRun, NoteContent, PluginCode, RunOutcome, RunReport, RunRequest,
    Runner, RunnerConfig, WorkerMode,
};
use sandnotes_bench::floor::InProcessPlugin;
use sandnotes_bench::notes::{Corpus, TITLE};

const KEY: CodeKey = CodeKey([0x42; 32]);
const RUNS_PER_ROUND: usize = 200;
const ROUNDS: usize = 3;
const NOTE_BYTES: usize = 4 << 10;

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn request(plugin: PluginCode, body: &str) -> RunRequest {
    RunRequest {
        plugin,
        args: "null".to_owned(),
        note: NoteContent {
            title: TITLE.to_owned(),
            body: body.to_owned(),
        },
        limits: GuestLimits::default(),
    }
}

async fn run(runner: &Runner, code: &[u8], body: &str) -> Result<RunReport> {
    let report = match runner
        .run_loaded(KEY, request(PluginCode::Loaded, body))
        .await?
    {
        LoadedRun::Finished(report) => report,
        LoadedRun::NotLoaded(_) => {
            runner
                .run_keyed(KEY, request(PluginCode::Precompiled(code.to_vec()), body))
                .await?
        }
    };
    if !matches!(report.outcome, RunOutcome::Ok { .. }) {
        bail!("the run did not succeed: {}", report.outcome.name());
    }
    Ok(report)
}

/// Medians of the runner's latency, the child's instantiate-and-call and
/// their difference, in microseconds.
async fn measure(runner: &Runner, code: &[u8], body: &str) -> Result<[f64; 3]> {
    run(runner, code, body).await?;
    let (mut latencies, mut calls, mut around) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS_PER_ROUND {
        let started = Instant::now();
        let report = run(runner, code, body).await?;
        let latency = started.elapsed();
        latencies.push(latency);
        calls.push(report.duration);
        around.push(latency.saturating_sub(report.duration));
    }
    Ok([latencies, calls, around].map(|values| median(values).as_secs_f64() * 1e6))
}

#[tokio::main]
async fn main() -> Result<()> {
    let root = sandnotes_bench::workspace_root();
    let component = sandnotes_bench::plugin_component("text-analyzer")?;
    let body = Corpus::read(&root)?.body(NOTE_BYTES);
    let worker = root.join("target/release/sandbox-worker");
    let runner_with = |warm_children| {
        Runner::new(RunnerConfig {
            worker_path: Some(worker.clone()),
            worker_mode: WorkerMode::Zygote,
            zygote_warm_children: warm_children,
            run_deadline: Duration::from_secs(30),
            ..RunnerConfig::default()
        })
    };
    let warm = runner_with(2)?;
    let cold = runner_with(0)?;
    let code = warm.compile(&component).await?;
    let floor = InProcessPlugin::compile(&component)?;

    println!(
        "| round | floor | warm latency | warm call | warm around | cold latency | cold call | cold around |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for round in 1..=ROUNDS {
        floor.run(TITLE, &body)?;
        let mut floor_latencies = Vec::new();
        for _ in 0..RUNS_PER_ROUND {
            let started = Instant::now();
            std::hint::black_box(floor.run(TITLE, &body)?);
            floor_latencies.push(started.elapsed());
        }
        let floor_median = median(floor_latencies).as_secs_f64() * 1e6;
        let [warm_latency, warm_call, warm_around] = measure(&warm, &code, &body).await?;
        let [cold_latency, cold_call, cold_around] = measure(&cold, &code, &body).await?;
        println!(
            "| {round} | {floor_median:.1} | {warm_latency:.1} | {warm_call:.1} | {warm_around:.1} | {cold_latency:.1} | {cold_call:.1} | {cold_around:.1} |"
        );
    }
    Ok(())
}
