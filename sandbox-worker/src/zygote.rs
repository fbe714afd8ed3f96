//! Zygote mode (`--zygote`): a long-lived worker that forks one child per
//! job instead of the gateway executing a fresh worker.
//!
//! The gateway executes the zygote exactly as it executes a worker (empty
//! environment, no other descriptor), except that stdin is one end of a
//! Unix `SOCK_SEQPACKET` socket that carries the control messages of
//! `sandbox_protocol::ZygoteCommand` and `ZygoteEvent`. The zygote never
//! reads a request: the gateway writes each request into the pipe that
//! becomes the child's stdin, so the zygote never holds note text, and
//! every child starts from the same pristine memory image.
//!
//! At start the zygote sets `no_new_privs`, enters new user, network, IPC,
//! UTS and mount namespaces and applies the Landlock ruleset, so every
//! child inherits them without paying for them per run. A child replaces
//! its stdin, stdout and stderr with the three descriptors received with
//! its spawn command, closes every other descriptor, and then runs the
//! same code as an executed worker from there: read the request, rlimits,
//! seccomp, run, respond, exit. The rlimits and restricting seccomp
//! filters apply to each child and never to the zygote, which must go on
//! forking. The zygote's one filter allows every system call; it only makes
//! attaching a child's filter cheaper (see `confine::install_base_filter`).
//!
//! The zygote holds deserialized plugins in slots (see [`PluginSlots`]);
//! a spawn that names a slot hands that plugin to the child, which then
//! skips building an engine and loading code.
//!
//! The zygote stays single-threaded, because only the forking thread
//! survives `fork`: a lock held by another thread would stay locked in the
//! child forever. Wasmtime starts no thread in it, because it only
//! deserializes code and never compiles.
//!
//! The zygote exits when the gateway closes the socket, after killing its
//! children. Each child asks the kernel for SIGKILL when the zygote dies,
//! so no job outlives a crashed zygote.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, send};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use sandbox_protocol::{
    LOAD_DESCRIPTORS, SPAWN_DESCRIPTORS, ZYGOTE_MESSAGE_LEN, ZygoteCommand, ZygoteEvent,
};

use crate::slots::{LoadedPlugin, PluginSlots};

/// Serves spawn, kill and load commands on stdin until the gateway closes
/// it. Each child runs `run_job` with the plugin of its slot, if it named
/// one, and exits with the status it returns. A load payload larger than
/// `max_load_bytes` is rejected.
pub(crate) fn serve(
    max_load_bytes: usize,
    run_job: impl Fn(Option<LoadedPlugin>) -> u8,
) -> Result<()> {
    // Layers the host does not allow are skipped here, as in an executed
    // worker; `--self-check` reports them.
    let _layers = crate::confine::isolate()?;
    crate::confine::prepare_run_filter()?;
    crate::confine::install_base_filter()?;

    let stdin = std::io::stdin();
    let control = stdin.as_fd();

    // SIGCHLD is blocked and read from a signalfd, so the loop waits for
    // commands and exits in one `poll`.
    let mut child_signal = SigSet::empty();
    child_signal.add(Signal::SIGCHLD);
    let original_mask = child_signal
        .thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .context("failed to block SIGCHLD")?;
    let exits = SignalFd::with_flags(
        &child_signal,
        SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    )
    .context("failed to create the SIGCHLD signalfd")?;

    send_event(control, ZygoteEvent::Ready)?;

    let mut children = Children::default();
    let mut slots = PluginSlots::default();
    loop {
        let mut descriptors = [
            PollFd::new(control, PollFlags::POLLIN),
            PollFd::new(exits.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut descriptors, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return Err(error).context("poll failed"),
        }
        let has_events = |descriptor: &PollFd<'_>| {
            descriptor
                .revents()
                .is_some_and(|events| !events.is_empty())
        };
        let command_waiting = has_events(&descriptors[0]);
        let child_exited = has_events(&descriptors[1]);

        if child_exited {
            while let Ok(Some(_)) = exits.read_signal() {}
            children.reap(control)?;
        }
        if command_waiting {
            let Some((command, descriptors)) = receive_command(control)? else {
                children.kill_all();
                return Ok(());
            };
            match command {
                ZygoteCommand::Spawn { job, slot } => {
                    let spawned =
                        spawn_child(descriptors, slot, &mut slots, &original_mask, &run_job);
                    let event = spawned.map_or_else(
                        |errno| ZygoteEvent::SpawnFailed {
                            job,
                            errno: errno as i32,
                        },
                        |pid| {
                            children.by_pid.insert(pid, job);
                            ZygoteEvent::Started {
                                job,
                                pid: pid.as_raw(),
                            }
                        },
                    );
                    send_event(control, event)?;
                }
                ZygoteCommand::Kill { job } => children.kill(job),
                ZygoteCommand::Load { job, slot } => {
                    let event = match load(descriptors, slot, &mut slots, max_load_bytes) {
                        Ok(()) => ZygoteEvent::Loaded { job },
                        Err(error) => {
                            eprintln!(
                                "sandbox-worker: zygote: failed to load slot {slot}: {error:#}"
                            );
                            ZygoteEvent::LoadFailed { job }
                        }
                    };
                    send_event(control, event)?;
                }
            }
        }
    }
}

