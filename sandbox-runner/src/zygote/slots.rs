//! The runner's record of which plugin each slot of one zygote contains.
//!
//! The zygote handles commands in order, so a slot marked ready here
//! (after its `Loaded` event) still contains that plugin when a later spawn
//! names it. A slot is only reloaded while no job has a [`SlotPin`] on
//! it. A pin lasts until the job's spawn command is sent: a load sent
//! after it reaches the zygote after the fork, and the forked child keeps
//! its own copy of the plugin.

use std::sync::{Arc, Mutex};

/// Identifies precompiled code in the zygote's slots, for example the
/// SHA-256 digest of the plugin's component. Equal keys must mean equal
/// code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeKey(pub [u8; 32]);

impl std::fmt::Display for CodeKey {
    /// Formats the key as 64 lowercase hex digits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Result of a slot reservation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// The code is loaded already.
    Ready,
    /// Another job is loading the code, or every slot is pinned.
    Busy,
    /// This slot was reserved for the code; load it, then call
    /// [`SlotTable::finish_load`].
    Load(u16),
}

#[derive(Debug, Default, Clone)]
struct Slot {
    key: Option<CodeKey>,
    ready: bool,
    pins: usize,
    last_used: u64,
}

/// Slot records of one zygote process.
#[derive(Debug)]
pub(crate) struct SlotTable {
    slots: Vec<Slot>,
    /// Wasm stack limit of the zygote's engine, set by the first load. A
    /// load with another limit makes the zygote empty every slot.
    engine_stack: Option<u64>,
    /// Increases on every use, for least-recently-used eviction.
    clock: u64,
}

impl SlotTable {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: vec![Slot::default(); capacity.min(sandbox_protocol::MAX_PLUGIN_SLOTS)],
            engine_stack: None,
            clock: 0,
        }
    }

    /// Pins the ready slot that contains `key` for an engine with
    /// `wasm_stack_bytes`, if any.
    pub(crate) fn pin(&mut self, key: CodeKey, wasm_stack_bytes: u64) -> Option<u16> {
        if self.engine_stack != Some(wasm_stack_bytes) {
            return None;
        }
        self.clock += 1;
        let clock = self.clock;
        let (index, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, slot)| slot.ready && slot.key == Some(key))?;
        slot.pins += 1;
        slot.last_used = clock;
        u16::try_from(index).ok()
    }

    /// Whether a ready slot contains `key` for an engine with
    /// `wasm_stack_bytes`.
    pub(crate) fn contains(&self, key: CodeKey, wasm_stack_bytes: u64) -> bool {
        self.engine_stack == Some(wasm_stack_bytes)
            && self
                .slots
                .iter()
                .any(|slot| slot.ready && slot.key == Some(key))
    }

    pub(crate) fn unpin(&mut self, slot: u16) {
        if let Some(slot) = self.slots.get_mut(usize::from(slot)) {
            slot.pins = slot.pins.saturating_sub(1);
        }
    }

    /// Reserves a slot to load `key` into: an empty one, or else the least
    /// recently used one that no run has pinned.
    pub(crate) fn reserve(&mut self, key: CodeKey, wasm_stack_bytes: u64) -> Reservation {
        if self.engine_stack != Some(wasm_stack_bytes) {
            // The zygote rebuilds its engine and drops every plugin.
            if self
                .slots
                .iter()
                .any(|slot| slot.pins > 0 || slot.key.is_some() && !slot.ready)
            {
                return Reservation::Busy;
            }
            self.slots
                .iter_mut()
                .for_each(|slot| *slot = Slot::default());
            self.engine_stack = Some(wasm_stack_bytes);
        }
        if let Some(slot) = self.slots.iter().find(|slot| slot.key == Some(key)) {
            return if slot.ready {
                Reservation::Ready
            } else {
                Reservation::Busy
            };
        }

        let free = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.key.is_none() || slot.ready && slot.pins == 0)
            .min_by_key(|(_, slot)| (slot.key.is_some(), slot.last_used))
            .map(|(index, _)| index);
        let Some(index) = free else {
            return Reservation::Busy;
        };
        self.slots[index] = Slot {
            key: Some(key),
            ready: false,
            pins: 0,
            last_used: 0,
        };
        u16::try_from(index).map_or(Reservation::Busy, Reservation::Load)
    }

    /// Records the end of a load into `slot`: ready, or empty when the
    /// zygote reported a failure.
    pub(crate) fn finish_load(&mut self, slot: u16, loaded: bool) {
        if let Some(slot) = self.slots.get_mut(usize::from(slot)) {
            if loaded {
                slot.ready = true;
            } else {
                *slot = Slot::default();
            }
        }
    }
}

/// A slot reserved for a load. Dropped without [`Self::finish`], for
/// example when the caller's future is cancelled mid-load, it marks the slot
/// empty, so the slot does not stay reserved for ever. A `Load` command
/// still in flight then only fills a slot the table calls empty, which a
/// later load overwrites, because the zygote handles commands in order.
pub(crate) struct LoadReservation {
    pub(crate) slot: u16,
    table: Arc<Mutex<SlotTable>>,
    finished: bool,
}

