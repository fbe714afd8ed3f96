//! `sandnotes-bench`: measures sandboxed plugin runs against the in-process
//! floor and the HTTP API against raw sqlx, side by side in one run, and
//! prints Markdown tables. `scripts/bench.sh` builds what it needs and runs
//! it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use sandbox_runner::{RunnerConfig, WorkerMode};
use sandnotes_bench::bare::{self, BareServer};
use sandnotes_bench::database::{self, Database};
use sandnotes_bench::http::Gateway;
use sandnotes_bench::machine::Machine;
use sandnotes_bench::notes::{Corpus, NOTE_SIZES, TITLE, size_label};
use sandnotes_bench::process::ScratchDatabase;
use sandnotes_bench::sandbox::{self, SandboxBench};
use sandnotes_bench::stats::{Samples, linear_fit, micros};

#[derive(Parser)]
#[command(about = "Benchmark sandboxed plugin runs and the HTTP API against their baselines")]
struct Cli {
    /// Runs per note size and worker mode in the sandbox benchmark.
    #[arg(long, default_value_t = 200)]
    sandbox_runs: usize,

    /// Length of each HTTP and database load case, in seconds.
    #[arg(long, default_value_t = 3.0)]
    load_seconds: f64,

    /// Plugin runs over HTTP between the two gateway RSS readings.
    #[arg(long, default_value_t = 10_000)]
    memory_runs: u64,

    /// Worker modes to measure, comma-separated: `zygote`, `spawn`,
    /// `zygote-no-warm` (a zygote whose runner forks each child when its run
    /// starts, keeping none forked ahead) and `zygote-no-slots` (a zygote
    /// that keeps no plugin loaded, so each child deserializes the code it
    /// receives).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "zygote,zygote-no-warm,zygote-no-slots,spawn"
    )]
    worker_modes: Vec<String>,

    /// Skip the HTTP and database benchmarks.
    #[arg(long)]
    skip_http: bool,

    /// Skip PostgreSQL (the baselines and the gateway on it).
    #[arg(long)]
    skip_postgres: bool,
}

/// Size of the note body in the note create and get cases: 4 KiB.
const CRUD_BODY_BYTES: usize = 4 << 10;

/// Concurrency levels of every load case.
const CONCURRENCY: [usize; 2] = [1, 8];

/// Name of the component that `plugin-build` writes for `plugins/template`,
/// the near-empty plugin whose runs show what a run costs apart from the
/// plugin's work.
const TEMPLATE_PLUGIN: &str = "my-plugin";

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::args_os().nth(1).as_deref() == Some(bare::SERVE_FLAG.as_ref()) {
        return bare::serve().await;
    }
    let cli = Cli::parse();
    let binaries = binary_folder()?;
    let corpus = Corpus::read(&sandnotes_bench::workspace_root())?;

    print_machine();
    sandbox_section(&cli, &binaries, &corpus).await?;
    if !cli.skip_http {
        http_section(&cli, &binaries, &corpus).await?;
    }
    Ok(())
}

/// The folder of this executable, which also holds `sandbox-worker` and
/// `gateway` of the same build profile.
fn binary_folder() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("failed to locate this executable")?;
    exe.parent()
        .map(PathBuf::from)
        .context("this executable has no parent folder")
}

fn print_machine() {
    let machine = Machine::describe();
    let profile = if cfg!(debug_assertions) {
        "dev (dependencies at opt-level 2, workspace crates unoptimized)"
    } else {
        "release"
    };
    println!("## Machine\n");
    println!(
        "- CPU: {} ({} cores usable)",
        machine.cpu_model, machine.cores
    );
    println!("- Kernel: {}", machine.kernel);
    println!("- 1-minute load average at start: {}", machine.load_average);
    println!("- Build profile: {profile}\n");
}

fn worker_config(mode: &str) -> Result<RunnerConfig> {
    match mode {
        "spawn" => Ok(RunnerConfig {
            worker_mode: WorkerMode::Spawn,
            ..RunnerConfig::default()
        }),
        "zygote" => Ok(RunnerConfig {
            worker_mode: WorkerMode::Zygote,
            ..RunnerConfig::default()
        }),
        "zygote-no-warm" => Ok(RunnerConfig {
            worker_mode: WorkerMode::Zygote,
            zygote_warm_children: 0,
            ..RunnerConfig::default()
        }),
        "zygote-no-slots" => Ok(RunnerConfig {
            worker_mode: WorkerMode::Zygote,
            zygote_plugin_slots: 0,
            ..RunnerConfig::default()
        }),
        other => anyhow::bail!(
            "unknown worker mode {other:?}; expected spawn, zygote, zygote-no-warm or zygote-no-slots"
        ),
    }
}

