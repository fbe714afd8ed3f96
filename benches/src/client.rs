//! A lean HTTP/1.1 load client: one keep-alive connection per load task on
//! hyper's low-level `client::conn::http1`, with no pool, no redirects and
//! no URL parsing per request. The client shares the cores with the
//! gateway, so its own CPU time per request counts against the gateway.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request, built once and sent many times: the header values and the
/// body are reference-counted, so each send copies no bytes.
#[derive(Clone)]
pub struct RequestTemplate {
    method: Method,
    path: Uri,
    authorization: HeaderValue,
    json_body: Option<Bytes>,
    expected: StatusCode,
}

impl RequestTemplate {
    /// Builds a request for `path` (starting with `/`) with `token` as its
    /// bearer token, a JSON body when `json_body` is set, and `expected` as
    /// the only accepted response status.
    pub fn new(
        method: Method,
        path: &str,
        token: &str,
        json_body: Option<Bytes>,
        expected: StatusCode,
    ) -> Result<Self> {
        Ok(Self {
            method,
            path: path
                .parse()
                .with_context(|| format!("invalid request path {path:?}"))?,
            authorization: HeaderValue::try_from(format!("Bearer {token}"))
                .context("the token is not a valid header value")?,
            json_body,
            expected,
        })
    }
}

/// One keep-alive HTTP/1.1 connection to the gateway.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Connection {
    /// Opens a connection to `address` with Nagle's algorithm off, so each
    /// small request leaves at once.
    pub async fn open(address: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("failed to connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("the HTTP/1.1 handshake failed")?;
        // The task ends when `sender` is dropped. An error of the
        // connection surfaces in the next `send`.
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: HeaderValue::try_from(address.to_string())?,
        })
    }

    /// Sends `template`, reads the whole response body and returns it. A
    /// status other than the template's expected one is an error.
    pub async fn send(&mut self, template: &RequestTemplate) -> Result<Bytes> {
        let mut builder = Request::builder()
            .method(template.method.clone())
            .uri(template.path.clone())
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, template.authorization.clone());
        if template.json_body.is_some() {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let body = Full::new(template.json_body.clone().unwrap_or_default());
        let request = builder.body(body)?;

        self.sender
            .ready()
            .await
            .context("the connection to the gateway closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if status != template.expected {
            bail!(
                "{} {} returned {status}, expected {}: {}",
                template.method,
                template.path,
                template.expected,
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        }
        Ok(bytes)
    }
}
