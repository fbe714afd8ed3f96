//! The runner's reader of zygote events: when the zygote dies, a job that
//! waits for its child's events ends within seconds instead of at its deadline.

mod common;

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sandbox_runner::{
    GuestLimits, PluginCode, ProcessLimits, RunOutcome, RunRequest, RunnerConfig, WorkerMode,
};

/// Deadline of the run, far beyond the time the test allows it.
const RUN_DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn run_ends_soon_after_zygote_is_killed() {
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        run_deadline: RUN_DEADLINE,
        run_process_limits: ProcessLimits {
            cpu_seconds: 60,
            ..ProcessLimits::default()
        },
        ..RunnerConfig::default()
    });
    let zygote = runner
        .zygote_pid()
        .await
        .expect("the zygote starts")
        .expect("the runner is in zygote mode");
    // The start function spins until the epoch deadline, which is as long
    // as the run deadline.
    let request = RunRequest {
        plugin: PluginCode::Component(common::wat_component("start-loop")),
        limits: GuestLimits {
            fuel: 1 << 50,
            epoch_deadline_ms: 30_000,
            ..GuestLimits::default()
        },
        ..common::request("text-analyzer", "note")
    };

    let started = Instant::now();
    let kill_zygote = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        kill(Pid::from_raw(zygote as i32), Signal::SIGKILL).expect("the zygote is killed");
    };
    let (result, ()) = tokio::join!(runner.run(request), kill_zygote);
    let elapsed = started.elapsed();

    assert!(
        elapsed < Duration::from_secs(10),
        "the run ended {elapsed:?} after it started, long after the zygote died"
    );
    match result {
        Err(_) => {}
        Ok(report) => assert!(
            matches!(report.outcome, RunOutcome::KilledBySignal { signal: 9, .. }),
            "{report:?}"
        ),
    }
}
