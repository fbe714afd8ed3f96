//! The runner: one worker process per job.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sandbox_protocol::{
    CompileRequest, CompileResponse, GuestLimits, HEADER_LEN, NoteContent, PluginCode, Request,
    Response,
};
use tokio::process::Child;
use tokio::sync::{OnceCell, Semaphore};

use crate::config::{DEFAULT_WORKER_NAME, RunnerConfig, WorkerMode};
use crate::error::{CompileError, RunnerError};
use crate::process::{self, BoundedOutput, Finished};
use crate::report::{RunOutcome, RunReport};
use crate::self_check::SandboxLayers;
use crate::zygote::{CodeKey, IdleZygoteChild, LoadedStart, Zygote};

/// Maximum bytes read from `--engine-fingerprint` output: 64 hex digits and
/// a newline, with room to spare.
const MAX_FINGERPRINT_OUTPUT: usize = 256;

/// Deadline of the `--engine-fingerprint` and `--self-check` calls.
const FINGERPRINT_DEADLINE: Duration = Duration::from_secs(10);

/// Maximum bytes read from `--self-check` output: one short line per layer.
const MAX_SELF_CHECK_OUTPUT: usize = 16 << 10;

/// One plugin run to perform.
#[derive(Debug)]
pub struct RunRequest {
    pub plugin: PluginCode,
    /// The caller's JSON arguments as text; `null` when none were given.
    pub args: String,
    /// The decrypted note. Dropped (and zeroized) once the request is
    /// written to the worker, or in [`Runner::run_loaded`] once the run
    /// ends.
    pub note: NoteContent,
    pub limits: GuestLimits,
}

/// Result of [`Runner::run_loaded`].
#[derive(Debug)]
pub enum LoadedRun {
    /// The run took place.
    Finished(RunReport),
    /// No zygote has the plugin loaded; the request comes back unused.
    NotLoaded(RunRequest),
}

/// Spawns `sandbox-worker` processes for runs and compile jobs.
#[derive(Debug)]
pub struct Runner {
    config: RunnerConfig,
    worker_path: PathBuf,
    workers: Semaphore,
    fingerprint: OnceCell<String>,
    /// Present in [`WorkerMode::Zygote`].
    zygote: Option<Zygote>,
}

impl Runner {
    /// Creates a runner and checks that the worker binary exists.
    pub fn new(config: RunnerConfig) -> Result<Self, RunnerError> {
        let worker_path = match &config.worker_path {
            Some(path) => path.clone(),
            None => default_worker_path()?,
        };
        if !worker_path.is_file() {
            return Err(RunnerError::WorkerNotFound { path: worker_path });
        }

        let workers = Semaphore::new(config.max_concurrent_workers.max(1));
        let mut runner = Self {
            config,
            worker_path,
            workers,
            fingerprint: OnceCell::new(),
            zygote: None,
        };
        if runner.config.worker_mode == WorkerMode::Zygote {
            let zygote = Zygote::new(
                runner.worker_path.clone(),
                runner.worker_args(&[]),
                runner.config.zygote_plugin_slots,
                runner.config.zygote_warm_children,
            );
            runner.zygote = Some(zygote);
        }
        Ok(runner)
    }

    /// The worker mode in effect: [`WorkerMode::Spawn`] when configured, or
    /// when zygote mode was given up because no zygote could start.
    pub fn worker_mode(&self) -> WorkerMode {
        match &self.zygote {
            Some(zygote) if !zygote.is_unavailable() => WorkerMode::Zygote,
            _ => WorkerMode::Spawn,
        }
    }

    /// Process id of the zygote, starting it if needed; `None` in spawn
    /// mode. For tests that inspect or kill the zygote.
    #[doc(hidden)]
    pub async fn zygote_pid(&self) -> Result<Option<u32>, RunnerError> {
        match &self.zygote {
            Some(zygote) => zygote.pid().await,
            None => Ok(None),
        }
    }

    /// Forks a zygote child exactly as a job would, without sending a
    /// request; `None` in spawn mode. For tests that inspect the child.
    #[doc(hidden)]
    pub async fn spawn_idle_zygote_child(&self) -> Result<Option<IdleZygoteChild>, RunnerError> {
        match &self.zygote {
            Some(zygote) => zygote.spawn_idle_child().await,
            None => Ok(None),
        }
    }

