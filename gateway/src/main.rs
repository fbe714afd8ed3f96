//! The `gateway` binary: parses the configuration, sets up logs and
//! telemetry, serves, and shuts down gracefully on SIGTERM or SIGINT.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use gateway::config::Config;
use gateway::runs::PluginRuntime;
use gateway::telemetry::Telemetry;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long requests get to answer after their plugin runs were cancelled,
/// before the process stops waiting for them.
const DRAIN_AFTER_CANCEL: Duration = Duration::from_secs(2);

/// How long closing the database pool may wait for connections still in use.
const STORE_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// mimalloc instead of the system allocator: side by side, the gateway
/// served 1.06 to 1.25 times as many note gets per second at concurrency 8
/// (BENCHMARKS.md), and its RSS after a run of the benchmark was lower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    // Before the master key is loaded, so no core file or unprivileged
    // tracer can ever read it.
    gateway::hardening::protect_process().context("failed to protect the gateway process")?;
    let telemetry = Telemetry::init(config.log_format).context("failed to set up telemetry")?;

    let served = serve(&config).await;

    // Flushing blocks on the exporters' threads, for up to about 5 s each.
    if tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .is_err()
    {
        eprintln!("failed to flush telemetry: the flushing task panicked");
    }
    served
}

/// Serves until a shutdown signal, then stops accepting connections, lets
/// in-flight requests finish within the grace period, cancels the plugin
/// runs still going after it, and closes the store.
async fn serve(config: &Config) -> anyhow::Result<()> {
    let state = gateway::startup::build_state(config)
        .await
        .context("gateway failed to start")?;
    let store = state.store.clone();
    let runtime = state.runtime.clone();

    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("failed to listen on {}", config.bind))?;
    let address = listener
        .local_addr()
        .context("failed to read the bound address")?;
    tracing::info!(%address, store = ?store.kind(), "listening");

    let grace = config.shutdown_grace();
    let (stopping_sender, stopping) = watch::channel(false);
    let server = axum::serve(listener, gateway::app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal(grace).await;
            stopping_sender.send_replace(true);
        })
        .into_future();
    tokio::pin!(server);

    tokio::select! {
        result = &mut server => result.context("server failed")?,
        () = grace_expired(stopping, grace) => {
            cancel_runs(runtime.as_ref());
            match tokio::time::timeout(DRAIN_AFTER_CANCEL, &mut server).await {
                Ok(result) => result.context("server failed")?,
                Err(_) => tracing::warn!(
                    drain_ms = DRAIN_AFTER_CANCEL.as_millis() as u64,
                    "requests still open after their runs were cancelled; dropping their connections"
                ),
            }
        }
    }

    if tokio::time::timeout(STORE_CLOSE_TIMEOUT, store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit; closing without waiting");
    }
    tracing::info!("stopped");
    Ok(())
}

fn cancel_runs(runtime: Option<&Arc<PluginRuntime>>) {
    let Some(runtime) = runtime else {
        return;
    };
    tracing::warn!(
        in_flight_runs = runtime.slots.in_flight(),
        "shutdown grace period ended; cancelling plugin runs"
    );
    runtime.cancel_runs();
}

/// Completes `grace` after `stopping` becomes `true`; never if it does not.
async fn grace_expired(mut stopping: watch::Receiver<bool>, grace: Duration) {
    if stopping.wait_for(|stopping| *stopping).await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(grace).await;
}

/// Completes on SIGINT or SIGTERM, so in-flight requests can finish.
async fn shutdown_signal(grace: Duration) {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "failed to listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "failed to listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };

    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!(
        grace_ms = grace.as_millis() as u64,
        "shutdown signal received; no new connections, finishing in-flight requests"
    );
}
