//! Warm children: the runner keeps a child forked ahead for each plugin
//! run recently, and the next run of that plugin takes it. A warm child
//! has the guarantees of any zygote child: an empty environment, three
//! descriptors, no note of any run, a seccomp filter once its request
//! arrives. One that died while parked, or whose zygote died, is never
//! handed a request.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sandbox_runner::{
    CodeKey, LoadedRun, PluginCode, RunOutcome, RunReport, RunRequest, Runner, RunnerConfig,
    WorkerMode,
};

const SIGSYS: i32 = 31;

/// Generous bound on how long a background fork or a process exit may
/// take; not a speed target.
const PATIENCE: Duration = Duration::from_secs(10);

fn runner(slots: usize, warm_children: usize, worker_args: &[&str]) -> Runner {
    common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        zygote_plugin_slots: slots,
        zygote_warm_children: warm_children,
        worker_args: worker_args.iter().map(Into::into).collect(),
        ..RunnerConfig::default()
    })
}

fn stack() -> u64 {
    sandbox_runner::GuestLimits::default().wasm_stack_bytes
}

fn key(byte: u8) -> CodeKey {
    CodeKey([byte; 32])
}

fn request(plugin: PluginCode, body: &str) -> RunRequest {
    RunRequest {
        plugin,
        ..common::request("text-analyzer", body)
    }
}

async fn precompiled(runner: &Runner, name: &str) -> Vec<u8> {
    runner
        .compile(&common::component(name))
        .await
        .expect("the plugin compiles")
}

/// Runs text-analyzer on `body` under `key(1)`, loading `code` if needed.
async fn run_keyed(runner: &Runner, code: &[u8], body: &str) -> RunReport {
    runner
        .run_keyed(
            key(1),
            request(PluginCode::Precompiled(code.to_vec()), body),
        )
        .await
        .expect("the runner completes the run")
}

/// Runs the plugin loaded under `key(1)` on `body`.
async fn run_loaded(runner: &Runner, body: &str) -> RunReport {
    match runner
        .run_loaded(key(1), request(PluginCode::Loaded, body))
        .await
        .expect("the runner completes the run")
    {
        LoadedRun::Finished(report) => report,
        LoadedRun::NotLoaded(_) => panic!("the plugin is no longer loaded"),
    }
}

fn output(report: &RunReport) -> &str {
    match &report.outcome {
        RunOutcome::Ok { output } => &output.value,
        other => panic!("the run did not succeed: {other:?}"),
    }
}

fn assert_ok(report: &RunReport) {
    assert!(
        matches!(report.outcome, RunOutcome::Ok { .. }),
        "{report:?}"
    );
}

/// Waits until the runner has parked `count` warm children and returns
/// their pids. The fork runs in a task of this runtime, so this awaits.
async fn warm_children(runner: &Runner, count: usize) -> Vec<u32> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pids = runner.warm_zygote_children();
        if pids.len() >= count {
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "{count} warm children were not parked within {PATIENCE:?}; parked: {pids:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until process `pid` has ended and been reaped.
async fn wait_until_gone(pid: u32) {
    let deadline = Instant::now() + PATIENCE;
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            Instant::now() < deadline,
            "process {pid} still exists after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until process `pid` has exited; a zombie counts, because a
/// killed zygote stays one until the runner replaces it.
async fn wait_until_exited(pid: u32) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let (_, after_name) = stat.rsplit_once(')')?;
                after_name.split_whitespace().next().map(str::to_owned)
            });
        if state.as_deref().is_none_or(|state| state == "Z") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} is still running after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Parent process id of the running process `pid`.
fn parent_of(pid: u32) -> u32 {
    common::parent_of(pid).expect("the process is running")
}

#[tokio::test]
async fn loaded_run_parks_warm_child() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;

    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await;
    let zygote = runner.zygote_pid().await.unwrap().expect("zygote mode");

    assert_eq!(warm.len(), 1, "{warm:?}");
    assert_eq!(parent_of(warm[0]), zygote);
}

#[tokio::test]
async fn next_run_takes_warm_child() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await[0];

    let report = run_loaded(&runner, "One sentence. Two sentences.").await;

    assert_ok(&report);
    wait_until_gone(warm).await;
    let parked = warm_children(&runner, 1).await;
    assert!(
        !parked.contains(&warm),
        "{warm} is still parked: {parked:?}"
    );
}

#[tokio::test]
async fn warm_child_environment_is_empty() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await[0];

    let environ = std::fs::read(format!("/proc/{warm}/environ")).unwrap();

    assert!(environ.is_empty(), "warm child environment: {environ:?}");
}

