//! Admission control for plugin runs: a bounded number run at once, a
//! bounded number wait briefly, and the rest are turned away at once.
//!
//! Each run occupies a worker process and up to its CPU limit (2 s by
//! default), so the gateway admits at most `max_concurrent` at a time. A
//! request that finds every slot taken waits up to `queue_wait` in a queue
//! of at most `max_queued`; after that, or when the queue is full, it gets
//! [`Busy`] and the API returns 503 with `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Limits of [`RunSlots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    /// Runs in progress at once. Default: [`RUNS_PER_CPU`] per CPU.
    pub max_concurrent: usize,
    /// Requests waiting for a slot at once. Default: four per slot.
    pub max_queued: usize,
    /// Maximum wait for a slot. Default 1 s.
    pub queue_wait: Duration,
}

/// Default runs in progress per CPU. A second run per CPU uses the time a
/// run waits on pipes, the zygote and the database: on 2 cores, four at once
/// served 1.22 times the runs per second of two (see BENCHMARKS.md). A run
/// that used up its default fuel took 0.15 to 0.23 s there, well within the
/// 2 s deadline.
pub const RUNS_PER_CPU: usize = 2;

impl Default for SlotLimits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let max_concurrent = cpus * RUNS_PER_CPU;
        Self {
            max_concurrent,
            max_queued: max_concurrent * 4,
            queue_wait: Duration::from_secs(1),
        }
    }
}

/// Every run slot is taken and the wait ran out or the queue is full.
#[derive(Debug, thiserror::Error)]
#[error("too many plugin runs in progress")]
pub struct Busy;

/// The gateway's run slots.
#[derive(Debug)]
pub struct RunSlots {
    semaphore: Arc<Semaphore>,
    queued: AtomicUsize,
    limits: SlotLimits,
}

/// A taken slot; dropping it frees the slot.
#[derive(Debug)]
pub struct RunSlot {
    _permit: OwnedSemaphorePermit,
}

/// A request's place in the queue; dropping it leaves the queue.
struct QueuePlace<'a> {
    queued: &'a AtomicUsize,
    /// Requests that were queued before this one entered.
    ahead: usize,
}

impl<'a> QueuePlace<'a> {
    fn enter(queued: &'a AtomicUsize) -> Self {
        let ahead = queued.fetch_add(1, Ordering::SeqCst);
        Self { queued, ahead }
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

impl RunSlots {
    /// Creates slots with `limits`; `max_concurrent` of 0 is raised to 1.
    pub fn new(limits: SlotLimits) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            queued: AtomicUsize::new(0),
            limits,
        }
    }

    /// Takes a slot, waiting up to the queue wait.
    ///
    /// # Errors
    ///
    /// [`Busy`] when the queue is full or the wait runs out.
    pub async fn acquire(&self) -> Result<RunSlot, Busy> {
        if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
            return Ok(RunSlot { _permit: permit });
        }

        // The guard leaves the queue however the wait ends, including when
        // the caller's future is dropped because its client went away.
        let place = QueuePlace::enter(&self.queued);
        if place.ahead >= self.limits.max_queued {
            return Err(Busy);
        }
        let waited = tokio::time::timeout(
            self.limits.queue_wait,
            Arc::clone(&self.semaphore).acquire_owned(),
        )
        .await;
        drop(place);

        match waited {
            Ok(Ok(permit)) => Ok(RunSlot { _permit: permit }),
            // The semaphore is never closed, so only the timeout lands here.
            Ok(Err(_)) | Err(_) => Err(Busy),
        }
    }

    /// Runs in progress now.
    pub fn in_flight(&self) -> usize {
        self.limits.max_concurrent.max(1) - self.semaphore.available_permits()
    }

    /// Requests waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Seconds a turned-away caller should wait before retrying.
    pub fn retry_after_seconds(&self) -> u64 {
        self.limits.queue_wait.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_concurrent: usize, max_queued: usize) -> SlotLimits {
        SlotLimits {
            max_concurrent,
            max_queued,
            queue_wait: Duration::from_millis(50),
        }
    }

    #[tokio::test]
    async fn slots_up_to_the_limit_are_granted() {
        let slots = RunSlots::new(limits(2, 0));
        let _first = slots.acquire().await.expect("first slot");
        let _second = slots.acquire().await.expect("second slot");
        assert_eq!(slots.in_flight(), 2);
    }

    #[tokio::test]
    async fn full_queue_is_turned_away_at_once() {
        let slots = RunSlots::new(limits(1, 0));
        let _taken = slots.acquire().await.expect("slot");
        assert!(slots.acquire().await.is_err());
    }

    #[tokio::test]
    async fn waiter_gets_busy_when_the_wait_runs_out() {
        let slots = RunSlots::new(limits(1, 1));
        let _taken = slots.acquire().await.expect("slot");
        assert!(slots.acquire().await.is_err());
        assert_eq!(slots.queued(), 0);
    }

    #[tokio::test]
    async fn cancelled_waiter_leaves_the_queue() {
        let slots = Arc::new(RunSlots::new(SlotLimits {
            max_concurrent: 1,
            max_queued: 1,
            queue_wait: Duration::from_secs(30),
        }));
        let _taken = slots.acquire().await.expect("slot");
        let waiter = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.acquire().await.map(drop) }
        });
        while slots.queued() == 0 {
            tokio::task::yield_now().await;
        }

        waiter.abort();
        let _ = waiter.await;

        assert_eq!(slots.queued(), 0);
        let second_waiter = tokio::time::timeout(Duration::from_millis(50), slots.acquire());
        assert!(
            second_waiter.await.is_err(),
            "a new request must wait in the freed queue place, not be turned away"
        );
    }

    #[tokio::test]
    async fn freed_slot_goes_to_the_waiter() {
        let slots = Arc::new(RunSlots::new(SlotLimits {
            max_concurrent: 1,
            max_queued: 1,
            queue_wait: Duration::from_secs(30),
        }));
        let taken = slots.acquire().await.expect("slot");

        let waiter = tokio::spawn({
            let slots = Arc::clone(&slots);
            async move { slots.acquire().await.map(drop) }
        });
        while slots.queued() == 0 {
            tokio::task::yield_now().await;
        }
        drop(taken);

        assert!(waiter.await.expect("task").is_ok());
    }
}