async fn sandbox_section(cli: &Cli, binaries: &std::path::Path, corpus: &Corpus) -> Result<()> {
    let worker = binaries.join("sandbox-worker");
    let component = sandnotes_bench::plugin_component("text-analyzer")?;
    let mut runners = Vec::new();
    for mode in &cli.worker_modes {
        runners.push((
            mode.as_str(),
            sandbox::runner(&worker, worker_config(mode)?)?,
        ));
    }
    let compile_runner = sandbox::runner(&worker, RunnerConfig::default())?;
    let bench = SandboxBench::new(&component, &compile_runner).await?;

    println!("## Sandboxed runs of text-analyzer, without HTTP\n");
    println!(
        "{} runs per cell, one at a time. Latencies in microseconds; the ratio is the \
         median over the in-process floor's median.\n",
        cli.sandbox_runs
    );
    let mut header = String::from("| note | floor median | floor p99 |");
    let mut rule = String::from("|---|---:|---:|");
    for (mode, _) in &runners {
        header.push_str(&format!(" {mode} median | {mode} p99 | {mode} / floor |"));
        rule.push_str("---:|---:|---:|");
    }
    println!("{header}\n{rule}");

    let mut floor_points = Vec::new();
    let mut mode_points = vec![Vec::new(); runners.len()];
    for size in NOTE_SIZES {
        let body = corpus.body(size);
        // Interleave floor and modes per size so load changes hit all alike.
        let floor = bench.measure_floor(&body, cli.sandbox_runs)?;
        let mut row = format!(
            "| {} | {} | {} |",
            size_label(size),
            micros(floor.median()),
            micros(floor.p99())
        );
        floor_points.push((size as f64, floor.median().as_secs_f64()));
        for (index, (_, runner)) in runners.iter().enumerate() {
            let samples = bench
                .measure_runner(runner, &body, cli.sandbox_runs)
                .await?;
            row.push_str(&format!(
                " {} | {} | {:.1}x |",
                micros(samples.median()),
                micros(samples.p99()),
                ratio(samples.median(), floor.median())
            ));
            mode_points[index].push((size as f64, samples.median().as_secs_f64()));
        }
        println!("{row}");
    }

    println!("\nPer-run cost against note size (least-squares fit of the medians):\n");
    print_slope("in-process floor", &floor_points);
    for ((mode, _), points) in runners.iter().zip(&mode_points) {
        print_slope(mode, points);
    }
    println!();
    Ok(())
}

fn print_slope(name: &str, points: &[(f64, f64)]) {
    if let Some((slope, intercept)) = linear_fit(points) {
        println!(
            "- {name}: {:.2} us per KiB, {:.1} us fixed",
            slope * 1024.0 * 1e6,
            intercept * 1e6
        );
    }
}

fn ratio(value: Duration, baseline: Duration) -> f64 {
    if baseline.is_zero() {
        return f64::NAN;
    }
    value.as_secs_f64() / baseline.as_secs_f64()
}

fn load_row(name: &str, database: &str, concurrency: usize, samples: &Samples) -> String {
    format!(
        "| {name} | {database} | {concurrency} | {} | {} | {:.0} |",
        micros(samples.median()),
        micros(samples.p99()),
        samples.throughput()
    )
}

fn ceiling_row(
    operation: &str,
    concurrency: usize,
    ceiling: &Samples,
    gateway: &Samples,
    raw: &Samples,
) -> String {
    format!(
        "| {operation} | {concurrency} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} |",
        ceiling.throughput(),
        gateway.throughput(),
        gateway.throughput() / ceiling.throughput(),
        raw.throughput(),
        ceiling.throughput() / (ceiling.throughput() + raw.throughput())
    )
}

