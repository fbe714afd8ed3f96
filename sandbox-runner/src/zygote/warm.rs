//! Children forked ahead of their runs ("warm children").
//!
//! When a run of a loaded plugin starts, the runner requests one more
//! child from the zygote for the same plugin and parks it here, blocked on
//! its empty stdin. The next run of that plugin takes the parked child and
//! writes its request at once, so the fork, the child's set-up and the
//! `Started` round trip are no longer on that run's path. Every run still
//! gets a process of its own: a parked child serves exactly one run, and
//! it was forked from the zygote, which never receives note data.
//!
//! A parked child has its own copy of its plugin, so the zygote may evict
//! that plugin meanwhile. The pool is small. When it is full, a plugin
//! without a child takes the place of the oldest child, but only of one
//! parked for longer than [`STALE_AFTER`], so that runs of more plugins
//! than places do not fork a child per run only to kill it unused.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::slots::CodeKey;

/// How long a child must have been parked before a child for another
/// plugin may take its place in a full pool.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(1);

/// The plugin a parked child was forked for, with the engine's wasm stack
/// limit and the zygote process that forked it.
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
    /// The pool is full, with children for this key, forks in flight or
    /// children parked too recently to evict.
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
    /// Each child with its key and the time it was parked.
    parked: VecDeque<(WarmKey, Instant, J)>,
    /// Forks requested by [`Self::begin_refill`] and not yet finished.
    refilling: usize,
}

