//! Zygote mode: jobs run in children forked by one long-lived
//! `sandbox-worker --zygote` instead of freshly executed workers.
//!
//! The zygote is executed like any worker: empty environment, no
//! descriptor but its three standard ones, no secret in its arguments. Its
//! stdin is a Unix `SOCK_SEQPACKET` socket for the control messages of
//! [`sandbox_protocol::ZygoteCommand`] and [`ZygoteEvent`]. For each job
//! the runner creates the stdin, stdout and stderr pipes, passes the
//! child's ends to the zygote with `SCM_RIGHTS`, and then talks to the
//! child directly: the request, with the note, goes into the child's stdin
//! pipe and never through the zygote.
//!
//! Each zygote process also keeps up to
//! [`crate::RunnerConfig::zygote_plugin_slots`] deserialized plugins,
//! loaded from precompiled code that the runner passes in a memfd. A child
//! forked for a loaded plugin skips building an engine and loading code;
//! [`slots`] records what each slot contains. For the plugins run most
//! recently, the runner keeps a few children forked ahead and parked
//! ([`warm`]), so that a run of one of them does not wait for the fork.
//!
//! A zygote that dies is replaced on the next job. When no zygote has ever
//! started on this host, the runner falls back to executing one worker
//! per job and logs a warning once.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, IoSlice, Write as _};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, Shutdown, SockFlag, SockType, recv, sendmsg, shutdown,
    socketpair,
};
use sandbox_protocol::{ZYGOTE_MESSAGE_LEN, ZygoteCommand, ZygoteEvent};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::error::RunnerError;
use crate::process::{self, Finished};

mod slots;
mod warm;

pub use slots::CodeKey;
use slots::{LoadReservation, Reservation, SlotPin, SlotTable};
use warm::{Refill, WarmKey, WarmPool};

/// How long a new zygote may take to report that it is ready.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// How long to wait for the zygote to report a killed child's exit.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Longest zygote stderr line that is logged, in bytes.
const MAX_LOG_LINE_BYTES: usize = 1024;

/// Starts zygotes on demand and runs jobs in their children.
pub(crate) struct Zygote {
    worker_path: PathBuf,
    args: Vec<OsString>,
    /// Plugin slots of each zygote process.
    plugin_slots: usize,
    current: tokio::sync::Mutex<Option<Arc<ZygoteProcess>>>,
    /// Number of the next zygote process started.
    next_zygote: AtomicU64,
    /// Children forked ahead for loaded plugins.
    warm: Arc<Mutex<WarmPool<StartedJob>>>,
    /// Whether any zygote has reported ready; until then a failed start
    /// means the host does not allow zygotes.
    ever_ready: AtomicBool,
    /// Set when zygote mode was given up for spawning per job.
    unavailable: AtomicBool,
}

impl std::fmt::Debug for Zygote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zygote")
            .field("worker_path", &self.worker_path)
            .field("unavailable", &self.unavailable)
            .finish_non_exhaustive()
    }
}

/// A job's channels to the reader thread.
enum PendingJob {
    /// A child's pid (or fork errno), then its raw wait status.
    Child {
        started: Option<oneshot::Sender<Result<i32, i32>>>,
        exited: Option<oneshot::Sender<i32>>,
    },
    /// Whether a load succeeded.
    Load(Option<oneshot::Sender<bool>>),
}

/// Result of an attempt to start a child.
enum Start {
    Started(StartedJob),
    /// The zygote died before the child started; nothing reached a child.
    ZygoteGone,
    /// The child did not start within the deadline; it was killed.
    DeadlineExceeded,
}

/// Result of an attempt to start a child for a loaded plugin.
pub(crate) enum LoadedStart {
    Started(StartedJob),
    /// No zygote has the plugin loaded, or the zygote died before the child
    /// started. Nothing reached a child.
    NotLoaded,
    /// The child did not start within the deadline; it was killed.
    DeadlineExceeded,
}

type PendingJobs = Arc<Mutex<HashMap<u64, PendingJob>>>;

/// One running zygote.
struct ZygoteProcess {
    /// Number of this process among the runner's zygotes.
    id: u64,
    pid: u32,
    next_job: AtomicU64,
    socket: OwnedFd,
    pending: PendingJobs,
    alive: Arc<AtomicBool>,
    /// The plugin loaded in each slot of this process.
    slots: Arc<Mutex<SlotTable>>,
    /// Killed with SIGKILL when dropped.
    _child: Child,
}

