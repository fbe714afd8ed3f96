//! HTTP load against the real `gateway` binary on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::bare::Responses;
use crate::client::{Connection, RequestTemplate};
use crate::load;
use crate::notes::TITLE;
use crate::process::GatewayProcess;
use crate::stats::Samples;

/// Password of every benchmark user.
const PASSWORD: &str = "correct horse battery staple";

/// A gateway started for the benchmark, with one signed-in user.
///
/// Set-up calls use reqwest. The measured loops use [`Connection`], one
/// keep-alive connection per load task.
pub struct Gateway {
    process: GatewayProcess,
    client: Client,
    token: Arc<str>,
    /// Counter that numbers the users signed up for note create loads.
    next_user: AtomicU64,
}

impl Gateway {
    /// Starts the gateway binary `binary` with `database_url` (SQLite in
    /// `data_dir` when `None`) and the extra environment `env`, and signs
    /// up a user.
    pub async fn start(
        binary: &std::path::Path,
        data_dir: &std::path::Path,
        database_url: Option<&str>,
        mut env: Vec<(String, String)>,
    ) -> Result<Self> {
        env.push((
            "SANDNOTES_MAX_NOTES_PER_USER".to_owned(),
            "10000000".to_owned(),
        ));
        // Eight 1 MiB runs queue for longer than the default 1 s wait for
        // a run slot. The benchmark measures that queue instead of a 503.
        env.push((
            "SANDNOTES_RUN_QUEUE_WAIT_MS".to_owned(),
            "600000".to_owned(),
        ));
        let process = GatewayProcess::start(binary, data_dir, database_url, &env).await?;

        let client = Client::new();
        let token = sign_up(&client, &process, "bench").await?.into();
        Ok(Self {
            process,
            client,
            token,
            next_user: AtomicU64::new(0),
        })
    }