    /// Process ids of the warm zygote children parked for loaded plugins,
    /// oldest first; empty in spawn mode. For tests that inspect them.
    #[doc(hidden)]
    pub fn warm_zygote_children(&self) -> Vec<u32> {
        self.zygote
            .as_ref()
            .map_or_else(Vec::new, Zygote::warm_child_pids)
    }

    /// Path of the worker binary in use.
    pub fn worker_path(&self) -> &Path {
        &self.worker_path
    }

    /// Runs a plugin once in a fresh worker.
    ///
    /// Every way the run can end, including the wall-clock deadline and a
    /// worker killed by a signal, is a [`RunOutcome`] in the report. An
    /// error means the runner itself failed or the worker broke the
    /// protocol.
    pub async fn run(&self, request: RunRequest) -> Result<RunReport, RunnerError> {
        let max_response = max_response_bytes(&request);
        let frame = self.encode_run(request)?;

        let started = Instant::now();
        let finished = self
            .exchange(&frame, self.config.run_deadline, max_response)
            .await?;
        drop(frame);
        self.finish_run(finished, started.elapsed(), max_response)
    }

    /// Whether the current zygote has loaded the plugin under `key` for
    /// an engine with `wasm_stack_bytes`; always `false` in spawn mode.
    /// Another job may evict it before it is used, so
    /// [`Self::run_loaded`] checks again.
    pub async fn is_loaded(&self, key: CodeKey, wasm_stack_bytes: u64) -> bool {
        match &self.zygote {
            Some(zygote) => zygote.is_loaded(key, wasm_stack_bytes).await,
            None => false,
        }
    }

    /// Runs `request` in a zygote child that inherits the plugin loaded
    /// under `key` (see [`Self::run_keyed`]); the request's `plugin` is
    /// ignored. When no zygote has that plugin loaded, which is always the case
    /// in spawn mode, returns the request unused, without starting a
    /// process, so the caller can fetch the code and call
    /// [`Self::run_keyed`].
    pub async fn run_loaded(
        &self,
        key: CodeKey,
        mut request: RunRequest,
    ) -> Result<LoadedRun, RunnerError> {
        let Some(zygote) = &self.zygote else {
            return Ok(LoadedRun::NotLoaded(request));
        };
        let max_response = max_response_bytes(&request);
        let deadline = self.config.run_deadline;
        let _permit = self.workers.acquire().await;

        let started = Instant::now();
        let job = match zygote
            .start_loaded(key, request.limits.wasm_stack_bytes, deadline)
            .await?
        {
            LoadedStart::Started(job) => job,
            LoadedStart::NotLoaded => return Ok(LoadedRun::NotLoaded(request)),
            LoadedStart::DeadlineExceeded => {
                drop(request);
                let finished = Finished::DeadlineExceeded;
                let report = self.finish_run(finished, started.elapsed(), max_response)?;
                return Ok(LoadedRun::Finished(report));
            }
        };

        request.plugin = PluginCode::Loaded;
        let (frame, request) = self.encode_run_keeping(request)?;
        let remaining = deadline.saturating_sub(started.elapsed());
        let finished = job
            .finish(
                &frame,
                remaining,
                max_response.saturating_add(HEADER_LEN),
                self.config.max_stderr_bytes,
            )
            .await;
        drop(frame);
        let finished = match finished {
            // The zygote died, and the child with it, before a response; a
            // warm child taken as its zygote was being killed ends so. No
            // zygote has the plugin loaded now. A plugin run has no effect
            // but its response, so the caller may run it again.
            Err(RunnerError::ZygoteExited) => {
                tracing::warn!(
                    code_key = %key,
                    "sandbox zygote exited during a run; the run comes back unused"
                );
                return Ok(LoadedRun::NotLoaded(request));
            }
            other => other?,
        };
        drop(request);
        let report = self.finish_run(finished, started.elapsed(), max_response)?;
        Ok(LoadedRun::Finished(report))
    }