async fn http_section(cli: &Cli, binaries: &std::path::Path, corpus: &Corpus) -> Result<()> {
    let duration = Duration::from_secs_f64(cli.load_seconds);
    let crud_body = corpus.body(CRUD_BODY_BYTES);

    println!("## HTTP API against raw sqlx\n");
    println!(
        "Closed loop for {:.1} s per row. Each load task keeps one HTTP/1.1 \
         keep-alive connection (hyper's low-level client) and sends its next \
         request when the previous response is read. Note create and get use a \
         {} body; note create runs as one user per load task, so creates from \
         different tasks do not wait on one user's note count. Latencies in \
         microseconds, throughput in operations per second; the ratio is the \
         gateway's throughput over the raw sqlx throughput at the same \
         concurrency.\n",
        cli.load_seconds,
        size_label(CRUD_BODY_BYTES)
    );
    println!(
        "| operation | database | concurrency | median | p99 | throughput | raw sqlx throughput | ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");

    let data = tempfile::tempdir()?;
    let mut backends: Vec<(&str, Option<ScratchDatabase>, Option<ScratchDatabase>)> =
        vec![("SQLite", None, None)];
    if !cli.skip_postgres {
        backends.push((
            "PostgreSQL",
            Some(ScratchDatabase::create().await?),
            Some(ScratchDatabase::create().await?),
        ));
    }

    let mut get_throughput_at_8 = None;
    let mut run_gateway = None;
    let mut ceiling_rows = Vec::new();
    for (name, baseline_db, gateway_db) in &backends {
        let baseline_dir = data.path().join(format!("{name}-baseline"));
        std::fs::create_dir_all(&baseline_dir)?;
        let raw = match baseline_db {
            None => Database::sqlite(&baseline_dir).await?,
            Some(db) => Database::postgres(db.url()).await?,
        };
        let gateway_dir = data.path().join(format!("{name}-gateway"));
        std::fs::create_dir_all(&gateway_dir)?;
        let gateway = Gateway::start(
            &binaries.join("gateway"),
            &gateway_dir,
            gateway_db.as_ref().map(ScratchDatabase::url),
            Vec::new(),
        )
        .await?;
        // The HTTP ceiling is measured next to the first backend only: it
        // has no database.
        let bare = if run_gateway.is_none() {
            let sample_note = gateway.create_note(&crud_body).await?;
            let responses = gateway.sample_responses(&sample_note, &crud_body).await?;
            Some(BareServer::start(&responses).await?)
        } else {
            None
        };

        for concurrency in CONCURRENCY {
            let raw_insert =
                database::measure_insert(&raw, TITLE.len(), CRUD_BODY_BYTES, concurrency, duration)
                    .await?;
            let create = gateway
                .measure_create(&crud_body, concurrency, duration)
                .await?;
            if let Some(bare) = &bare {
                let ceiling = gateway
                    .measure_bare(bare.address(), Some(&crud_body), concurrency, duration)
                    .await?;
                ceiling_rows.push(ceiling_row(
                    "note create",
                    concurrency,
                    &ceiling,
                    &create,
                    &raw_insert,
                ));
            }
            println!(
                "{} {:.0} | {:.2} |",
                load_row("note create", name, concurrency, &create),
                raw_insert.throughput(),
                create.throughput() / raw_insert.throughput()
            );
        }

        let mut note_ids = Vec::new();
        for _ in 0..100 {
            note_ids.push(gateway.create_note(&crud_body).await?);
        }
        for concurrency in CONCURRENCY {
            let raw_select =
                database::measure_select(&raw, TITLE.len(), CRUD_BODY_BYTES, concurrency, duration)
                    .await?;
            let get = gateway
                .measure_get(&note_ids, concurrency, duration)
                .await?;
            if let Some(bare) = &bare {
                let ceiling = gateway
                    .measure_bare(bare.address(), None, concurrency, duration)
                    .await?;
                ceiling_rows.push(ceiling_row(
                    "note get",
                    concurrency,
                    &ceiling,
                    &get,
                    &raw_select,
                ));
            }
            println!(
                "{} {:.0} | {:.2} |",
                load_row("note get", name, concurrency, &get),
                raw_select.throughput(),
                get.throughput() / raw_select.throughput()
            );
            if concurrency == 8 && run_gateway.is_none() {
                get_throughput_at_8 = Some(get.throughput());
            }
        }
        for concurrency in CONCURRENCY {
            let list = gateway.measure_list(concurrency, duration).await?;
            println!(
                "{} | |",
                load_row("note list (50)", name, concurrency, &list)
            );
        }

        if run_gateway.is_none() {
            run_gateway = Some(gateway);
        }
    }
    println!();

    println!("## HTTP ceiling\n");
    println!(
        "A bare axum server in its own process (same axum, hyper and Tokio as the \
         gateway) answers note get and note create with the bodies the gateway sent \
         for them, with no authentication, database or encryption; the same client \
         measures it, next to the SQLite rows above. Throughput in operations per \
         second. The last column is the best ratio to raw sqlx of a gateway whose \
         only costs were the bare exchange and the raw query, if the two add up.\n"
    );
    println!(
        "| operation | concurrency | bare axum | gateway (SQLite) | gateway / bare | raw sqlx (SQLite) | bare / (bare + raw) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &ceiling_rows {
        println!("{row}");
    }
    println!();

    if let Some(gateway) = run_gateway {
        plugin_runs_over_http(cli, corpus, &gateway, get_throughput_at_8).await?;
    }
    for (_, baseline_db, gateway_db) in backends {
        for database in [baseline_db, gateway_db].into_iter().flatten() {
            database.drop_database().await?;
        }
    }
    Ok(())
}

