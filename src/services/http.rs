//! What NetRaven's clients of other systems' HTTP APIs (Nautobot, CheckMK) share: one way to
//! build a client (timeouts, TLS verification and an extra CA, no redirects followed, no proxies,
//! the credential header marked sensitive) and one way to word a request that got no answer.
//! Each system's own client (`nautobot::client`, `checkmk::client`) adds its error shapes.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use serde_json::Value;

/// reqwest's TLS (rustls) comes without a cryptography provider: ring, which sqlx and russh
/// already bring, is installed as the process's one. Called before any HTTP client is built;
/// later calls find it installed.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A configured base address without its trailing slash, when it is an http(s) URL.
pub fn base_url(configured: &str) -> Result<String, String> {
    let base = configured.trim().trim_end_matches('/').to_string();
    if base.starts_with("http://") || base.starts_with("https://") {
        Ok(base)
    } else {
        Err(base)
    }
}

/// How to reach one system.
pub struct ClientSpec<'a> {
    /// The `Authorization` header's value (a secret: never logged).
    pub authorization: &'a str,
    pub timeout_seconds: u64,
    pub verify_tls: bool,
    /// A PEM file with CAs trusted besides the system's; empty: none.
    pub ca_file: &'a str,
}

/// A client that could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the credential holds characters an HTTP header cannot carry")]
    BadCredential,
    #[error("the CA certificate file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot set up an HTTP client: {0}")]
    Build(String),
}

pub fn client(spec: &ClientSpec) -> Result<reqwest::Client, SetupError> {
    use_ring_for_tls();
    let mut headers = HeaderMap::new();
    let mut auth =
        HeaderValue::from_str(spec.authorization).map_err(|_| SetupError::BadCredential)?;
    auth.set_sensitive(true);
    headers.insert(AUTHORIZATION, auth);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(spec.timeout_seconds.max(1)))
        .connect_timeout(Duration::from_secs(spec.timeout_seconds.clamp(1, 30)))
        // A redirect is reported to the user (the URL to configure), never followed with the
        // credential.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("NetRaven/", env!("CARGO_PKG_VERSION")))
        .tls_danger_accept_invalid_certs(!spec.verify_tls);
    let ca_file = spec.ca_file.trim();
    if !ca_file.is_empty() {
        let ca_error = |reason: String| SetupError::CaFile {
            path: ca_file.to_string(),
            reason,
        };
        let pem = std::fs::read(ca_file).map_err(|e| ca_error(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| ca_error("not a PEM certificate file".into()))?;
        if certs.is_empty() {
            return Err(ca_error("holds no certificate".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| SetupError::Build(innermost(&e)))
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// The TLS handshake failed; rustls's reason.
    Tls(String),
    /// No connection (refused, no route, name not resolved); the innermost reason.
    Unreachable(String),
}

pub fn failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let reason = innermost(e);
    if is_tls(e) {
        Failure::Tls(reason)
    } else {
        Failure::Unreachable(reason)
    }
}

/// An answer, its body read as JSON (an empty body is `null`).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Why a request gave no answer a client can read.
pub enum Unusable {
    Failed(Failure),
    /// A redirect the caller did not expect: where to.
    Redirect(String),
    /// The body is not JSON: the status and the start of the text.
    NotJson(StatusCode, String),
}

/// Sends `req` (with `body` as JSON) and reads the answer. A redirect is an answer only where
/// `expected_redirect` says so (an API's own "wait and ask again"); any other is `Redirect`.
pub async fn send(
    req: reqwest::RequestBuilder,
    body: Option<&Value>,
    expected_redirect: fn(&str) -> bool,
) -> Result<Answer, Unusable> {
    let req = match body {
        Some(b) => req
            .header(CONTENT_TYPE, "application/json")
            .body(b.to_string()),
        None => req,
    };
    let resp = req
        .send()
        .await
        .map_err(|e| Unusable::Failed(failure(&e)))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    if status.is_redirection() {
        let to = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("another address")
            .to_string();
        if !expected_redirect(&to) {
            return Err(Unusable::Redirect(to));
        }
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Unusable::Failed(failure(&e)))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|_| Unusable::NotJson(status, snippet(&String::from_utf8_lossy(&bytes))))?
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// At most this much of another system's error text reaches a message.
const MAX_MESSAGE: usize = 600;

/// Text from another system, trimmed and cut to a readable length.
pub fn snippet(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() <= MAX_MESSAGE {
        return t.to_string();
    }
    let cut: String = t.chars().take(MAX_MESSAGE).collect();
    format!("{cut}…")
}

/// The innermost cause of an error ("Connection refused (os error 111)"): reqwest's own outer
/// messages repeat the URL the caller's message already names.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        last = err.to_string();
        cur = err.source();
    }
    last
}

fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let text = err.to_string().to_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        cur = err.source();
    }
    false
}
