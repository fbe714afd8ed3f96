//! A closed-loop load generator: a fixed number of tasks, each sending its
//! next operation as soon as the previous one finishes, for a fixed time.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::stats::Samples;

/// Runs `operation` from `concurrency` tasks for `duration` and returns
/// every latency. Each call gets a distinct sequence number, starting at
/// 0. The first error stops the measurement and is returned.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, operation: F) -> Result<Samples>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let states = vec![(); concurrency.max(1)];
    drive_with_state(states, duration, move |(), number| operation(number)).await
}

/// Runs `operation` from one task per element of `states` for `duration`
/// and returns every latency. Each task owns its state, for example one
/// connection, and passes it to every call, which hands it back. Each
/// call gets a distinct sequence number, starting at 0. The first error
/// stops the measurement and is returned.
pub async fn drive_with_state<S, F, Fut>(
    states: Vec<S>,
    duration: Duration,
    operation: F,
) -> Result<Samples>
where
    S: Send + 'static,
    F: Fn(S, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<S>> + Send + 'static,
{
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;

    let mut tasks = Vec::with_capacity(states.len());
    for state in states {
        let operation = operation.clone();
        let sequence = Arc::clone(&sequence);
        tasks.push(tokio::spawn(async move {
            let mut state = state;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let number = sequence.fetch_add(1, Ordering::Relaxed);
                let call_started = Instant::now();
                state = operation(state, number).await?;
                latencies.push(call_started.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }

    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a load task panicked")??);
    }
    Ok(Samples::new(latencies, started.elapsed()))
}
