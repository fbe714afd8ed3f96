//! Protection of the gateway process's own memory, which contains the master
//! key, the keys derived from it and decrypted notes.
//!
//! [`protect_process`] makes the process non-dumpable (`PR_SET_DUMPABLE`
//! 0) and sets `RLIMIT_CORE` to 0. A non-dumpable process writes no core
//! file, and only a process with `CAP_SYS_PTRACE` may attach to it or read
//! its `/proc/PID/mem`, `environ` and descriptors. Key bytes themselves
//! live in zeroizing buffers (see [`crate::crypto::keys`]).
//!
//! Non-goals: this does not stop root with `CAP_SYS_PTRACE`, and it does
//! not keep keys out of swap (`mlock` is not used).

use nix::sys::resource::{Resource, setrlimit};

/// The process could not be protected.
#[derive(Debug, thiserror::Error)]
pub enum HardeningError {
    #[error("failed to make the gateway process non-dumpable: {0}")]
    Dumpable(#[source] nix::Error),
    #[error("failed to set the core-dump size limit to 0: {0}")]
    CoreLimit(#[source] nix::Error),
}

/// Makes the process non-dumpable and forbids core dumps. Call it before
/// the master key is loaded.
///
/// Workers started after this are not affected by the dumpable flag, which
/// `execve` resets, but inherit the core-dump limit of 0.
pub fn protect_process() -> Result<(), HardeningError> {
    nix::sys::prctl::set_dumpable(false).map_err(HardeningError::Dumpable)?;
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(HardeningError::CoreLimit)?;
    Ok(())
}
