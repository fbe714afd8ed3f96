//! One plugin run: store, limits, call and output checks.

use std::time::Instant;

use sandbox_protocol::{GuestLimits, Output, OutputKind, RunOutcome, RunRequest, RunResponse};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use crate::engine::EPOCH_TICK;
use crate::host::{self, HostState, Plugin};

/// Instantiates `component` and calls its `run` export once.
pub(crate) fn run(engine: &Engine, component: &Component, request: RunRequest) -> RunResponse {
    let RunRequest {
        guest, args, note, ..
    } = request;

    let mut store = Store::new(engine, HostState::new(note, &guest));
    store.limiter(|state| &mut state.limiter);

    let started = Instant::now();
    let outcome = match instantiate(&mut store, component, &guest) {
        Ok(plugin) => match plugin.call_run(&mut store, &args) {
            Ok(Ok(output)) => check_output(output, &guest),
            Ok(Err(message)) => check_plugin_error(message, &guest),
            Err(error) => crate::outcome::classify(&error),
        },
        Err(error) => crate::outcome::classify_instantiation(&error),
    };
    let duration = started.elapsed();
    let fuel_left = store.get_fuel().unwrap_or(0);

    RunResponse {
        outcome,
        logs: store.data_mut().take_logs(),
        fuel_used: guest.fuel.saturating_sub(fuel_left),
        memory_peak_bytes: store.data().limiter.memory_peak_bytes(),
        duration_us: u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
    }
}

/// The response for a plugin that failed to compile or load.
pub(crate) fn invalid_plugin(error: &anyhow::Error) -> RunResponse {
    RunResponse {
        outcome: RunOutcome::InvalidPlugin {
            message: crate::outcome::bounded_message(format!("{error:#}")),
        },
        logs: Vec::new(),
        fuel_used: 0,
        memory_peak_bytes: 0,
        duration_us: 0,
    }
}

/// Sets the fuel and epoch deadline, links the host interface and
/// instantiates the plugin.
fn instantiate(
    store: &mut Store<HostState>,
    component: &Component,
    limits: &GuestLimits,
) -> wasmtime::Result<Plugin> {
    store.set_fuel(limits.fuel)?;
    let tick_ms = EPOCH_TICK.as_millis() as u64;
    let ticks = limits.epoch_deadline_ms.div_ceil(tick_ms).max(1);
    store.set_epoch_deadline(ticks);

    let mut linker = Linker::new(store.engine());
    Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Plugin::instantiate(store, component, &linker)
}

fn check_output(output: host::Output, limits: &GuestLimits) -> RunOutcome {
    let (kind, value) = match output {
        host::Output::Text(value) => (OutputKind::Text, value),
        host::Output::Json(value) => (OutputKind::Json, value),
        host::Output::Html(value) => (OutputKind::Html, value),
    };
    if value.len() as u64 > limits.output_bytes {
        return RunOutcome::OutputTooLarge {
            size_bytes: value.len() as u64,
            limit_bytes: limits.output_bytes,
        };
    }
    RunOutcome::Ok(Output { kind, value })
}

fn check_plugin_error(message: String, limits: &GuestLimits) -> RunOutcome {
    if message.len() as u64 > limits.output_bytes {
        return RunOutcome::OutputTooLarge {
            size_bytes: message.len() as u64,
            limit_bytes: limits.output_bytes,
        };
    }
    RunOutcome::PluginError(message)
}