impl Drop for ZygoteProcess {
    fn drop(&mut self) {
        let _ = shutdown(self.socket.as_raw_fd(), Shutdown::Both);
    }
}

/// A zygote child that waits for a request that never comes, for tests.
/// Closing its stdin (dropping this) makes it exit.
#[doc(hidden)]
pub struct IdleZygoteChild {
    /// Process id of the child.
    pub pid: u32,
    _stdin: OwnedFd,
    _stdout: OwnedFd,
    _stderr: OwnedFd,
}

impl Zygote {
    /// A launcher for `worker_path` started with `args` and `--zygote`,
    /// whose processes hold up to `plugin_slots` loaded plugins, with up to
    /// `warm_children` children forked ahead for them.
    pub(crate) fn new(
        worker_path: PathBuf,
        args: Vec<OsString>,
        plugin_slots: usize,
        warm_children: usize,
    ) -> Self {
        Self {
            worker_path,
            args,
            plugin_slots,
            current: tokio::sync::Mutex::new(None),
            next_zygote: AtomicU64::new(0),
            warm: Arc::new(Mutex::new(WarmPool::new(warm_children))),
            ever_ready: AtomicBool::new(false),
            unavailable: AtomicBool::new(false),
        }
    }

    /// Whether the runner gave up zygote mode on this host.
    pub(crate) fn is_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::Relaxed)
    }

    /// Process id of the current zygote, starting one if none runs.
    pub(crate) async fn pid(&self) -> Result<Option<u32>, RunnerError> {
        Ok(self.process().await?.map(|zygote| zygote.pid))
    }

    /// Runs one job in a zygote child: sends `input` to its stdin and
    /// collects its output and exit status within `deadline`. Returns
    /// `None` when zygote mode is unavailable, so the caller spawns a
    /// worker instead.
    pub(crate) async fn exchange(
        &self,
        input: &[u8],
        deadline: Duration,
        max_stdout: usize,
        max_stderr: usize,
    ) -> Result<Option<Finished>, RunnerError> {
        let began = tokio::time::Instant::now();
        let mut attempt = 0;
        let job = loop {
            let Some(zygote) = self.process().await? else {
                return Ok(None);
            };
            match zygote.start_job(None, deadline).await? {
                Start::Started(job) => break job,
                Start::DeadlineExceeded => return Ok(Some(Finished::DeadlineExceeded)),
                // The zygote died before it forked the child. Nothing was
                // sent to the child yet, so a new zygote can take the job.
                Start::ZygoteGone if attempt == 0 => attempt += 1,
                Start::ZygoteGone => return Err(zygote_exited()),
            }
        };
        let remaining = deadline.saturating_sub(began.elapsed());
        job.finish(input, remaining, max_stdout, max_stderr)
            .await
            .map(Some)
    }

    /// Whether the running zygote, if any, has loaded the plugin of `key` for an
    /// engine with `wasm_stack_bytes`, or a warm child of it has. Starts no
    /// zygote.
    pub(crate) async fn is_loaded(&self, key: CodeKey, wasm_stack_bytes: u64) -> bool {
        let current = self.current.lock().await;
        current.as_ref().is_some_and(|zygote| {
            let warm_key = WarmKey {
                code: key,
                wasm_stack_bytes,
                zygote: zygote.id,
            };
            zygote.alive.load(Ordering::Relaxed)
                && (slots::lock(&zygote.slots).contains(key, wasm_stack_bytes)
                    || lock_warm(&self.warm).contains(warm_key))
        })
    }

    /// Returns a child that inherits the plugin loaded under `key`, for an
    /// engine with `wasm_stack_bytes`: a warm child parked for it, or else
    /// a child forked now. Either way it starts a fork of a new warm child
    /// for the next run.
    ///
    /// Returns [`LoadedStart::NotLoaded`] when neither a warm child nor
    /// the zygote has the plugin, or the zygote died before the child
    /// started. No request has been sent then, so the caller can run the
    /// job another way.
    pub(crate) async fn start_loaded(
        &self,
        key: CodeKey,
        wasm_stack_bytes: u64,
        deadline: Duration,
    ) -> Result<LoadedStart, RunnerError> {
        let Some(zygote) = self.process().await? else {
            return Ok(LoadedStart::NotLoaded);
        };
        let warm_key = WarmKey {
            code: key,
            wasm_stack_bytes,
            zygote: zygote.id,
        };
        if let Some(job) = self.take_warm(warm_key) {
            self.refill(&zygote, warm_key);
            return Ok(LoadedStart::Started(job));
        }

        let Some(pin) = SlotPin::new(&zygote.slots, key, wasm_stack_bytes) else {
            return Ok(LoadedStart::NotLoaded);
        };
        match zygote.start_job(Some(pin), deadline).await? {
            Start::Started(job) => {
                self.refill(&zygote, warm_key);
                Ok(LoadedStart::Started(job))
            }
            Start::DeadlineExceeded => Ok(LoadedStart::DeadlineExceeded),
            Start::ZygoteGone => Ok(LoadedStart::NotLoaded),
        }
    }

    /// Takes a warm child parked for `key` that still waits for its
    /// request. Children found dead, for example with their zygote, are
    /// discarded.
    fn take_warm(&self, key: WarmKey) -> Option<StartedJob> {
        loop {
            let job = lock_warm(&self.warm).take(key)?;
            if job.is_waiting() {
                return Some(job);
            }
            job.discard();
        }
    }

    /// Forks a warm child for `key` in the background and parks it, unless
    /// the pool has no room for it.
    fn refill(&self, zygote: &Arc<ZygoteProcess>, key: WarmKey) {
        let Refill::Fork { evicted } = lock_warm(&self.warm).begin_refill(key, Instant::now())
        else {
            return;
        };
        let refill = PendingRefill {
            pool: Arc::clone(&self.warm),
            key,
            finished: false,
        };
        if let Some(evicted) = evicted {
            evicted.discard();
        }

        let zygote = Arc::clone(zygote);
        tokio::spawn(async move {
            let job = match SlotPin::new(&zygote.slots, key.code, key.wasm_stack_bytes) {
                Some(pin) => match zygote.start_job(Some(pin), START_DEADLINE).await {
                    Ok(Start::Started(job)) => Some(job),
                    Ok(Start::ZygoteGone | Start::DeadlineExceeded) => None,
                    Err(error) => {
                        tracing::debug!(%error, pid = zygote.pid, "failed to fork a warm zygote child");
                        None
                    }
                },
                // The plugin was evicted since this run started.
                None => None,
            };
            refill.finish(job);
        });
    }

    /// Kills every warm child.
    fn discard_warm(&self) {
        let parked = lock_warm(&self.warm).drain();
        for job in parked {
            job.discard();
        }
    }

    /// Process ids of the warm children parked now, oldest first, for
    /// tests.
    pub(crate) fn warm_child_pids(&self) -> Vec<u32> {
        lock_warm(&self.warm).parked().map(|job| job.pid).collect()
    }

    /// Loads precompiled `code` into a slot of the current zygote under
    /// `key`, unless it is there already. Returns whether the zygote has
    /// it loaded now. `false` also covers a busy table, where another job
    /// is loading the code or every slot is pinned. It covers a failed load
    /// too, which the zygote explains on its stderr. The caller then sends
    /// the code with the request.
    pub(crate) async fn load(
        &self,
        key: CodeKey,
        wasm_stack_bytes: u64,
        code: &[u8],
    ) -> Result<bool, RunnerError> {
        let Some(zygote) = self.process().await? else {
            return Ok(false);
        };
        let reservation = slots::lock(&zygote.slots).reserve(key, wasm_stack_bytes);
        let slot = match reservation {
            Reservation::Ready => return Ok(true),
            Reservation::Busy => return Ok(false),
            Reservation::Load(slot) => slot,
        };

        let reservation = LoadReservation::new(&zygote.slots, slot);
        let loaded = zygote
            .send_load(slot, wasm_stack_bytes, code)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, pid = zygote.pid, slot, "failed to load a plugin into the sandbox zygote");
                false
            });
        reservation.finish(loaded);
        Ok(loaded)
    }

    /// Forks a child that waits on its stdin, for tests that inspect a
    /// child before it has read a request.
    pub(crate) async fn spawn_idle_child(&self) -> Result<Option<IdleZygoteChild>, RunnerError> {
        let Some(zygote) = self.process().await? else {
            return Ok(None);
        };
        let job = match zygote.start_job(None, START_DEADLINE).await? {
            Start::Started(job) => job,
            Start::ZygoteGone | Start::DeadlineExceeded => return Err(zygote_exited()),
        };
        Ok(Some(IdleZygoteChild {
            pid: job.pid,
            _stdin: job.stdin,
            _stdout: job.stdout,
            _stderr: job.stderr,
        }))
    }

    /// Returns the running zygote, starting one if there is none or the
    /// last one died; `None` when zygote mode is unavailable.
    async fn process(&self) -> Result<Option<Arc<ZygoteProcess>>, RunnerError> {
        if self.is_unavailable() {
            return Ok(None);
        }
        let mut current = self.current.lock().await;
        if let Some(zygote) = current.as_ref()
            && zygote.alive.load(Ordering::Relaxed)
        {
            return Ok(Some(Arc::clone(zygote)));
        }

        if let Some(dead) = current.take() {
            tracing::warn!(pid = dead.pid, "sandbox zygote exited; starting a new one");
            // Its warm children died with it.
            self.discard_warm();
        }
        match self.start().await {
            Ok(zygote) => {
                self.ever_ready.store(true, Ordering::Relaxed);
                *current = Some(Arc::clone(&zygote));
                Ok(Some(zygote))
            }
            Err(error) if !self.ever_ready.load(Ordering::Relaxed) => {
                tracing::warn!(
                    error = %error,
                    "sandbox zygote failed to start; executing one worker per job instead"
                );
                self.unavailable.store(true, Ordering::Relaxed);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    async fn start(&self) -> Result<Arc<ZygoteProcess>, RunnerError> {
        let (socket, zygote_end) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(errno)?;

        let mut command = Command::new(&self.worker_path);
        command
            .args(&self.args)
            .arg("--zygote")
            .env_clear()
            .stdin(Stdio::from(zygote_end))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        process::close_inherited_descriptors_on_exec(&mut command);
        let mut child = command.spawn().map_err(|source| RunnerError::Spawn {
            path: self.worker_path.clone(),
            source,
        })?;
        // Close this process's copy of the zygote's end, so that the
        // reader sees end-of-file when the zygote dies.
        drop(command);
        let pid = child.id().ok_or_else(zygote_exited)?;
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(log_stderr(pid, stderr));
        }

        let pending: PendingJobs = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        let (ready_sender, ready) = oneshot::channel();
        let reader_socket = socket.try_clone()?;
        let reader = EventReader {
            pid,
            socket: reader_socket,
            pending: Arc::clone(&pending),
            alive: Arc::clone(&alive),
            ready: Some(ready_sender),
        };
        std::thread::Builder::new()
            .name(format!("sandbox-zygote-{pid}"))
            .spawn(move || reader.run())?;

        match tokio::time::timeout(START_DEADLINE, ready).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(zygote_exited()),
            Err(_) => {
                return Err(RunnerError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the sandbox zygote did not report ready in time",
                )));
            }
        }
        tracing::info!(pid, "sandbox zygote started");
        Ok(Arc::new(ZygoteProcess {
            id: self.next_zygote.fetch_add(1, Ordering::Relaxed),
            pid,
            next_job: AtomicU64::new(0),
            socket,
            pending,
            alive,
            slots: Arc::new(Mutex::new(SlotTable::new(self.plugin_slots))),
            _child: child,
        }))
    }
}

