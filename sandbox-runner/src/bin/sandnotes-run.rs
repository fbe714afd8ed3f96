//! `sandnotes-run`: runs one plugin component on one text file through the
//! real sandbox worker and prints the run report as JSON on stdout.
//!
//! ```text
//! cargo run -p sandbox-runner --bin sandnotes-run -- \
//!     --plugin target/plugins/text-analyzer.wasm \
//!     --note corpus/austen-pride-and-prejudice-ch01.txt --args '{}'
//! ```
//!
//! The report has an `outcome` field (`ok`, `fuel_exhausted`, ...), the
//! outcome's own fields (`output` with `kind` and `value` for `ok`),
//! `logs`, `fuel_used`, `memory_peak_bytes`, `duration_us` and
//! `wall_time_us`. The exit status is 0 whenever a report is printed,
//! whatever the outcome, and 1 when the run could not be performed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use sandbox_runner::{GuestLimits, NoteContent, PluginCode, RunRequest, Runner, RunnerConfig};

#[derive(Parser)]
#[command(
    about = "Run one sandnotes plugin component on one text file and print the report as JSON"
)]
struct Cli {
    /// Plugin component (.wasm), for example target/plugins/text-analyzer.wasm.
    #[arg(long, value_name = "PATH")]
    plugin: PathBuf,

    /// UTF-8 text file used as the note body.
    #[arg(long, value_name = "PATH")]
    note: PathBuf,

    /// Note title. Default: the note file's name.
    #[arg(long)]
    title: Option<String>,

    /// Plugin arguments as JSON text.
    #[arg(long, default_value = "null")]
    args: String,

    /// Worker binary. Default: sandbox-worker next to this executable.
    #[arg(long, value_name = "PATH")]
    worker: Option<PathBuf>,

    /// Fuel budget of the guest.
    #[arg(long, default_value_t = GuestLimits::default().fuel)]
    fuel: u64,

    /// Guest memory limit in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = GuestLimits::default().memory_bytes)]
    memory_bytes: u64,

    /// Wall-clock deadline of the run in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    deadline_ms: u64,

    /// Pretty-print the JSON report.
    #[arg(long)]
    pretty: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cli = Cli::parse();

    let component = std::fs::read(&cli.plugin)
        .with_context(|| format!("failed to read the plugin {}", cli.plugin.display()))?;
    let body = std::fs::read_to_string(&cli.note).with_context(|| {
        format!(
            "failed to read the note {} as UTF-8 text",
            cli.note.display()
        )
    })?;
    let title = cli.title.clone().unwrap_or_else(|| {
        cli.note
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    });

    let config = RunnerConfig {
        worker_path: cli.worker.clone(),
        run_deadline: Duration::from_millis(cli.deadline_ms),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(config)?;

    let request = RunRequest {
        plugin: PluginCode::Component(component),
        args: cli.args.clone(),
        note: NoteContent { title, body },
        limits: GuestLimits {
            fuel: cli.fuel,
            memory_bytes: cli.memory_bytes,
            ..GuestLimits::default()
        },
    };
    let report = runner.run(request).await?;

    let json = if cli.pretty {
        serde_json::to_string_pretty(&report)?
    } else {
        serde_json::to_string(&report)?
    };
    println!("{json}");
    Ok(())
}