    /// Resident set size of the gateway in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid()?))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmRSS is missing from /proc/PID/status")
    }

    /// Creates a note and returns its id.
    pub async fn create_note(&self, body: &str) -> Result<String> {
        create_note(
            &self.client,
            &self.process.url("/v1/notes"),
            &self.token,
            body,
        )
        .await
    }

    /// Uploads a plugin component and returns its id.
    pub async fn upload_plugin(&self, name: &str, component: Vec<u8>) -> Result<String> {
        let response = self
            .client
            .post(self.process.url("/v1/plugins"))
            .query(&[("name", name)])
            .bearer_auth(&*self.token)
            .header(CONTENT_TYPE, "application/wasm")
            .body(component)
            .send()
            .await?;
        ensure!(
            response.status() == StatusCode::CREATED,
            "plugin upload failed: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        let created: serde_json::Value = response.json().await?;
        Ok(created["id"].as_str().context("no plugin id")?.to_owned())
    }

    /// Measures `POST /v1/notes` with `body` as the note body. Each load
    /// task creates notes as its own user, signed up here, so that creates
    /// from different tasks do not wait on one user's note count.
    pub async fn measure_create(
        &self,
        body: &str,
        concurrency: usize,
        duration: Duration,
    ) -> Result<Samples> {
        let json_body = Bytes::from(json!({ "title": TITLE, "body": body }).to_string());
        let mut states = Vec::with_capacity(concurrency);
        for _ in 0..concurrency.max(1) {
            let number = self.next_user.fetch_add(1, Ordering::Relaxed);
            let token = sign_up(&self.client, &self.process, &format!("create-{number}")).await?;
            let template = RequestTemplate::new(
                Method::POST,
                "/v1/notes",
                &token,
                Some(json_body.clone()),
                StatusCode::CREATED,
            )?;
            states.push((self.connect().await?, template));
        }
        send_each_own_template(states, duration).await
    }

    /// Measures `GET /v1/notes/{id}`, cycling through `note_ids`.
    pub async fn measure_get(
        &self,
        note_ids: &[String],
        concurrency: usize,
        duration: Duration,
    ) -> Result<Samples> {
        let paths: Vec<String> = note_ids
            .iter()
            .map(|id| format!("/v1/notes/{id}"))
            .collect();
        self.measure_requests(Method::GET, &paths, None, concurrency, duration)
            .await
    }

    /// Measures `GET /v1/notes`: the first page, 50 notes by default.
    pub async fn measure_list(&self, concurrency: usize, duration: Duration) -> Result<Samples> {
        let paths = ["/v1/notes".to_owned()];
        self.measure_requests(Method::GET, &paths, None, concurrency, duration)
            .await
    }

    /// Measures `POST /v1/notes/{id}/runs` of `plugin_id` on one note.
    pub async fn measure_run(
        &self,
        note_id: &str,
        plugin_id: &str,
        concurrency: usize,
        duration: Duration,
    ) -> Result<Samples> {
        let paths = [format!("/v1/notes/{note_id}/runs")];
        let body = Bytes::from(json!({ "plugin_id": plugin_id }).to_string());
        self.measure_requests(Method::POST, &paths, Some(body), concurrency, duration)
            .await
    }

    /// Runs `plugin_id` on one note `count` times, eight at a time.
    pub async fn run_many(&self, note_id: &str, plugin_id: &str, count: u64) -> Result<()> {
        let url = Arc::<str>::from(self.process.url(&format!("/v1/notes/{note_id}/runs")));
        let body = Arc::<str>::from(json!({ "plugin_id": plugin_id }).to_string());
        let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, url, token, body, next) = (
                self.client.clone(),
                url.clone(),
                self.token.clone(),
                body.clone(),
                next.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                    send(&client, Method::POST, &url, &token, Some(&body)).await?;
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        Ok(())
    }

    /// Measures `method` requests with `json_body` from `concurrency` load
    /// tasks as the benchmark user, cycling through `paths`. Any response
    /// status other than 200 OK is an error.
    async fn measure_requests(
        &self,
        method: Method,
        paths: &[String],
        json_body: Option<Bytes>,
        concurrency: usize,
        duration: Duration,
    ) -> Result<Samples> {
        let templates = paths
            .iter()
            .map(|path| {
                RequestTemplate::new(
                    method.clone(),
                    path,
                    &self.token,
                    json_body.clone(),
                    StatusCode::OK,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let templates = Arc::<[RequestTemplate]>::from(templates);
        let mut states = Vec::with_capacity(concurrency);
        for _ in 0..concurrency.max(1) {
            states.push(self.connect().await?);
        }
        load::drive_with_state(states, duration, move |mut connection, number| {
            let templates = Arc::clone(&templates);
            async move {
                let template = &templates[number as usize % templates.len()];
                connection.send(template).await?;
                Ok(connection)
            }
        })
        .await
    }

    async fn connect(&self) -> Result<Connection> {
        Connection::open(self.process.address()).await
    }

    /// Fetches the bodies the gateway sends for a get of `note_id` and for
    /// a create of a note with `body`, for the bare server to send back.
    pub async fn sample_responses(&self, note_id: &str, body: &str) -> Result<Responses> {
        let note_get = self
            .client
            .get(self.process.url(&format!("/v1/notes/{note_id}")))
            .bearer_auth(&*self.token)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let note_create = self
            .client
            .post(self.process.url("/v1/notes"))
            .bearer_auth(&*self.token)
            .json(&json!({ "title": TITLE, "body": body }))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(Responses {
            note_get,
            note_create,
        })
    }

    /// Measures the bare server at `address` with the requests of
    /// [`Self::measure_create`] (when `create_body` is set) or of
    /// [`Self::measure_get`]. The requests carry this gateway's token, so
    /// they are as long as the gateway's; the bare server ignores it.
    pub async fn measure_bare(
        &self,
        address: SocketAddr,
        create_body: Option<&str>,
        concurrency: usize,
        duration: Duration,
    ) -> Result<Samples> {
        let template = match create_body {
            Some(body) => RequestTemplate::new(
                Method::POST,
                "/v1/notes",
                &self.token,
                Some(Bytes::from(
                    json!({ "title": TITLE, "body": body }).to_string(),
                )),
                StatusCode::CREATED,
            )?,
            None => RequestTemplate::new(
                Method::GET,
                &format!("/v1/notes/{}", uuid::Uuid::nil()),
                &self.token,
                None,
                StatusCode::OK,
            )?,
        };
        let mut states = Vec::with_capacity(concurrency);
        for _ in 0..concurrency.max(1) {
            states.push((Connection::open(address).await?, template.clone()));
        }
        send_each_own_template(states, duration).await
    }
}

/// Drives one load task per connection for `duration`, each sending its
/// own request template again and again.
async fn send_each_own_template(
    states: Vec<(Connection, RequestTemplate)>,
    duration: Duration,
) -> Result<Samples> {
    load::drive_with_state(
        states,
        duration,
        |(mut connection, template), _| async move {
            connection.send(&template).await?;
            Ok((connection, template))
        },
    )
    .await
}

/// Signs up `username`, logs in and returns the access token.
async fn sign_up(client: &Client, process: &GatewayProcess, username: &str) -> Result<String> {
    let credentials = json!({ "username": username, "password": PASSWORD });
    let signup = client
        .post(process.url("/v1/auth/signup"))
        .json(&credentials)
        .send()
        .await?;
    ensure!(
        signup.status() == StatusCode::CREATED,
        "signup of {username} failed: {}",
        signup.status()
    );
    let login: serde_json::Value = client
        .post(process.url("/v1/auth/login"))
        .json(&credentials)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .context("the login response has no access_token")?;
    Ok(token.to_owned())
}

async fn create_note(client: &Client, url: &str, token: &str, body: &str) -> Result<String> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "title": TITLE, "body": body }))
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::CREATED,
        "note create failed: {}",
        response.status()
    );
    let created: serde_json::Value = response.json().await?;
    Ok(created["id"].as_str().context("no note id")?.to_owned())
}

/// Sends one request and reads the whole response; any status other than
/// 2xx is an error.
async fn send(
    client: &Client,
    method: Method,
    url: &str,
    token: &str,
    json_body: Option<&str>,
) -> Result<()> {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = json_body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        bail!(
            "{url} returned {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        );
    }
    Ok(())
}
