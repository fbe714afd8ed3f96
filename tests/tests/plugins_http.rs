//! The main job end to end: upload plugins, run them on notes, over real HTTP
//! against the real `gateway` binary and real sandbox workers.
//!
//! Needs `cargo build -p gateway -p sandbox-worker` and the plugin components
//! from `cargo run -p plugin-build` in `target/plugins/`; `scripts/test.sh`
//! does both.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{
    ApiClient, ApiResponse, Backend, GatewayOptions, GatewayProcess, TestDatabase, on_both_stores,
};
use serde_json::{Value, json};
use tempfile::TempDir;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

const MASTER_KEY: [u8; 32] = [0x3C; 32];
const PASSWORD: &str = "correct horse battery staple";
const CORPUS_TEXT: &str = "austen-pride-and-prejudice-ch01.txt";

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate is one level below the repository root")
        .to_owned()
}

/// Reads `target/plugins/NAME.wasm`, failing with the build command if absent.
fn component(name: &str) -> Vec<u8> {
    let path = repository_root()
        .join("target/plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): build the plugins with `cargo run -p plugin-build`",
            path.display()
        )
    })
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(repository_root().join("corpus").join(name)).expect("corpus text")
}

/// A gateway with its data folder and, for PostgreSQL, its database.
struct Deployment {
    gateway: GatewayProcess,
    client: ApiClient,
    _database: Option<TestDatabase>,
    data_dir: TempDir,
}

impl Deployment {
    async fn start(backend: Backend, env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("create a data folder");
        let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create().await),
        };
        options.database_url = database.as_ref().map(|database| database.url().to_owned());
        options.env = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();

        let gateway = GatewayProcess::start(&options).await;
        let client = ApiClient::new(gateway.base_url());
        Self {
            gateway,
            client,
            _database: database,
            data_dir,
        }
    }

    async fn upload(
        &self,
        token: &str,
        name: &str,
        visibility: &str,
        bytes: Vec<u8>,
    ) -> ApiResponse {
        let request = self
            .client
            .request(Method::POST, "/v1/plugins")
            .query(&[("name", name), ("visibility", visibility)])
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/wasm")
            .body(bytes);
        self.client.send(request).await
    }

    async fn upload_with(
        &self,
        client: &ApiClient,
        token: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> ApiResponse {
        let request = client
            .request(Method::POST, "/v1/plugins")
            .query(&[("name", name)])
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/wasm")
            .body(bytes);
        client.send(request).await
    }

    /// Uploads a plugin and returns its id.
    async fn upload_ok(&self, token: &str, name: &str, visibility: &str, bytes: Vec<u8>) -> String {
        let response = self.upload(token, name, visibility, bytes).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "upload failed: {}",
            response.text()
        );
        response.json()["id"].as_str().expect("id").to_owned()
    }

    async fn run(&self, token: &str, note_id: &str, plugin_id: &str, args: Value) -> ApiResponse {
        let body = json!({ "plugin_id": plugin_id, "args": args });
        self.client
            .call(
                Method::POST,
                &format!("/v1/notes/{note_id}/runs"),
                Some(token),
                Some(&body),
            )
            .await
    }

    async fn plugin_count(&self, token: &str) -> usize {
        let list = self
            .client
            .call(Method::GET, "/v1/plugins", Some(token), None)
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        list.json()["plugins"]
            .as_array()
            .expect("plugins array")
            .len()
    }
}

/// Builds a component whose core module is a stub satisfying `world` in `wit`.
fn component_for_world(wit: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("test.wit", wit).expect("test WIT parses");
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("world");
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("embed metadata");
    ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("encode")
}

fn wasi_component() -> Vec<u8> {
    component_for_world(
        "package test:plugin;\n\
         world plugin {\n\
           import wasi:cli/environment@0.2.0;\n\
           variant output { text(string), json(string), html(string) }\n\
           export run: func(args: string) -> result<output, string>;\n\
         }\n\
         package wasi:cli@0.2.0 {\n\
           interface environment { get-environment: func() -> list<tuple<string, string>>; }\n\
         }\n",
    )
}

