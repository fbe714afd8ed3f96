//! Plugins loaded into the zygote's slots: a child inherits the loaded
//! plugin and gets no code with its request, with the same guarantees as
//! any other child. Code that fails to load falls back to being sent with
//! the request, and spawn mode never loads a plugin.

mod common;

use std::time::Duration;

use sandbox_runner::{
    CodeKey, LoadedRun, PluginCode, RunOutcome, RunReport, RunRequest, Runner, RunnerConfig,
    WorkerMode,
};

const SIGSYS: i32 = 31;

fn stack() -> u64 {
    sandbox_runner::GuestLimits::default().wasm_stack_bytes
}

fn runner(mode: WorkerMode, slots: usize, worker_args: &[&str]) -> Runner {
    common::runner_with(RunnerConfig {
        worker_mode: mode,
        zygote_plugin_slots: slots,
        worker_args: worker_args.iter().map(Into::into).collect(),
        ..RunnerConfig::default()
    })
}

fn key(byte: u8) -> CodeKey {
    CodeKey([byte; 32])
}

async fn precompiled(runner: &Runner, name: &str) -> Vec<u8> {
    runner
        .compile(&common::component(name))
        .await
        .expect("the plugin compiles")
}

fn request(plugin: PluginCode, body: &str) -> RunRequest {
    RunRequest {
        plugin,
        ..common::request("text-analyzer", body)
    }
}

fn output(report: &RunReport) -> &str {
    match &report.outcome {
        RunOutcome::Ok { output } => &output.value,
        other => panic!("the run did not succeed: {other:?}"),
    }
}

async fn zygote_pid(runner: &Runner) -> u32 {
    runner
        .zygote_pid()
        .await
        .expect("the zygote starts")
        .expect("the runner is in zygote mode")
}

#[tokio::test]
async fn loaded_plugin_runs_without_code() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    let body = "One sentence. Two sentences.";

    let before = runner
        .run_loaded(key(1), request(PluginCode::Loaded, body))
        .await
        .unwrap();
    assert!(matches!(before, LoadedRun::NotLoaded(_)), "{before:?}");
    assert!(!runner.is_loaded(key(1), stack()).await);

    let keyed = runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), body))
        .await
        .unwrap();
    assert!(runner.is_loaded(key(1), stack()).await);

    let LoadedRun::Finished(loaded) = runner
        .run_loaded(key(1), request(PluginCode::Loaded, body))
        .await
        .unwrap()
    else {
        panic!("the loaded plugin did not run");
    };
    assert!(output(&keyed).contains("\"words\":4"), "{}", output(&keyed));
    assert_eq!(output(&loaded), output(&keyed));
}

#[tokio::test]
async fn spawn_mode_loads_no_plugin() {
    let runner = runner(WorkerMode::Spawn, 4, &[]);
    let code = precompiled(&runner, "text-analyzer").await;

    let keyed = runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "One."))
        .await
        .unwrap();
    let loaded = runner
        .run_loaded(key(1), request(PluginCode::Loaded, "One."))
        .await
        .unwrap();

    assert!(output(&keyed).contains("\"words\":1"), "{}", output(&keyed));
    assert!(!runner.is_loaded(key(1), stack()).await);
    assert!(matches!(loaded, LoadedRun::NotLoaded(_)), "{loaded:?}");
}

#[tokio::test]
async fn invalid_code_is_not_loaded() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let zygote = zygote_pid(&runner).await;

    let report = runner
        .run_keyed(
            key(2),
            request(
                PluginCode::Precompiled(b"not precompiled code".to_vec()),
                "One.",
            ),
        )
        .await
        .unwrap();

    assert!(
        matches!(report.outcome, RunOutcome::InvalidPlugin { .. }),
        "{report:?}"
    );
    assert!(!runner.is_loaded(key(2), stack()).await);
    assert_eq!(zygote_pid(&runner).await, zygote, "the zygote was replaced");
    let code = precompiled(&runner, "text-analyzer").await;
    let valid = runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "One."))
        .await
        .unwrap();
    assert!(output(&valid).contains("\"words\":1"), "{}", output(&valid));
}