/// A child that has started, with the runner's ends of its pipes.
pub(crate) struct StartedJob {
    zygote: Arc<ZygoteProcess>,
    job: u64,
    pid: u32,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    exited: oneshot::Receiver<i32>,
}

impl StartedJob {
    /// Whether the child still waits for its request: its zygote has not
    /// closed the control socket, and the child has not closed its stdout,
    /// which it does only by responding or exiting.
    ///
    /// A zygote that dies right after this check takes the child with it,
    /// as it takes any child that started. The run then ends with
    /// [`RunnerError::ZygoteExited`].
    fn is_waiting(&self) -> bool {
        let mut descriptors = [
            // A closed peer shows as POLLHUP, reported whatever was requested.
            PollFd::new(self.zygote.socket.as_fd(), PollFlags::empty()),
            // Output or end-of-file, from a child that got no request yet,
            // means it is broken or gone.
            PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN),
        ];
        let quiet = match poll(&mut descriptors, PollTimeout::ZERO) {
            Ok(0) => true,
            Ok(_) | Err(_) => false,
        };
        quiet && self.zygote.alive.load(Ordering::Relaxed)
    }

    /// Kills a child that will not get a request, and drops it.
    fn discard(self) {
        if let Err(error) = self.zygote.send(ZygoteCommand::Kill { job: self.job }, &[]) {
            tracing::debug!(%error, job = self.job, "failed to kill a warm zygote child");
        }
    }

    /// Sends `input` to the child's stdin and collects its output and exit
    /// status within `deadline`, killing it when the deadline passes.
    pub(crate) async fn finish(
        self,
        input: &[u8],
        deadline: Duration,
        max_stdout: usize,
        max_stderr: usize,
    ) -> Result<Finished, RunnerError> {
        let Self {
            zygote,
            job,
            stdin,
            stdout,
            stderr,
            mut exited,
            ..
        } = self;
        let mut cancel_guard = KillOnDrop {
            zygote: &zygote,
            job,
            armed: true,
        };

        grow_pipe(&stdin, input.len());
        let stdin = pipe::Sender::from_owned_fd(stdin)?;
        let stdout = pipe::Receiver::from_owned_fd(stdout)?;
        let stderr = pipe::Receiver::from_owned_fd(stderr)?;

        let io = async {
            let write = async move {
                let mut stdin = stdin;
                let result = stdin.write_all(input).await;
                drop(stdin);
                if let Err(error) = result {
                    tracing::debug!(%error, "failed to write the request to the zygote child");
                }
            };
            let ((), stdout, stderr) = tokio::join!(
                write,
                process::read_bounded(stdout, max_stdout),
                process::read_bounded(stderr, max_stderr),
            );
            let (stdout, stderr) = (stdout?, stderr?);
            // The worker closes its output right after a whole response,
            // so the kernel's teardown of its address space, which comes
            // before its exit status, is not waited for.
            if !stdout.overflowed && sandbox_protocol::is_whole_frame(&stdout.bytes, max_stdout) {
                // A worker that escaped wasmtime could respond and then
                // linger, so the kill makes sure it ends with its run. The
                // zygote only kills a child it has not reaped yet. A failed
                // send means the zygote is gone, and its children die with
                // it, so the response stands.
                if let Err(error) = zygote.send(ZygoteCommand::Kill { job }, &[]) {
                    tracing::debug!(%error, job, "failed to send the kill after a response");
                }
                return Ok(Finished::Responded { stdout });
            }
            let wait_status = (&mut exited).await.map_err(|_| zygote_exited())?;
            Ok(Finished::Exited {
                status: ExitStatus::from_raw(wait_status),
                stdout,
                stderr,
            })
        };

        let finished = match tokio::time::timeout(deadline, io).await {
            Ok(finished) => finished,
            Err(_elapsed) => {
                // Commands are handled in order, so this kill reaches the
                // zygote after the spawn even if the child has not started.
                zygote.send(ZygoteCommand::Kill { job }, &[])?;
                let _ = tokio::time::timeout(KILL_GRACE, exited).await;
                Ok(Finished::DeadlineExceeded)
            }
        };
        cancel_guard.armed = false;
        finished
    }
}

