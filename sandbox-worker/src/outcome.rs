//! Mapping of wasmtime errors to run outcomes.

use sandbox_protocol::{MAX_MESSAGE_BYTES, RunOutcome};
use wasmtime::Trap;

use crate::host::LogLimitExceeded;
use crate::limiter::{MemoryLimitExceeded, TableLimitExceeded};

/// Classifies an error from instantiating or calling the plugin.
///
/// Limits raised by the host are typed errors and are recognized first;
/// then wasmtime's trap codes for fuel, epoch deadline and stack overflow.
/// Any other trap becomes [`RunOutcome::Trap`] with wasmtime's message,
/// which names the trap and never contains guest memory.
pub(crate) fn classify(error: &wasmtime::Error) -> RunOutcome {
    for cause in error.chain() {
        if let Some(limit) = cause.downcast_ref::<MemoryLimitExceeded>() {
            return RunOutcome::MemoryLimitExceeded {
                limit_bytes: limit.limit_bytes,
            };
        }
        if let Some(limit) = cause.downcast_ref::<TableLimitExceeded>() {
            return RunOutcome::TableLimitExceeded {
                limit_elements: limit.limit_elements,
            };
        }
        if let Some(limit) = cause.downcast_ref::<LogLimitExceeded>() {
            return RunOutcome::LogLimitExceeded {
                limit_bytes: limit.limit_bytes,
            };
        }
        if let Some(trap) = cause.downcast_ref::<Trap>() {
            return classify_trap(*trap);
        }
    }
    RunOutcome::Trap {
        message: bounded_message(error.to_string()),
    }
}

/// Classifies an error from instantiation: a limit or trap hit while the
/// plugin's start code ran is classified as in [`classify`], anything
/// else (such as an import the host does not provide) makes the plugin
/// invalid.
pub(crate) fn classify_instantiation(error: &wasmtime::Error) -> RunOutcome {
    let hit_limit_or_trap = error.chain().any(|cause| {
        cause.is::<MemoryLimitExceeded>()
            || cause.is::<TableLimitExceeded>()
            || cause.is::<LogLimitExceeded>()
            || cause.is::<Trap>()
    });
    if hit_limit_or_trap {
        return classify(error);
    }
    RunOutcome::InvalidPlugin {
        message: bounded_message(format!("failed to instantiate the plugin: {error:#}")),
    }
}

fn classify_trap(trap: Trap) -> RunOutcome {
    match trap {
        Trap::OutOfFuel => RunOutcome::FuelExhausted,
        Trap::Interrupt => RunOutcome::EpochDeadline,
        Trap::StackOverflow => RunOutcome::StackOverflow,
        other => RunOutcome::Trap {
            message: other.to_string(),
        },
    }
}

/// Cuts `message` to [`MAX_MESSAGE_BYTES`] at a character boundary, so an
/// error message cannot push a response past the size the gateway reads.
pub(crate) fn bounded_message(mut message: String) -> String {
    crate::host::truncate_at_char_boundary(&mut message, MAX_MESSAGE_BYTES);
    message
}
