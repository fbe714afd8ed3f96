//! Children forked ahead of their runs ("warm children").
//!
//! When a run of a loaded plugin starts, the runner asks the zygote for one
//! more child for the same plugin and parks it here, blocked on its empty
//! stdin. The next run of that plugin takes the parked child and writes its
//! request at once, so the fork, the child's set-up and the `Started`
//! round trip are no longer on that run's path. Every run still gets a
//! process of its own: a parked child serves exactly one run, and it was
//! forked from the zygote, which never holds note data.
//!
//! A parked child pins its plugin's slot, so that plugin stays loaded
//! while the child waits. The pool is small and evicts its oldest child
//! when a plugin without one needs room.

use std::collections::VecDeque;

use super::slots::CodeKey;

/// What a parked child was forked for: a plugin, the engine's wasm stack
/// limit, and the zygote process that forked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WarmKey {
    pub(crate) code: CodeKey,
    pub(crate) wasm_stack_bytes: u64,
    /// Number of the zygote process, unique within one runner.
    pub(crate) zygote: u64,
}

/// Result of [`WarmPool::begin_refill`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refill<J> {
    /// The pool is full of children for this key, or forks for them are
    /// already in flight.
    Skip,
    /// Fork one child, then call [`WarmPool::finish_refill`]. `evicted`
    /// is a parked child that made room; the caller kills it.
    Fork { evicted: Option<J> },
}

/// Parked children of one runner, oldest first. `J` is the parked job; it
/// is generic so that the bookkeeping is tested without processes.
#[derive(Debug)]
pub(crate) struct WarmPool<J> {
    capacity: usize,
    parked: VecDeque<(WarmKey, J)>,
    /// Forks requested by [`Self::begin_refill`] and not yet finished.
    refilling: usize,
}