impl ZygoteProcess {
    /// Creates a job's pipes, sends the command to fork a child onto them
    /// (inheriting the plugin in the slot of `pin`, if given) and waits up
    /// to `deadline` for the child to start.
    ///
    /// The pin ends once the command is sent. The zygote handles commands
    /// in order, so a later load into that slot reaches it after the fork,
    /// and the child keeps its own copy of the plugin whatever the zygote
    /// loads afterwards.
    async fn start_job(
        self: &Arc<Self>,
        pin: Option<SlotPin>,
        deadline: Duration,
    ) -> Result<Start, RunnerError> {
        let job = self.next_job.fetch_add(1, Ordering::Relaxed);
        let (stdin_read, stdin_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(errno)?;
        let (stdout_read, stdout_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(errno)?;
        let (stderr_read, stderr_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(errno)?;

        let (started_sender, started) = oneshot::channel();
        let (exited_sender, exited) = oneshot::channel();
        self.register(
            job,
            PendingJob::Child {
                started: Some(started_sender),
                exited: Some(exited_sender),
            },
        );

        let descriptors = [
            stdin_read.as_raw_fd(),
            stdout_write.as_raw_fd(),
            stderr_write.as_raw_fd(),
        ];
        let slot = pin.as_ref().map(|pin| pin.slot);
        let sent = self.send(ZygoteCommand::Spawn { job, slot }, &descriptors);
        drop(pin);
        if let Err(error) = sent {
            tracing::warn!(%error, pid = self.pid, "sandbox zygote is gone; replacing it");
            self.alive.store(false, Ordering::Relaxed);
            return Ok(Start::ZygoteGone);
        }
        // The child has its own copies now; the runner keeps only its
        // ends, so end-of-file works both ways.
        drop((stdin_read, stdout_write, stderr_write));

        let pid = match tokio::time::timeout(deadline, started).await {
            Ok(Ok(Ok(pid))) => pid,
            Ok(Ok(Err(errno))) => {
                return Err(RunnerError::Io(io::Error::from_raw_os_error(errno)));
            }
            Ok(Err(_)) => return Ok(Start::ZygoteGone),
            Err(_elapsed) => {
                self.send(ZygoteCommand::Kill { job }, &[])?;
                return Ok(Start::DeadlineExceeded);
            }
        };
        Ok(Start::Started(StartedJob {
            zygote: Arc::clone(self),
            job,
            pid: u32::try_from(pid).map_err(|_| zygote_exited())?,
            stdin: stdin_write,
            stdout: stdout_read,
            stderr: stderr_read,
            exited,
        }))
    }

    /// Sends one load command with the code in a memfd and waits for the
    /// zygote's `Loaded` or `LoadFailed` event.
    async fn send_load(
        &self,
        slot: u16,
        wasm_stack_bytes: u64,
        code: &[u8],
    ) -> Result<bool, RunnerError> {
        let memfd = nix::sys::memfd::memfd_create(
            c"sandnotes-plugin-code",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
        )
        .map_err(errno)?;
        let mut file = std::fs::File::from(memfd);
        file.write_all(&sandbox_protocol::encode_load(wasm_stack_bytes, code))?;

        let job = self.next_job.fetch_add(1, Ordering::Relaxed);
        let (loaded_sender, loaded) = oneshot::channel();
        self.register(job, PendingJob::Load(Some(loaded_sender)));
        self.send(ZygoteCommand::Load { job, slot }, &[file.as_raw_fd()])?;
        drop(file);

        match tokio::time::timeout(START_DEADLINE, loaded).await {
            Ok(Ok(loaded)) => Ok(loaded),
            Ok(Err(_)) => Err(zygote_exited()),
            Err(_elapsed) => Err(RunnerError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "the sandbox zygote did not report the result of a load command in time",
            ))),
        }
    }

    fn register(&self, job: u64, channels: PendingJob) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        pending.insert(job, channels);
    }

