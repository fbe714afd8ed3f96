//! A runner used from more than one Tokio runtime: the zygote's events
//! must reach a job whichever runtime started the zygote.

mod common;

use sandbox_runner::{RunOutcome, RunnerConfig, WorkerMode};

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the runtime builds")
}

#[test]
fn second_runtime_runs_while_first_is_idle() {
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        ..RunnerConfig::default()
    });
    let first = current_thread_runtime();
    let zygote = first
        .block_on(runner.zygote_pid())
        .expect("the zygote starts")
        .expect("the runner is in zygote mode");

    // `first` runs no task from here on, like a runtime between two
    // `block_on` calls.
    let second = current_thread_runtime();
    let report = second.block_on(common::run(&runner, "text-analyzer", "One sentence."));

    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
    let after = second
        .block_on(runner.zygote_pid())
        .expect("the zygote runs")
        .expect("the runner is in zygote mode");
    assert_eq!(after, zygote, "the zygote was replaced");
    drop(first);
}
