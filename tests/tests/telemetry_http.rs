//! OpenTelemetry export end to end: the real gateway sends OTLP/HTTP to a
//! receiver in this test while it serves a login, a note and a plugin run.
//!
//! Needs `cargo build -p gateway -p sandbox-worker` and the plugin components
//! from `cargo run -p plugin-build` in `target/plugins/`.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{ApiClient, GatewayOptions, GatewayProcess, OtlpReceiver, ReceivedSpan};
use serde_json::{Value, json};

const MASTER_KEY: [u8; 32] = [0x5A; 32];
const PASSWORD: &str = "correct horse battery staple";
const NOTE_TITLE: &str = "Title-quince-7b2e";
const NOTE_BODY: &str = "Body-marmalade-41c9 is the secret recipe. It has two sentences.";
const ARGS_VALUE: &str = "Args-tangerine-90d3";

/// Span kinds in the OTLP protocol.
const SPAN_KIND_SERVER: i32 = 2;
const SPAN_KIND_CLIENT: i32 = 3;

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

fn find<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|span| span.name() == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = spans.iter().map(ReceivedSpan::name).collect();
            panic!("no span named {name:?}; received {names:?}")
        })
}

/// Everything one traced session produced.
struct TracedSession {
    receiver: OtlpReceiver,
    logs: String,
    run_request_id: String,
    plugin_sha256: String,
    token: String,
    missing_note_problem: Value,
    missing_note_request_id: String,
}