    /// Sends one command with `descriptors` attached. Blocks only while the
    /// socket buffer is full, which the zygote empties between forks.
    fn send(&self, command: ZygoteCommand, descriptors: &[RawFd]) -> Result<(), RunnerError> {
        let bytes = command.encode();
        let buffers = [IoSlice::new(&bytes)];
        let rights = [ControlMessage::ScmRights(descriptors)];
        let control: &[ControlMessage<'_>] = if descriptors.is_empty() { &[] } else { &rights };
        loop {
            match sendmsg::<()>(
                self.socket.as_raw_fd(),
                &buffers,
                control,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(error) => return Err(errno(error)),
            }
        }
    }
}

/// The thread that reads zygote events and hands them to waiting jobs.
/// It runs on its own thread because the socket is blocking.
struct EventReader {
    pid: u32,
    socket: OwnedFd,
    pending: PendingJobs,
    alive: Arc<AtomicBool>,
    ready: Option<oneshot::Sender<()>>,
}

impl EventReader {
    fn run(mut self) {
        let mut bytes = [0u8; ZYGOTE_MESSAGE_LEN];
        loop {
            let length = match recv(self.socket.as_raw_fd(), &mut bytes, MsgFlags::empty()) {
                Ok(0) => break,
                Ok(length) => length,
                Err(Errno::EINTR) => continue,
                Err(error) => {
                    tracing::warn!(%error, pid = self.pid, "failed to read from the sandbox zygote");
                    break;
                }
            };
            match ZygoteEvent::decode(&bytes[..length]) {
                Ok(event) => self.dispatch(event),
                Err(error) => {
                    tracing::warn!(%error, pid = self.pid, "invalid message from the sandbox zygote");
                    break;
                }
            }
        }

        // Dropping the senders tells every waiting job that the zygote is
        // gone; its children die with it (they asked for PR_SET_PDEATHSIG).
        self.alive.store(false, Ordering::Relaxed);
        self.pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clear();
    }

