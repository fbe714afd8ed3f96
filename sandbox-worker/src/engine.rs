//! The wasmtime engine: its fixed configuration, fingerprint and epoch
//! alarm.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use sandbox_protocol::GuestLimits;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// Virtual address space reserved for each linear memory: 64 MiB, the
/// default guest memory limit. A larger memory is moved when it grows
/// past this. Keeping the reservation small lets the worker run under
/// `RLIMIT_AS` (wasmtime's default reserves 4 GiB per memory).
const MEMORY_RESERVATION_BYTES: u64 = 64 << 20;

/// Guard region after each linear memory.
const MEMORY_GUARD_BYTES: u64 = 64 << 10;

/// Builds the engine. Everything but `max_wasm_stack` is fixed, because
/// precompiled code only loads into an engine with the same code-generation
/// settings (see [`fingerprint`]).
pub(crate) fn build(limits: &GuestLimits) -> Result<Engine> {
    let wasm_stack = usize::try_from(limits.wasm_stack_bytes)
        .context("the wasm stack limit does not fit in usize")?;

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(wasm_stack)
        .memory_reservation(MEMORY_RESERVATION_BYTES)
        .memory_guard_size(MEMORY_GUARD_BYTES)
        .memory_reservation_for_growth(0)
        // Copy-on-write memory images need memfd_create and a file write,
        // which RLIMIT_FSIZE=0 and the seccomp filter forbid.
        .memory_init_cow(false);

    Engine::new(&config)
        .map_err(|error| with_context(error, "failed to create the wasmtime engine"))
}

/// Returns the hex SHA-256 of the engine's precompile-compatibility hash,
/// which covers the target, compiler flags, tunables, wasm features and
/// wasmtime version. Two workers with the same fingerprint load each
/// other's precompiled code.
pub(crate) fn fingerprint(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Feeds `Hash` input into SHA-256 for a digest that is stable across runs,
/// unlike the std hashers. Integers are hashed in native byte order, so the
/// digest is also specific to the machine architecture, as precompiled code
/// is.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Only the SHA-256 digest is used; `Hasher` requires this method.
        0
    }
}

/// The engine whose epoch [`on_epoch_alarm`] advances; set once per
/// process, by [`arm_epoch_alarm`].
static ALARM_ENGINE: OnceLock<Engine> = OnceLock::new();

/// SIGALRM handler: advances the epoch of [`ALARM_ENGINE`], so the guest
/// traps at its next epoch check. It only loads one atomic and adds to
/// another, both async-signal-safe.
extern "C" fn on_epoch_alarm(_signal: libc::c_int) {
    if let Some(engine) = ALARM_ENGINE.get() {
        engine.increment_epoch();
    }
}

/// Arms a SIGALRM every `deadline`, starting `deadline` from now, whose
/// handler advances the epoch of `engine`. A store whose epoch deadline is
/// one tick away then traps once `deadline` has passed.
///
/// A timer signal is cheaper than a thread that ticks the epoch: no thread
/// start per run, and nothing to schedule while the guest runs. Call it
/// after the code is loaded, so loading does not count against the
/// deadline, and before the run filter, which forbids `rt_sigaction` and
/// `setitimer`.
pub(crate) fn arm_epoch_alarm(engine: &Engine, deadline: Duration) -> Result<()> {
    if ALARM_ENGINE.set(engine.clone()).is_err() {
        bail!("the epoch alarm was armed twice in one process");
    }
    let action = SigAction::new(
        SigHandler::Handler(on_epoch_alarm),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only touches atomics (see `on_epoch_alarm`), and
    // no other SIGALRM handler is installed in this process.
    #[allow(unsafe_code)]
    unsafe { sigaction(Signal::SIGALRM, &action) }
        .context("failed to install the SIGALRM handler")?;

    // A zero value would disarm the timer, so the shortest deadline is 1 us.
    let deadline = deadline.max(Duration::from_micros(1));
    let period = libc::timeval {
        tv_sec: libc::time_t::try_from(deadline.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: libc::suseconds_t::from(deadline.subsec_micros()),
    };
    // The alarm repeats, so a first signal that comes before the store sets
    // its deadline (on a very slow start) does not leave the guest without
    // one: the next signal, one period later, reaches it.
    let timer = libc::itimerval {
        it_interval: period,
        it_value: period,
    };
    // SAFETY: `timer` is a valid `itimerval`, and a null old value is
    // allowed.
    #[allow(unsafe_code)]
    let result = unsafe { libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut()) };
    if result != 0 {
        return Err(std::io::Error::last_os_error()).context("failed to arm the epoch alarm");
    }
    Ok(())
}

/// Compiles component bytes with Cranelift.
pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    Component::new(engine, bytes)
        .map_err(|error| with_context(error, "failed to compile the component"))
}

/// Loads precompiled code produced by a compile job.
pub(crate) fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    // SAFETY: `Component::deserialize` maps `bytes` as native code, so they
    // must come from `Engine::precompile_component` of a compatible engine
    // and be unaltered. The gateway authenticates precompiled code before
    // it sends it. Wasmtime also checks the header and compatibility hash,
    // and rlimits and seccomp confine the worker in case that trust is
    // misplaced.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, bytes) };
    component.map_err(|error| with_context(error, "failed to load the precompiled code"))
}

/// Converts a wasmtime error, which does not implement `std::error::Error`,
/// into an `anyhow` error with `context` and the full cause chain.
fn with_context(error: wasmtime::Error, context: &str) -> anyhow::Error {
    anyhow::anyhow!("{context}: {error:#}")
}