/// Measures runs of `plugin_id` on `note_id` at each concurrency and
/// prints one table row per level.
async fn run_rows(
    gateway: &Gateway,
    note_id: &str,
    plugin_id: &str,
    size: usize,
    duration: Duration,
    get_throughput_at_8: Option<f64>,
) -> Result<()> {
    for concurrency in CONCURRENCY {
        let runs = gateway
            .measure_run(note_id, plugin_id, concurrency, duration)
            .await?;
        let versus_get = get_throughput_at_8
            .map(|get| format!("{:.2}", runs.throughput() / get))
            .unwrap_or_default();
        println!(
            "| {} | {concurrency} | {} | {} | {:.0} | {versus_get} |",
            size_label(size),
            micros(runs.median()),
            micros(runs.p99()),
            runs.throughput()
        );
    }
    Ok(())
}

async fn plugin_runs_over_http(
    cli: &Cli,
    corpus: &Corpus,
    gateway: &Gateway,
    get_throughput_at_8: Option<f64>,
) -> Result<()> {
    let duration = Duration::from_secs_f64(cli.load_seconds);
    let plugin_id = gateway
        .upload_plugin(
            "text-analyzer",
            sandnotes_bench::plugin_component("text-analyzer")?,
        )
        .await?;

    println!("## Plugin runs over HTTP (gateway on SQLite, default worker mode)\n");
    println!(
        "`POST /v1/notes/{{id}}/runs` of text-analyzer, closed loop for {:.1} s per row. \
         The ratio is the run throughput over note-get throughput at concurrency 8.\n",
        cli.load_seconds
    );
    println!("| note | concurrency | median | p99 | throughput | / note get at 8 |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for size in NOTE_SIZES {
        let note_id = gateway.create_note(&corpus.body(size)).await?;
        run_rows(
            gateway,
            &note_id,
            &plugin_id,
            size,
            duration,
            get_throughput_at_8,
        )
        .await?;
        notes.push((size, note_id));
    }
    println!();

    // The template plugin only counts lines and words, so its runs show
    // what isolation and HTTP cost.
    let template_id = gateway
        .upload_plugin(
            TEMPLATE_PLUGIN,
            sandnotes_bench::plugin_component(TEMPLATE_PLUGIN)?,
        )
        .await?;
    println!("### Runs of a near-empty plugin\n");
    println!(
        "The same, with `plugins/template` (`{TEMPLATE_PLUGIN}`), which counts the lines \
         and words of the note: what a run costs apart from the plugin's own work.\n"
    );
    println!("| note | concurrency | median | p99 | throughput | / note get at 8 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (size, note_id) in notes.iter().filter(|(size, _)| *size <= 4 << 10) {
        run_rows(
            gateway,
            note_id,
            &template_id,
            *size,
            duration,
            get_throughput_at_8,
        )
        .await?;
    }
    println!();

    let run_note = notes
        .into_iter()
        .find_map(|(size, note_id)| (size == 4 << 10).then_some(note_id));
    if let Some(note_id) = run_note {
        let before = gateway.rss_kib()?;
        gateway
            .run_many(&note_id, &plugin_id, cli.memory_runs)
            .await?;
        let after = gateway.rss_kib()?;
        println!("## Gateway memory\n");
        println!(
            "RSS before and after {} runs of text-analyzer on a 4 KiB note, eight at a time: \
             {before} KiB, then {after} KiB ({:+} KiB).\n",
            cli.memory_runs,
            after as i64 - before as i64
        );
    }
    Ok(())
}
