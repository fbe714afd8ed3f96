//! `sandbox-worker`: runs one plugin once, or compiles one component, inside
//! a confined process, then exits.
//!
//! The gateway spawns it with an empty environment and only stdin, stdout
//! and stderr open, writes one request frame (see `sandbox-protocol`) to
//! stdin, and reads one response frame from stdout. The worker never receives a
//! key: the request carries the plugin, its arguments, the decrypted note
//! and limits.
//!
//! Order of a run, each step before any untrusted code executes:
//!
//! 1. read and decode the request, bounded by `--max-request-bytes`;
//! 2. set `no_new_privs`, enter new user, network, IPC, UTS and mount
//!    namespaces, and deny file system and network access with Landlock,
//!    each where the host allows it (`--self-check` lists which);
//! 3. set rlimits (CPU seconds, address space, open files, file size, core
//!    dumps);
//! 4. create the wasmtime engine, then forbid new processes
//!    (`RLIMIT_NPROC`);
//! 5. install the load-time seccomp filter on all threads;
//! 6. compile or deserialize the plugin, then arm the SIGALRM that ends
//!    the epoch deadline;
//! 7. install the run-time seccomp filter, which also forbids new
//!    executable mappings;
//! 8. instantiate and call `run` with fuel, epoch deadline, memory, table
//!    and stack limits, write the response and exit.
//!
//! A child forked by a zygote (`--zygote`) inherits step 2 from the
//! zygote. When its spawn named a slot, the zygote's engine and the
//! deserialized plugin come with it: of steps 4 to 6 it only sets
//! `RLIMIT_NPROC` and arms the alarm, and it installs only the run-time
//! filter.
//!
//! Exit status 0 means a response frame was written, whatever the run's
//! outcome. Any other status means the worker failed before it could write
//! one; the reason is on stderr and never contains note text.

mod confine;
mod engine;
mod host;
mod layers;
mod limiter;
mod outcome;
mod probe;
mod run;
mod self_check;
mod slots;
mod zygote;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use sandbox_protocol::{
    CompileRequest, CompileResponse, DEFAULT_MAX_REQUEST_BYTES, PluginCode, Request, Response,
    RunRequest,
};

use crate::probe::ForbiddenSyscall;
use crate::slots::LoadedPlugin;

/// The way this process was started for its job.
enum Job {
    /// Executed for this one job: it applies every confinement layer itself.
    Executed,
    /// Forked by a zygote, which already set `no_new_privs`, the namespaces
    /// and Landlock; `loaded` is the plugin of the slot its spawn named.
    ZygoteChild { loaded: Option<LoadedPlugin> },
}

#[derive(Parser)]
#[command(about = "Run one sandnotes plugin, or compile one component, from a request on stdin")]
struct Cli {
    /// Print the engine fingerprint (hex SHA-256 of wasmtime's
    /// precompile-compatibility hash) and exit. Precompiled code is only
    /// valid for a worker with the same fingerprint.
    #[arg(long)]
    engine_fingerprint: bool,

    /// Apply every confinement layer to this process, print one line per
    /// layer (`NAME: active`, `NAME: partial: REASON` or
    /// `NAME: unavailable: REASON`) and exit. Stdout must be a pipe or a
    /// terminal: the file-size rlimit of 0 kills a worker that writes to a
    /// regular file (pipe it through `cat` to save the report).
    #[arg(long, conflicts_with = "engine_fingerprint")]
    self_check: bool,

    /// Serve as a zygote: read spawn commands from the Unix socket on
    /// stdin and fork one child per job, which then reads its request from
    /// its own stdin like an executed worker.
    #[arg(long, conflicts_with = "engine_fingerprint")]
    zygote: bool,

    /// Maximum request payload to read from stdin, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_REQUEST_BYTES)]
    max_request_bytes: usize,

    /// Test hook: attempt this forbidden operation instead of running the
    /// plugin. `open-under-landlock` runs after Landlock, before the
    /// rlimits and seccomp filters, and must fail with a permission error.
    /// The others run after the run-time seccomp filter and must kill the
    /// worker with SIGSYS.
    #[arg(long, value_enum, hide = true)]
    probe_forbidden_syscall: Option<ForbiddenSyscall>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.zygote {
        let served = zygote::serve(cli.max_request_bytes, |loaded| {
            serve_job(&cli, Job::ZygoteChild { loaded })
        });
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("sandbox-worker: zygote: {error:#}");
                ExitCode::from(2)
            }
        };
    }
    ExitCode::from(serve_job(&cli, Job::Executed))
}

/// Serves one job and returns the exit status: 0 once a response frame
/// was written, 2 otherwise.
fn serve_job(cli: &Cli, job: Job) -> u8 {
    match serve(cli, job) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("sandbox-worker: {error:#}");
            2
        }
    }
}

