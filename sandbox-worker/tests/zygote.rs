//! Zygote mode keeps the guarantees of an executed worker: each child has
//! an empty environment and only its three pipes, runs under seccomp, and
//! starts from a zygote that never held note text; a child killed by
//! SIGSYS is reported while the zygote lives on, and a killed zygote is
//! replaced. Spawn mode stays available.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sandbox_runner::{OutputKind, RunOutcome, Runner, RunnerConfig, WorkerMode};

const SIGSYS: i32 = 31;

fn zygote_runner(worker_args: &[&str]) -> Runner {
    common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        worker_args: worker_args.iter().map(Into::into).collect(),
        ..RunnerConfig::default()
    })
}

async fn zygote_pid(runner: &Runner) -> u32 {
    runner
        .zygote_pid()
        .await
        .expect("the zygote starts")
        .expect("the runner is in zygote mode")
}

#[tokio::test]
async fn zygote_mode_runs_text_analyzer() {
    let runner = zygote_runner(&[]);

    let report = common::run(&runner, "text-analyzer", "One sentence. Two sentences.").await;

    assert_eq!(runner.worker_mode(), WorkerMode::Zygote);
    let RunOutcome::Ok { output } = &report.outcome else {
        panic!("text-analyzer did not succeed: {report:?}");
    };
    assert_eq!(output.kind, OutputKind::Json);
    assert!(output.value.contains("\"words\":4"), "{}", output.value);
}

#[tokio::test]
async fn spawn_mode_runs_text_analyzer() {
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Spawn,
        ..RunnerConfig::default()
    });

    let report = common::run(&runner, "text-analyzer", "One sentence. Two sentences.").await;

    assert_eq!(runner.worker_mode(), WorkerMode::Spawn);
    assert_eq!(runner.zygote_pid().await.unwrap(), None);
    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
}

#[tokio::test]
async fn zygote_and_child_environments_are_empty() {
    assert!(
        std::env::vars_os().next().is_some(),
        "the test process should have an environment to withhold"
    );
    let runner = zygote_runner(&[]);

    let zygote = zygote_pid(&runner).await;
    let child = runner
        .spawn_idle_zygote_child()
        .await
        .unwrap()
        .expect("zygote mode");
    let zygote_environ = std::fs::read(format!("/proc/{zygote}/environ")).unwrap();
    let child_environ = std::fs::read(format!("/proc/{}/environ", child.pid)).unwrap();

    assert!(
        zygote_environ.is_empty(),
        "zygote environment: {zygote_environ:?}"
    );
    assert!(
        child_environ.is_empty(),
        "child environment: {child_environ:?}"
    );
}

#[tokio::test]
async fn zygote_child_has_only_three_descriptors() {
    let runner = zygote_runner(&[]);

    let child = runner
        .spawn_idle_zygote_child()
        .await
        .unwrap()
        .expect("zygote mode");
    let read_descriptors = || -> BTreeSet<String> {
        std::fs::read_dir(format!("/proc/{}/fd", child.pid))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };

    // The zygote reports the child's pid right after `fork`, before the
    // child has closed the descriptors it inherited; it closes them before
    // it reads its request. Poll until it is set up, within a generous
    // bound that is not a speed target.
    let expected: BTreeSet<String> = ["0", "1", "2"].map(String::from).into();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut descriptors = read_descriptors();
    while descriptors != expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        descriptors = read_descriptors();
    }
    assert_eq!(descriptors, expected);
}

#[tokio::test]
async fn zygote_child_runs_under_seccomp() {
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        run_deadline: Duration::from_secs(5),
        ..RunnerConfig::default()
    });
    let zygote = zygote_pid(&runner).await;
    let zygote_status = std::fs::read_to_string(format!("/proc/{zygote}/status")).unwrap();
    let zygote_filters = seccomp_filters(&zygote_status);

    let run = runner.run(common::request("hostile-infinite-loop", "note"));
    tokio::pin!(run);
    let mut child_filters = BTreeSet::new();
    let report = loop {
        tokio::select! {
            report = &mut run => break report.expect("the runner completes the run"),
            () = tokio::time::sleep(Duration::from_millis(5)) => {
                for child in common::children_of(zygote) {
                    let status = std::fs::read_to_string(format!("/proc/{child}/status"))
                        .unwrap_or_default();
                    if status_value(&status, "Seccomp") == Some("2") {
                        child_filters.insert(seccomp_filters(&status));
                    }
                }
            }
        }
    };

    assert!(
        !matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
    // The zygote's base filter allows everything. The plugin is sent as a
    // component, so its child stacks the load filter and then the run filter.
    assert_eq!(status_value(&zygote_status, "Seccomp"), Some("2"));
    assert_eq!(zygote_filters, 1, "the zygote has only its base filter");
    assert!(
        child_filters.contains(&(zygote_filters + 2)),
        "no zygote child was seen with the load and run filters: {child_filters:?}"
    );
}

/// Returns the value of `field` in a `/proc/PID/status` text.
fn status_value<'s>(status: &'s str, field: &str) -> Option<&'s str> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':').map(str::trim))
}

/// Returns the number of seccomp filters a `/proc/PID/status` text reports.
fn seccomp_filters(status: &str) -> u32 {
    status_value(status, "Seccomp_filters")
        .and_then(|count| count.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn note_of_one_run_is_absent_from_next_child() {
    let marker = format!("zygote-marker-{}", std::process::id());
    let runner = zygote_runner(&[]);
    let zygote = zygote_pid(&runner).await;

    let report = common::run(&runner, "text-analyzer", &format!("{marker} ends here.")).await;
    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
    let child = runner
        .spawn_idle_zygote_child()
        .await
        .unwrap()
        .expect("zygote mode");

    // The scan finds the marker where it is, in this process's memory.
    assert!(common::contains(
        &common::read_memory(std::process::id()),
        marker.as_bytes()
    ));
    assert!(
        !common::contains(&common::read_memory(child.pid), marker.as_bytes()),
        "marker in the next child"
    );
    assert!(
        !common::contains(&common::read_memory(zygote), marker.as_bytes()),
        "marker in the zygote"
    );
}

#[tokio::test]
async fn zygote_survives_child_killed_by_sigsys() {
    let runner = zygote_runner(&["--probe-forbidden-syscall", "open"]);
    let zygote = zygote_pid(&runner).await;

    let first = common::run(&runner, "text-analyzer", "note").await;
    let second = common::run(&runner, "text-analyzer", "note").await;

    for report in [&first, &second] {
        assert!(
            matches!(
                report.outcome,
                RunOutcome::KilledBySignal { signal: SIGSYS, .. }
            ),
            "{report:?}"
        );
    }
    assert_eq!(zygote_pid(&runner).await, zygote, "the zygote was replaced");
}

#[tokio::test]
async fn killed_zygote_is_replaced() {
    let runner = zygote_runner(&[]);
    let first = zygote_pid(&runner).await;

    kill(Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
    let report = common::run(&runner, "text-analyzer", "One sentence.").await;
    let second = zygote_pid(&runner).await;

    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
    assert_ne!(first, second);
    assert_eq!(runner.worker_mode(), WorkerMode::Zygote);
}
