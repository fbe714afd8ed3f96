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
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;

    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let operation = operation.clone();
        let sequence = Arc::clone(&sequence);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let number = sequence.fetch_add(1, Ordering::Relaxed);
                let call_started = Instant::now();
                operation(number).await?;
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
