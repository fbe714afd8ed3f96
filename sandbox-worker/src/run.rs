//! One plugin run: store, limits, call and output checks.

use std::time::Instant;

use sandbox_protocol::{GuestLimits, Output, OutputKind, RunOutcome, RunRequest, RunResponse};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use crate::host::{self, HostState, Plugin, PluginPre};

/// Links the host interface for `component` and checks its imports, so
/// that each run only instantiates. A zygote does this once per loaded
/// plugin.
pub(crate) fn prepare(
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<PluginPre<HostState>> {
    let mut linker = Linker::new(engine);
    Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    PluginPre::new(linker.instantiate_pre(component)?)
}

/// Instantiates the plugin of `prepared` and calls its `run` export once.
/// A plugin that failed to link ends as [`RunOutcome::InvalidPlugin`].
pub(crate) fn run(
    engine: &Engine,
    prepared: wasmtime::Result<PluginPre<HostState>>,
    request: RunRequest,
) -> RunResponse {
    let RunRequest {
        guest, args, note, ..
    } = request;

    let mut store = Store::new(engine, HostState::new(note, &guest));
    store.limiter(|state| &mut state.limiter);

    let started = Instant::now();
    let instance = prepared.and_then(|prepared| instantiate(&mut store, &prepared, &guest));
    let outcome = match instance {
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

/// Sets the fuel and epoch deadline and instantiates the plugin.
fn instantiate(
    store: &mut Store<HostState>,
    prepared: &PluginPre<HostState>,
    limits: &GuestLimits,
) -> wasmtime::Result<Plugin> {
    store.set_fuel(limits.fuel)?;
    // The epoch alarm, armed for `epoch_deadline_ms`, advances the epoch
    // once; see `engine::arm_epoch_alarm`.
    store.set_epoch_deadline(1);
    prepared.instantiate(store)
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