    /// Runs `request`, whose plugin is precompiled code identified by
    /// `key`. In zygote mode the code is first loaded into a slot of the
    /// zygote, unless it is there already, and the child inherits it. Later
    /// runs can then use [`Self::run_loaded`] without the code. When no slot is free, or in spawn mode, this is [`Self::run`].
    ///
    /// Loading the code runs the zygote's deserializer on it outside any
    /// seccomp filter, so `key` must name code the caller has
    /// authenticated, as for any precompiled code.
    pub async fn run_keyed(
        &self,
        key: CodeKey,
        mut request: RunRequest,
    ) -> Result<RunReport, RunnerError> {
        let (Some(zygote), PluginCode::Precompiled(code)) = (&self.zygote, &request.plugin) else {
            return self.run(request).await;
        };
        if !zygote
            .load(key, request.limits.wasm_stack_bytes, code)
            .await?
        {
            return self.run(request).await;
        }

        let code = std::mem::replace(&mut request.plugin, PluginCode::Loaded);
        match self.run_loaded(key, request).await? {
            LoadedRun::Finished(report) => Ok(report),
            // Evicted, or the zygote was replaced, since the load.
            LoadedRun::NotLoaded(mut request) => {
                request.plugin = code;
                self.run(request).await
            }
        }
    }

    /// Encodes a run request frame and returns the request with it.
    fn encode_run_keeping(
        &self,
        request: RunRequest,
    ) -> Result<(zeroize::Zeroizing<Vec<u8>>, RunRequest), RunnerError> {
        let RunRequest {
            plugin,
            args,
            note,
            limits,
        } = request;
        let message = sandbox_protocol::RunRequest {
            process: self.config.run_process_limits,
            guest: limits,
            plugin,
            args,
            note,
        };
        let message = Request::Run(message);
        let frame = sandbox_protocol::encode(&message, self.config.max_request_bytes)
            .map_err(RunnerError::Encode)?;
        let Request::Run(message) = message else {
            unreachable!("the message was built as a run request");
        };
        let request = RunRequest {
            plugin: message.plugin,
            args: message.args,
            note: message.note,
            limits: message.guest,
        };
        Ok((frame, request))
    }

    /// Encodes a run request frame; the note in `request` is zeroized once
    /// it is in the frame.
    fn encode_run(&self, request: RunRequest) -> Result<zeroize::Zeroizing<Vec<u8>>, RunnerError> {
        let (frame, request) = self.encode_run_keeping(request)?;
        drop(request);
        Ok(frame)
    }

    /// Turns how a run's worker ended into its report, and logs it.
    fn finish_run(
        &self,
        finished: Finished,
        wall_time: Duration,
        max_response: usize,
    ) -> Result<RunReport, RunnerError> {
        let report = match finished {
            Finished::DeadlineExceeded => RunReport::without_response(
                RunOutcome::DeadlineExceeded {
                    deadline_ms: millis(self.config.run_deadline),
                },
                wall_time,
            ),
            Finished::Responded { stdout } => decode_run_report(&stdout, max_response, wall_time)?,
            Finished::Exited {
                status,
                stdout,
                stderr,
            } => match abnormal_exit(status, &stderr) {
                Some(outcome) => RunReport::without_response(outcome, wall_time),
                None => decode_run_report(&stdout, max_response, wall_time)?,
            },
        };

        log_report(&report);
        Ok(report)
    }

    /// Compiles a component to precompiled code in a fresh worker.
    ///
    /// The code is valid for workers with the same
    /// [`engine fingerprint`](Self::engine_fingerprint).
    pub async fn compile(&self, component: &[u8]) -> Result<Vec<u8>, CompileError> {
        let message = Request::Compile(CompileRequest {
            process: self.config.compile_process_limits,
            component: component.to_vec(),
        });
        let frame = sandbox_protocol::encode(&message, self.config.max_request_bytes)
            .map_err(RunnerError::Encode)?;
        drop(message);

        let finished = self
            .exchange(
                &frame,
                self.config.compile_deadline,
                self.config.max_compiled_bytes,
            )
            .await?;
        let stdout = self.expect_exit(finished, self.config.compile_deadline)?;

        match decode_response(&stdout, self.config.max_compiled_bytes)? {
            Response::Compile(CompileResponse::Compiled(code)) => Ok(code),
            Response::Compile(CompileResponse::Invalid(message)) => {
                Err(CompileError::InvalidComponent(message))
            }
            Response::Rejected(message) => Err(RunnerError::Rejected { message }.into()),
            Response::Run(_) => Err(RunnerError::UnexpectedResponse {
                expected: "compile",
            }
            .into()),
        }
    }

