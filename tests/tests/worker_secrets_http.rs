//! No key reaches a sandbox worker. The gateway is pointed at a wrapper
//! script that records each worker's arguments, environment and stdin
//! before it runs the real worker. After an upload (a compile job) and a
//! run, none of the records may contain the master key, its base64 form, or
//! any key derived from it.
//!
//! Needs `cargo build -p gateway -p sandbox-worker` and `cargo run -p
//! plugin-build`, as the other end-to-end tests do.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gateway::crypto::keys::MasterKey;
use hkdf::Hkdf;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{ApiClient, GatewayOptions, GatewayProcess};
use serde_json::json;
use sha2::Sha256;
use sqlx::Connection;

/// A key with no repeated bytes, so a match cannot come from padding.
const MASTER_KEY: [u8; 32] = [
    0x91, 0x2e, 0x4b, 0xd7, 0x03, 0x68, 0xfa, 0x15, 0xc4, 0x7d, 0x22, 0xbe, 0x59, 0x86, 0x30, 0xe1,
    0x0f, 0xa3, 0x74, 0xcb, 0x48, 0x1d, 0x96, 0x6a, 0xf0, 0x37, 0x8c, 0x55, 0xd2, 0x09, 0xbb, 0x61,
];
const PASSWORD: &str = "correct horse battery staple";
const NOTE_BODY: &str = "worker secrets note body";

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate is one level below the repository root")
        .to_owned()
}

/// Writes a wrapper that records each worker's arguments, environment and
/// stdin under `records`, one folder per process, then runs the real
/// worker on the recorded stdin.
fn write_recording_worker(dir: &Path, records: &Path) -> PathBuf {
    let worker = sandnotes_e2e::gateway_binary()
        .parent()
        .expect("the gateway binary has a folder")
        .join("sandbox-worker");
    assert!(
        worker.is_file(),
        "build the worker: cargo build -p sandbox-worker"
    );

    let script = format!(
        "#!/bin/sh\n\
         record='{records}'/$$\n\
         mkdir -p \"$record\"\n\
         printf '%s\\n' \"$@\" > \"$record/args\"\n\
         env > \"$record/env\"\n\
         cat > \"$record/stdin\"\n\
         exec '{worker}' \"$@\" < \"$record/stdin\"\n",
        records = records.display(),
        worker = worker.display(),
    );
    let path = dir.join("recording-worker");
    std::fs::write(&path, script).expect("write the wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
        .expect("make the wrapper executable");
    path
}

/// The HKDF-SHA256 note key for `salt`, derived as the gateway does.
fn note_key(salt: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), &MASTER_KEY)
        .expand(b"sandnotes/v1/note-key/1", &mut key)
        .expect("32 bytes is a valid HKDF output length");
    key
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_receives_no_key_material() {
    let data_dir = tempfile::tempdir().expect("create a data folder");
    let scratch = tempfile::tempdir().expect("create a scratch folder");
    let records = scratch.path().join("records");
    let wrapper = write_recording_worker(scratch.path(), &records);

    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.env = vec![(
        "SANDNOTES_WORKER_PATH".to_owned(),
        wrapper.display().to_string(),
    )];
    let gateway = GatewayProcess::start(&options).await;
    let client = ApiClient::new(gateway.base_url());

    let token = client.new_user("alice", PASSWORD).await;
    let note = client.create_note(&token, "title", NOTE_BODY).await;
    let component = std::fs::read(repository_root().join("target/plugins/text-analyzer.wasm"))
        .expect("build the plugins: cargo run -p plugin-build");
    let upload = client
        .send(
            client
                .request(Method::POST, "/v1/plugins")
                .query(&[("name", "text-analyzer")])
                .bearer_auth(&token)
                .header(CONTENT_TYPE, "application/wasm")
                .body(component),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.text());
    let plugin = upload.json()["id"].as_str().expect("id").to_owned();
    let run = client
        .call(
            Method::POST,
            &format!("/v1/notes/{note}/runs"),
            Some(&token),
            Some(&json!({ "plugin_id": plugin, "args": null })),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text());

    let database = data_dir.path().join("sandnotes.db");
    let mut connection =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", database.display()))
            .await
            .expect("open the gateway's database");
    let salt: Vec<u8> = sqlx::query_scalar("SELECT key_salt FROM users WHERE username = 'alice'")
        .fetch_one(&mut connection)
        .await
        .expect("alice's key salt");

    let master = MasterKey::from_slice(&MASTER_KEY).expect("a 32-byte key");
    let keys: Vec<(&str, Vec<u8>)> = vec![
        ("master key", MASTER_KEY.to_vec()),
        (
            "master key in base64",
            STANDARD.encode(MASTER_KEY).into_bytes(),
        ),
        ("access token key", master.access_token_key().to_vec()),
        ("artifact MAC key", master.artifact_mac_key().to_vec()),
        ("alice's note key", note_key(&salt).to_vec()),
    ];

    let mut saw_the_note = false;
    let workers: Vec<PathBuf> = std::fs::read_dir(&records)
        .expect("the wrapper recorded workers")
        .map(|entry| entry.expect("record folder").path())
        .collect();
    assert!(
        workers.len() >= 3,
        "fingerprint, self-check, compile and run: {workers:?}"
    );
    for worker in &workers {
        for file in ["args", "env", "stdin"] {
            let bytes = std::fs::read(worker.join(file)).expect("a recorded file");
            saw_the_note |= file == "stdin" && contains(&bytes, NOTE_BODY.as_bytes());
            for (name, key) in &keys {
                assert!(
                    !contains(&bytes, key),
                    "the {name} reached a worker's {file} ({})",
                    worker.display()
                );
            }
        }
        let env = std::fs::read_to_string(worker.join("env")).expect("recorded environment");
        assert!(
            !env.contains("SANDNOTES_"),
            "the worker inherited settings: {env}"
        );
    }
    assert!(saw_the_note, "no recorded run request carried the note");
}
