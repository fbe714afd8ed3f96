//! Memory and table limits of one instance, with peak memory tracking.

use wasmtime::ResourceLimiter;

/// Raised when the guest grows its memory past the limit.
#[derive(Debug, thiserror::Error)]
#[error("guest memory limit of {limit_bytes} bytes exceeded")]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) limit_bytes: u64,
}

/// Raised when the guest grows a table past the limit.
#[derive(Debug, thiserror::Error)]
#[error("table limit of {limit_elements} elements exceeded")]
pub(crate) struct TableLimitExceeded {
    pub(crate) limit_elements: u64,
}

/// Limits the total linear memory of all memories of a store and the size
/// of each table. Exceeding a limit traps with a typed error, so the run
/// ends with a distinct outcome instead of an allocation failure inside
/// the guest.
///
/// This bounds memory, not CPU time: fuel and the epoch deadline do that.
pub(crate) struct GuestLimiter {
    memory_limit_bytes: usize,
    table_limit_elements: usize,
    memory_bytes: usize,
    memory_peak_bytes: usize,
    /// Bytes added by the last permitted growth, undone if wasmtime then
    /// fails to grow the memory.
    last_growth_bytes: usize,
}

impl GuestLimiter {
    pub(crate) fn new(memory_limit_bytes: u64, table_limit_elements: u64) -> Self {
        Self {
            memory_limit_bytes: usize::try_from(memory_limit_bytes).unwrap_or(usize::MAX),
            table_limit_elements: usize::try_from(table_limit_elements).unwrap_or(usize::MAX),
            memory_bytes: 0,
            memory_peak_bytes: 0,
            last_growth_bytes: 0,
        }
    }

    /// Highest total linear memory seen, in bytes.
    pub(crate) fn memory_peak_bytes(&self) -> u64 {
        self.memory_peak_bytes as u64
    }
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.memory_bytes.saturating_add(growth);
        if total > self.memory_limit_bytes {
            return Err(MemoryLimitExceeded {
                limit_bytes: self.memory_limit_bytes as u64,
            }
            .into());
        }

        self.memory_bytes = total;
        self.memory_peak_bytes = self.memory_peak_bytes.max(total);
        self.last_growth_bytes = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_bytes = self.memory_bytes.saturating_sub(self.last_growth_bytes);
        self.last_growth_bytes = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_limit_elements {
            return Err(TableLimitExceeded {
                limit_elements: self.table_limit_elements as u64,
            }
            .into());
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 64 << 10;

    #[test]
    fn memory_growth_within_limit_tracks_peak() {
        let mut limiter = GuestLimiter::new(4 * PAGE as u64, 10);

        assert!(limiter.memory_growing(0, 2 * PAGE, None).unwrap());
        assert!(limiter.memory_growing(2 * PAGE, 4 * PAGE, None).unwrap());
        assert_eq!(limiter.memory_peak_bytes(), 4 * PAGE as u64);
    }

    #[test]
    fn memory_growth_past_limit_is_typed_error() {
        let mut limiter = GuestLimiter::new(4 * PAGE as u64, 10);

        let error = limiter.memory_growing(0, 5 * PAGE, None).unwrap_err();

        assert!(
            error.downcast_ref::<MemoryLimitExceeded>().is_some(),
            "{error}"
        );
    }

    #[test]
    fn memory_limit_counts_all_memories() {
        let mut limiter = GuestLimiter::new(4 * PAGE as u64, 10);

        limiter.memory_growing(0, 3 * PAGE, None).unwrap();

        assert!(limiter.memory_growing(0, 2 * PAGE, None).is_err());
    }

    #[test]
    fn failed_growth_is_not_counted() {
        let mut limiter = GuestLimiter::new(4 * PAGE as u64, 10);

        limiter.memory_growing(0, 3 * PAGE, None).unwrap();
        limiter
            .memory_grow_failed(wasmtime::Error::msg("maximum exceeded"))
            .unwrap();

        assert!(limiter.memory_growing(0, 4 * PAGE, None).unwrap());
    }

    #[test]
    fn table_growth_past_limit_is_typed_error() {
        let mut limiter = GuestLimiter::new(PAGE as u64, 10);

        let error = limiter.table_growing(0, 11, None).unwrap_err();

        assert!(
            error.downcast_ref::<TableLimitExceeded>().is_some(),
            "{error}"
        );
    }
}