impl<J> WarmPool<J> {
    /// A pool that holds at most `capacity` children, counting forks in
    /// flight; 0 turns warm children off.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            parked: VecDeque::new(),
            refilling: 0,
        }
    }

    /// Removes and returns the oldest child parked for `key`.
    pub(crate) fn take(&mut self, key: WarmKey) -> Option<J> {
        let index = self.parked.iter().position(|(parked, _)| *parked == key)?;
        self.parked.remove(index).map(|(_, job)| job)
    }

    /// Decides whether to fork one more child for `key`. When the pool is
    /// full, the oldest child of another key makes room, so the plugins run
    /// most recently keep their children.
    pub(crate) fn begin_refill(&mut self, key: WarmKey) -> Refill<J> {
        if self.capacity == 0 {
            return Refill::Skip;
        }
        if self.parked.len() + self.refilling < self.capacity {
            self.refilling += 1;
            return Refill::Fork { evicted: None };
        }
        let has_child = self.parked.iter().any(|(parked, _)| *parked == key);
        if has_child || self.parked.is_empty() {
            return Refill::Skip;
        }
        self.refilling += 1;
        let evicted = self.parked.pop_front().map(|(_, job)| job);
        Refill::Fork { evicted }
    }

    /// Records the end of a refill: parks `job`, if the fork succeeded,
    /// and returns a child evicted to make room for it, which the caller
    /// kills.
    pub(crate) fn finish_refill(&mut self, key: WarmKey, job: Option<J>) -> Option<J> {
        self.refilling = self.refilling.saturating_sub(1);
        let job = job?;
        // `begin_refill` keeps parked children and forks in flight within
        // the capacity, so this only evicts if that accounting broke.
        let evicted = if self.parked.len() >= self.capacity {
            self.parked.pop_front().map(|(_, job)| job)
        } else {
            None
        };
        self.parked.push_back((key, job));
        evicted
    }

    /// Removes every parked child, for example to unpin their slots.
    pub(crate) fn drain(&mut self) -> Vec<J> {
        self.parked.drain(..).map(|(_, job)| job).collect()
    }

    /// The parked children, oldest first.
    pub(crate) fn parked(&self) -> impl Iterator<Item = &J> {
        self.parked.iter().map(|(_, job)| job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> WarmKey {
        WarmKey {
            code: CodeKey([byte; 32]),
            wasm_stack_bytes: 512 << 10,
            zygote: 1,
        }
    }

    /// Begins and finishes one refill of `key` with `job`, returning what
    /// was evicted.
    fn refill(pool: &mut WarmPool<u32>, key: WarmKey, job: u32) -> Vec<u32> {
        let Refill::Fork { evicted } = pool.begin_refill(key) else {
            panic!("expected a fork for {key:?}");
        };
        evicted
            .into_iter()
            .chain(pool.finish_refill(key, Some(job)))
            .collect()
    }

    #[test]
    fn parked_child_is_taken_once() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);

        assert_eq!(pool.take(key(2)), None);
        assert_eq!(pool.take(key(1)), Some(10));
        assert_eq!(pool.take(key(1)), None);
    }

    #[test]
    fn child_of_another_zygote_is_not_taken() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);
        let replaced = WarmKey {
            zygote: 2,
            ..key(1)
        };

        assert_eq!(pool.take(replaced), None);
    }

    #[test]
    fn child_of_another_stack_limit_is_not_taken() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);
        let other_engine = WarmKey {
            wasm_stack_bytes: 1 << 20,
            ..key(1)
        };

        assert_eq!(pool.take(other_engine), None);
    }

    #[test]
    fn forks_in_flight_count_against_capacity() {
        let mut pool: WarmPool<u32> = WarmPool::new(2);
        assert_eq!(pool.begin_refill(key(1)), Refill::Fork { evicted: None });
        assert_eq!(pool.begin_refill(key(1)), Refill::Fork { evicted: None });

        assert_eq!(pool.begin_refill(key(1)), Refill::Skip);
    }

    #[test]
    fn full_pool_evicts_oldest_for_new_key() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);
        refill(&mut pool, key(2), 20);

        assert_eq!(refill(&mut pool, key(3), 30), vec![10]);
        assert_eq!(pool.take(key(1)), None);
        assert_eq!(pool.take(key(2)), Some(20));
        assert_eq!(pool.take(key(3)), Some(30));
    }

    #[test]
    fn full_pool_keeps_children_of_same_key() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);
        refill(&mut pool, key(2), 20);

        assert_eq!(pool.begin_refill(key(2)), Refill::Skip);
        assert_eq!(pool.parked().copied().collect::<Vec<_>>(), vec![10, 20]);
    }

    #[test]
    fn failed_fork_frees_its_place() {
        let mut pool: WarmPool<u32> = WarmPool::new(1);
        assert_eq!(pool.begin_refill(key(1)), Refill::Fork { evicted: None });
        assert_eq!(pool.finish_refill(key(1), None), None);

        assert_eq!(pool.begin_refill(key(1)), Refill::Fork { evicted: None });
    }

    #[test]
    fn single_place_goes_to_latest_key() {
        let mut pool = WarmPool::new(1);
        assert_eq!(pool.begin_refill(key(1)), Refill::Fork { evicted: None });
        assert_eq!(pool.finish_refill(key(1), Some(10)), None);
        assert_eq!(
            pool.begin_refill(key(2)),
            Refill::Fork { evicted: Some(10) }
        );
        assert_eq!(pool.finish_refill(key(2), Some(20)), None);

        assert_eq!(pool.parked().copied().collect::<Vec<_>>(), vec![20]);
    }

    #[test]
    fn pool_without_capacity_never_forks() {
        let mut pool: WarmPool<u32> = WarmPool::new(0);

        assert_eq!(pool.begin_refill(key(1)), Refill::Skip);
    }

    #[test]
    fn drain_empties_the_pool() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10);
        refill(&mut pool, key(2), 20);

        assert_eq!(pool.drain(), vec![10, 20]);
        assert_eq!(pool.parked().count(), 0);
    }
}