/// Live children and the jobs they run.
#[derive(Default)]
struct Children {
    by_pid: HashMap<Pid, u64>,
}

impl Children {
    /// Reaps every exited child and reports its wait status.
    fn reap(&mut self, control: BorrowedFd<'_>) -> Result<()> {
        loop {
            let (pid, wait_status) = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, (code & 0xff) << 8),
                Ok(WaitStatus::Signaled(pid, signal, core_dumped)) => {
                    (pid, signal as i32 | if core_dumped { 0x80 } else { 0 })
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(()),
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(error) => return Err(error).context("waitpid failed"),
            };
            if let Some(job) = self.by_pid.remove(&pid) {
                send_event(control, ZygoteEvent::Exited { job, wait_status })?;
            }
        }
    }

    /// Kills the child of `job` if it has not been reaped. Because only
    /// this process reaps its children, the pid cannot have been reused.
    fn kill(&self, job: u64) {
        if let Some((&pid, _)) = self.by_pid.iter().find(|(_, running)| **running == job) {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }

    fn kill_all(&self) {
        for &pid in self.by_pid.keys() {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
}

/// Loads the code in the one attached memfd into `slot`.
fn load(
    descriptors: Vec<OwnedFd>,
    slot: u16,
    slots: &mut PluginSlots,
    max_load_bytes: usize,
) -> Result<()> {
    let [memfd]: [OwnedFd; LOAD_DESCRIPTORS] =
        descriptors.try_into().map_err(|received: Vec<OwnedFd>| {
            anyhow::anyhow!(
                "a load command needs {LOAD_DESCRIPTORS} descriptor, got {}",
                received.len()
            )
        })?;
    slots.load(slot, memfd, max_load_bytes)
}

/// Forks a child for one job. Returns the child's pid to the zygote; the
/// child itself never returns.
fn spawn_child(
    descriptors: Vec<OwnedFd>,
    slot: Option<u16>,
    slots: &mut PluginSlots,
    original_mask: &SigSet,
    run_job: &impl Fn(Option<LoadedPlugin>) -> u8,
) -> Result<Pid, Errno> {
    let [stdin, stdout, stderr]: [OwnedFd; SPAWN_DESCRIPTORS] =
        descriptors.try_into().map_err(|_| Errno::EBADMSG)?;
    let zygote = nix::unistd::getpid();

    // SAFETY: the zygote process is single-threaded (see the module docs),
    // so the child is a full copy of the only thread and may allocate,
    // take locks and run any code.
    #[allow(unsafe_code)]
    let forked = unsafe { fork() }?;
    match forked {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            // Keep only this job's plugin: the others' code is unmapped.
            let loaded = match slot {
                Some(slot) => slots.take_for_child(slot),
                None => {
                    slots.clear();
                    None
                }
            };
            let status = match become_job_process(zygote, original_mask, [stdin, stdout, stderr]) {
                Ok(()) => run_job(loaded),
                Err(error) => {
                    eprintln!("sandbox-worker: failed to set up the zygote child: {error:#}");
                    2
                }
            };
            std::process::exit(i32::from(status));
        }
    }
}

/// Turns the forked child into a job process: dies with the zygote,
/// restores the signal mask, and keeps only the job's three pipes as
/// descriptors 0, 1 and 2.
fn become_job_process(
    zygote: Pid,
    original_mask: &SigSet,
    [stdin, stdout, stderr]: [OwnedFd; SPAWN_DESCRIPTORS],
) -> Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("failed to set PR_SET_PDEATHSIG")?;
    // The zygote may have died before the request above took effect.
    if nix::unistd::getppid() != zygote {
        bail!("the zygote exited while the child started");
    }
    original_mask
        .thread_set_mask()
        .context("failed to restore the signal mask")?;

    nix::unistd::dup2_stdin(&stdin).context("failed to install stdin")?;
    nix::unistd::dup2_stdout(&stdout).context("failed to install stdout")?;
    nix::unistd::dup2_stderr(&stderr).context("failed to install stderr")?;
    drop((stdin, stdout, stderr));
    close_descriptors_from(3)
}