/// Starts a gateway that exports to a fresh receiver, logs in, creates a
/// note, uploads the text analyzer, runs it, requests a missing note, and
/// stops the gateway with SIGTERM so that it flushes its telemetry.
async fn traced_session() -> TracedSession {
    let receiver = OtlpReceiver::start().await;
    let data_dir = tempfile::tempdir().expect("create a data folder");
    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.env = vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
            receiver.endpoint().to_owned(),
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL".to_owned(),
            "http/protobuf".to_owned(),
        ),
        ("SANDNOTES_LOG_FORMAT".to_owned(), "json".to_owned()),
    ];
    let gateway = GatewayProcess::start(&options).await;
    let client = ApiClient::new(gateway.base_url());

    let token = client.new_user("alice", PASSWORD).await;
    let note_id = client.create_note(&token, NOTE_TITLE, NOTE_BODY).await;
    let upload = client
        .send(
            client
                .request(Method::POST, "/v1/plugins")
                .query(&[("name", "text-analyzer")])
                .bearer_auth(&token)
                .header(CONTENT_TYPE, "application/wasm")
                .body(component("text-analyzer")),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.text());
    let upload = upload.json();
    let plugin_id = upload["id"].as_str().expect("plugin id").to_owned();
    let plugin_sha256 = upload["sha256"].as_str().expect("sha256").to_owned();

    let run = client
        .call(
            Method::POST,
            &format!("/v1/notes/{note_id}/runs"),
            Some(&token),
            Some(&json!({ "plugin_id": plugin_id, "args": { "label": ARGS_VALUE } })),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text());
    let run_request_id = header(&run.headers, "x-request-id");

    let missing = client
        .call(
            Method::GET,
            "/v1/notes/00000000-0000-0000-0000-000000000000",
            Some(&token),
            None,
        )
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let missing_note_request_id = header(&missing.headers, "x-request-id");
    let missing_note_problem = missing.json();

    let logs_before_stop = gateway.logs();
    let status = tokio::time::timeout(Duration::from_secs(60), gateway.stop())
        .await
        .expect("the gateway exits after SIGTERM");
    assert!(status.success(), "gateway exit status {status:?}");

    TracedSession {
        receiver,
        logs: logs_before_stop,
        run_request_id,
        plugin_sha256,
        token,
        missing_note_problem,
        missing_note_request_id,
    }
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("response has no {name} header"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_request_is_traced_with_its_children() {
    let session = traced_session().await;
    let spans = session.receiver.spans();

    let server = find(&spans, "POST /v1/notes/{id}/runs");
    assert_eq!(server.span.kind, SPAN_KIND_SERVER);
    assert!(
        server.span.parent_span_id.is_empty(),
        "the server span is a root"
    );
    assert_eq!(server.string_attribute("http.request.method"), Some("POST"));
    assert_eq!(
        server.string_attribute("http.route"),
        Some("/v1/notes/{id}/runs")
    );
    assert_eq!(
        server.int_attribute("http.response.status_code"),
        Some(200),
        "attributes: {:?}",
        server.span.attributes
    );
    assert_eq!(
        server.string_attribute("request_id"),
        Some(session.run_request_id.as_str())
    );
    assert_eq!(
        server.resource_attribute("service.name"),
        Some("sandnotes-gateway")
    );

    let run = find(&spans, "plugin.run");
    assert!(
        run.is_child_of(server),
        "plugin.run is a child of the server span"
    );
    assert_eq!(
        run.string_attribute("plugin.sha256"),
        Some(session.plugin_sha256.as_str())
    );
    assert_eq!(run.string_attribute("run.outcome"), Some("ok"));
    let fuel = run.int_attribute("run.fuel_used").expect("run.fuel_used");
    assert!(fuel > 0, "fuel used {fuel}");
    let memory = run
        .int_attribute("run.memory_peak_bytes")
        .expect("run.memory_peak_bytes");
    assert!(memory > 0, "peak memory {memory}");
    assert!(run.attribute("run.duration_ms").is_some());

    let worker = find(&spans, "sandbox.worker run");
    assert!(
        worker.is_child_of(run),
        "the worker span is a child of plugin.run"
    );

    let decrypt = find(&spans, "note.decrypt");
    assert!(
        decrypt.is_child_of(server),
        "note.decrypt is a child of the server span"
    );

    let get_note = find(&spans, "get_note");
    assert!(
        get_note.is_child_of(server),
        "get_note is a child of the server span"
    );
    assert_eq!(get_note.span.kind, SPAN_KIND_CLIENT);
    assert_eq!(get_note.string_attribute("db.system.name"), Some("sqlite"));
    assert_eq!(
        get_note.string_attribute("db.operation.name"),
        Some("get_note")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_note_requests_get_server_spans() {
    let session = traced_session().await;
    let spans = session.receiver.spans();

    let login = find(&spans, "POST /v1/auth/login");
    assert_eq!(login.span.kind, SPAN_KIND_SERVER);
    assert_eq!(login.int_attribute("http.response.status_code"), Some(200));
    let find_user = find(&spans, "find_user_by_username");
    assert!(
        find_user.is_child_of(login),
        "the user lookup is a child of the login span"
    );

    let create = find(&spans, "POST /v1/notes");
    assert_eq!(create.int_attribute("http.response.status_code"), Some(201));
    assert_eq!(create.string_attribute("http.route"), Some("/v1/notes"));

    let missing = find(&spans, "GET /v1/notes/{id}");
    assert_eq!(
        missing.int_attribute("http.response.status_code"),
        Some(404)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_flushed_at_shutdown() {
    let session = traced_session().await;
    let names = session.receiver.metric_names();

    for expected in [
        "http.server.request.duration",
        "sandnotes.plugin.runs",
        "sandnotes.plugin.run.duration",
        "sandnotes.plugin.run.fuel",
        "sandnotes.plugin.run.memory.peak",
        "sandnotes.plugin.runs.active",
        "sandnotes.plugin.runs.queued",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_and_logs_leave_out_secrets() {
    let session = traced_session().await;
    assert!(!session.receiver.spans().is_empty(), "spans were exported");

    for (what, secret) in [
        ("note body", "Body-marmalade-41c9"),
        ("note title", NOTE_TITLE),
        ("plugin args", ARGS_VALUE),
        ("password", PASSWORD),
        ("access token", session.token.as_str()),
    ] {
        assert!(
            !session.receiver.any_body_contains(secret),
            "the {what} reached the OTLP export"
        );
        assert!(!session.logs.contains(secret), "the {what} reached the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_carry_trace_and_request_ids() {
    let session = traced_session().await;
    let spans = session.receiver.spans();
    let server = find(&spans, "POST /v1/notes/{id}/runs");

    let lines: Vec<Value> = session
        .logs
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("log line is not JSON ({error}): {line}"))
        })
        .collect();
    let finished = lines
        .iter()
        .find(|line| line["fields"]["message"] == "plugin run finished")
        .expect("a plugin run finished line");

    assert_eq!(finished["trace_id"], server.trace_id_hex());
    assert!(
        finished["span_id"]
            .as_str()
            .is_some_and(|id| id.len() == 16),
        "span_id in {finished}"
    );
    let request_ids: Vec<&Value> = finished["spans"]
        .as_array()
        .expect("span list")
        .iter()
        .map(|span| &span["request_id"])
        .filter(|id| !id.is_null())
        .collect();
    assert_eq!(request_ids, [&Value::from(session.run_request_id.clone())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_response_quotes_request_id() {
    let session = traced_session().await;

    assert_eq!(
        session.missing_note_problem["request_id"],
        session.missing_note_request_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_probes_are_not_traced() {
    let session = traced_session().await;
    let spans = session.receiver.spans();

    assert!(
        spans.iter().all(|span| span.name() != "GET /healthz"),
        "the start-up health checks were exported as spans"
    );
    assert!(
        spans.iter().any(|span| span.name() == "POST /v1/notes"),
        "other requests were exported"
    );
}
