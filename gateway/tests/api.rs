//! The HTTP API through the real router (no network), on SQLite and PostgreSQL.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway::crypto::MasterKey;
use gateway::ids::{NoteId, UserId};
use gateway::store::NoteReplacement;
use gateway::{AppState, Limits};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{Backend, TestStore};
use tower::ServiceExt;

const MASTER_KEY: [u8; 32] = [0x42; 32];
const PASSWORD: &str = "correct horse battery staple";

struct TestApp {
    router: Router,
    test_store: TestStore,
}

struct TestResponse {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl TestResponse {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "response body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The problem body without its `request_id`, which differs per request,
    /// so two problems can be compared for everything a caller sees.
    fn problem_without_request_id(&self) -> Value {
        let mut problem = self.json();
        if let Some(fields) = problem.as_object_mut() {
            assert!(
                fields.remove("request_id").is_some(),
                "problem has a request_id"
            );
        }
        problem
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an RFC 9457 problem response of the given status and kind.
    fn assert_problem(&self, status: StatusCode, kind: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let problem = self.json();
        assert_eq!(
            problem["type"],
            format!("https://sandnotes.dev/problems/{kind}")
        );
        assert_eq!(problem["status"], status.as_u16());
        assert!(problem["title"].is_string());
        assert!(problem["detail"].is_string());
    }
}

impl TestApp {
    async fn new(backend: Backend) -> Self {
        Self::with_limits(backend, Limits::DEFAULT).await
    }

    async fn with_limits(backend: Backend, limits: Limits) -> Self {
        let test_store = TestStore::new(backend).await;
        let master_key = MasterKey::from_slice(&MASTER_KEY).unwrap();
        let state = AppState::new(
            test_store.store.clone(),
            master_key,
            Duration::from_secs(900),
            limits,
        )
        .unwrap();

        Self {
            router: gateway::app(state),
            test_store,
        }
    }

    async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    async fn sign_up(&self, username: &str) -> TestResponse {
        let credentials = json!({ "username": username, "password": PASSWORD });
        self.call(Method::POST, "/v1/auth/signup", None, Some(credentials))
            .await
    }

    async fn log_in(&self, username: &str, password: &str) -> TestResponse {
        let credentials = json!({ "username": username, "password": password });
        self.call(Method::POST, "/v1/auth/login", None, Some(credentials))
            .await
    }

