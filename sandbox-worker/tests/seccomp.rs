//! After the run-time filter is installed, forbidden system calls kill the
//! worker with SIGSYS, and the runner reports the signal. Landlock, the
//! layer below, denies opening files on its own.
//!
//! The worker's hidden `--probe-forbidden-syscall` hook attempts the call
//! in place of running the plugin.

mod common;

use sandbox_runner::{RunOutcome, RunnerConfig};

const SIGSYS: i32 = 31;

async fn probe(operation: &str) -> RunOutcome {
    let runner = common::runner_with(RunnerConfig {
        worker_args: vec!["--probe-forbidden-syscall".into(), operation.into()],
        ..RunnerConfig::default()
    });
    let report = runner
        .run(common::request("text-analyzer", "note"))
        .await
        .expect("the runner completes the run");
    report.outcome
}

#[track_caller]
fn assert_killed_by_sigsys(outcome: &RunOutcome) {
    assert!(
        matches!(outcome, RunOutcome::KilledBySignal { signal: SIGSYS, .. }),
        "expected a kill by SIGSYS: {outcome:?}"
    );
}

#[tokio::test]
async fn open_kills_worker() {
    assert_killed_by_sigsys(&probe("open").await);
}

#[tokio::test]
async fn socket_kills_worker() {
    assert_killed_by_sigsys(&probe("socket").await);
}

#[tokio::test]
async fn spawn_kills_worker() {
    assert_killed_by_sigsys(&probe("spawn").await);
}

#[tokio::test]
async fn executable_mapping_kills_worker() {
    assert_killed_by_sigsys(&probe("executable-mapping").await);
}

/// Landlock is checked on its own, before the rlimits and the seccomp
/// filters exist. The test needs a kernel with Landlock enabled.
#[tokio::test]
async fn open_denied_by_landlock() {
    let outcome = probe("open-under-landlock").await;

    let RunOutcome::Crashed { exit_code, stderr } = &outcome else {
        panic!("expected the probe's exit status: {outcome:?}");
    };
    assert_eq!(*exit_code, 4, "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
}