impl LoadReservation {
    pub(crate) fn new(table: &Arc<Mutex<SlotTable>>, slot: u16) -> Self {
        Self {
            slot,
            table: Arc::clone(table),
            finished: false,
        }
    }

    /// Records the end of the load, as [`SlotTable::finish_load`].
    pub(crate) fn finish(mut self, loaded: bool) {
        self.finished = true;
        lock(&self.table).finish_load(self.slot, loaded);
    }
}

impl Drop for LoadReservation {
    fn drop(&mut self) {
        if !self.finished {
            lock(&self.table).finish_load(self.slot, false);
        }
    }
}

/// A job's hold on a slot until its spawn command is sent; released when
/// dropped.
pub(crate) struct SlotPin {
    pub(crate) slot: u16,
    table: Arc<Mutex<SlotTable>>,
}

impl SlotPin {
    /// Pins the slot of `key` in `table`, if one is ready.
    pub(crate) fn new(
        table: &Arc<Mutex<SlotTable>>,
        key: CodeKey,
        wasm_stack_bytes: u64,
    ) -> Option<Self> {
        let slot = lock(table).pin(key, wasm_stack_bytes)?;
        Some(Self {
            slot,
            table: Arc::clone(table),
        })
    }
}

impl Drop for SlotPin {
    fn drop(&mut self) {
        lock(&self.table).unpin(self.slot);
    }
}

/// Locks the table; a panic while it was held leaves consistent records,
/// because every update is a single assignment.
pub(crate) fn lock(table: &Mutex<SlotTable>) -> std::sync::MutexGuard<'_, SlotTable> {
    table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: u64 = 512 << 10;

    fn key(byte: u8) -> CodeKey {
        CodeKey([byte; 32])
    }

    fn loaded(table: &mut SlotTable, byte: u8) -> u16 {
        let Reservation::Load(slot) = table.reserve(key(byte), STACK) else {
            panic!("expected a slot to load {byte} into");
        };
        table.finish_load(slot, true);
        slot
    }

    #[test]
    fn loaded_code_is_pinned_by_key() {
        let mut table = SlotTable::new(2);
        assert_eq!(table.pin(key(1), STACK), None);
        let slot = loaded(&mut table, 1);
        assert_eq!(table.pin(key(1), STACK), Some(slot));
        assert_eq!(table.reserve(key(1), STACK), Reservation::Ready);
    }

    #[test]
    fn slot_is_busy_while_loading() {
        let mut table = SlotTable::new(2);
        let Reservation::Load(slot) = table.reserve(key(1), STACK) else {
            panic!("expected a slot");
        };
        assert_eq!(table.reserve(key(1), STACK), Reservation::Busy);
        assert_eq!(table.pin(key(1), STACK), None);
        table.finish_load(slot, false);
        assert!(matches!(table.reserve(key(1), STACK), Reservation::Load(_)));
    }

    #[test]
    fn least_recently_used_unpinned_slot_is_evicted() {
        let mut table = SlotTable::new(2);
        let first = loaded(&mut table, 1);
        let second = loaded(&mut table, 2);
        // Use the first slot again, so the second is the older one.
        assert_eq!(table.pin(key(1), STACK), Some(first));
        table.unpin(first);
        assert_eq!(table.reserve(key(3), STACK), Reservation::Load(second));
        assert_eq!(table.pin(key(2), STACK), None);
    }

    #[test]
    fn pinned_slots_are_never_evicted() {
        let mut table = SlotTable::new(1);
        let slot = loaded(&mut table, 1);
        assert_eq!(table.pin(key(1), STACK), Some(slot));
        assert_eq!(table.reserve(key(2), STACK), Reservation::Busy);
        table.unpin(slot);
        assert_eq!(table.reserve(key(2), STACK), Reservation::Load(slot));
    }

    #[test]
    fn another_stack_limit_empties_every_slot() {
        let mut table = SlotTable::new(2);
        loaded(&mut table, 1);
        assert_eq!(table.pin(key(1), STACK * 2), None);
        assert!(matches!(
            table.reserve(key(1), STACK * 2),
            Reservation::Load(_)
        ));
        assert_eq!(table.pin(key(1), STACK), None);
    }

    #[test]
    fn dropped_load_reservation_frees_its_slot() {
        let table = Arc::new(Mutex::new(SlotTable::new(1)));
        let Reservation::Load(slot) = lock(&table).reserve(key(1), STACK) else {
            panic!("expected a slot");
        };

        drop(LoadReservation::new(&table, slot));

        assert_eq!(lock(&table).reserve(key(2), STACK), Reservation::Load(slot));
    }

    #[test]
    fn finished_load_reservation_keeps_its_plugin() {
        let table = Arc::new(Mutex::new(SlotTable::new(1)));
        let Reservation::Load(slot) = lock(&table).reserve(key(1), STACK) else {
            panic!("expected a slot");
        };

        LoadReservation::new(&table, slot).finish(true);

        assert!(lock(&table).contains(key(1), STACK));
    }

    #[test]
    fn table_without_slots_loads_nothing() {
        let mut table = SlotTable::new(0);
        assert_eq!(table.reserve(key(1), STACK), Reservation::Busy);
    }
}