    /// Returns the worker's engine fingerprint (64 hex digits), asking the
    /// worker once and caching the result. Key cached precompiled code by
    /// it: code from an engine with another fingerprint does not load.
    pub async fn engine_fingerprint(&self) -> Result<&str, RunnerError> {
        let fingerprint = self
            .fingerprint
            .get_or_try_init(|| self.query_fingerprint())
            .await?;
        Ok(fingerprint)
    }

    /// Runs `sandbox-worker --self-check` and returns which confinement
    /// layers the worker can apply on this host. The worker applies them to
    /// itself exactly as a run does, so the report reflects this host's
    /// kernel and container settings.
    pub async fn self_check(&self) -> Result<SandboxLayers, RunnerError> {
        let _permit = self.workers.acquire().await;
        let child = process::spawn(&self.worker_path, &self.worker_args(&["--self-check"]))?;
        let finished = process::exchange(
            child,
            &[],
            FINGERPRINT_DEADLINE,
            MAX_SELF_CHECK_OUTPUT,
            self.config.max_stderr_bytes,
        )
        .await?;
        let stdout = self.expect_exit(finished, FINGERPRINT_DEADLINE)?;

        let output = stdout.lossy_text();
        match SandboxLayers::parse(&output) {
            Some(layers) if !stdout.overflowed => Ok(layers),
            _ => Err(RunnerError::InvalidSelfCheck { output }),
        }
    }

    /// Spawns a worker exactly as a job would, without sending a request.
    /// The worker waits for its request on stdin. For tests that inspect
    /// the process (environment, descriptors); jobs use [`Self::run`].
    #[doc(hidden)]
    pub fn spawn_idle_worker(&self) -> Result<Child, RunnerError> {
        process::spawn(&self.worker_path, &self.worker_args(&[]))
    }

    async fn query_fingerprint(&self) -> Result<String, RunnerError> {
        let _permit = self.workers.acquire().await;
        let child = process::spawn(
            &self.worker_path,
            &self.worker_args(&["--engine-fingerprint"]),
        )?;
        let finished = process::exchange(
            child,
            &[],
            FINGERPRINT_DEADLINE,
            MAX_FINGERPRINT_OUTPUT,
            self.config.max_stderr_bytes,
        )
        .await?;
        let stdout = self.expect_exit(finished, FINGERPRINT_DEADLINE)?;

        let fingerprint = String::from_utf8_lossy(&stdout.bytes).trim().to_owned();
        let is_hex_sha256 =
            fingerprint.len() == 64 && fingerprint.bytes().all(|byte| byte.is_ascii_hexdigit());
        if stdout.overflowed || !is_hex_sha256 {
            return Err(RunnerError::InvalidFingerprint);
        }
        Ok(fingerprint)
    }

    fn worker_args(&self, extra: &[&str]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--max-request-bytes".into(),
            self.config.max_request_bytes.to_string().into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        args.extend(self.config.worker_args.iter().cloned());
        args
    }

    /// Spawns a worker, sends `frame` and collects the result, holding a
    /// concurrency permit throughout.
    async fn exchange(
        &self,
        frame: &[u8],
        deadline: Duration,
        max_payload: usize,
    ) -> Result<Finished, RunnerError> {
        let _permit = self.workers.acquire().await;
        if let Some(zygote) = &self.zygote {
            let finished = zygote
                .exchange(
                    frame,
                    deadline,
                    max_payload.saturating_add(HEADER_LEN),
                    self.config.max_stderr_bytes,
                )
                .await?;
            if let Some(finished) = finished {
                return Ok(finished);
            }
        }
        let child = self.spawn_idle_worker()?;
        process::exchange(
            child,
            frame,
            deadline,
            max_payload.saturating_add(HEADER_LEN),
            self.config.max_stderr_bytes,
        )
        .await
    }

