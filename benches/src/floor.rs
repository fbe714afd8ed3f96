//! The floor: an in-process wasmtime instantiate-and-call of a plugin, with
//! no process, rlimit or seccomp around it.
//!
//! The engine uses the code-generation settings of `sandbox-worker` (fuel,
//! epoch interruption, 64 MiB memory reservation, no copy-on-write memory
//! images), so both run the same machine code. The floor omits the
//! worker's memory limiter and log budget, and links the host interface
//! once instead of per run, so it is, if anything, a little too fast.

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

wasmtime::component::bindgen!({
    path: "../plugins/wit",
    world: "plugin",
});

use self::sandnotes::plugin::host::{Host, Level};

/// Fuel and epoch budget of one floor run; large enough that no benchmark
/// input runs out.
const FUEL: u64 = 10_000_000_000;

/// Store data of one floor run: the note and nothing else.
struct Note {
    title: String,
    body: String,
}

impl Host for Note {
    fn note_title(&mut self) -> String {
        self.title.clone()
    }

    fn note_body(&mut self) -> String {
        self.body.clone()
    }

    fn log(&mut self, _level: Level, _message: String) {}
}

/// A compiled plugin ready to be instantiated and called in this process.
pub struct InProcessPlugin {
    engine: Engine,
    component: Component,
    linker: Linker<Note>,
}

impl InProcessPlugin {
    /// Compiles `component_bytes` with the worker's engine settings.
    pub fn compile(component_bytes: &[u8]) -> Result<Self> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .memory_reservation(64 << 20)
            .memory_guard_size(64 << 10)
            .memory_reservation_for_growth(0)
            .memory_init_cow(false);
        let engine = Engine::new(&config).map_err(|error| anyhow!("{error:#}"))?;
        let component = Component::new(&engine, component_bytes)
            .map_err(|error| anyhow!("failed to compile the plugin: {error:#}"))?;

        let mut linker = Linker::new(&engine);
        Plugin::add_to_linker::<Note, HasSelf<Note>>(&mut linker, |note| note)
            .map_err(|error| anyhow!("{error:#}"))?;
        Ok(Self {
            engine,
            component,
            linker,
        })
    }

    /// Instantiates the plugin in a fresh store and calls `run` once;
    /// returns the length of the output.
    pub fn run(&self, title: &str, body: &str) -> Result<usize> {
        let note = Note {
            title: title.to_owned(),
            body: body.to_owned(),
        };
        let mut store = Store::new(&self.engine, note);
        store.set_fuel(FUEL).map_err(|error| anyhow!("{error:#}"))?;
        store.set_epoch_deadline(u64::MAX / 2);

        let plugin = Plugin::instantiate(&mut store, &self.component, &self.linker)
            .map_err(|error| anyhow!("failed to instantiate the plugin: {error:#}"))?;
        let output = plugin
            .call_run(&mut store, "null")
            .map_err(|error| anyhow!("the plugin trapped: {error:#}"))?
            .map_err(|message| anyhow!("the plugin returned an error: {message}"))
            .context("in-process run failed")?;
        let (Output::Text(value) | Output::Json(value) | Output::Html(value)) = output;
        Ok(value.len())
    }
}