    /// Signs up `username` and returns an access token.
    async fn user(&self, username: &str) -> String {
        assert_eq!(self.sign_up(username).await.status, StatusCode::CREATED);
        let login = self.log_in(username, PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text());
        login.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn create_note(&self, token: &str, title: &str, body: &str) -> String {
        let note = json!({ "title": title, "body": body });
        let response = self
            .call(Method::POST, "/v1/notes", Some(token), Some(note))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["id"].as_str().unwrap().to_owned()
    }
}

fn user_id_of(token: &str) -> UserId {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"].as_str().unwrap().parse().unwrap()
}

fn signed_token(key: &[u8], algorithm: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

fn valid_claims(sub: UserId) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "sub": sub.to_string(),
        "iss": "sandnotes-gateway",
        "aud": "sandnotes-api",
        "iat": now,
        "exp": now + 600,
    })
}

async fn note_lifecycle_over_http(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;

    let created = app
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(json!({ "title": "Shopping", "body": "eggs, flour" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers.get(header::LOCATION).unwrap(),
        &format!("/v1/notes/{id}")
    );

    let listed = app.call(Method::GET, "/v1/notes", Some(&token), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["notes"][0]["id"], id.as_str());
    assert_eq!(listed.json()["notes"][0]["title"], "Shopping");
    assert!(listed.json()["notes"][0].get("body").is_none());
    assert_eq!(listed.json()["next_cursor"], Value::Null);

    let fetched = app
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json()["title"], "Shopping");
    assert_eq!(fetched.json()["body"], "eggs, flour");

    let replaced = app
        .call(
            Method::PUT,
            &format!("/v1/notes/{id}"),
            Some(&token),
            Some(json!({ "title": "Shopping list", "body": "eggs, flour, milk" })),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    assert_eq!(replaced.json()["created_at"], created.json()["created_at"]);

    let refetched = app
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;
    assert_eq!(refetched.json()["title"], "Shopping list");
    assert_eq!(refetched.json()["body"], "eggs, flour, milk");

    let deleted = app
        .call(
            Method::DELETE,
            &format!("/v1/notes/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let after_delete = app
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;
    after_delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
}

async fn other_users_note_is_not_found(backend: Backend) {
    let app = TestApp::new(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = app.create_note(&alice, "Diary", "dear diary").await;
    let path = format!("/v1/notes/{id}");
    let unknown_path = format!("/v1/notes/{}", NoteId::new_time_ordered());

    let get = app.call(Method::GET, &path, Some(&bob), None).await;
    let replace = app
        .call(
            Method::PUT,
            &path,
            Some(&bob),
            Some(json!({ "title": "x", "body": "y" })),
        )
        .await;
    let delete = app.call(Method::DELETE, &path, Some(&bob), None).await;
    let unknown = app.call(Method::GET, &unknown_path, Some(&bob), None).await;
    let bobs_list = app.call(Method::GET, "/v1/notes", Some(&bob), None).await;

    get.assert_problem(StatusCode::NOT_FOUND, "not-found");
    replace.assert_problem(StatusCode::NOT_FOUND, "not-found");
    delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(
        get.problem_without_request_id(),
        unknown.problem_without_request_id(),
        "another user's note must look like a missing one"
    );
    assert_eq!(bobs_list.json()["notes"], json!([]));

    let intact = app.call(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(intact.status, StatusCode::OK);
    assert_eq!(intact.json()["title"], "Diary");
    assert_eq!(intact.json()["body"], "dear diary");
}

async fn bad_tokens_are_unauthorized(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;
    let alice = user_id_of(&token);
    let now = jsonwebtoken::get_current_timestamp();
    let token_key = MasterKey::from_slice(&MASTER_KEY)
        .unwrap()
        .access_token_key();

    let mut expired_claims = valid_claims(alice);
    expired_claims["exp"] = json!(now - 3600);
    let expired = signed_token(token_key.as_ref(), Algorithm::HS256, &expired_claims);
    let wrongly_signed = signed_token(&[1; 32], Algorithm::HS256, &valid_claims(alice));
    let master_key_signed = signed_token(&MASTER_KEY, Algorithm::HS256, &valid_claims(alice));
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(valid_claims(alice).to_string());
    let unsigned = format!("{header}.{payload}.");
    let mut tampered_claims = valid_claims(UserId::new_random());
    tampered_claims["exp"] = json!(now + 7200);
    let signature = token.rsplit('.').next().unwrap();
    let tampered = format!(
        "{}.{}.{signature}",
        token.split('.').next().unwrap(),
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string())
    );

    let cases: [(&str, Option<String>); 7] = [
        ("missing", None),
        ("malformed", Some("not-a-jwt".to_owned())),
        ("expired", Some(expired)),
        ("wrongly signed", Some(wrongly_signed)),
        ("signed with the raw master key", Some(master_key_signed)),
        ("alg none", Some(unsigned)),
        ("tampered claims", Some(tampered)),
    ];
    for (case, bad_token) in cases {
        let response = app
            .call(Method::GET, "/v1/notes", bad_token.as_deref(), None)
            .await;

        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "case: {case}");
        response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(
            response.headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
    }

    let basic = app
        .send(
            Request::get("/v1/notes")
                .header(header::AUTHORIZATION, "Basic YWxpY2U6cGFzc3dvcmQ=")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    basic.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    let valid = app.call(Method::GET, "/v1/notes", Some(&token), None).await;
    assert_eq!(valid.status, StatusCode::OK);
}

async fn login_failure_is_generic(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.user("alice").await;

    let wrong_password = app.log_in("alice", "not the password").await;
    let unknown_user = app.log_in("mallory", PASSWORD).await;
    let invalid_name = app.log_in("no spaces allowed", PASSWORD).await;

    wrong_password.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        wrong_password.problem_without_request_id(),
        unknown_user.problem_without_request_id()
    );
    assert_eq!(
        wrong_password.problem_without_request_id(),
        invalid_name.problem_without_request_id()
    );
}

async fn login_issues_bearer_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.user("alice").await;

    let login = app.log_in("ALICE", PASSWORD).await;

    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.json()["token_type"], "Bearer");
    assert_eq!(login.json()["expires_in"], 900);
}

async fn login_attempts_are_throttled(backend: Backend) {
    let limits = Limits {
        login_attempts_per_minute: std::num::NonZeroU32::new(3).unwrap(),
        ..Limits::DEFAULT
    };
    let app = TestApp::with_limits(backend, limits).await;
    assert_eq!(app.sign_up("alice").await.status, StatusCode::CREATED);
    assert_eq!(app.sign_up("bob").await.status, StatusCode::CREATED);

    for _ in 0..3 {
        let guess = app.log_in("alice", "wrong guess 123").await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    for _ in 0..3 {
        app.log_in("nobody", "wrong guess 123").await;
    }
    let correct_after_guesses = app.log_in("alice", PASSWORD).await;
    let unknown_after_guesses = app.log_in("nobody", PASSWORD).await;
    let other_user = app.log_in("bob", PASSWORD).await;

    correct_after_guesses.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    let retry_after: u64 = correct_after_guesses.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    unknown_after_guesses.assert_problem(StatusCode::TOO_MANY_REQUESTS, "too-many-requests");
    assert_eq!(other_user.status, StatusCode::OK);
}

async fn duplicate_signup_conflicts(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.user("alice").await;

    let again = app.sign_up("Alice").await;

    again.assert_problem(StatusCode::CONFLICT, "conflict");
}

async fn invalid_signups_are_rejected(backend: Backend) {
    let app = TestApp::new(backend).await;

    let short_password = app
        .call(
            Method::POST,
            "/v1/auth/signup",
            None,
            Some(json!({ "username": "alice", "password": "short" })),
        )
        .await;
    let bad_name = app
        .call(
            Method::POST,
            "/v1/auth/signup",
            None,
            Some(json!({ "username": "a/b", "password": PASSWORD })),
        )
        .await;
    let extra_field = app
        .call(
            Method::POST,
            "/v1/auth/signup",
            None,
            Some(json!({ "username": "alice", "password": PASSWORD, "admin": true })),
        )
        .await;

    short_password.assert_problem(StatusCode::BAD_REQUEST, "validation");
    bad_name.assert_problem(StatusCode::BAD_REQUEST, "validation");
    extra_field.assert_problem(StatusCode::BAD_REQUEST, "validation");
}

async fn list_paginates_with_cursor(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;
    let mut created = Vec::new();
    for index in 0..5 {
        created.push(
            app.create_note(&token, &format!("note {index}"), "body")
                .await,
        );
    }
    created.reverse();

    let mut listed = Vec::new();
    let mut uri = "/v1/notes?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = app.call(Method::GET, &uri, Some(&token), None).await.json();
        pages += 1;
        for note in page["notes"].as_array().unwrap() {
            listed.push(note["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/v1/notes?limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(listed, created);
    assert_eq!(pages, 3);
}

async fn bad_list_queries_are_rejected(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;

    let too_large = app
        .call(Method::GET, "/v1/notes?limit=101", Some(&token), None)
        .await;
    let not_a_number = app
        .call(Method::GET, "/v1/notes?limit=ten", Some(&token), None)
        .await;
    let bad_cursor = app
        .call(Method::GET, "/v1/notes?cursor=%%%", Some(&token), None)
        .await;

    too_large.assert_problem(StatusCode::BAD_REQUEST, "validation");
    not_a_number.assert_problem(StatusCode::BAD_REQUEST, "validation");
    bad_cursor.assert_problem(StatusCode::BAD_REQUEST, "validation");
}

async fn request_errors_are_problems(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;

    let oversized_request = app
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(json!({ "title": "big", "body": "x".repeat(Limits::DEFAULT.max_request_bytes + 1) })),
        )
        .await;
    let oversized_body = app
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(json!({ "title": "big", "body": "x".repeat(Limits::DEFAULT.max_note_body_bytes + 1) })),
        )
        .await;
    let oversized_title = app
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(json!({ "title": "t".repeat(Limits::DEFAULT.max_title_bytes + 1), "body": "" })),
        )
        .await;
    let malformed = app
        .send(
            Request::post("/v1/notes")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"title": "unterminated"#))
                .unwrap(),
        )
        .await;
    let wrong_shape = app
        .call(
            Method::POST,
            "/v1/notes",
            Some(&token),
            Some(json!({ "title": 5, "body": [] })),
        )
        .await;
    let not_json = app
        .send(
            Request::post("/v1/notes")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    let unknown_note = app
        .call(
            Method::GET,
            &format!("/v1/notes/{}", NoteId::new_time_ordered()),
            Some(&token),
            None,
        )
        .await;
    let malformed_id = app
        .call(Method::GET, "/v1/notes/not-a-uuid", Some(&token), None)
        .await;
    let unknown_route = app.call(Method::GET, "/v1/nothing-here", None, None).await;
    let wrong_method = app
        .call(Method::PATCH, "/v1/notes", Some(&token), None)
        .await;

    oversized_request.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    oversized_body.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    oversized_title.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    malformed.assert_problem(StatusCode::BAD_REQUEST, "validation");
    wrong_shape.assert_problem(StatusCode::BAD_REQUEST, "validation");
    not_json.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    unknown_note.assert_problem(StatusCode::NOT_FOUND, "not-found");
    malformed_id.assert_problem(StatusCode::NOT_FOUND, "not-found");
    unknown_route.assert_problem(StatusCode::NOT_FOUND, "not-found");
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
}

async fn note_at_exact_limits_is_accepted(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.user("alice").await;
    let title = "t".repeat(Limits::DEFAULT.max_title_bytes);
    let body = "b".repeat(Limits::DEFAULT.max_note_body_bytes);

    let id = app.create_note(&token, &title, &body).await;
    let fetched = app
        .call(Method::GET, &format!("/v1/notes/{id}"), Some(&token), None)
        .await;

    assert_eq!(fetched.json()["title"].as_str().unwrap().len(), title.len());
    assert_eq!(fetched.json()["body"].as_str().unwrap().len(), body.len());
}

async fn note_quota_is_enforced(backend: Backend) {
    let limits = Limits {
        max_notes_per_user: 2,
        ..Limits::DEFAULT
    };
    let app = TestApp::with_limits(backend, limits).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = app.create_note(&alice, "one", "1").await;
    app.create_note(&alice, "two", "2").await;
    let note = json!({ "title": "three", "body": "3" });

    let over_quota = app
        .call(Method::POST, "/v1/notes", Some(&alice), Some(note.clone()))
        .await;
    let other_user = app
        .call(Method::POST, "/v1/notes", Some(&bob), Some(note.clone()))
        .await;
    app.call(
        Method::DELETE,
        &format!("/v1/notes/{first}"),
        Some(&alice),
        None,
    )
    .await;
    let after_delete = app
        .call(Method::POST, "/v1/notes", Some(&alice), Some(note))
        .await;

    over_quota.assert_problem(StatusCode::CONFLICT, "conflict");
    assert_eq!(other_user.status, StatusCode::CREATED);
    assert_eq!(after_delete.status, StatusCode::CREATED);
}

/// Copies the sealed fields of `source` onto `target` through the store.
async fn copy_ciphertext(app: &TestApp, source: (UserId, NoteId), target: (UserId, NoteId)) {
    let source_note = app
        .test_store
        .store
        .get_note(source.0, source.1)
        .await
        .unwrap()
        .unwrap();
    let replacement = NoteReplacement {
        title_sealed: source_note.title_sealed,
        body_sealed: source_note.body_sealed,
        updated_at: gateway::store::now(),
    };
    let replaced = app
        .test_store
        .store
        .replace_note(target.0, target.1, &replacement)
        .await
        .unwrap();
    assert!(replaced.is_some());
}

async fn copied_ciphertext_fails_to_open(backend: Backend) {
    let app = TestApp::new(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (alice_id, bob_id) = (user_id_of(&alice), user_id_of(&bob));
    let secret: NoteId = app
        .create_note(&alice, "Secret plan", "the treasure is buried")
        .await
        .parse()
        .unwrap();
    let decoy: NoteId = app
        .create_note(&alice, "Decoy", "nothing here")
        .await
        .parse()
        .unwrap();
    let bobs: NoteId = app
        .create_note(&bob, "Bob's", "bob's text")
        .await
        .parse()
        .unwrap();

    copy_ciphertext(&app, (alice_id, secret), (alice_id, decoy)).await;
    copy_ciphertext(&app, (alice_id, secret), (bob_id, bobs)).await;
    let same_user = app
        .call(
            Method::GET,
            &format!("/v1/notes/{decoy}"),
            Some(&alice),
            None,
        )
        .await;
    let other_user = app
        .call(Method::GET, &format!("/v1/notes/{bobs}"), Some(&bob), None)
        .await;
    let other_user_list = app.call(Method::GET, "/v1/notes", Some(&bob), None).await;

    for response in [&same_user, &other_user, &other_user_list] {
        response.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(!response.text().contains("treasure"));
        assert!(!response.text().contains("Secret plan"));
    }
    let original = app
        .call(
            Method::GET,
            &format!("/v1/notes/{secret}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(original.json()["body"], "the treasure is buried");
}

async fn responses_carry_standard_headers(backend: Backend) {
    let app = TestApp::new(backend).await;

    let generated = app.call(Method::GET, "/healthz", None, None).await;
    let echoed = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "trace-me-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;

    assert!(generated.headers.get("x-request-id").is_some());
    assert_eq!(
        generated.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    assert_eq!(
        generated
            .headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .unwrap(),
        "nosniff"
    );
    assert_eq!(echoed.headers.get("x-request-id").unwrap(), "trace-me-123");
}

async fn health_probes_report_ready(backend: Backend) {
    let app = TestApp::new(backend).await;

    let live = app.call(Method::GET, "/healthz", None, None).await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;

    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(ready.status, StatusCode::OK);
}

async fn readiness_fails_when_store_is_closed(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.test_store.store.close().await;

    let ready = app.call(Method::GET, "/readyz", None, None).await;

    ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

on_both_stores!(
    note_lifecycle_over_http,
    other_users_note_is_not_found,
    bad_tokens_are_unauthorized,
    login_failure_is_generic,
    login_issues_bearer_token,
    login_attempts_are_throttled,
    duplicate_signup_conflicts,
    invalid_signups_are_rejected,
    list_paginates_with_cursor,
    bad_list_queries_are_rejected,
    request_errors_are_problems,
    note_at_exact_limits_is_accepted,
    note_quota_is_enforced,
    copied_ciphertext_fails_to_open,
    responses_carry_standard_headers,
    health_probes_report_ready,
    readiness_fails_when_store_is_closed,
);