#[tokio::test]
async fn loaded_child_dies_of_sigsys_and_zygote_lives() {
    let runner = runner(
        WorkerMode::Zygote,
        4,
        &["--probe-forbidden-syscall", "open"],
    );
    let code = precompiled(&runner, "text-analyzer").await;
    let zygote = zygote_pid(&runner).await;

    let keyed = runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "note"))
        .await
        .unwrap();
    let LoadedRun::Finished(loaded) = runner
        .run_loaded(key(1), request(PluginCode::Loaded, "note"))
        .await
        .unwrap()
    else {
        panic!("the loaded plugin did not run");
    };

    for report in [&keyed, &loaded] {
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
async fn note_of_loaded_run_is_absent_from_next_child() {
    let marker = format!("slot-marker-{}", std::process::id());
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    let zygote = zygote_pid(&runner).await;
    let body = format!("{marker} ends here.");

    runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "warm-up"))
        .await
        .unwrap();
    let LoadedRun::Finished(report) = runner
        .run_loaded(key(1), request(PluginCode::Loaded, &body))
        .await
        .unwrap()
    else {
        panic!("the loaded plugin did not run");
    };
    assert!(
        output(&report).contains("\"words\":3"),
        "{}",
        output(&report)
    );
    let child = runner
        .spawn_idle_zygote_child()
        .await
        .unwrap()
        .expect("zygote mode");

    let child_memory = common::read_memory(child.pid);
    let zygote_memory = common::read_memory(zygote);
    assert!(
        !common::contains(&child_memory, marker.as_bytes()),
        "marker in the next child"
    );
    assert!(
        !common::contains(&zygote_memory, marker.as_bytes()),
        "marker in the zygote"
    );
}

#[tokio::test]
async fn least_recently_used_plugin_is_evicted() {
    // A warm child of the evicted plugin would still count as loading it.
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        zygote_plugin_slots: 1,
        zygote_warm_children: 0,
        ..RunnerConfig::default()
    });
    let analyzer = precompiled(&runner, "text-analyzer").await;
    let summarizer = precompiled(&runner, "summarizer").await;

    runner
        .run_keyed(key(1), request(PluginCode::Precompiled(analyzer), "One."))
        .await
        .unwrap();
    assert!(runner.is_loaded(key(1), stack()).await);
    let summary = runner
        .run_keyed(key(2), request(PluginCode::Precompiled(summarizer), "One."))
        .await
        .unwrap();

    assert!(
        output(&summary).contains("sentences"),
        "{}",
        output(&summary)
    );
    assert!(runner.is_loaded(key(2), stack()).await);
    assert!(!runner.is_loaded(key(1), stack()).await);
}

#[tokio::test]
async fn loaded_run_after_zygote_kill_comes_back_unused() {
    // Without warm children; `zygote_warm.rs` covers a warm child of a
    // dying zygote.
    let runner = common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        run_deadline: Duration::from_secs(5),
        zygote_warm_children: 0,
        ..RunnerConfig::default()
    });
    let code = precompiled(&runner, "text-analyzer").await;
    runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "One."))
        .await
        .unwrap();
    let zygote = zygote_pid(&runner).await;

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(zygote as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // The first attempt may see the dying zygote or the new one; neither
    // has the plugin loaded, so the request comes back.
    let loaded = runner
        .run_loaded(key(1), request(PluginCode::Loaded, "One."))
        .await
        .unwrap();

    assert!(matches!(loaded, LoadedRun::NotLoaded(_)), "{loaded:?}");
    assert_ne!(zygote_pid(&runner).await, zygote);
}

#[tokio::test]
async fn loaded_loop_hits_epoch_deadline() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = precompiled(&runner, "hostile-infinite-loop").await;
    let limits = sandbox_runner::GuestLimits {
        fuel: u64::MAX / 2,
        epoch_deadline_ms: 100,
        ..sandbox_runner::GuestLimits::default()
    };

    let keyed = RunRequest {
        limits,
        ..request(PluginCode::Precompiled(code), "note")
    };
    let keyed = runner.run_keyed(key(3), keyed).await.unwrap();
    let loaded = RunRequest {
        limits,
        ..request(PluginCode::Loaded, "note")
    };
    let LoadedRun::Finished(loaded) = runner.run_loaded(key(3), loaded).await.unwrap() else {
        panic!("the loaded plugin did not run");
    };

    assert_eq!(keyed.outcome, RunOutcome::EpochDeadline, "{keyed:?}");
    assert_eq!(loaded.outcome, RunOutcome::EpochDeadline, "{loaded:?}");
}

#[tokio::test]
async fn loaded_runs_start_from_the_same_memory() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = precompiled(&runner, "hostile-retention").await;
    runner
        .run_keyed(key(5), request(PluginCode::Precompiled(code), "first"))
        .await
        .unwrap();

    for body in ["second", "third"] {
        let LoadedRun::Finished(report) = runner
            .run_loaded(key(5), request(PluginCode::Loaded, body))
            .await
            .unwrap()
        else {
            panic!("the loaded plugin did not run");
        };
        assert_eq!(output(&report), r#"{"previous":null}"#, "run on {body}");
    }
}