fn component_without_run() -> Vec<u8> {
    component_for_world(
        "package test:plugin;\n\
         world plugin {\n\
           import sandnotes:plugin/host@0.1.0;\n\
         }\n\
         package sandnotes:plugin@0.1.0 {\n\
           interface host { note-body: func() -> string; }\n\
         }\n",
    )
}

/// Each worker mode gives the same figures on a first run (code sent to
/// the worker, or loaded into the zygote) and a second one (the zygote's
/// loaded plugin, unless slots are off or the mode is spawn).
async fn every_worker_mode_gives_same_figures(backend: Backend) {
    let text = corpus(CORPUS_TEXT);
    let expected = text_analyzer::readability::analyze(&text);
    let modes: [&[(&str, &str)]; 3] = [
        &[("SANDNOTES_WORKER_MODE", "zygote")],
        &[
            ("SANDNOTES_WORKER_MODE", "zygote"),
            ("SANDNOTES_ZYGOTE_PLUGIN_SLOTS", "0"),
        ],
        &[("SANDNOTES_WORKER_MODE", "spawn")],
    ];

    for env in modes {
        let deployment = Deployment::start(backend, env).await;
        let token = deployment.client.new_user("alice", PASSWORD).await;
        let note_id = deployment
            .client
            .create_note(&token, "Chapter 1", &text)
            .await;
        let plugin_id = deployment
            .upload_ok(
                &token,
                "text-analyzer",
                "private",
                component("text-analyzer"),
            )
            .await;

        for attempt in ["first", "second"] {
            let run = deployment
                .run(&token, &note_id, &plugin_id, Value::Null)
                .await;
            assert_eq!(
                run.status,
                StatusCode::OK,
                "{env:?} {attempt}: {}",
                run.text()
            );
            let figures = &run.json()["output"]["value"];
            assert_eq!(figures["words"], expected.words, "{env:?} {attempt}");
            assert_eq!(
                figures["syllables"], expected.syllables,
                "{env:?} {attempt}"
            );
        }
    }
}

async fn text_analyzer_run_matches_native_figures(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let text = corpus(CORPUS_TEXT);
    let note_id = deployment
        .client
        .create_note(&token, "Chapter 1", &text)
        .await;
    let plugin_id = deployment
        .upload_ok(
            &token,
            "text-analyzer",
            "private",
            component("text-analyzer"),
        )
        .await;

    let run = deployment
        .run(&token, &note_id, &plugin_id, Value::Null)
        .await;

    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
    let body = run.json();
    assert_eq!(body["output"]["kind"], "json");
    let figures = &body["output"]["value"];
    let expected = text_analyzer::readability::analyze(&text);
    assert_eq!(figures["words"], expected.words);
    assert_eq!(figures["sentences"], expected.sentences);
    assert_eq!(figures["syllables"], expected.syllables);
    assert_eq!(figures["characters"], expected.characters);

    let whitespace_words = text.split_whitespace().count() as f64;
    let words = figures["words"].as_f64().expect("words is a number");
    assert!(
        (words - whitespace_words).abs() / whitespace_words < 0.03,
        "{words} words"
    );
    let ease = figures["flesch_reading_ease"]
        .as_f64()
        .expect("reading ease");
    assert!((0.0..=100.0).contains(&ease), "reading ease {ease}");

    assert!(body["fuel_used"].as_u64().expect("fuel_used") > 0);
    assert!(
        body["memory_peak_bytes"]
            .as_u64()
            .expect("memory_peak_bytes")
            > 0
    );
    assert!(body["duration_ms"].as_f64().expect("duration_ms") > 0.0);
    assert!(body["logs"].is_array());
}

