//! The wasmtime engine: its fixed configuration, fingerprint and epoch
//! ticker.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use anyhow::{Context, Result};
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

/// Interval between epoch increments; the epoch deadline is rounded up to
/// a whole number of ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

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

/// Starts the thread that advances the engine's epoch every [`EPOCH_TICK`]
/// and waits until it runs. It must be running before the seccomp filter
/// is installed, because the filter forbids creating threads and the
/// system calls a new thread makes while it starts.
pub(crate) fn start_epoch_ticker(engine: &Engine) -> Result<()> {
    let engine = engine.clone();
    let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("epoch-ticker".to_owned())
        .spawn(move || {
            // The receiver waits for this message; if it is gone the main
            // thread failed and the process is exiting anyway.
            let _ = started_tx.send(());
            loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .context("failed to start the epoch ticker thread")?;

    started_rx
        .recv()
        .context("the epoch ticker thread stopped before it started ticking")
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
