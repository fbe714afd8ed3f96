//! A small HTTP client for the gateway's v1 API.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A response with its body read.
#[derive(Debug)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// Parses the body as JSON.
    ///
    /// # Panics
    ///
    /// Panics, showing the body, when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("response body is not JSON ({error}): {}", self.text()))
    }

    /// Returns the body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an RFC 9457 problem response of `status` whose `type` ends in
    /// `kind`, such as `not-found`.
    ///
    /// # Panics
    ///
    /// Panics when the response is anything else.
    pub fn assert_problem(&self, status: StatusCode, kind: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.headers
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok()),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(
            problem["type"],
            format!("https://sandnotes.dev/problems/{kind}")
        );
        assert_eq!(problem["status"], status.as_u16());
    }
}

/// A client bound to one gateway's base URL.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
}

impl ApiClient {
    /// Creates a client for the gateway at `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.to_owned(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    ///
    /// # Panics
    ///
    /// Panics when the request cannot be sent or its body cannot be read.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> ApiResponse {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// Sends a prepared request built from [`Self::request`].
    ///
    /// # Panics
    ///
    /// Panics when the request cannot be sent or its body cannot be read.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> ApiResponse {
        let response = request.send().await.expect("send the request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .expect("read the response body")
            .to_vec();
        ApiResponse {
            status,
            headers,
            body,
        }
    }

    /// Starts a request to `path` for custom headers or bodies.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
    }

    /// Signs up `username` with `password`.
    pub async fn sign_up(&self, username: &str, password: &str) -> ApiResponse {
        let body = json!({ "username": username, "password": password });
        self.call(Method::POST, "/v1/auth/signup", None, Some(&body))
            .await
    }

    /// Logs in and returns the response.
    pub async fn log_in(&self, username: &str, password: &str) -> ApiResponse {
        let body = json!({ "username": username, "password": password });
        self.call(Method::POST, "/v1/auth/login", None, Some(&body))
            .await
    }

    /// Logs in and returns the access token.
    ///
    /// # Panics
    ///
    /// Panics when the login fails.
    pub async fn access_token(&self, username: &str, password: &str) -> String {
        let login = self.log_in(username, password).await;
        assert_eq!(
            login.status,
            StatusCode::OK,
            "login failed: {}",
            login.text()
        );
        login.json()["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    /// Signs up `username` and returns an access token.
    ///
    /// # Panics
    ///
    /// Panics when the signup or the login fails.
    pub async fn new_user(&self, username: &str, password: &str) -> String {
        let signup = self.sign_up(username, password).await;
        assert_eq!(
            signup.status,
            StatusCode::CREATED,
            "signup failed: {}",
            signup.text()
        );
        self.access_token(username, password).await
    }

    /// Creates a note and returns its id.
    ///
    /// # Panics
    ///
    /// Panics when the note is not created.
    pub async fn create_note(&self, token: &str, title: &str, body: &str) -> String {
        let note = json!({ "title": title, "body": body });
        let response = self
            .call(Method::POST, "/v1/notes", Some(token), Some(&note))
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "create failed: {}",
            response.text()
        );
        response.json()["id"]
            .as_str()
            .expect("id is a string")
            .to_owned()
    }
}
