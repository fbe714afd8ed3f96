//! Accounts and notes over real HTTP against the real `gateway` binary, on
//! SQLite and PostgreSQL. Run `cargo build -p gateway` first.

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gateway::crypto::MasterKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use sandnotes_e2e::{
    ApiClient, Backend, GatewayOptions, GatewayProcess, TestDatabase, gateway_binary,
    on_both_stores,
};
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;
use uuid::Uuid;

const MASTER_KEY: [u8; 32] = [0x5A; 32];
const PASSWORD: &str = "correct horse battery staple";
const SECRET_TITLE: &str = "Quokka itinerary 7731";
const SECRET_BODY: &str = "the zanzibar ledger is under the third floorboard 5519";

/// A gateway with its data folder and, for PostgreSQL, its database.
struct Deployment {
    options: GatewayOptions,
    gateway: GatewayProcess,
    client: ApiClient,
    database: Option<TestDatabase>,
    data_dir: TempDir,
}

impl Deployment {
    async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    async fn start_with(backend: Backend, customize: impl FnOnce(&mut GatewayOptions)) -> Self {
        let data_dir = tempfile::tempdir().expect("create a data folder");
        let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create().await),
        };
        options.database_url = database.as_ref().map(|database| database.url().to_owned());
        customize(&mut options);

        let gateway = GatewayProcess::start(&options).await;
        let client = ApiClient::new(gateway.base_url());
        Self {
            options,
            gateway,
            client,
            database,
            data_dir,
        }
    }

    /// Stops the gateway gracefully, then starts it again on the same data
    /// folder, database and master key.
    async fn restart(self) -> Self {
        let Self {
            options,
            gateway,
            database,
            data_dir,
            ..
        } = self;
        let status = gateway.stop().await;
        assert!(status.success(), "gateway exited with {status}");

        let gateway = GatewayProcess::start(&options).await;
        let client = ApiClient::new(gateway.base_url());
        Self {
            options,
            gateway,
            client,
            database,
            data_dir,
        }
    }

    /// Copies the sealed title and body of note `source` onto note `target`,
    /// directly in the database.
    async fn copy_ciphertext(&self, source: &str, target: &str) {
        let source = Uuid::parse_str(source).unwrap();
        let target = Uuid::parse_str(target).unwrap();

        match &self.database {
            None => {
                let path = self.data_dir.path().join("sandnotes.db");
                let mut connection =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .unwrap();
                let (title, body): (Vec<u8>, Vec<u8>) =
                    sqlx::query_as("SELECT title_sealed, body_sealed FROM notes WHERE id = ?")
                        .bind(source)
                        .fetch_one(&mut connection)
                        .await
                        .unwrap();
                let result =
                    sqlx::query("UPDATE notes SET title_sealed = ?, body_sealed = ? WHERE id = ?")
                        .bind(title)
                        .bind(body)
                        .bind(target)
                        .execute(&mut connection)
                        .await
                        .unwrap();
                assert_eq!(result.rows_affected(), 1);
                connection.close().await.unwrap();
            }
            Some(database) => {
                let mut connection = database.connect().await;
                let (title, body): (Vec<u8>, Vec<u8>) =
                    sqlx::query_as("SELECT title_sealed, body_sealed FROM notes WHERE id = $1")
                        .bind(source)
                        .fetch_one(&mut connection)
                        .await
                        .unwrap();
                let result = sqlx::query(
                    "UPDATE notes SET title_sealed = $1, body_sealed = $2 WHERE id = $3",
                )
                .bind(title)
                .bind(body)
                .bind(target)
                .execute(&mut connection)
                .await
                .unwrap();
                assert_eq!(result.rows_affected(), 1);
                connection.close().await.unwrap();
            }
        }
    }

    /// Returns every byte the database holds: the SQLite files, or a text
    /// dump of every PostgreSQL row of the gateway's tables.
    async fn raw_database(&self) -> Vec<u8> {
        match &self.database {
            None => {
                let mut bytes = Vec::new();
                for entry in std::fs::read_dir(self.data_dir.path()).unwrap() {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    if name.starts_with("sandnotes.db") {
                        bytes.extend(std::fs::read(&path).unwrap());
                    }
                }
                assert!(!bytes.is_empty(), "no SQLite files in the data folder");
                bytes
            }
            Some(database) => {
                let mut connection = database.connect().await;
                let mut dump = String::new();
                for table in ["users", "notes", "_sqlx_migrations"] {
                    let rows: Vec<(String,)> =
                        sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
                            .fetch_all(&mut connection)
                            .await
                            .unwrap();
                    for (row,) in rows {
                        dump.push_str(&row);
                        dump.push('\n');
                    }
                }
                connection.close().await.unwrap();
                assert!(
                    dump.contains("\\x"),
                    "the dump has the sealed bytea columns"
                );
                dump.into_bytes()
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn user_id_of(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

async fn note_lifecycle_over_http(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let token = client.new_user("alice", PASSWORD).await;

    let created = client
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(&json!({ "title": "Shopping", "body": "eggs, flour" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers.get(LOCATION).unwrap(),
        &format!("/v1/notes/{id}")
    );

    let listed = client
        .call(Method::GET, "/v1/notes?limit=10", Some(&token), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["notes"][0]["id"], id.as_str());
    assert_eq!(listed.json()["notes"][0]["title"], "Shopping");

    let path = format!("/v1/notes/{id}");
    let fetched = client.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json()["body"], "eggs, flour");

    let replacement = json!({ "title": "Shopping list", "body": "eggs, flour, milk" });
    let replaced = client
        .call(Method::PUT, &path, Some(&token), Some(&replacement))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    let refetched = client.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(refetched.json()["title"], "Shopping list");
    assert_eq!(refetched.json()["body"], "eggs, flour, milk");

    let deleted = client.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let after_delete = client.call(Method::GET, &path, Some(&token), None).await;
    after_delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

async fn other_users_note_is_not_found(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let alice = client.new_user("alice", PASSWORD).await;
    let bob = client.new_user("bob", PASSWORD).await;
    let id = client.create_note(&alice, "Diary", "dear diary").await;
    let path = format!("/v1/notes/{id}");

    let get = client.call(Method::GET, &path, Some(&bob), None).await;
    let replace = client
        .call(
            Method::PUT,
            &path,
            Some(&bob),
            Some(&json!({ "title": "x", "body": "y" })),
        )
        .await;
    let delete = client.call(Method::DELETE, &path, Some(&bob), None).await;

    get.assert_problem(StatusCode::NOT_FOUND, "not-found");
    replace.assert_problem(StatusCode::NOT_FOUND, "not-found");
    delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let intact = client.call(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(intact.status, StatusCode::OK);
    assert_eq!(intact.json()["title"], "Diary");
    assert_eq!(intact.json()["body"], "dear diary");
}

async fn bad_tokens_are_unauthorized(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let token = client.new_user("alice", PASSWORD).await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |exp: u64| {
        json!({
            "sub": user_id_of(&token),
            "iss": "sandnotes-gateway",
            "aud": "sandnotes-api",
            "iat": now,
            "exp": exp,
        })
    };
    let token_key = MasterKey::from_slice(&MASTER_KEY)
        .unwrap()
        .access_token_key();
    let sign = |key: &[u8], claims: &Value| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(key),
        )
        .unwrap()
    };
    let expired = sign(token_key.as_ref(), &claims(now - 3600));
    let wrongly_signed = sign(&[7; 32], &claims(now + 600));
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(now + 600).to_string())
    );

    let cases = [
        ("missing", None),
        ("malformed", Some("this.is-not.a-jwt".to_owned())),
        ("expired", Some(expired)),
        ("wrongly signed", Some(wrongly_signed)),
        ("alg none", Some(alg_none)),
    ];
    for (case, bad_token) in cases {
        let response = client
            .call(Method::GET, "/v1/notes", bad_token.as_deref(), None)
            .await;

        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "case: {case}");
        response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let valid = client
        .call(Method::GET, "/v1/notes", Some(&token), None)
        .await;
    assert_eq!(valid.status, StatusCode::OK);
}

async fn raw_database_has_no_plaintext(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let token = client.new_user("alice", PASSWORD).await;
    let id = client.create_note(&token, SECRET_TITLE, SECRET_BODY).await;
    let replacement =
        json!({ "title": format!("{SECRET_TITLE} v2"), "body": format!("{SECRET_BODY} v2") });
    let replaced = client
        .call(
            Method::PUT,
            &format!("/v1/notes/{id}"),
            Some(&token),
            Some(&replacement),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    client.create_note(&token, SECRET_TITLE, SECRET_BODY).await;

    let raw = deployment.raw_database().await;

    for secret in [SECRET_TITLE, SECRET_BODY, PASSWORD] {
        assert!(
            !contains(&raw, secret.as_bytes()),
            "database contains {secret:?}"
        );
        assert!(
            !contains(&raw, hex(secret.as_bytes()).as_bytes()),
            "database contains hex of {secret:?}"
        );
    }
    assert!(
        contains(&raw, b"argon2id"),
        "the scan reads the users table"
    );
}

async fn copied_ciphertext_fails_and_logs_integrity_error(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let alice = client.new_user("alice", PASSWORD).await;
    let bob = client.new_user("bob", PASSWORD).await;
    let secret = client.create_note(&alice, SECRET_TITLE, SECRET_BODY).await;
    let alices_other = client.create_note(&alice, "Decoy", "nothing").await;
    let bobs = client.create_note(&bob, "Bob's", "bob's text").await;

    deployment.copy_ciphertext(&secret, &alices_other).await;
    deployment.copy_ciphertext(&secret, &bobs).await;
    let same_user = client
        .call(
            Method::GET,
            &format!("/v1/notes/{alices_other}"),
            Some(&alice),
            None,
        )
        .await;
    let other_user = client
        .call(Method::GET, &format!("/v1/notes/{bobs}"), Some(&bob), None)
        .await;

    for (response, note) in [(&same_user, &alices_other), (&other_user, &bobs)] {
        response.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(!response.text().contains(SECRET_BODY));
        assert!(!response.text().contains(SECRET_TITLE));
        let logged = deployment
            .gateway
            .wait_for_log(&["ERROR", "integrity", note])
            .await;
        assert!(
            logged.is_some(),
            "no integrity error logged for note {note}; log:\n{}",
            deployment.gateway.logs()
        );
    }
    let original = client
        .call(
            Method::GET,
            &format!("/v1/notes/{secret}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(original.json()["body"], SECRET_BODY);
}

async fn request_errors_are_problems(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let client = &deployment.client;
    let token = client.new_user("alice", PASSWORD).await;

    let oversized = client
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(&json!({ "title": "big", "body": "x".repeat(3 * 1024 * 1024) })),
        )
        .await;
    let oversized_note_body = client
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(&json!({ "title": "big", "body": "x".repeat(1024 * 1024 + 1) })),
        )
        .await;
    let malformed = client
        .send(
            client
                .request(Method::POST, "/v1/notes")
                .bearer_auth(&token)
                .header(CONTENT_TYPE, "application/json")
                .body("{\"title\": "),
        )
        .await;
    let unknown = client
        .call(
            Method::GET,
            &format!("/v1/notes/{}", Uuid::now_v7()),
            Some(&token),
            None,
        )
        .await;

    oversized.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    oversized_note_body.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    malformed.assert_problem(StatusCode::BAD_REQUEST, "validation");
    unknown.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

async fn restart_reads_same_notes(backend: Backend) {
    let deployment = Deployment::start(backend).await;
    let token = deployment.client.new_user("alice", PASSWORD).await;
    let id = deployment
        .client
        .create_note(&token, SECRET_TITLE, SECRET_BODY)
        .await;

    let deployment = deployment.restart().await;
    let with_old_token = deployment
        .client
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;
    let new_token = deployment.client.access_token("alice", PASSWORD).await;
    let with_new_token = deployment
        .client
        .call(
            Method::GET,
            &format!("/v1/notes/{id}"),
            Some(&new_token),
            None,
        )
        .await;

    assert_eq!(
        with_old_token.status,
        StatusCode::OK,
        "{}",
        with_old_token.text()
    );
    assert_eq!(with_old_token.json()["title"], SECRET_TITLE);
    assert_eq!(with_old_token.json()["body"], SECRET_BODY);
    assert_eq!(with_new_token.json()["body"], SECRET_BODY);
}

async fn logs_contain_no_secrets(backend: Backend) {
    let deployment = Deployment::start_with(backend, |options| {
        options.log_filter = "debug".to_owned();
    })
    .await;
    let client = &deployment.client;
    let token = client.new_user("alice", PASSWORD).await;
    let id = client.create_note(&token, SECRET_TITLE, SECRET_BODY).await;
    client
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;
    client
        .call(Method::GET, "/v1/notes", Some(&token), None)
        .await;
    client.log_in("alice", "wrong password!").await;

    let logs = deployment.gateway.logs();

    assert!(logs.contains(&id), "the debug log records the note id");
    for secret in [
        SECRET_TITLE,
        SECRET_BODY,
        PASSWORD,
        "wrong password!",
        token.as_str(),
    ] {
        assert!(!logs.contains(secret), "the log contains {secret:?}");
    }
    assert!(
        !logs.contains(&STANDARD.encode(MASTER_KEY)),
        "the log contains the master key"
    );
}

on_both_stores!(
    note_lifecycle_over_http,
    other_users_note_is_not_found,
    bad_tokens_are_unauthorized,
    raw_database_has_no_plaintext,
    copied_ciphertext_fails_and_logs_integrity_error,
    request_errors_are_problems,
    restart_reads_same_notes,
    logs_contain_no_secrets,
);

#[tokio::test]
async fn postgres_without_master_key_refuses_to_start() {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.master_key = None;
    options.database_url = Some(database.url().to_owned());

    let result = GatewayProcess::try_start(&options).await;

    let Err(error) = result else {
        panic!("the gateway started on PostgreSQL without a master key");
    };
    assert!(error.status.is_some_and(|status| !status.success()));
    assert!(
        error.logs.contains("SANDNOTES_MASTER_KEY"),
        "log:\n{}",
        error.logs
    );
    assert!(!data_dir.path().join("master.key").exists());
}

#[tokio::test]
async fn sqlite_without_master_key_generates_development_key() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.master_key = None;

    let gateway = GatewayProcess::start(&options).await;
    let client = ApiClient::new(gateway.base_url());
    let token = client.new_user("alice", PASSWORD).await;
    let id = client.create_note(&token, SECRET_TITLE, SECRET_BODY).await;
    let key_file = data_dir.path().join("master.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    let warning = gateway
        .wait_for_log(&["WARN", "development master key"])
        .await;
    assert!(gateway.stop().await.success());

    let restarted = GatewayProcess::start(&options).await;
    let client = ApiClient::new(restarted.base_url());
    let fetched = client
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;

    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::metadata(&key_file).unwrap().len(), 32);
    assert!(warning.is_some());
    assert_eq!(fetched.json()["body"], SECRET_BODY);
}

#[tokio::test]
async fn invalid_master_key_refuses_to_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut options = GatewayOptions::new(data_dir.path(), MASTER_KEY);
    options.master_key = None;
    options.env.push((
        "SANDNOTES_MASTER_KEY".to_owned(),
        STANDARD.encode([1u8; 16]),
    ));

    let result = GatewayProcess::try_start(&options).await;

    let Err(error) = result else {
        panic!("the gateway started with a 16-byte master key");
    };
    assert!(error.logs.contains("32 bytes"), "log:\n{}", error.logs);
}

#[test]
fn help_documents_every_environment_variable() {
    let output = std::process::Command::new(gateway_binary())
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success());
    for variable in [
        "SANDNOTES_BIND",
        "SANDNOTES_DATA_DIR",
        "DATABASE_URL",
        "SANDNOTES_MASTER_KEY_FILE",
        "SANDNOTES_MASTER_KEY",
        "SANDNOTES_TOKEN_LIFETIME_SECS",
        "SANDNOTES_MAX_REQUEST_BYTES",
        "SANDNOTES_MAX_TITLE_BYTES",
        "SANDNOTES_MAX_NOTE_BODY_BYTES",
        "SANDNOTES_MAX_NOTES_PER_USER",
        "SANDNOTES_MAX_CONCURRENT_PASSWORD_HASHES",
        "SANDNOTES_LOGIN_ATTEMPTS_PER_MINUTE",
    ] {
        assert!(
            help.contains(variable),
            "--help does not mention {variable}"
        );
    }
}
