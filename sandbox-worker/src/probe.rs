//! Test hook that attempts an operation the confinement forbids, so tests
//! can check that Landlock denies it or the seccomp filter kills the
//! worker.

use std::num::NonZeroUsize;

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
    /// `clone` and `execve` of `/bin/true`.
    Spawn,
    /// `mmap` of an executable anonymous page.
    ExecutableMapping,
}

/// Attempts `operation`. Returns only if the operation was not stopped;
/// the worker then exits with status 3 so the test fails.
pub(crate) fn attempt(operation: ForbiddenSyscall) -> ! {
    let result = match operation {
        ForbiddenSyscall::OpenUnderLandlock => attempt_open_under_landlock(),
        ForbiddenSyscall::Open => std::fs::File::open("/dev/null").map(drop),
        ForbiddenSyscall::Socket => std::net::UdpSocket::bind("127.0.0.1:0").map(drop),
        ForbiddenSyscall::Spawn => std::process::Command::new("/bin/true").status().map(drop),
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