fn serve(cli: &Cli, job: Job) -> Result<()> {
    if cli.engine_fingerprint {
        let engine = engine::build(&sandbox_protocol::GuestLimits::default())?;
        println!("{}", engine::fingerprint(&engine));
        return Ok(());
    }
    if cli.self_check {
        return self_check::run();
    }

    let payload = sandbox_protocol::read_frame(&mut std::io::stdin().lock(), cli.max_request_bytes)
        .context("failed to read the request")?;
    let request: Request =
        sandbox_protocol::decode_payload(&payload).context("failed to decode the request")?;
    drop(payload);

    let response = match request {
        Request::Run(request) => serve_run(request, cli.probe_forbidden_syscall, job),
        Request::Compile(request) => serve_compile(request, &job),
    };
    let response = response
        .unwrap_or_else(|error| Response::Rejected(outcome::bounded_message(format!("{error:#}"))));

    let mut stdout = std::io::stdout().lock();
    sandbox_protocol::write_frame(&mut stdout, &response, usize::MAX)
        .context("failed to write the response")?;
    stdout.flush().context("failed to flush the response")?;
    drop(stdout);
    close_output();
    Ok(())
}

/// Closes stdout and stderr once the response is written, so that the
/// gateway reads end-of-file now rather than after the kernel has torn
/// down this process's address space on exit. Nothing is written after
/// this: `serve_job` prints to stderr only when `serve` failed.
fn close_output() {
    for descriptor in [nix::libc::STDOUT_FILENO, nix::libc::STDERR_FILENO] {
        // SAFETY: `close` takes an integer. The `std::io` handles of these
        // descriptors are not written to again: stdout was flushed, and
        // stderr is only written when `serve` fails. An error leaves the
        // descriptor open, and the gateway then waits for the exit status.
        #[allow(unsafe_code)]
        unsafe {
            nix::libc::close(descriptor);
        }
    }
}

fn serve_run(request: RunRequest, probe: Option<ForbiddenSyscall>, job: Job) -> Result<Response> {
    // The parent's id is read before the filters forbid `getppid`, for the
    // probe that attempts to trace the parent.
    let parent = nix::unistd::getppid();
    let loaded = match job {
        Job::Executed => {
            // Layers the host does not allow are skipped here;
            // `--self-check` reports them, and the gateway logs that report
            // at start-up.
            let _layers = confine::isolate()?;
            None
        }
        Job::ZygoteChild { loaded } => loaded,
    };
    if let Some(ForbiddenSyscall::OpenUnderLandlock) = probe {
        probe::attempt_open_under_landlock();
    }
    confine::set_rlimits(&request.process)?;

    let loaded = match (&request.plugin, loaded) {
        (PluginCode::Loaded, Some(loaded))
            if loaded.wasm_stack_bytes == request.guest.wasm_stack_bytes =>
        {
            Some(loaded)
        }
        (PluginCode::Loaded, Some(_)) => {
            bail!("the loaded plugin belongs to an engine with another wasm stack limit")
        }
        (PluginCode::Loaded, None) => {
            bail!("the request names a loaded plugin, but none was loaded for this worker")
        }
        // A loaded plugin the request does not use is dropped unused.
        _ => None,
    };

    let (engine, prepared) = match loaded {
        Some(LoadedPlugin {
            engine, prepared, ..
        }) => {
            confine::forbid_new_processes()?;
            (engine, Ok(Ok(prepared)))
        }
        None => {
            let engine = engine::build(&request.guest)?;
            confine::forbid_new_processes()?;
            confine::install_load_filter()?;
            let component = match &request.plugin {
                PluginCode::Component(bytes) => engine::compile(&engine, bytes),
                PluginCode::Precompiled(bytes) => engine::deserialize(&engine, bytes),
                PluginCode::Loaded => Err(anyhow::anyhow!("no plugin was loaded for this worker")),
            };
            let prepared = component.map(|component| run::prepare(&engine, &component));
            (engine, prepared)
        }
    };
    engine::arm_epoch_alarm(
        &engine,
        Duration::from_millis(request.guest.epoch_deadline_ms),
    )?;
    confine::install_run_filter()?;

    if let Some(probe) = probe {
        probe::attempt(probe, parent);
    }

    let response = match prepared {
        Ok(prepared) => run::run(&engine, prepared, request),
        Err(error) => run::invalid_plugin(&error),
    };
    Ok(Response::Run(response))
}

fn serve_compile(request: CompileRequest, job: &Job) -> Result<Response> {
    if let Job::Executed = job {
        let _layers = confine::isolate()?;
    }
    confine::set_rlimits(&request.process)?;
    confine::forbid_new_processes()?;
    let engine = engine::build(&sandbox_protocol::GuestLimits::default())?;
    confine::install_load_filter()?;

    let response = match engine.precompile_component(&request.component) {
        Ok(code) => CompileResponse::Compiled(code),
        Err(error) => CompileResponse::Invalid(outcome::bounded_message(format!("{error:#}"))),
    };
    Ok(Response::Compile(response))
}