#[tokio::test]
async fn warm_child_has_only_three_descriptors() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await[0];

    common::wait_until_reading_stdin(warm);
    let descriptors: BTreeSet<String> = std::fs::read_dir(format!("/proc/{warm}/fd"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();

    let expected: BTreeSet<String> = ["0", "1", "2"].map(String::from).into();
    assert_eq!(descriptors, expected);
}

#[tokio::test]
async fn warm_child_has_no_new_privs() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await[0];

    common::wait_until_reading_stdin(warm);
    let status = std::fs::read_to_string(format!("/proc/{warm}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .map(str::to_owned)
    };

    // Inherited from the zygote, like its allow-all base filter. The
    // rlimits and the run filter come with the request (see
    // `warm_child_installs_seccomp_filter`).
    assert_eq!(field("NoNewPrivs:").as_deref(), Some("1"), "{status}");
}

#[tokio::test]
async fn dropped_runner_ends_warm_children() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await;

    drop(runner);

    for pid in warm {
        wait_until_exited(pid).await;
    }
}

#[tokio::test]
async fn warm_child_forked_during_run_lacks_its_note() {
    let marker = format!("warm-marker-{}", std::process::id());
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    warm_children(&runner, 1).await;

    // This run takes the parked child and requests another one, which the
    // zygote forks while the run has the marker.
    assert_ok(&run_loaded(&runner, &format!("{marker} ends here.")).await);
    let warm = warm_children(&runner, 1).await;
    let zygote = runner.zygote_pid().await.unwrap().expect("zygote mode");

    // The scan finds the marker where it is, in this process's memory.
    assert!(common::contains(
        &common::read_memory(std::process::id()),
        marker.as_bytes()
    ));
    for pid in &warm {
        common::wait_until_reading_stdin(*pid);
        assert!(
            !common::contains(&common::read_memory(*pid), marker.as_bytes()),
            "marker in warm child {pid}"
        );
    }
    assert!(
        !common::contains(&common::read_memory(zygote), marker.as_bytes()),
        "marker in the zygote"
    );
}

#[tokio::test]
async fn warm_child_installs_seccomp_filter() {
    let runner = runner(4, 2, &["--probe-forbidden-syscall", "open"]);
    let code = precompiled(&runner, "text-analyzer").await;
    let first = run_keyed(&runner, &code, "note").await;
    warm_children(&runner, 1).await;

    let second = run_loaded(&runner, "note").await;

    for report in [&first, &second] {
        assert!(
            matches!(
                report.outcome,
                RunOutcome::KilledBySignal { signal: SIGSYS, .. }
            ),
            "{report:?}"
        );
    }
}

