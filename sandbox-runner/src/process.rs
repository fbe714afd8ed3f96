//! Spawning a worker and exchanging one request and response with it.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::libc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::error::RunnerError;

/// End state of a worker process.
pub(crate) enum Finished {
    /// The worker exited on its own.
    Exited {
        status: ExitStatus,
        stdout: BoundedOutput,
        stderr: BoundedOutput,
    },
    /// The worker wrote a whole response frame and closed its output. Its
    /// exit status was not awaited, because nothing it does after that can
    /// change the result.
    Responded { stdout: BoundedOutput },
    /// The deadline passed; the worker was killed with SIGKILL and reaped.
    DeadlineExceeded,
}

/// The first bytes of a stream, up to a maximum.
pub(crate) struct BoundedOutput {
    /// Kept bytes, zeroized on drop because stdout carries the output and
    /// log lines, which may quote the note.
    pub(crate) bytes: zeroize::Zeroizing<Vec<u8>>,
    /// Whether the stream had more bytes than the maximum.
    pub(crate) overflowed: bool,
}

impl BoundedOutput {
    /// The kept bytes as text, for error reports.
    pub(crate) fn lossy_text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).trim_end().to_owned()
    }
}

/// Spawns the worker with an empty environment, three pipes and no other
/// descriptor.
pub(crate) fn spawn(worker: &Path, args: &[OsString]) -> Result<Child, RunnerError> {
    let mut command = Command::new(worker);
    command
        .args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    close_inherited_descriptors_on_exec(&mut command);

    command.spawn().map_err(|source| RunnerError::Spawn {
        path: worker.to_owned(),
        source,
    })
}

/// Marks every descriptor above 2 close-on-exec in the child just before
/// `exec`, so a descriptor that any library in this process opened without
/// `O_CLOEXEC` does not leak into the worker.
///
/// NOTE: needs `close_range` with `CLOSE_RANGE_CLOEXEC` (Linux 5.11 or
/// later); on older kernels the spawn fails rather than leak descriptors.
#[allow(unsafe_code)]
pub(crate) fn close_inherited_descriptors_on_exec(command: &mut Command) {
    // SAFETY: the hook runs in the forked child between fork and exec,
    // where only async-signal-safe calls are allowed. It makes one raw
    // system call, allocates nothing and takes no lock. Marking (instead of
    // closing) keeps the standard library's own exec-error pipe usable
    // until exec.
    unsafe {
        command.pre_exec(|| {
            // `close_range` takes integers only and touches no memory of
            // this process.
            let result = libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            if result == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}

/// Writes `input` to the worker's stdin, reads its stdout and stderr up to
/// the given maximums, and waits for it to exit, all within `deadline`.
///
/// Bytes past a maximum are read and discarded, so a flooding worker cannot
/// block on a full pipe or make the runner allocate more. A write error is
/// ignored: the worker's exit status explains it.
pub(crate) async fn exchange(
    mut child: Child,
    input: &[u8],
    deadline: Duration,
    max_stdout: usize,
    max_stderr: usize,
) -> Result<Finished, RunnerError> {
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(RunnerError::Io(io::Error::other(
            "the worker's pipes were not set up",
        )));
    };

    let write = async move {
        let result = stdin.write_all(input).await;
        drop(stdin);
        if let Err(error) = result {
            tracing::debug!(%error, "failed to write the request to the sandbox worker");
        }
    };
    let io = async {
        let ((), stdout, stderr) = tokio::join!(
            write,
            read_bounded(stdout, max_stdout),
            read_bounded(stderr, max_stderr),
        );
        let (stdout, stderr) = (stdout?, stderr?);
        // As in zygote mode, a worker that closed its output after a whole
        // response is done. The kernel's teardown of its address space and
        // namespaces is not waited for. Dropping `child` kills it if it is
        // still exiting, and Tokio reaps it in the background.
        if !stdout.overflowed && sandbox_protocol::is_whole_frame(&stdout.bytes, max_stdout) {
            return Ok(Finished::Responded { stdout });
        }
        let status = child.wait().await?;
        Ok::<_, io::Error>(Finished::Exited {
            status,
            stdout,
            stderr,
        })
    };

    match tokio::time::timeout(deadline, io).await {
        Ok(finished) => Ok(finished?),
        Err(_elapsed) => {
            child.start_kill()?;
            child.wait().await?;
            Ok(Finished::DeadlineExceeded)
        }
    }
}

pub(crate) async fn read_bounded<R: AsyncRead + Unpin>(
    mut reader: R,
    max_bytes: usize,
) -> io::Result<BoundedOutput> {
    // Capacity is reserved once so the buffer never reallocates and leaves
    // unzeroized copies behind; untouched capacity costs no memory.
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(max_bytes));
    let mut overflowed = false;
    let mut chunk = zeroize::Zeroizing::new(vec![0u8; 8192]);

    loop {
        let count = reader.read(&mut chunk[..]).await?;
        if count == 0 {
            break;
        }
        let room = max_bytes - bytes.len();
        if count > room {
            overflowed = true;
        }
        bytes.extend_from_slice(&chunk[..count.min(room)]);
    }
    Ok(BoundedOutput { bytes, overflowed })
}
