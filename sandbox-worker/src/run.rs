//! One plugin run: store, limits, call and output checks.

use std::time::Instant;

use sandbox_protocol::{
    GuestLimits, NoteContent, Output, OutputKind, RunOutcome, RunRequest, RunResponse,
};
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

/// A plugin instantiated before its run, with no note and no fuel.
///
/// A zygote makes one for each plugin it loads, and every child forked
/// from it calls its own copy-on-write copy, so a run skips instantiation
/// and still starts from the same memory as every other run of that
/// plugin. No guest code has run in it: the store had no fuel, so a start
/// function would have trapped on entry and left no instance.
pub(crate) struct Pristine {
    store: Store<HostState>,
    plugin: Plugin,
}

impl Pristine {
    /// Instantiates `prepared` under the default guest limits, without
    /// fuel. `None` when instantiation fails or would run guest code; the
    /// run then instantiates the plugin itself, under its own limits, and
    /// reports why that fails.
    pub(crate) fn instantiate(engine: &Engine, prepared: &PluginPre<HostState>) -> Option<Self> {
        let mut store = Store::new(engine, HostState::before_run());
        store.limiter(|state| &mut state.limiter);
        store.set_fuel(0).ok()?;
        // Nothing advances the epoch in a zygote; the child arms its own
        // alarm and sets the deadline again in `begin_run`.
        store.set_epoch_deadline(1);
        let plugin = prepared.instantiate(&mut store).ok()?;
        Some(Self { store, plugin })
    }

    /// Gives the instance the note, fuel, epoch deadline and limits of its
    /// run. Hands the note back when the instance already uses more
    /// memory or table elements than `limits` allow.
    fn begin_run(
        self,
        note: NoteContent,
        limits: &GuestLimits,
    ) -> Result<(Store<HostState>, Plugin), NoteContent> {
        let Self { mut store, plugin } = self;
        if store.set_fuel(limits.fuel).is_err() {
            return Err(note);
        }
        store.set_epoch_deadline(1);
        store.data_mut().begin_run(note, limits)?;
        Ok((store, plugin))
    }
}

/// Calls the plugin's `run` export once: on `pristine` when there is one
/// and it fits the request's limits, otherwise on a fresh instance of
/// `prepared`. A plugin that failed to link ends as
/// [`RunOutcome::InvalidPlugin`].
pub(crate) fn run(
    engine: &Engine,
    prepared: wasmtime::Result<PluginPre<HostState>>,
    pristine: Option<Pristine>,
    request: RunRequest,
) -> RunResponse {
    let RunRequest {
        guest, args, note, ..
    } = request;

    let started = Instant::now();
    let adopted = match pristine {
        Some(pristine) => pristine.begin_run(note, &guest),
        None => Err(note),
    };
    let (mut store, instance) = match adopted {
        Ok((store, plugin)) => (store, Ok(plugin)),
        Err(note) => {
            let mut store = Store::new(engine, HostState::new(note, &guest));
            store.limiter(|state| &mut state.limiter);
            let instance = prepared.and_then(|prepared| instantiate(&mut store, &prepared, &guest));
            (store, instance)
        }
    };
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
