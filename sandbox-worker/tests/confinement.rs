//! The layers around the seccomp filter: the self-check report, and the
//! operations that must be stopped after the run-time filter (process
//! creation, program execution, tracing the parent).
//!
//! The worker's hidden `--probe-forbidden-syscall` hook attempts the
//! operation in place of running the plugin.

mod common;

use std::process::{Command, Stdio};

use sandbox_runner::{LayerState, RunOutcome, RunnerConfig};

const SIGSYS: i32 = 31;

/// Every layer the worker applies, in order.
const LAYERS: [&str; 10] = [
    "no-new-privs",
    "user-namespace",
    "network-namespace",
    "ipc-namespace",
    "uts-namespace",
    "mount-namespace",
    "landlock",
    "rlimits",
    "seccomp",
    "no-executable-mappings",
];

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
async fn fork_kills_worker() {
    assert_killed_by_sigsys(&probe("fork").await);
}

#[tokio::test]
async fn exec_kills_worker() {
    assert_killed_by_sigsys(&probe("exec").await);
}

#[tokio::test]
async fn connect_kills_worker() {
    assert_killed_by_sigsys(&probe("connect").await);
}

#[tokio::test]
async fn ptrace_of_parent_kills_worker() {
    assert_killed_by_sigsys(&probe("ptrace-parent").await);
}

/// The probes are attempted every time: repeated runs never let one
/// through.
#[tokio::test]
async fn forbidden_operations_stopped_every_time() {
    for round in 0..3 {
        for operation in [
            "open",
            "socket",
            "connect",
            "spawn",
            "fork",
            "exec",
            "ptrace-parent",
            "executable-mapping",
        ] {
            let outcome = probe(operation).await;
            assert!(
                matches!(outcome, RunOutcome::KilledBySignal { signal: SIGSYS, .. }),
                "round {round}, {operation}: {outcome:?}"
            );
        }
    }
}

#[test]
fn self_check_prints_every_layer() {
    let output = Command::new(common::worker_path())
        .arg("--self-check")
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the worker");
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let text = String::from_utf8(output.stdout).expect("UTF-8 report");
    let names: Vec<&str> = text
        .lines()
        .map(|line| line.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(names, LAYERS, "{text}");
}

/// Needs a host that allows every layer: Landlock enabled and
/// `unshare(CLONE_NEWUSER)` permitted, as in the CI container.
#[tokio::test]
async fn runner_self_check_reports_all_active() {
    let layers = common::runner().self_check().await.expect("self-check");

    for name in LAYERS {
        let layer = layers.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(layer.state, LayerState::Active, "{layer:?}");
    }
    assert!(layers.degraded().is_empty(), "{layers:?}");
}