async fn invalid_uploads_are_rejected_by_rule(backend: Backend) {
    let deployment = Deployment::start(backend, &[("SANDNOTES_MAX_UPLOAD_BYTES", "1048576")]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let core_module = wat::parse_str("(module (func (export \"run\")))").expect("wat");

    let cases: [(&str, Vec<u8>, StatusCode, &str); 4] = [
        (
            "garbage",
            b"definitely not wasm".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_wasm",
        ),
        (
            "core",
            core_module,
            StatusCode::UNPROCESSABLE_ENTITY,
            "core_module",
        ),
        (
            "wasi",
            wasi_component(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "forbidden_import",
        ),
        (
            "norun",
            component_without_run(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_run_export",
        ),
    ];
    for (name, bytes, status, rule) in cases {
        let response = deployment.upload(&token, name, "private", bytes).await;
        response.assert_problem(status, "plugin-rejected");
        assert_eq!(response.json()["rule"], rule, "{name}: {}", response.text());
    }

    let wasi = deployment
        .upload(&token, "wasi", "private", wasi_component())
        .await;
    let detail = wasi.json()["detail"].as_str().expect("detail").to_owned();
    assert!(
        detail.contains("wasi:cli/environment"),
        "names the import: {detail}"
    );

    let wrong_type = deployment
        .client
        .send(
            deployment
                .client
                .request(Method::POST, "/v1/plugins")
                .query(&[("name", "json")])
                .bearer_auth(&token)
                .header(CONTENT_TYPE, "application/json")
                .body(component("text-analyzer")),
        )
        .await;
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "plugin-rejected");

    // The gateway answers 413 before reading the whole body and closes the
    // connection, so this case goes last, on its own client.
    let oversized = ApiClient::new(deployment.gateway.base_url());
    let huge = deployment
        .upload_with(&oversized, &token, "huge", vec![0u8; 2 * 1024 * 1024])
        .await;
    huge.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "plugin-rejected");
    assert_eq!(huge.json()["rule"], "too_large");

    let fresh = ApiClient::new(deployment.gateway.base_url());
    let list = fresh
        .call(Method::GET, "/v1/plugins", Some(&token), None)
        .await;
    assert_eq!(list.json()["plugins"], json!([]), "nothing was stored");
}

async fn same_bytes_give_same_digest(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let first = deployment
        .upload(&token, "first", "private", component("text-analyzer"))
        .await;
    let second = deployment
        .upload(&token, "second", "private", component("text-analyzer"))
        .await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let expected = plugin_registry::PluginDigest::of(&component("text-analyzer")).to_hex();
    assert_eq!(first.json()["sha256"], expected);
    assert_eq!(second.json()["sha256"], expected);
    assert_ne!(first.json()["id"], second.json()["id"]);

    let duplicate = deployment
        .upload(&token, "first", "private", component("text-analyzer"))
        .await;
    duplicate.assert_problem(StatusCode::CONFLICT, "conflict");
}

async fn plugins_are_isolated_between_users(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let alice = deployment.client.new_user("alice", PASSWORD).await;
    let bob = deployment.client.new_user("bob", PASSWORD).await;
    let alice_note = deployment
        .client
        .create_note(&alice, "a", "Alice wrote this.")
        .await;
    let bob_note = deployment
        .client
        .create_note(&bob, "b", "Bob wrote this one.")
        .await;
    let private = deployment
        .upload_ok(
            &alice,
            "private-analyzer",
            "private",
            component("text-analyzer"),
        )
        .await;
    let public = deployment
        .upload_ok(
            &alice,
            "public-analyzer",
            "public",
            component("text-analyzer"),
        )
        .await;

    let get = deployment
        .client
        .call(
            Method::GET,
            &format!("/v1/plugins/{private}"),
            Some(&bob),
            None,
        )
        .await;
    get.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let run_private = deployment.run(&bob, &bob_note, &private, Value::Null).await;
    run_private.assert_problem(StatusCode::NOT_FOUND, "not-found");
    for plugin in [&private, &public] {
        let delete = deployment
            .client
            .call(
                Method::DELETE,
                &format!("/v1/plugins/{plugin}"),
                Some(&bob),
                None,
            )
            .await;
        delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
    }

    let run_public = deployment.run(&bob, &bob_note, &public, Value::Null).await;
    assert_eq!(run_public.status, StatusCode::OK, "{}", run_public.text());
    assert_eq!(run_public.json()["output"]["value"]["words"], 4);

    let run_on_alice_note = deployment
        .run(&bob, &alice_note, &public, Value::Null)
        .await;
    run_on_alice_note.assert_problem(StatusCode::NOT_FOUND, "not-found");

    assert_eq!(
        deployment.plugin_count(&bob).await,
        1,
        "bob sees only the public plugin"
    );
    assert_eq!(deployment.plugin_count(&alice).await, 2);

    let delete_own = deployment
        .client
        .call(
            Method::DELETE,
            &format!("/v1/plugins/{private}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(
        delete_own.status,
        StatusCode::NO_CONTENT,
        "{}",
        delete_own.text()
    );
}

async fn hostile_plugins_get_their_own_problem(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let note = deployment
        .client
        .create_note(&token, "t", "A short note. It has two sentences.")
        .await;
    let analyzer = deployment
        .upload_ok(
            &token,
            "text-analyzer",
            "private",
            component("text-analyzer"),
        )
        .await;

    let cases = [
        (
            "hostile-infinite-loop",
            &["fuel-exhausted", "deadline-exceeded"][..],
        ),
        ("hostile-memory-grab", &["memory-limit-exceeded"][..]),
        ("hostile-recursion", &["stack-overflow"][..]),
        ("hostile-panic", &["plugin-trap"][..]),
        ("hostile-large-output", &["output-too-large"][..]),
        ("hostile-log-flood", &["log-limit-exceeded"][..]),
    ];
    for (name, kinds) in cases {
        let plugin = deployment
            .upload_ok(&token, name, "private", component(name))
            .await;

        let note_path = format!("/v1/notes/{note}");
        let (hostile, normal) = tokio::join!(
            deployment.run(&token, &note, &plugin, Value::Null),
            deployment
                .client
                .call(Method::GET, &note_path, Some(&token), None),
        );

        assert_eq!(
            hostile.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            hostile.text()
        );
        let kind = hostile.json()["type"].as_str().expect("type").to_owned();
        assert!(
            kinds
                .iter()
                .any(|expected| kind.ends_with(&format!("/{expected}"))),
            "{name} ended as {kind}, expected one of {kinds:?}"
        );
        assert_eq!(normal.status, StatusCode::OK, "note read during {name}");

        let after = deployment.run(&token, &note, &analyzer, Value::Null).await;
        assert_eq!(
            after.status,
            StatusCode::OK,
            "run after {name}: {}",
            after.text()
        );
    }

    let logs = deployment.gateway.logs();
    assert!(
        !logs.contains("A short note"),
        "note text reached the server log"
    );
}

async fn excess_runs_get_503_and_admitted_runs_succeed(backend: Backend) {
    let deployment = Deployment::start(
        backend,
        &[
            ("SANDNOTES_MAX_CONCURRENT_RUNS", "1"),
            ("SANDNOTES_RUN_QUEUE_WAIT_MS", "0"),
        ],
    )
    .await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let note = deployment
        .client
        .create_note(&token, "t", &corpus(CORPUS_TEXT))
        .await;
    let plugin = deployment
        .upload_ok(
            &token,
            "text-analyzer",
            "private",
            component("text-analyzer"),
        )
        .await;

    let deployment = Arc::new(deployment);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let deployment = Arc::clone(&deployment);
        let (token, note, plugin) = (token.clone(), note.clone(), plugin.clone());
        tasks.push(tokio::spawn(async move {
            deployment.run(&token, &note, &plugin, Value::Null).await
        }));
    }

    let mut admitted = 0;
    let mut turned_away = 0;
    for task in tasks {
        let response = task.await.expect("task");
        if response.status == StatusCode::SERVICE_UNAVAILABLE {
            response.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "busy");
            assert!(
                response.headers.get(RETRY_AFTER).is_some(),
                "503 has Retry-After"
            );
            turned_away += 1;
        } else {
            assert_eq!(
                response.status,
                StatusCode::OK,
                "admitted run failed: {}",
                response.text()
            );
            admitted += 1;
        }
    }
    assert!(admitted >= 1, "at least one run is admitted");
    assert!(
        turned_away >= 1,
        "runs beyond the single slot are turned away"
    );
}

