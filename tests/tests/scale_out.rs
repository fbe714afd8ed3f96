//! Two gateway processes on one PostgreSQL database, as replicas behind a
//! load balancer run: they share notes, plugins and the master key, and each
//! spawns its own workers and keeps its own precompiled-code cache.
//!
//! Needs `cargo build -p gateway -p sandbox-worker`, the plugin components
//! from `cargo run -p plugin-build` in `target/plugins/`, and PostgreSQL.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{ApiClient, GatewayOptions, GatewayProcess, TestDatabase};
use serde_json::{Value, json};
use tempfile::TempDir;

const MASTER_KEY: [u8; 32] = [0x77; 32];
const PASSWORD: &str = "correct horse battery staple";

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

/// One replica: a gateway with its own data folder.
struct Replica {
    gateway: GatewayProcess,
    client: ApiClient,
    _data_dir: TempDir,
}

impl Replica {
    async fn start(database: &TestDatabase) -> Self {
        let data_dir = tempfile::tempdir().expect("create a data folder");
        let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
        options.database_url = Some(database.url().to_owned());
        options.log_filter = "info,gateway=debug".to_owned();
        let gateway = GatewayProcess::start(&options).await;
        let client = ApiClient::new(gateway.base_url());
        Self {
            gateway,
            client,
            _data_dir: data_dir,
        }
    }

    async fn upload(&self, token: &str, name: &str) -> String {
        let response = self
            .client
            .send(
                self.client
                    .request(Method::POST, "/v1/plugins")
                    .query(&[("name", name)])
                    .bearer_auth(token)
                    .header(CONTENT_TYPE, "application/wasm")
                    .body(component(name)),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "upload failed: {}",
            response.text()
        );
        response.json()["id"].as_str().expect("id").to_owned()
    }

    async fn run(&self, token: &str, note_id: &str, plugin_id: &str) -> sandnotes_e2e::ApiResponse {
        self.client
            .call(
                Method::POST,
                &format!("/v1/notes/{note_id}/runs"),
                Some(token),
                Some(&json!({ "plugin_id": plugin_id })),
            )
            .await
    }

    async fn note_body(&self, token: &str, note_id: &str) -> Value {
        let response = self
            .client
            .call(
                Method::GET,
                &format!("/v1/notes/{note_id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["body"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn note_from_one_replica_is_read_and_run_on_another() {
    let database = TestDatabase::create().await;
    let first = Replica::start(&database).await;
    let second = Replica::start(&database).await;

    let token = first.client.new_user("alice", PASSWORD).await;
    let body = "Written through the first replica. Read through the second one.";
    let note_id = first.client.create_note(&token, "shared", body).await;
    let plugin_id = first.upload(&token, "text-analyzer").await;

    assert_eq!(second.note_body(&token, &note_id).await, body);
    let run = second.run(&token, &note_id, &plugin_id).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
    assert_eq!(run.json()["output"]["value"]["words"], 10);
    assert!(
        second
            .gateway
            .logs()
            .contains("compiling plugin after a cache miss"),
        "the second replica fills its own cache"
    );

    let token_from_second = second.client.access_token("alice", PASSWORD).await;
    assert_eq!(first.note_body(&token_from_second, &note_id).await, body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_replica_mid_run_loses_no_note() {
    let database = TestDatabase::create().await;
    let doomed = Replica::start(&database).await;
    let survivor = Replica::start(&database).await;

    let token = doomed.client.new_user("alice", PASSWORD).await;
    let mut notes = Vec::new();
    for index in 0..5 {
        let body = format!("Note number {index}. It must survive a crashed replica.");
        let replica = if index % 2 == 0 { &doomed } else { &survivor };
        let id = replica
            .client
            .create_note(&token, &format!("note {index}"), &body)
            .await;
        notes.push((id, body));
    }
    let looping = doomed.upload(&token, "hostile-infinite-loop").await;

    // The run's connection breaks when the process dies, so this request
    // goes through reqwest directly and its error is expected.
    let run_url = doomed
        .gateway
        .url(&format!("/v1/notes/{}/runs", notes[0].0));
    let run = tokio::spawn({
        let token = token.clone();
        let looping = looping.clone();
        async move {
            reqwest::Client::new()
                .post(run_url)
                .bearer_auth(token)
                .json(&json!({ "plugin_id": looping }))
                .send()
                .await
        }
    });
    assert!(
        doomed
            .gateway
            .wait_for_log(&["plugin run started"])
            .await
            .is_some(),
        "the run started on the doomed replica"
    );
    drop(doomed.gateway);
    let interrupted = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the interrupted request ends")
        .expect("request task");
    if let Ok(response) = interrupted {
        // The run can finish in the moment before the kill lands.
        assert!(
            response.status() == StatusCode::UNPROCESSABLE_ENTITY,
            "unexpected status {}",
            response.status()
        );
    }

    let list = survivor
        .client
        .call(Method::GET, "/v1/notes", Some(&token), None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(
        list.json()["notes"].as_array().expect("notes array").len(),
        notes.len()
    );
    for (id, body) in &notes {
        assert_eq!(survivor.note_body(&token, id).await, body.as_str());
    }

    let analyzer = survivor.upload(&token, "text-analyzer").await;
    let run = survivor.run(&token, &notes[0].0, &analyzer).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
}