    fn dispatch(&mut self, event: ZygoteEvent) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match event {
            ZygoteEvent::Ready => {
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(());
                }
            }
            ZygoteEvent::Started { job, pid } => {
                if let Some(PendingJob::Child { started, .. }) = pending.get_mut(&job)
                    && let Some(started) = started.take()
                {
                    let _ = started.send(Ok(pid));
                }
            }
            ZygoteEvent::SpawnFailed { job, errno } => {
                if let Some(PendingJob::Child {
                    started: Some(started),
                    ..
                }) = pending.remove(&job)
                {
                    let _ = started.send(Err(errno));
                }
            }
            ZygoteEvent::Exited { job, wait_status } => {
                if let Some(PendingJob::Child {
                    exited: Some(exited),
                    ..
                }) = pending.remove(&job)
                {
                    let _ = exited.send(wait_status);
                }
            }
            ZygoteEvent::Loaded { job } | ZygoteEvent::LoadFailed { job } => {
                if let Some(PendingJob::Load(Some(loaded))) = pending.remove(&job) {
                    let _ = loaded.send(matches!(event, ZygoteEvent::Loaded { .. }));
                }
            }
        }
    }
}

/// Kills a job's child when dropped while armed: a run whose future is
/// dropped midway, for example because its HTTP request was cancelled,
/// must not leave its child running outside the runner's limit on
/// concurrent workers.
struct KillOnDrop<'a> {
    zygote: &'a ZygoteProcess,
    job: u64,
    armed: bool,
}

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Err(error) = self.zygote.send(ZygoteCommand::Kill { job: self.job }, &[]) {
            tracing::debug!(%error, job = self.job, "failed to kill the child of a cancelled job");
        }
    }
}

