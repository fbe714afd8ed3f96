//! Graceful shutdown: SIGTERM while a plugin run is in progress.
//!
//! Needs `cargo build -p gateway -p sandbox-worker` and the plugin components
//! from `cargo run -p plugin-build` in `target/plugins/`.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{ApiClient, ApiResponse, GatewayOptions, GatewayProcess};
use serde_json::json;
use tempfile::TempDir;

const MASTER_KEY: [u8; 32] = [0x19; 32];
const PASSWORD: &str = "correct horse battery staple";

/// Maximum wait for the gateway to exit after SIGTERM when it has a run to
/// finish: far below the 30 s grace period these tests configure, so a
/// gateway that sits out the whole grace period fails.
const EXIT_BOUND: Duration = Duration::from_secs(20);

fn component(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): build the plugins with `cargo run -p plugin-build`",
            path.display()
        )
    })
}

/// A gateway with a user, a note and the infinite-loop plugin, which runs
/// until its fuel runs out.
struct Setup {
    gateway: GatewayProcess,
    client: ApiClient,
    token: String,
    note_id: String,
    plugin_id: String,
    _data_dir: TempDir,
}

async fn setup(grace_ms: &str) -> Setup {
    let data_dir = tempfile::tempdir().expect("create a data folder");
    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.log_filter = "info,gateway=debug".to_owned();
    options.env = vec![(
        "SANDNOTES_SHUTDOWN_GRACE_MS".to_owned(),
        grace_ms.to_owned(),
    )];
    let gateway = GatewayProcess::start(&options).await;
    let client = ApiClient::new(gateway.base_url());

    let token = client.new_user("alice", PASSWORD).await;
    let note_id = client
        .create_note(&token, "t", "A note for a run that outlasts SIGTERM.")
        .await;
    let upload = client
        .send(
            client
                .request(Method::POST, "/v1/plugins")
                .query(&[("name", "loop")])
                .bearer_auth(&token)
                .header(CONTENT_TYPE, "application/wasm")
                .body(component("hostile-infinite-loop")),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.text());
    let plugin_id = upload.json()["id"].as_str().expect("id").to_owned();

    Setup {
        gateway,
        client,
        token,
        note_id,
        plugin_id,
        _data_dir: data_dir,
    }
}

/// Starts a run, sends SIGTERM once the gateway has logged the run's start,
/// and returns the run's response, the exit status and the log.
async fn sigterm_during_run(setup: Setup) -> (ApiResponse, ExitStatus, String) {
    let Setup {
        gateway,
        client,
        token,
        note_id,
        plugin_id,
        _data_dir,
    } = setup;

    let run = tokio::spawn(async move {
        client
            .call(
                Method::POST,
                &format!("/v1/notes/{note_id}/runs"),
                Some(&token),
                Some(&json!({ "plugin_id": plugin_id })),
            )
            .await
    });
    assert!(
        gateway
            .wait_for_log(&["plugin run started"])
            .await
            .is_some(),
        "the run started"
    );

    let (status, logs) = tokio::time::timeout(EXIT_BOUND, gateway.stop_with_logs())
        .await
        .expect("the gateway exits before its grace period ends");
    let response = run.await.expect("run task");
    (response, status, logs)
}

/// Asserts the infinite loop's own ending: its fuel or its time ran out.
fn assert_run_stopped_at_a_limit(response: &ApiResponse) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.text()
    );
    let kind = response.json()["type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        kind.ends_with("/fuel-exhausted") || kind.ends_with("/deadline-exceeded"),
        "the run ended as {kind}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_run_finish_then_exits_zero() {
    let setup = setup("30000").await;

    let (response, status, logs) = sigterm_during_run(setup).await;

    assert_run_stopped_at_a_limit(&response);
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(logs.contains("shutdown signal received"), "{logs}");
    assert!(logs.contains("stopped"), "{logs}");
    assert!(
        !logs.contains("cancelling plugin runs"),
        "the run finished within the grace period: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_without_grace_cancels_run_cleanly() {
    let setup = setup("0").await;

    let (response, status, logs) = sigterm_during_run(setup).await;

    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    if response.status == StatusCode::SERVICE_UNAVAILABLE {
        response.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "shutting-down");
        assert!(
            response.headers.get(RETRY_AFTER).is_some(),
            "503 has Retry-After"
        );
        assert!(
            response.json()["request_id"].is_string(),
            "{}",
            response.text()
        );
        assert!(logs.contains("cancelling plugin runs"), "{logs}");
        assert!(logs.contains("run_cancelled"), "{logs}");
    } else {
        // The run ended on its own before the cancellation reached it.
        assert_run_stopped_at_a_limit(&response);
    }
}