#[tokio::test]
async fn dead_warm_child_is_skipped() {
    let runner = runner(4, 1, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let warm = warm_children(&runner, 1).await[0];

    kill(Pid::from_raw(warm as i32), Signal::SIGKILL).unwrap();
    wait_until_gone(warm).await;
    let report = run_loaded(&runner, "One sentence. Two sentences.").await;

    assert_ok(&report);
}

#[tokio::test]
async fn warm_children_of_killed_zygote_are_not_used() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    let old_warm = warm_children(&runner, 1).await;
    let first = runner.zygote_pid().await.unwrap().expect("zygote mode");

    kill(Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
    wait_until_exited(first).await;
    let report = run_keyed(&runner, &code, "One sentence. Two sentences.").await;
    let second = runner.zygote_pid().await.unwrap().expect("zygote mode");

    assert_ok(&report);
    assert_ne!(first, second);
    // They die with their zygote; init, which adopts them, may not reap
    // them, so a zombie counts.
    for pid in old_warm {
        wait_until_exited(pid).await;
    }
    // The run above may have found the old zygote still marked alive and
    // run without loading; this one loads into the new zygote.
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    for pid in warm_children(&runner, 1).await {
        assert_eq!(parent_of(pid), second, "warm child {pid}");
    }
}

#[tokio::test]
async fn run_as_zygote_dies_comes_back_unused() {
    let runner = runner(4, 2, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    warm_children(&runner, 1).await;
    let zygote = runner.zygote_pid().await.unwrap().expect("zygote mode");

    // The run may take the warm child before the zygote is gone. If the
    // kill reaches the child before it responds, the request comes back
    // unused, as it does when the run finds the zygote dead. It never
    // fails.
    kill(Pid::from_raw(zygote as i32), Signal::SIGKILL).unwrap();
    let loaded = runner
        .run_loaded(key(1), request(PluginCode::Loaded, "One sentence."))
        .await
        .unwrap();

    match loaded {
        LoadedRun::NotLoaded(_) => {}
        LoadedRun::Finished(report) => assert_ok(&report),
    }
}

#[tokio::test]
async fn zygote_killed_mid_run_returns_request() {
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        run_deadline: Duration::from_secs(10),
        ..RunnerConfig::default()
    });
    let code = precompiled(&runner, "hostile-infinite-loop").await;
    let limits = sandbox_runner::GuestLimits {
        fuel: u64::MAX / 2,
        epoch_deadline_ms: 1_500,
        ..sandbox_runner::GuestLimits::default()
    };
    let looping = |plugin| RunRequest {
        limits,
        ..request(plugin, "note")
    };
    // The first run loads the plugin and parks a warm child for it; the
    // epoch deadline ends it.
    let first = runner
        .run_keyed(key(1), looping(PluginCode::Precompiled(code)))
        .await
        .unwrap();
    assert!(
        matches!(first.outcome, RunOutcome::EpochDeadline),
        "{first:?}"
    );
    let warm = warm_children(&runner, 1).await[0];
    let zygote = runner.zygote_pid().await.unwrap().expect("zygote mode");

    let kill_when_running = async {
        // The warm child leaves the pool when the run takes it, and then
        // loops until the kill.
        let deadline = Instant::now() + PATIENCE;
        while runner.warm_zygote_children().contains(&warm) {
            assert!(Instant::now() < deadline, "the run did not take {warm}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        kill(Pid::from_raw(zygote as i32), Signal::SIGKILL).unwrap();
    };
    let (loaded, ()) = tokio::join!(
        runner.run_loaded(key(1), looping(PluginCode::Loaded)),
        kill_when_running
    );

    let loaded = loaded.expect("a dead zygote is not a runner error");
    let LoadedRun::NotLoaded(request) = loaded else {
        panic!("the run did not come back: {loaded:?}");
    };
    assert_eq!(request.note.body, "note");
    assert!(matches!(request.plugin, PluginCode::Loaded));
}

#[tokio::test]
async fn cancelled_run_kills_its_child() {
    let runner = runner(4, 0, &[]);
    let code = precompiled(&runner, "hostile-infinite-loop").await;
    let looping = |plugin, epoch_deadline_ms| RunRequest {
        limits: sandbox_runner::GuestLimits {
            fuel: u64::MAX / 2,
            epoch_deadline_ms,
            ..sandbox_runner::GuestLimits::default()
        },
        ..request(plugin, "note")
    };
    // Loads the plugin; the short epoch deadline ends this run.
    let first = runner
        .run_keyed(key(1), looping(PluginCode::Precompiled(code), 100))
        .await
        .unwrap();
    assert!(
        matches!(first.outcome, RunOutcome::EpochDeadline),
        "{first:?}"
    );
    let zygote = runner.zygote_pid().await.unwrap().expect("zygote mode");

    // This run would loop until its 1.9 s epoch deadline; its future is
    // dropped after 0.3 s instead.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        runner.run_loaded(key(1), looping(PluginCode::Loaded, 1_900)),
    )
    .await;
    assert!(cancelled.is_err(), "the run ended early: {cancelled:?}");

    // Killed and reaped well before its epoch deadline; the bound leaves
    // room for a slow machine.
    let deadline = Instant::now() + Duration::from_millis(1_000);
    while !common::children_of(zygote).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the cancelled run's child still runs: {:?}",
            common::children_of(zygote)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn warm_child_keeps_plugin_evicted_from_zygote() {
    let runner = runner(1, 2, &[]);
    let analyzer = precompiled(&runner, "text-analyzer").await;
    let summarizer = precompiled(&runner, "summarizer").await;
    let body = "One sentence. Two sentences.";
    let expected = output(&run_keyed(&runner, &analyzer, body).await).to_owned();
    let warm = warm_children(&runner, 1).await;

    // The only slot goes to the summarizer; the warm child was forked
    // with text-analyzer and keeps its own copy.
    let summary = runner
        .run_keyed(key(2), request(PluginCode::Precompiled(summarizer), body))
        .await
        .unwrap();
    assert!(output(&summary).contains("sentences"), "{summary:?}");
    assert!(!output(&summary).contains("flesch"), "{summary:?}");
    assert!(runner.is_loaded(key(2), stack()).await);
    assert!(runner.warm_zygote_children().contains(&warm[0]));
    // The runner counts text-analyzer as loaded while its warm child waits.
    assert!(runner.is_loaded(key(1), stack()).await);

    let report = run_loaded(&runner, body).await;

    assert_eq!(output(&report), expected);
    wait_until_gone(warm[0]).await;
    assert!(!runner.is_loaded(key(1), stack()).await);
}

#[tokio::test]
async fn zero_warm_children_parks_none() {
    let runner = runner(4, 0, &[]);
    let code = precompiled(&runner, "text-analyzer").await;

    assert_ok(&run_keyed(&runner, &code, "One sentence.").await);
    assert_ok(&run_loaded(&runner, "One sentence.").await);
    tokio::time::sleep(Duration::from_millis(100)).await;

    assert_eq!(runner.warm_zygote_children(), Vec::<u32>::new());
}
