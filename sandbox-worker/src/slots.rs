//! Plugins that a zygote keeps deserialized, so that its children skip
//! building an engine and loading code.
//!
//! The gateway decides what goes in which slot and sends only precompiled
//! code that it has authenticated. A slot never contains note data. A child
//! keeps the one plugin it runs and drops the others right after the fork,
//! which unmaps their code from its address space.

use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;

use anyhow::{Context, Result, bail};
use sandbox_protocol::{GuestLimits, LOAD_HEADER_LEN};
use wasmtime::Engine;
use zeroize::Zeroizing;

use crate::engine;
use crate::host::{HostState, PluginPre};

/// Number of slots a zygote accepts; higher slot numbers are rejected.
pub(crate) const MAX_SLOTS: usize = sandbox_protocol::MAX_PLUGIN_SLOTS;

/// A deserialized plugin, linked and ready to instantiate, and the engine
/// it belongs to.
#[derive(Clone)]
pub(crate) struct LoadedPlugin {
    pub(crate) engine: Engine,
    pub(crate) prepared: PluginPre<HostState>,
    /// `max_wasm_stack` of `engine`; a request with another stack limit
    /// cannot use this plugin.
    pub(crate) wasm_stack_bytes: u64,
}

/// The zygote's engine and its slots.
#[derive(Default)]
pub(crate) struct PluginSlots {
    /// The engine and its stack limit, built on the first load.
    engine: Option<(u64, Engine)>,
    slots: Vec<Option<PluginPre<HostState>>>,
}

impl PluginSlots {
    /// Reads a load payload (see `sandbox_protocol::encode_load`) of at most
    /// `max_bytes` from `memfd` and deserializes it into `slot`. The slot is
    /// empty afterwards if this fails.
    ///
    /// A stack limit other than the current engine's replaces the engine
    /// and empties every slot, because code belongs to one engine.
    pub(crate) fn load(&mut self, slot: u16, memfd: OwnedFd, max_bytes: usize) -> Result<()> {
        let slot = usize::from(slot);
        if slot >= MAX_SLOTS {
            bail!("slot {slot} is out of range; a zygote has {MAX_SLOTS} slots");
        }
        if self.slots.len() <= slot {
            self.slots.resize(slot + 1, None);
        }
        self.slots[slot] = None;

        let payload = read_bounded(memfd, max_bytes)?;
        let (wasm_stack_bytes, code) = sandbox_protocol::decode_load(&payload)?;
        let engine = self.engine_for(wasm_stack_bytes)?;
        let component = engine::deserialize(&engine, code)?;
        let prepared = crate::run::prepare(&engine, &component)
            .map_err(|error| anyhow::anyhow!("failed to link the plugin: {error:#}"))?;
        self.slots[slot] = Some(prepared);
        Ok(())
    }

    /// Takes the plugin in `slot` for a forked child and drops every other
    /// slot, so the child's memory maps no other plugin's code. `None`
    /// when the slot is empty.
    pub(crate) fn take_for_child(&mut self, slot: u16) -> Option<LoadedPlugin> {
        let prepared = self.slots.get_mut(usize::from(slot)).and_then(Option::take);
        self.slots.clear();
        let (wasm_stack_bytes, engine) = self.engine.take()?;
        Some(LoadedPlugin {
            engine,
            prepared: prepared?,
            wasm_stack_bytes,
        })
    }

    /// Drops every slot and the engine, for a child spawned without a slot.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.engine = None;
    }

    fn engine_for(&mut self, wasm_stack_bytes: u64) -> Result<Engine> {
        if let Some((stack, engine)) = &self.engine
            && *stack == wasm_stack_bytes
        {
            return Ok(engine.clone());
        }
        self.slots.iter_mut().for_each(|slot| *slot = None);
        self.engine = None;
        let limits = GuestLimits {
            wasm_stack_bytes,
            ..GuestLimits::default()
        };
        let engine = engine::build(&limits)?;
        self.engine = Some((wasm_stack_bytes, engine.clone()));
        Ok(engine)
    }
}

/// Reads the whole memfd from offset 0, rejecting more than `max_bytes`.
/// The buffer is zeroized when dropped, so the zygote's freed heap, which
/// every later child inherits, keeps no copy of a plugin's code.
fn read_bounded(memfd: OwnedFd, max_bytes: usize) -> Result<Zeroizing<Vec<u8>>> {
    let file = std::fs::File::from(memfd);
    let length = file
        .metadata()
        .context("failed to read the size of the load payload")?
        .len();
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > max_bytes {
        bail!("the load payload has {length} bytes, more than the limit of {max_bytes}");
    }
    if length < LOAD_HEADER_LEN {
        bail!("the load payload has {length} bytes, shorter than its header");
    }
    // Positioned reads: the gateway's writes left the shared file offset
    // at the end.
    let mut payload = Zeroizing::new(vec![0; length]);
    file.read_exact_at(&mut payload, 0)
        .context("failed to read the load payload")?;
    Ok(payload)
}
