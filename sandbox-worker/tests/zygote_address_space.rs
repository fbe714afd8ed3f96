//! Address space of loaded plugins: the zygote has no RLIMIT_AS, so a
//! load must not reserve there what a run's RLIMIT_AS would refuse, such
//! as the memories of a plugin with many of them.

mod common;

use sandbox_runner::{
    CodeKey, LoadedRun, PluginCode, RunRequest, Runner, RunnerConfig, WorkerMode,
};

fn zygote_runner() -> Runner {
    common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        zygote_plugin_slots: 4,
        ..RunnerConfig::default()
    })
}

fn request(plugin: PluginCode) -> RunRequest {
    RunRequest {
        plugin,
        ..common::request("text-analyzer", "One sentence.")
    }
}

/// Virtual memory size of process `pid`, in bytes, from `VmSize` in
/// `/proc/PID/status`.
fn virtual_memory_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read the status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmSize:"))
        .expect("the status has VmSize");
    let kibibytes: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .expect("VmSize is a number of KiB");
    kibibytes << 10
}

/// Loads `component` into a slot of a new zygote and returns how much
/// address space the zygote gained, with the runner.
async fn zygote_growth_on_load(component: &[u8], key: CodeKey) -> (u64, Runner) {
    let runner = zygote_runner();
    let code = runner
        .compile(component)
        .await
        .expect("the plugin compiles");
    let zygote = runner
        .zygote_pid()
        .await
        .expect("the zygote starts")
        .expect("the runner is in zygote mode");
    let before = virtual_memory_bytes(zygote);

    runner
        .run_keyed(key, request(PluginCode::Precompiled(code)))
        .await
        .expect("the keyed run completes");

    let growth = virtual_memory_bytes(zygote).saturating_sub(before);
    (growth, runner)
}

#[tokio::test]
async fn loaded_slot_fits_address_space_of_a_run() {
    let component = common::wat_component("many-memories");

    let (growth, _runner) = zygote_growth_on_load(&component, CodeKey([32; 32])).await;

    let limit = sandbox_runner::ProcessLimits::default().address_space_bytes;
    assert!(
        growth < limit,
        "one loaded slot grew the zygote by {growth} bytes of address space, \
         more than RLIMIT_AS of a run ({limit} bytes)"
    );
}

#[tokio::test]
async fn loaded_run_with_many_memories_matches_fresh() {
    let runner = zygote_runner();
    let code = runner
        .compile(&common::wat_component("many-memories"))
        .await
        .expect("the plugin compiles");
    let key = CodeKey([33; 32]);

    let fresh = runner
        .run(request(PluginCode::Precompiled(code.clone())))
        .await
        .expect("the fresh run completes");
    runner
        .run_keyed(key, request(PluginCode::Precompiled(code)))
        .await
        .expect("the keyed run completes");
    let LoadedRun::Finished(loaded) = runner
        .run_loaded(key, request(PluginCode::Loaded))
        .await
        .expect("the loaded run completes")
    else {
        panic!("the zygote did not keep the plugin loaded");
    };

    // The fresh child cannot reserve 32 memories under RLIMIT_AS; a loaded
    // child must not inherit them from the zygote, which has no RLIMIT_AS.
    assert_eq!(loaded.outcome, fresh.outcome, "fresh: {fresh:?}");
}
