//! Test hook that attempts an operation the confinement forbids, so tests
//! can check that Landlock denies it or the seccomp filter kills the
//! worker.

use std::num::NonZeroUsize;

use nix::unistd::Pid;

/// A forbidden operation to attempt.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ForbiddenSyscall {
    /// `openat` of `/dev/null` under Landlock alone, before the rlimits and
    /// seccomp filters.
    OpenUnderLandlock,
    /// `openat` of `/dev/null`.
    Open,
    /// `socket` for a UDP socket on 127.0.0.1.
    Socket,
    /// `connect` of the worker's stdout to 127.0.0.1:9. Without the filter
    /// the kernel answers `ENOTSOCK`, so only a seccomp kill passes.
    Connect,
    /// `clone` and `execve` of `/bin/true`, as `std::process::Command`
    /// does it.
    Spawn,
    /// `fork`, which the C library implements with `clone`.
    Fork,
    /// `execve` of `/bin/true` in place of the worker.
    Exec,
    /// `ptrace(PTRACE_ATTACH)` of the parent process, the gateway.
    PtraceParent,
    /// `mmap` of an executable anonymous page.
    ExecutableMapping,
}

/// Attempts `operation`; `parent` is the worker's parent process. Returns
/// only if the operation was not stopped; the worker then exits with
/// status 3 so the test fails.
pub(crate) fn attempt(operation: ForbiddenSyscall, parent: Pid) -> ! {
    let result = match operation {
        ForbiddenSyscall::OpenUnderLandlock => attempt_open_under_landlock(),
        ForbiddenSyscall::Open => std::fs::File::open("/dev/null").map(drop),
        ForbiddenSyscall::Socket => std::net::UdpSocket::bind("127.0.0.1:0").map(drop),
        ForbiddenSyscall::Connect => connect_stdout().map_err(std::io::Error::from),
        ForbiddenSyscall::Spawn => std::process::Command::new("/bin/true").status().map(drop),
        ForbiddenSyscall::Fork => fork().map_err(std::io::Error::from),
        ForbiddenSyscall::Exec => exec_true().map_err(std::io::Error::from),
        ForbiddenSyscall::PtraceParent => attach_to(parent),
        ForbiddenSyscall::ExecutableMapping => map_executable_page().map_err(std::io::Error::from),
    };
    eprintln!("sandbox-worker: forbidden operation {operation:?} was not stopped: {result:?}");
    std::process::exit(3);
}

/// Opens `/dev/null` and exits: status 4 with the error on stderr when the
/// open was denied, status 3 when it succeeded.
pub(crate) fn attempt_open_under_landlock() -> ! {
    match std::fs::File::open("/dev/null") {
        Ok(_) => {
            eprintln!("sandbox-worker: opening /dev/null under Landlock was not denied");
            std::process::exit(3);
        }
        Err(error) => {
            eprintln!("sandbox-worker: opening /dev/null was denied: {error}");
            std::process::exit(4);
        }
    }
}

#[allow(unsafe_code)]
fn map_executable_page() -> nix::Result<()> {
    use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

    let length = NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN);
    // SAFETY: a fresh private anonymous mapping aliases no Rust object, and
    // the page is never read, written or executed.
    unsafe {
        mmap_anonymous(
            None,
            length,
            ProtFlags::PROT_READ | ProtFlags::PROT_EXEC,
            MapFlags::MAP_PRIVATE,
        )
    }
    .map(drop)
}

#[allow(unsafe_code)]
fn fork() -> nix::Result<()> {
    // SAFETY: the child, if one is ever created, exits at once without
    // taking a lock or touching memory shared with the parent.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => std::process::exit(0),
        nix::unistd::ForkResult::Parent { .. } => Ok(()),
    }
}

fn connect_stdout() -> nix::Result<()> {
    use nix::sys::socket::{SockaddrIn, connect};

    connect(nix::libc::STDOUT_FILENO, &SockaddrIn::new(127, 0, 0, 1, 9))
}

fn exec_true() -> nix::Result<()> {
    let program = c"/bin/true";
    nix::unistd::execv(program, &[program]).map(drop)
}

#[allow(unsafe_code)]
fn attach_to(process: Pid) -> std::io::Result<()> {
    // SAFETY: `PTRACE_ATTACH` takes a process id and ignores the address
    // and data arguments; no memory of this process is passed.
    let result = unsafe {
        nix::libc::ptrace(
            nix::libc::PTRACE_ATTACH,
            process.as_raw(),
            std::ptr::null_mut::<nix::libc::c_void>(),
            std::ptr::null_mut::<nix::libc::c_void>(),
        )
    };
    if result == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