/// Closes every descriptor from `first` up, including the control socket
/// and the signalfd, whatever their flags.
#[allow(unsafe_code)]
fn close_descriptors_from(first: RawFd) -> Result<()> {
    // SAFETY: `close_range` takes integers only. Closing descriptors that
    // an `OwnedFd` of this process still owns would make its later drop
    // close an unrelated descriptor, but the only such owners here are the
    // zygote's control stream and signalfd, which the child never uses or
    // drops again: it exits through `std::process::exit`.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        )
    };
    if result != 0 {
        return Err(std::io::Error::last_os_error()).context("close_range failed");
    }
    Ok(())
}

/// Receives one command and its descriptors; `None` when the gateway has
/// closed the socket.
fn receive_command(control: BorrowedFd<'_>) -> Result<Option<(ZygoteCommand, Vec<OwnedFd>)>> {
    let mut bytes = [0u8; ZYGOTE_MESSAGE_LEN];
    let mut buffers = [IoSliceMut::new(&mut bytes)];
    let mut space = nix::cmsg_space!([RawFd; SPAWN_DESCRIPTORS]);
    let message = loop {
        match recvmsg::<()>(
            control.as_raw_fd(),
            &mut buffers,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(Errno::EINTR) => continue,
            other => break other.context("failed to receive a zygote command")?,
        }
    };

    let mut descriptors = Vec::new();
    let control_messages = message
        .cmsgs()
        .context("zygote command carried too many descriptors")?;
    for control_message in control_messages {
        if let ControlMessageOwned::ScmRights(received) = control_message {
            for raw in received {
                // SAFETY: the kernel has just installed `raw` in this
                // process for this message, and nothing else refers to it.
                #[allow(unsafe_code)]
                descriptors.push(unsafe { OwnedFd::from_raw_fd(raw) });
            }
        }
    }
    let (length, flags) = (message.bytes, message.flags);
    if length == 0 {
        return Ok(None);
    }
    if flags.contains(MsgFlags::MSG_TRUNC) {
        bail!("zygote command longer than {ZYGOTE_MESSAGE_LEN} bytes");
    }
    let command = ZygoteCommand::decode(&bytes[..length])?;
    Ok(Some((command, descriptors)))
}

fn send_event(control: BorrowedFd<'_>, event: ZygoteEvent) -> Result<()> {
    let bytes = event.encode();
    loop {
        match send(control.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
            Err(Errno::EINTR) => continue,
            Ok(_) => return Ok(()),
            Err(error) => return Err(error).context("failed to send a zygote event"),
        }
    }
}