async fn highlighted_html_keeps_token_classes(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let code = "fn main() {\n    let answer = 42; // the answer\n}\n";
    let note = deployment.client.create_note(&token, "main.rs", code).await;
    let plugin = deployment
        .upload_ok(
            &token,
            "syntax-highlighter",
            "private",
            component("syntax-highlighter"),
        )
        .await;

    let run = deployment
        .run(&token, &note, &plugin, json!({ "language": "rust" }))
        .await;

    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
    let body = run.json();
    assert_eq!(body["output"]["kind"], "html");
    let html = body["output"]["value"].as_str().expect("html is a string");
    assert!(
        html.starts_with(r#"<pre><code class="language-rust">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="keyword">fn</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"<span class="number">42</span>"#), "{html}");
    assert!(
        html.contains(r#"<span class="comment">// the answer</span>"#),
        "{html}"
    );
}

/// Paths of every cached precompiled artifact under the data folder.
fn cached_artifacts(data_dir: &std::path::Path) -> Vec<PathBuf> {
    let mut artifacts = Vec::new();
    let Ok(engines) = std::fs::read_dir(data_dir.join("artifacts")) else {
        return artifacts;
    };
    for engine in engines.flatten() {
        for file in std::fs::read_dir(engine.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file
                .path()
                .extension()
                .is_some_and(|extension| extension == "cwasm")
            {
                artifacts.push(file.path());
            }
        }
    }
    artifacts
}

async fn tampered_or_missing_artifact_is_rebuilt(backend: Backend) {
    let deployment = Deployment::start(backend, &[]).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let note = deployment
        .client
        .create_note(&token, "t", "One sentence here.")
        .await;
    let plugin = deployment
        .upload_ok(
            &token,
            "text-analyzer",
            "private",
            component("text-analyzer"),
        )
        .await;
    let artifacts = cached_artifacts(deployment.data_dir.path());
    assert_eq!(artifacts.len(), 1, "the upload compiled one artifact");

    let mut bytes = std::fs::read(&artifacts[0]).expect("read artifact");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&artifacts[0], bytes).expect("write tampered artifact");

    let after_tamper = deployment.run(&token, &note, &plugin, Value::Null).await;
    assert_eq!(
        after_tamper.status,
        StatusCode::OK,
        "{}",
        after_tamper.text()
    );
    let warning = deployment
        .gateway
        .wait_for_log(&["artifact_integrity_failure"])
        .await;
    assert!(
        warning.is_some(),
        "tampering is logged:\n{}",
        deployment.gateway.logs()
    );

    std::fs::remove_dir_all(deployment.data_dir.path().join("artifacts")).expect("empty the cache");
    let after_wipe = deployment.run(&token, &note, &plugin, Value::Null).await;
    assert_eq!(after_wipe.status, StatusCode::OK, "{}", after_wipe.text());
    assert_eq!(after_wipe.json()["output"]["value"]["words"], 3);
}

on_both_stores!(
    every_worker_mode_gives_same_figures,
    tampered_or_missing_artifact_is_rebuilt,
    highlighted_html_keeps_token_classes,
    text_analyzer_run_matches_native_figures,
    invalid_uploads_are_rejected_by_rule,
    same_bytes_give_same_digest,
    plugins_are_isolated_between_users,
    hostile_plugins_get_their_own_problem,
    excess_runs_get_503_and_admitted_runs_succeed,
);