impl<J> WarmPool<J> {
    /// A pool of at most `capacity` children, counting forks in
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
        let index = self.parked.iter().position(|(parked, ..)| *parked == key)?;
        self.parked.remove(index).map(|(.., job)| job)
    }

    /// Decides, at `now`, whether to fork one more child for `key`. When
    /// the pool is full, the oldest child makes room if it is of another
    /// key and was parked at least [`STALE_AFTER`] ago.
    pub(crate) fn begin_refill(&mut self, key: WarmKey, now: Instant) -> Refill<J> {
        if self.capacity == 0 {
            return Refill::Skip;
        }
        if self.parked.len() + self.refilling < self.capacity {
            self.refilling += 1;
            return Refill::Fork { evicted: None };
        }
        let has_child = self.parked.iter().any(|(parked, ..)| *parked == key);
        let oldest_is_stale = self.parked.front().is_some_and(|(_, parked_at, _)| {
            now.saturating_duration_since(*parked_at) >= STALE_AFTER
        });
        if has_child || !oldest_is_stale {
            return Refill::Skip;
        }
        self.refilling += 1;
        let evicted = self.parked.pop_front().map(|(.., job)| job);
        Refill::Fork { evicted }
    }

    /// Records the end of a refill: parks `job` at `now`, if the fork
    /// succeeded, and returns a child evicted to make room for it, which
    /// the caller kills.
    pub(crate) fn finish_refill(
        &mut self,
        key: WarmKey,
        job: Option<J>,
        now: Instant,
    ) -> Option<J> {
        self.refilling = self.refilling.saturating_sub(1);
        let job = job?;
        // `begin_refill` keeps parked children and forks in flight within
        // the capacity, so this only evicts if that accounting broke.
        let evicted = if self.parked.len() >= self.capacity {
            self.parked.pop_front().map(|(.., job)| job)
        } else {
            None
        };
        self.parked.push_back((key, now, job));
        evicted
    }

    /// Removes every parked child, for example to unpin their slots.
    pub(crate) fn drain(&mut self) -> Vec<J> {
        self.parked.drain(..).map(|(.., job)| job).collect()
    }

    /// The parked children, oldest first.
    pub(crate) fn parked(&self) -> impl Iterator<Item = &J> {
        self.parked.iter().map(|(.., job)| job)
    }

    /// Whether a child is parked for `key`.
    pub(crate) fn contains(&self, key: WarmKey) -> bool {
        self.parked.iter().any(|(parked, ..)| *parked == key)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn key(byte: u8) -> WarmKey {
        WarmKey {
            code: CodeKey([byte; 32]),
            wasm_stack_bytes: 512 << 10,
            zygote: 1,
        }
    }

    /// The instant `seconds` after a fixed start, so tests control age.
    fn at(seconds: f64) -> Instant {
        static START: OnceLock<Instant> = OnceLock::new();
        *START.get_or_init(Instant::now) + Duration::from_secs_f64(seconds)
    }

    /// Begins and finishes one refill of `key` with `job` at `seconds`,
    /// returning what was evicted.
    fn refill(pool: &mut WarmPool<u32>, key: WarmKey, job: u32, seconds: f64) -> Vec<u32> {
        let Refill::Fork { evicted } = pool.begin_refill(key, at(seconds)) else {
            panic!("expected a fork for {key:?}");
        };
        evicted
            .into_iter()
            .chain(pool.finish_refill(key, Some(job), at(seconds)))
            .collect()
    }

    fn parked(pool: &WarmPool<u32>) -> Vec<u32> {
        pool.parked().copied().collect()
    }

    #[test]
    fn parked_child_is_taken_once() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);

        assert!(pool.contains(key(1)));
        assert_eq!(pool.take(key(2)), None);
        assert_eq!(pool.take(key(1)), Some(10));
        assert_eq!(pool.take(key(1)), None);
        assert!(!pool.contains(key(1)));
    }

    #[test]
    fn child_of_another_zygote_is_not_taken() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        let replaced = WarmKey {
            zygote: 2,
            ..key(1)
        };

        assert_eq!(pool.take(replaced), None);
    }

    #[test]
    fn child_of_another_stack_limit_is_not_taken() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        let other_engine = WarmKey {
            wasm_stack_bytes: 1 << 20,
            ..key(1)
        };

        assert_eq!(pool.take(other_engine), None);
    }

    #[test]
    fn forks_in_flight_count_against_capacity() {
        let mut pool: WarmPool<u32> = WarmPool::new(2);
        assert_eq!(
            pool.begin_refill(key(1), at(0.0)),
            Refill::Fork { evicted: None }
        );
        assert_eq!(
            pool.begin_refill(key(1), at(0.0)),
            Refill::Fork { evicted: None }
        );

        assert_eq!(pool.begin_refill(key(1), at(5.0)), Refill::Skip);
    }

    #[test]
    fn full_pool_evicts_stale_oldest_for_new_key() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        refill(&mut pool, key(2), 20, 0.5);

        assert_eq!(refill(&mut pool, key(3), 30, 2.0), vec![10]);
        assert_eq!(parked(&pool), vec![20, 30]);
    }

    #[test]
    fn full_pool_keeps_recent_children() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        refill(&mut pool, key(2), 20, 0.0);

        assert_eq!(pool.begin_refill(key(3), at(0.5)), Refill::Skip);
        assert_eq!(parked(&pool), vec![10, 20]);
    }

    #[test]
    fn full_pool_keeps_children_of_same_key() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        refill(&mut pool, key(2), 20, 0.0);

        assert_eq!(pool.begin_refill(key(2), at(5.0)), Refill::Skip);
        assert_eq!(parked(&pool), vec![10, 20]);
    }

    #[test]
    fn failed_fork_frees_its_place() {
        let mut pool: WarmPool<u32> = WarmPool::new(1);
        assert_eq!(
            pool.begin_refill(key(1), at(0.0)),
            Refill::Fork { evicted: None }
        );
        assert_eq!(pool.finish_refill(key(1), None, at(0.0)), None);

        assert_eq!(
            pool.begin_refill(key(1), at(0.0)),
            Refill::Fork { evicted: None }
        );
    }

    #[test]
    fn single_place_goes_to_latest_key() {
        let mut pool = WarmPool::new(1);
        refill(&mut pool, key(1), 10, 0.0);

        assert_eq!(refill(&mut pool, key(2), 20, 1.0), vec![10]);
        assert_eq!(parked(&pool), vec![20]);
    }

    #[test]
    fn pool_without_capacity_never_forks() {
        let mut pool: WarmPool<u32> = WarmPool::new(0);

        assert_eq!(pool.begin_refill(key(1), at(0.0)), Refill::Skip);
    }

    #[test]
    fn drain_empties_the_pool() {
        let mut pool = WarmPool::new(2);
        refill(&mut pool, key(1), 10, 0.0);
        refill(&mut pool, key(2), 20, 0.0);

        assert_eq!(pool.drain(), vec![10, 20]);
        assert_eq!(pool.parked().count(), 0);
    }
}
