//! Limits carried by a request, each with its default.

use serde::{Deserialize, Serialize};

const MIB: u64 = 1 << 20;

/// Default maximum request payload the worker reads: 128 MiB, room for the
/// precompiled code of a 10 MiB plugin upload plus a 1 MiB note.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 128 << 20;

/// Limits on the guest inside wasmtime for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestLimits {
    /// Fuel budget: wasmtime charges about one unit per wasm instruction, so
    /// this bounds CPU time deterministically. Default 1,000,000,000, about
    /// 0.15 s of guest CPU on a 2-core x86-64 machine measured with an
    /// empty loop (an estimate: real code runs fewer instructions per
    /// second).
    pub fuel: u64,
    /// Epoch deadline in milliseconds of wall-clock time inside the worker,
    /// a backstop for time spent outside fuel accounting. Default 1000 ms.
    pub epoch_deadline_ms: u64,
    /// Maximum total linear memory of the instance in bytes. Default 64 MiB.
    pub memory_bytes: u64,
    /// Maximum elements of any table. Default 10,000.
    pub table_elements: u64,
    /// Maximum native stack that wasm code may use, in bytes. Default
    /// 512 KiB.
    pub wasm_stack_bytes: u64,
    /// Maximum size of the output value or of a plugin error message, in
    /// bytes. Default 1 MiB.
    pub output_bytes: u64,
    /// Log budget in bytes: each line costs its message length plus one, so
    /// empty lines are bounded too. Default 64 KiB.
    pub log_bytes: u64,
    /// Maximum bytes kept of one log line; longer lines are truncated at a
    /// character boundary. Default 1 KiB.
    pub log_line_bytes: u64,
}

/// Room in a response for everything but the output and the log lines:
/// resource figures, framing and error messages, which the worker cuts to
/// [`MAX_MESSAGE_BYTES`].
const RESPONSE_OVERHEAD_BYTES: u64 = 64 << 10;

/// Maximum length of a trap or invalid-plugin message in a response; the
/// worker truncates longer ones.
pub const MAX_MESSAGE_BYTES: usize = 16 << 10;

impl GuestLimits {
    /// Maximum response payload a run under these limits can produce: the
    /// output, the log lines (an encoded line takes at most three times its
    /// budget cost, for an empty line) and a fixed overhead.
    pub fn max_response_bytes(&self) -> u64 {
        self.output_bytes
            .saturating_add(self.log_bytes.saturating_mul(3))
            .saturating_add(RESPONSE_OVERHEAD_BYTES)
    }
}

impl Default for GuestLimits {
    fn default() -> Self {
        Self {
            fuel: 1_000_000_000,
            epoch_deadline_ms: 1_000,
            memory_bytes: 64 * MIB,
            table_elements: 10_000,
            wasm_stack_bytes: 512 << 10,
            output_bytes: MIB,
            log_bytes: 64 << 10,
            log_line_bytes: 1 << 10,
        }
    }
}

/// Resource limits the worker sets on its own process with `setrlimit`
/// before it reads untrusted code. Open files, processes, file size and
/// core dumps are not configurable: the worker sets them to what it needs
/// (its three pipes, no new processes, no files written, no core dump).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLimits {
    /// `RLIMIT_CPU` in seconds of CPU time. Default 2 s for a run.
    pub cpu_seconds: u64,
    /// `RLIMIT_AS` in bytes of address space. Default 1 GiB, which fits
    /// wasmtime with a 64 MiB memory reservation and the worker's heap.
    pub address_space_bytes: u64,
}

impl ProcessLimits {
    /// Limits for compiling a component: compiling a 10 MiB upload with
    /// Cranelift needs more CPU time and memory than running a plugin.
    /// 20 s of CPU and 2 GiB of address space.
    pub fn for_compile() -> Self {
        Self {
            cpu_seconds: 20,
            address_space_bytes: 2048 * MIB,
        }
    }
}

impl Default for ProcessLimits {
    fn default() -> Self {
        Self {
            cpu_seconds: 2,
            address_space_bytes: 1024 * MIB,
        }
    }
}