    /// Returns stdout of a worker that exited with status 0, or the error
    /// that describes how it ended otherwise.
    fn expect_exit(
        &self,
        finished: Finished,
        deadline: Duration,
    ) -> Result<BoundedOutput, RunnerError> {
        match finished {
            Finished::DeadlineExceeded => Err(RunnerError::DeadlineExceeded {
                deadline_ms: deadline.as_millis(),
            }),
            Finished::Responded { stdout } => Ok(stdout),
            Finished::Exited {
                status,
                stdout,
                stderr,
            } => match abnormal_exit(status, &stderr) {
                Some(RunOutcome::KilledBySignal { signal, stderr }) => {
                    Err(RunnerError::KilledBySignal { signal, stderr })
                }
                Some(RunOutcome::Crashed { exit_code, stderr }) => {
                    Err(RunnerError::Crashed { exit_code, stderr })
                }
                _ => Ok(stdout),
            },
        }
    }
}

/// Largest response payload accepted for `request`.
fn max_response_bytes(request: &RunRequest) -> usize {
    usize::try_from(request.limits.max_response_bytes()).unwrap_or(usize::MAX)
}

/// Locates `sandbox-worker` next to the current executable, or one level
/// up when the executable is a test binary in Cargo's `deps` directory.
fn default_worker_path() -> Result<PathBuf, RunnerError> {
    let exe = std::env::current_exe().map_err(RunnerError::CurrentExe)?;
    let Some(dir) = exe.parent() else {
        return Err(RunnerError::WorkerNotFound { path: exe });
    };

    let beside = dir.join(DEFAULT_WORKER_NAME);
    if beside.is_file() {
        return Ok(beside);
    }
    match dir.parent() {
        Some(parent) if dir.ends_with("deps") => Ok(parent.join(DEFAULT_WORKER_NAME)),
        _ => Ok(beside),
    }
}

/// Maps a signal or a failure status to an outcome; `None` for status 0.
fn abnormal_exit(status: std::process::ExitStatus, stderr: &BoundedOutput) -> Option<RunOutcome> {
    if let Some(signal) = status.signal() {
        return Some(RunOutcome::KilledBySignal {
            signal,
            stderr: stderr.lossy_text(),
        });
    }
    match status.code() {
        Some(0) => None,
        code => Some(RunOutcome::Crashed {
            exit_code: code.unwrap_or(-1),
            stderr: stderr.lossy_text(),
        }),
    }
}

fn decode_response(stdout: &BoundedOutput, max_payload: usize) -> Result<Response, RunnerError> {
    if stdout.overflowed {
        return Err(RunnerError::ResponseTooLarge {
            max_bytes: max_payload,
        });
    }
    sandbox_protocol::decode(&stdout.bytes, max_payload).map_err(RunnerError::Protocol)
}

fn decode_run_report(
    stdout: &BoundedOutput,
    max_payload: usize,
    wall_time: Duration,
) -> Result<RunReport, RunnerError> {
    match decode_response(stdout, max_payload)? {
        Response::Run(response) => Ok(RunReport {
            outcome: response.outcome.into(),
            logs: response.logs,
            fuel_used: response.fuel_used,
            memory_peak_bytes: response.memory_peak_bytes,
            duration: Duration::from_micros(response.duration_us),
            wall_time,
        }),
        Response::Rejected(message) => Err(RunnerError::Rejected { message }),
        Response::Compile(_) => Err(RunnerError::UnexpectedResponse { expected: "run" }),
    }
}

/// Logs the run's figures; worker kills are security-relevant and logged
/// at warn. Never logs output, log lines or worker stderr text.
fn log_report(report: &RunReport) {
    let outcome = report.outcome.name();
    match &report.outcome {
        RunOutcome::DeadlineExceeded { .. }
        | RunOutcome::KilledBySignal { .. }
        | RunOutcome::Crashed { .. } => {
            tracing::warn!(
                outcome,
                wall_time_ms = millis(report.wall_time),
                "sandbox worker killed or crashed"
            );
        }
        _ => tracing::debug!(
            outcome,
            fuel_used = report.fuel_used,
            memory_peak_bytes = report.memory_peak_bytes,
            duration_us = report.duration.as_micros() as u64,
            "plugin run finished"
        ),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
