//! Each hostile plugin ends with its own outcome, and the next run on the
//! same runner still works.

mod common;

use std::time::Duration;

use sandbox_runner::{GuestLimits, LogLevel, RunOutcome, RunReport, Runner, RunnerConfig};

const NOTE: &str = "A short note. It has two sentences.";

/// Runs text-analyzer after a hostile run to show the runner recovered.
async fn assert_next_run_succeeds(runner: &Runner) {
    let report = common::run(runner, "text-analyzer", NOTE).await;

    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "run after a hostile plugin failed: {report:?}"
    );
}

async fn run_hostile(runner: &Runner, name: &str) -> RunReport {
    common::run(runner, name, NOTE).await
}

#[tokio::test]
async fn infinite_loop_exhausts_fuel() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-infinite-loop").await;

    assert_eq!(report.outcome, RunOutcome::FuelExhausted, "{report:?}");
    assert_eq!(report.fuel_used, GuestLimits::default().fuel);
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn infinite_loop_hits_epoch_deadline() {
    let runner = common::runner();
    let mut request = common::request("hostile-infinite-loop", NOTE);
    request.limits.fuel = u64::MAX / 2;
    request.limits.epoch_deadline_ms = 100;

    let report = runner.run(request).await.unwrap();

    assert_eq!(report.outcome, RunOutcome::EpochDeadline, "{report:?}");
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn infinite_loop_killed_at_wall_clock_deadline() {
    let runner = common::runner_with(RunnerConfig {
        run_deadline: Duration::from_millis(500),
        ..RunnerConfig::default()
    });
    let mut request = common::request("hostile-infinite-loop", NOTE);
    request.limits.fuel = u64::MAX / 2;
    request.limits.epoch_deadline_ms = 60_000;

    let report = runner.run(request).await.unwrap();

    assert_eq!(
        report.outcome,
        RunOutcome::DeadlineExceeded { deadline_ms: 500 },
        "{report:?}"
    );
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn memory_grab_hits_memory_limit() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-memory-grab").await;

    let limit = GuestLimits::default().memory_bytes;
    assert_eq!(
        report.outcome,
        RunOutcome::MemoryLimitExceeded { limit_bytes: limit },
        "{report:?}"
    );
    assert!(report.memory_peak_bytes <= limit, "{report:?}");
    assert!(report.memory_peak_bytes > limit / 2, "{report:?}");
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn recursion_overflows_stack() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-recursion").await;

    assert_eq!(report.outcome, RunOutcome::StackOverflow, "{report:?}");
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn panic_traps_and_logs_message() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-panic").await;

    let RunOutcome::Trap { message } = &report.outcome else {
        panic!("expected a trap: {report:?}");
    };
    assert!(message.contains("unreachable"), "{message}");
    let panic_line = report
        .logs
        .iter()
        .find(|line| line.message.contains("panics on purpose"));
    assert!(
        panic_line.is_some(),
        "panic message not logged: {:?}",
        report.logs
    );
    assert_eq!(panic_line.map(|line| line.level), Some(LogLevel::Error));
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn large_output_is_rejected() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-large-output").await;

    assert_eq!(
        report.outcome,
        RunOutcome::OutputTooLarge {
            size_bytes: 2 << 20,
            limit_bytes: GuestLimits::default().output_bytes,
        },
        "{report:?}"
    );
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn log_flood_hits_log_limit() {
    let runner = common::runner();

    let report = run_hostile(&runner, "hostile-log-flood").await;

    let limit = GuestLimits::default().log_bytes;
    assert_eq!(
        report.outcome,
        RunOutcome::LogLimitExceeded { limit_bytes: limit },
        "{report:?}"
    );
    let logged: u64 = report
        .logs
        .iter()
        .map(|line| line.message.len() as u64 + 1)
        .sum();
    assert!(logged <= limit, "{logged} log bytes kept");
    assert!(!report.logs.is_empty());
    assert_next_run_succeeds(&runner).await;
}

#[tokio::test]
async fn invalid_component_is_invalid_plugin() {
    let runner = common::runner();
    let mut request = common::request("text-analyzer", NOTE);
    request.plugin = sandbox_runner::PluginCode::Component(b"\0asm not a component".to_vec());

    let report = runner.run(request).await.unwrap();

    assert!(
        matches!(report.outcome, RunOutcome::InvalidPlugin { .. }),
        "{report:?}"
    );
}

#[tokio::test]
async fn infinite_loop_stopped_by_cpu_rlimit() {
    let runner = common::runner_with(RunnerConfig {
        run_deadline: Duration::from_secs(30),
        run_process_limits: sandbox_runner::ProcessLimits {
            cpu_seconds: 1,
            ..sandbox_runner::ProcessLimits::default()
        },
        ..RunnerConfig::default()
    });
    let mut request = common::request("hostile-infinite-loop", NOTE);
    request.limits.fuel = u64::MAX / 2;
    request.limits.epoch_deadline_ms = 60_000;

    let report = runner.run(request).await.unwrap();

    // The kernel sends SIGXCPU (24) at the soft limit; SIGKILL (9) follows
    // at the hard limit if the first signal did not end the process.
    assert!(
        matches!(
            report.outcome,
            RunOutcome::KilledBySignal { signal: 24 | 9, .. }
        ),
        "{report:?}"
    );
    assert_next_run_succeeds(&runner).await;
}
