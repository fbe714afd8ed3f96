//! A run of a plugin loaded in a zygote slot must end like a run that
//! sends the code: same outcome and figures, under the run's rlimits and
//! guest limits.

mod common;

use sandbox_runner::{
    CodeKey, GuestLimits, LoadedRun, PluginCode, RunOutcome, RunReport, RunRequest, Runner,
    RunnerConfig, WorkerMode,
};

fn zygote_runner() -> Runner {
    common::runner_with(RunnerConfig {
        worker_mode: WorkerMode::Zygote,
        zygote_plugin_slots: 4,
        ..RunnerConfig::default()
    })
}

fn request(plugin: PluginCode, limits: GuestLimits) -> RunRequest {
    RunRequest {
        plugin,
        limits,
        ..common::request("text-analyzer", "One sentence. Two sentences.")
    }
}

/// Runs `component` twice in zygote children: once with its code in the
/// request, so the child deserializes it, and once from a slot, so the
/// child uses the code the zygote deserialized.
async fn fresh_and_loaded(
    component: &[u8],
    key: CodeKey,
    limits: GuestLimits,
) -> (RunReport, RunReport) {
    let runner = zygote_runner();
    let code = runner
        .compile(component)
        .await
        .expect("the plugin compiles");

    let fresh = runner
        .run(request(PluginCode::Precompiled(code.clone()), limits))
        .await
        .expect("the fresh run completes");
    runner
        .run_keyed(key, request(PluginCode::Precompiled(code), limits))
        .await
        .expect("the keyed run completes");
    let LoadedRun::Finished(loaded) = runner
        .run_loaded(key, request(PluginCode::Loaded, limits))
        .await
        .expect("the loaded run completes")
    else {
        panic!("the zygote did not keep the plugin loaded");
    };
    (fresh, loaded)
}

#[tokio::test]
async fn loaded_run_below_initial_table_matches_fresh() {
    // The table of `table-grow` starts with one element.
    let limits = GuestLimits {
        table_elements: 0,
        ..GuestLimits::default()
    };
    let component = common::wat_component("table-grow");

    let (fresh, loaded) = fresh_and_loaded(&component, CodeKey([21; 32]), limits).await;

    assert_eq!(
        fresh.outcome,
        RunOutcome::TableLimitExceeded { limit_elements: 0 },
        "{fresh:?}"
    );
    assert_eq!(loaded.outcome, fresh.outcome, "{loaded:?}");
}

#[tokio::test]
async fn loaded_run_figures_match_fresh() {
    let component = common::component("text-analyzer");

    let (fresh, loaded) =
        fresh_and_loaded(&component, CodeKey([22; 32]), GuestLimits::default()).await;

    assert!(matches!(fresh.outcome, RunOutcome::Ok { .. }), "{fresh:?}");
    assert_eq!(loaded.outcome, fresh.outcome, "{loaded:?}");
    // Instantiating text-analyzer costs fuel, because wasmtime 48 charges
    // fuel for copying its data segment.
    assert_eq!(loaded.fuel_used, fresh.fuel_used);
    assert_eq!(loaded.memory_peak_bytes, fresh.memory_peak_bytes);
}

#[tokio::test]
async fn loaded_run_on_small_fuel_matches_fresh() {
    // Less fuel than text-analyzer's instantiation costs.
    let limits = GuestLimits {
        fuel: 10_000,
        ..GuestLimits::default()
    };
    let component = common::component("text-analyzer");

    let (fresh, loaded) = fresh_and_loaded(&component, CodeKey([23; 32]), limits).await;

    assert_eq!(fresh.outcome, RunOutcome::FuelExhausted, "{fresh:?}");
    assert_eq!(loaded.outcome, fresh.outcome, "{loaded:?}");
    assert_eq!(loaded.fuel_used, fresh.fuel_used);
}
