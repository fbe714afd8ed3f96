//! The runner against scripts that break the worker's contract: it must
//! bound what it reads, enforce its deadline and report protocol errors.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sandbox_runner::{
    GuestLimits, NoteContent, PluginCode, RunOutcome, RunRequest, Runner, RunnerConfig, RunnerError,
};

/// Writes an executable shell script `body` into `dir` and returns its path.
fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-worker");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    path
}

fn runner(worker: PathBuf, deadline: Duration) -> Runner {
    Runner::new(RunnerConfig {
        worker_path: Some(worker),
        run_deadline: deadline,
        ..RunnerConfig::default()
    })
    .unwrap()
}

fn request() -> RunRequest {
    RunRequest {
        plugin: PluginCode::Component(vec![0; 16]),
        args: "null".to_owned(),
        note: NoteContent {
            title: "title".to_owned(),
            body: "body".to_owned(),
        },
        limits: GuestLimits::default(),
    }
}

#[tokio::test]
async fn flooding_stdout_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let worker = script(dir.path(), "cat > /dev/null\nhead -c 50000000 /dev/zero");

    let error = runner(worker, Duration::from_secs(20))
        .run(request())
        .await
        .unwrap_err();

    assert!(
        matches!(error, RunnerError::ResponseTooLarge { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn flooding_stderr_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let worker = script(
        dir.path(),
        "cat > /dev/null\nhead -c 5000000 /dev/zero | tr '\\0' x >&2\nexit 4",
    );

    let report = runner(worker, Duration::from_secs(20))
        .run(request())
        .await
        .unwrap();

    let RunOutcome::Crashed { exit_code, stderr } = &report.outcome else {
        panic!("expected a crash: {:?}", report.outcome.name());
    };
    assert_eq!(*exit_code, 4);
    assert_eq!(stderr.len(), RunnerConfig::default().max_stderr_bytes);
}

#[tokio::test]
async fn hung_worker_is_killed_at_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let worker = script(dir.path(), "exec sleep 60");

    let report = runner(worker, Duration::from_millis(200))
        .run(request())
        .await
        .unwrap();

    assert_eq!(
        report.outcome,
        RunOutcome::DeadlineExceeded { deadline_ms: 200 }
    );
}

#[tokio::test]
async fn empty_response_is_protocol_error() {
    let dir = tempfile::tempdir().unwrap();
    let worker = script(dir.path(), "cat > /dev/null\nexit 0");

    let error = runner(worker, Duration::from_secs(5))
        .run(request())
        .await
        .unwrap_err();

    assert!(matches!(error, RunnerError::Protocol(_)), "{error}");
}

#[tokio::test]
async fn signal_death_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let worker = script(dir.path(), "cat > /dev/null\nkill -SEGV $$");

    let report = runner(worker, Duration::from_secs(5))
        .run(request())
        .await
        .unwrap();

    assert!(
        matches!(
            report.outcome,
            RunOutcome::KilledBySignal { signal: 11, .. }
        ),
        "{:?}",
        report.outcome
    );
}

#[tokio::test]
async fn missing_worker_is_not_found() {
    let error = Runner::new(RunnerConfig {
        worker_path: Some(PathBuf::from("/nonexistent/sandbox-worker")),
        ..RunnerConfig::default()
    })
    .unwrap_err();

    assert!(
        matches!(error, RunnerError::WorkerNotFound { .. }),
        "{error}"
    );
}