#[tokio::test]
async fn loaded_run_keeps_the_limits_of_its_request() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = precompiled(&runner, "text-analyzer").await;
    runner
        .run_keyed(key(6), request(PluginCode::Precompiled(code), "warm-up"))
        .await
        .unwrap();
    let with_limits = |limits| RunRequest {
        limits,
        ..request(PluginCode::Loaded, "One sentence. Two sentences.")
    };
    let defaults = sandbox_runner::GuestLimits::default();

    let starved = with_limits(sandbox_runner::GuestLimits {
        fuel: 1_000,
        ..defaults
    });
    // Less memory than the plugin's initial memory: the zygote's instance
    // does not fit, and the child's own instantiation reports the limit.
    let small_memory = with_limits(sandbox_runner::GuestLimits {
        memory_bytes: 64 << 10,
        ..defaults
    });
    let mut outcomes = Vec::new();
    for request in [starved, small_memory, with_limits(defaults)] {
        let LoadedRun::Finished(report) = runner.run_loaded(key(6), request).await.unwrap() else {
            panic!("the loaded plugin did not run");
        };
        outcomes.push(report);
    }

    assert_eq!(
        outcomes[0].outcome,
        RunOutcome::FuelExhausted,
        "{:?}",
        outcomes[0]
    );
    assert_eq!(outcomes[0].fuel_used, 1_000);
    assert_eq!(
        outcomes[1].outcome,
        RunOutcome::MemoryLimitExceeded {
            limit_bytes: 64 << 10
        },
        "{:?}",
        outcomes[1]
    );
    assert!(
        output(&outcomes[2]).contains("\"words\":4"),
        "{:?}",
        outcomes[2]
    );
    assert!(
        outcomes[2].memory_peak_bytes > 64 << 10,
        "{:?}",
        outcomes[2]
    );
}

#[tokio::test]
async fn start_function_does_not_run_in_the_zygote() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    let code = runner
        .compile(&common::wat_component("start-loop"))
        .await
        .expect("the plugin compiles");
    let zygote = zygote_pid(&runner).await;
    let limits = sandbox_runner::GuestLimits {
        fuel: 1_000_000,
        epoch_deadline_ms: 10_000,
        ..sandbox_runner::GuestLimits::default()
    };

    let runs = async {
        let keyed = RunRequest {
            limits,
            ..request(PluginCode::Precompiled(code), "note")
        };
        let keyed = runner.run_keyed(key(7), keyed).await.unwrap();
        let loaded = RunRequest {
            limits,
            ..request(PluginCode::Loaded, "note")
        };
        let LoadedRun::Finished(loaded) = runner.run_loaded(key(7), loaded).await.unwrap() else {
            panic!("the loaded plugin did not run");
        };
        (keyed, loaded)
    };
    // A zygote that ran the start function would never send `Loaded`.
    let (keyed, loaded) = tokio::time::timeout(Duration::from_secs(30), runs)
        .await
        .expect("the load and both runs finish");

    assert_eq!(keyed.outcome, RunOutcome::FuelExhausted, "{keyed:?}");
    assert_eq!(loaded.outcome, RunOutcome::FuelExhausted, "{loaded:?}");
    assert_eq!(zygote_pid(&runner).await, zygote, "the zygote was replaced");
}

#[tokio::test]
async fn zygote_stays_single_threaded_after_loads() {
    let runner = runner(WorkerMode::Zygote, 4, &[]);
    for (byte, name) in [(1, "text-analyzer"), (2, "summarizer")] {
        let code = precompiled(&runner, name).await;
        runner
            .run_keyed(key(byte), request(PluginCode::Precompiled(code), "One."))
            .await
            .unwrap();
    }
    let zygote = zygote_pid(&runner).await;

    let status = std::fs::read_to_string(format!("/proc/{zygote}/status")).unwrap();
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .map(str::trim);

    assert!(runner.is_loaded(key(2), stack()).await);
    assert_eq!(
        threads,
        Some("1"),
        "a thread in the zygote would not survive fork"
    );
}

#[tokio::test]
async fn zygote_without_slots_sends_code() {
    let runner = runner(WorkerMode::Zygote, 0, &[]);
    let code = precompiled(&runner, "text-analyzer").await;

    let report = runner
        .run_keyed(key(1), request(PluginCode::Precompiled(code), "One."))
        .await
        .unwrap();

    assert!(
        output(&report).contains("\"words\":1"),
        "{}",
        output(&report)
    );
    assert_eq!(runner.worker_mode(), WorkerMode::Zygote);
    assert!(!runner.is_loaded(key(1), stack()).await);
}