/// A refill of the warm pool in flight. Dropped without [`Self::finish`],
/// for example when its runtime shuts down, it frees its place in the pool.
struct PendingRefill {
    pool: Arc<Mutex<WarmPool<StartedJob>>>,
    key: WarmKey,
    finished: bool,
}

impl PendingRefill {
    /// Parks `job`, if the fork succeeded and the child still waits: its
    /// zygote may have died, and the pool been emptied, meanwhile.
    fn finish(mut self, job: Option<StartedJob>) {
        self.finished = true;
        let (job, dead) = match job {
            Some(job) if job.is_waiting() => (Some(job), None),
            other => (None, other),
        };
        if let Some(dead) = dead {
            dead.discard();
        }
        let evicted = lock_warm(&self.pool).finish_refill(self.key, job, Instant::now());
        if let Some(evicted) = evicted {
            evicted.discard();
        }
    }
}

impl Drop for PendingRefill {
    fn drop(&mut self) {
        if !self.finished {
            lock_warm(&self.pool).finish_refill(self.key, None, Instant::now());
        }
    }
}

/// Locks the warm pool; its records stay consistent through a panic,
/// because no update can panic halfway.
fn lock_warm(
    pool: &Mutex<WarmPool<StartedJob>>,
) -> std::sync::MutexGuard<'_, WarmPool<StartedJob>> {
    pool.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Logs the zygote's own stderr, which never contains note text because
/// the zygote never reads a request. Its children write to their own pipes.
async fn log_stderr(pid: u32, stderr: tokio::process::ChildStderr) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(mut line)) = lines.next_line().await {
        if line.len() > MAX_LOG_LINE_BYTES {
            let mut end = MAX_LOG_LINE_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        tracing::warn!(pid, message = %line, "sandbox zygote stderr");
    }
}

/// Largest stdin pipe buffer requested, in bytes: Linux's default
/// `/proc/sys/fs/pipe-max-size`.
const MAX_PIPE_BYTES: usize = 1 << 20;

/// Grows the pipe buffer towards `request_len` bytes, up to
/// [`MAX_PIPE_BYTES`], so the request is written in fewer wake-ups of the
/// child. Failure only costs speed, so it is ignored.
fn grow_pipe(pipe: &OwnedFd, request_len: usize) {
    let size = request_len.clamp(1, MAX_PIPE_BYTES);
    let size = i32::try_from(size).unwrap_or(i32::MAX);
    let _ = nix::fcntl::fcntl(pipe, nix::fcntl::FcntlArg::F_SETPIPE_SZ(size));
}

fn errno(error: Errno) -> RunnerError {
    RunnerError::Io(io::Error::from(error))
}

fn zygote_exited() -> RunnerError {
    RunnerError::ZygoteExited
}
