//! Demo client for a running gateway.
//!
//! Signs up a fresh user, logs in, stores a public-domain text and a source
//! file as notes, uploads every sample plugin component it finds, runs each on
//! the matching note, and prints the results with their resource figures.
//!
//! Run it through `scripts/demo.sh`, which builds the plugins and starts the
//! gateway first; or by hand against a gateway you started:
//!
//! ```text
//! cargo run -p sandnotes-demo -- --gateway http://127.0.0.1:8080
//! ```

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

/// Sample plugins, the note each runs on, and the arguments it gets.
const SAMPLES: &[(&str, NoteChoice, &str)] = &[
    ("text-analyzer", NoteChoice::Prose, r#"{}"#),
    ("summarizer", NoteChoice::Prose, r#"{"sentences": 3}"#),
    (
        "keyword-extractor",
        NoteChoice::Prose,
        r#"{"max_keywords": 8}"#,
    ),
    (
        "syntax-highlighter",
        NoteChoice::Code,
        r#"{"language": "rust"}"#,
    ),
];

#[derive(Clone, Copy)]
enum NoteChoice {
    Prose,
    Code,
}

#[derive(Parser)]
#[command(about = "Runs every sample plugin on a real note through a sandnotes gateway")]
struct Args {
    /// Base URL of the gateway.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    gateway: String,

    /// Folder with the built plugin components (NAME.wasm).
    #[arg(long, default_value = "target/plugins")]
    plugins: PathBuf,

    /// Text file stored as the prose note.
    #[arg(
        long,
        default_value = "corpus/melville-moby-dick-ch023-the-lee-shore.txt"
    )]
    prose: PathBuf,

    /// Source file stored as the code note.
    #[arg(long, default_value = "plugin-registry/src/digest.rs")]
    code: PathBuf,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request
            .send()
            .await
            .context("request to the gateway failed")?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("the gateway returned {status}: {body}");
        }
        Ok(body)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post_json(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut client = Client {
        http: reqwest::Client::new(),
        base: args.gateway.trim_end_matches('/').to_owned(),
        token: None,
    };

    wait_until_healthy(&client).await?;

    let username = format!("demo-{}", unix_seconds());
    let password = format!("demo password {}", unix_seconds());
    let credentials = json!({ "username": username, "password": password });
    client.post_json("/v1/auth/signup", &credentials).await?;
    let login = client.post_json("/v1/auth/login", &credentials).await?;
    client.token = Some(
        login["access_token"]
            .as_str()
            .context("login response has no access_token")?
            .to_owned(),
    );
    println!("signed up and logged in as {username}");

    let prose_id = create_note(&client, &args.prose).await?;
    let code_id = create_note(&client, &args.code).await?;

    for (name, choice, plugin_args) in SAMPLES {
        let path = args.plugins.join(format!("{name}.wasm"));
        if !path.exists() {
            println!(
                "\n== {name}: skipped, {} is missing (run `cargo run -p plugin-build`)",
                path.display()
            );
            continue;
        }
        let plugin_id = upload_plugin(&client, name, &path).await?;
        let note_id = match choice {
            NoteChoice::Prose => &prose_id,
            NoteChoice::Code => &code_id,
        };

        let plugin_args: Value = serde_json::from_str(plugin_args)?;
        let run = client
            .post_json(
                &format!("/v1/notes/{note_id}/runs"),
                &json!({ "plugin_id": plugin_id, "args": plugin_args }),
            )
            .await?;
        print_run(name, &run);
    }
    Ok(())
}

/// Polls `/healthz` for up to 30 seconds, so the demo can start together
/// with the gateway.
async fn wait_until_healthy(client: &Client) -> Result<()> {
    for _ in 0..300 {
        let response = client.http.get(client.url("/healthz")).send().await;
        if response.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bail!(
        "the gateway at {} did not become healthy within 30 seconds",
        client.base
    )
}

async fn create_note(client: &Client, path: &Path) -> Result<String> {
    let body =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let title = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();

    let note = client
        .post_json("/v1/notes", &json!({ "title": title, "body": body }))
        .await?;
    let id = note["id"]
        .as_str()
        .context("note response has no id")?
        .to_owned();
    println!(
        "stored {} ({} bytes) as note {id}",
        path.display(),
        body.len()
    );
    Ok(id)
}

async fn upload_plugin(client: &Client, name: &str, path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let request = client
        .http
        .post(client.url("/v1/plugins"))
        .query(&[("name", name), ("visibility", "private")])
        .header("content-type", "application/wasm")
        .body(bytes);
    let plugin = client.send(request).await?;
    let id = plugin["id"]
        .as_str()
        .context("upload response has no id")?
        .to_owned();
    println!(
        "uploaded {name}: {} bytes, sha256 {}",
        plugin["size_bytes"],
        plugin["sha256"].as_str().unwrap_or("?")
    );
    Ok(id)
}

fn print_run(name: &str, run: &Value) {
    println!(
        "\n== {name}: {} fuel, {} bytes peak memory, {} ms",
        run["fuel_used"], run["memory_peak_bytes"], run["duration_ms"]
    );
    let output = &run["output"];
    match output["kind"].as_str() {
        Some("json") => println!(
            "{}",
            serde_json::to_string_pretty(&output["value"]).unwrap_or_default()
        ),
        Some("html") => {
            let html = output["value"].as_str().unwrap_or_default();
            let shown: String = html.chars().take(600).collect();
            println!(
                "{shown}{}",
                if html.len() > shown.len() { " ..." } else { "" }
            );
        }
        _ => println!("{}", output["value"]),
    }
    if let Some(logs) = run["logs"].as_array().filter(|logs| !logs.is_empty()) {
        println!("logs: {}", Value::Array(logs.clone()));
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
