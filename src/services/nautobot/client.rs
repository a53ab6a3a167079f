//! The only code that speaks Nautobot's HTTP API: the connection settings, one request path
//! with the token header, and Nautobot's answers and failures turned into `NautobotError`s
//! worded for an engineer. The token never leaves this module except in the request header.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::crypto::Vault;
use crate::error::Error;
use crate::services::settings::{self, registry};

/// Where Nautobot is and how to talk to it.
#[derive(Clone)]
pub struct Connection {
    pub url: String,
    pub token: Option<String>,
    pub timeout_seconds: u64,
    pub verify_tls: bool,
    pub ca_file: String,
}

/// Hand-written so the token cannot reach a log through `{:?}`.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("timeout_seconds", &self.timeout_seconds)
            .field("verify_tls", &self.verify_tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl Connection {
    /// The saved settings.
    pub async fn load(db: &impl ConnectionTrait, vault: &Vault) -> Result<Connection, Error> {
        Ok(Connection {
            url: settings::text(db, &registry::NAUTOBOT_URL).await?,
            token: settings::secret(db, vault, &registry::NAUTOBOT_TOKEN).await?,
            timeout_seconds: settings::int(db, &registry::NAUTOBOT_TIMEOUT_SECONDS)
                .await?
                .unsigned_abs(),
            verify_tls: settings::boolean(db, &registry::NAUTOBOT_VERIFY_TLS).await?,
            ca_file: settings::text(db, &registry::NAUTOBOT_CA_FILE).await?,
        })
    }

    pub fn is_configured(&self) -> bool {
        !self.url.trim().is_empty() && self.token.as_deref().is_some_and(|t| !t.is_empty())
    }
}

/// A failure talking to Nautobot, in words.
#[derive(Debug, thiserror::Error)]
pub enum NautobotError {
    #[error("Nautobot is not configured: set its URL and API token under Settings → Nautobot")]
    NotConfigured,
    #[error("the Nautobot URL {0:?} is not an http:// or https:// address")]
    BadUrl(String),
    #[error("the CA certificate file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot reach Nautobot at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("TLS failure talking to {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("Nautobot did not answer within {0} s")]
    Timeout(u64),
    /// 401/403 for the token itself (unknown, expired, missing).
    #[error("Nautobot refused the API token: {0}")]
    BadToken(String),
    /// 403 for what the token may do.
    #[error(
        "Nautobot refused {what}: {detail} (the token is read-only or its user lacks the permission)"
    )]
    Forbidden { what: String, detail: String },
    #[error("Nautobot redirects {url} to {to}: use that address as the URL")]
    Redirect { url: String, to: String },
    #[error("Nautobot answered {status} to {what}: {message}")]
    Rejected {
        status: u16,
        what: String,
        message: String,
    },
    #[error("the answer to {what} is not Nautobot's API: {reason}")]
    NotNautobot { what: String, reason: String },
    #[error("Nautobot's GraphQL API answered: {0}")]
    Graphql(String),
}

impl From<NautobotError> for Error {
    fn from(e: NautobotError) -> Self {
        Error::Refused(e.to_string())
    }
}

/// One request's answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// reqwest's TLS (rustls) comes without a cryptography provider: ring, which sqlx and russh
/// already bring, is installed as the process's one. Called before any HTTP client is built;
/// later calls find it installed.
pub fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    timeout_seconds: u64,
}

/// At most this much of Nautobot's error text reaches a message.
const MAX_MESSAGE: usize = 600;

impl Client {
    pub fn new(c: &Connection) -> Result<Client, NautobotError> {
        if !c.is_configured() {
            return Err(NautobotError::NotConfigured);
        }
        let base = c.url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(NautobotError::BadUrl(base));
        }
        use_ring_for_tls();
        let token = c.token.as_deref().unwrap_or_default();
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Token {token}")).map_err(|_| {
            NautobotError::BadToken("the token holds characters a header cannot carry".into())
        })?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(Duration::from_secs(c.timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(c.timeout_seconds.clamp(1, 30)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("NetRaven/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!c.verify_tls);
        let ca_file = c.ca_file.trim();
        if !ca_file.is_empty() {
            let ca_error = |reason: String| NautobotError::CaFile {
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
        let http = builder.build().map_err(|e| NautobotError::Unreachable {
            url: base.clone(),
            reason: chain(&e),
        })?;
        Ok(Client {
            http,
            base,
            timeout_seconds: c.timeout_seconds,
        })
    }

    /// `Client::new` on the saved settings.
    pub async fn from_settings(db: &impl ConnectionTrait, vault: &Vault) -> Result<Client, Error> {
        Ok(Client::new(&Connection::load(db, vault).await?)?)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request and returns any answer that is not a failure of the request itself;
    /// `what` names it in messages ("GET /api/dcim/devices/").
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, NautobotError> {
        let url = format!("{}{path}", self.base);
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, &url).query(query);
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.map_err(|e| self.failure(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if status.is_redirection() {
            let to = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("another address")
                .to_string();
            return Err(NautobotError::Redirect { url, to });
        }
        let bytes = resp.bytes().await.map_err(|e| self.failure(&e))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) => {
                    let text = String::from_utf8_lossy(&bytes);
                    return Err(NautobotError::NotNautobot {
                        what,
                        reason: format!("HTTP {status}, not JSON: {}", snippet(&text)),
                    });
                }
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A request that must succeed (2xx); its JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, NautobotError> {
        let what = format!("{method} {path}");
        let a = self.send(method, path, query, body).await?;
        if a.status.is_success() {
            return Ok(a.body);
        }
        Err(refusal(a.status, &what, &a.body))
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, NautobotError> {
        self.call(Method::GET, path, query, None).await
    }

    /// Every object of a REST list (`limit` 1,000 per page, at most `cap` objects).
    pub async fn list(
        &self,
        path: &str,
        query: &[(&str, String)],
        cap: usize,
    ) -> Result<Vec<Value>, NautobotError> {
        let mut all = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut q = query.to_vec();
            q.push(("limit", "1000".into()));
            q.push(("offset", offset.to_string()));
            let page = self.get(path, &q).await?;
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| NautobotError::NotNautobot {
                    what: format!("GET {path}"),
                    reason: "no \"results\" list".into(),
                })?;
            offset += results.len();
            all.extend(results.iter().cloned());
            if results.is_empty() || page.get("next").is_none_or(Value::is_null) || all.len() >= cap
            {
                all.truncate(cap);
                return Ok(all);
            }
        }
    }

    /// A GraphQL query's `data`; any error Nautobot reports (HTTP 400, or errors beside data)
    /// fails the call, so a half-answered query is never taken as the whole.
    pub async fn graphql(&self, query: &str, variables: &Value) -> Result<Value, NautobotError> {
        let body = json!({"query": query, "variables": variables});
        let a = self
            .send(Method::POST, "/api/graphql/", &[], Some(&body))
            .await?;
        let errors = graphql_errors(&a.body);
        if let Some(errors) = errors {
            return Err(NautobotError::Graphql(errors));
        }
        if !a.status.is_success() {
            return Err(refusal(a.status, "POST /api/graphql/", &a.body));
        }
        a.body
            .get("data")
            .cloned()
            .filter(|d| !d.is_null())
            .ok_or_else(|| NautobotError::NotNautobot {
                what: "POST /api/graphql/".into(),
                reason: "no \"data\" in the answer".into(),
            })
    }

    fn failure(&self, e: &reqwest::Error) -> NautobotError {
        let url = self.base.clone();
        if e.is_timeout() {
            return NautobotError::Timeout(self.timeout_seconds);
        }
        let reason = chain(e);
        if is_tls(e) {
            NautobotError::Tls { url, reason }
        } else {
            NautobotError::Unreachable { url, reason }
        }
    }
}

/// The messages of a GraphQL `errors` list, when it has any.
fn graphql_errors(body: &Value) -> Option<String> {
    let errors = body.get("errors")?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    let text: Vec<String> = errors
        .iter()
        .map(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .map_or_else(|| e.to_string(), str::to_string)
        })
        .collect();
    Some(snippet(&text.join("; ")))
}

/// A non-2xx answer as an error: Nautobot's `{"detail": ...}` for 401/403/404, its field
/// messages for a 400.
pub fn refusal(status: StatusCode, what: &str, body: &Value) -> NautobotError {
    let message = describe(body);
    match status.as_u16() {
        401 | 403 if is_token_problem(&message) => NautobotError::BadToken(message),
        403 => NautobotError::Forbidden {
            what: what.to_string(),
            detail: message,
        },
        code => NautobotError::Rejected {
            status: code,
            what: what.to_string(),
            message,
        },
    }
}

/// Nautobot's 403 texts about the token rather than its permissions.
fn is_token_problem(detail: &str) -> bool {
    [
        "Invalid token",
        "credentials were not provided",
        "Token expired",
        "No credentials provided",
    ]
    .iter()
    .any(|w| detail.contains(w))
}

/// Nautobot's error body in one line: `detail`, field messages (`name: This field is
/// required.`), GraphQL messages, or lists of these (bulk requests).
pub fn describe(body: &Value) -> String {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) if prefix.is_empty() => out.push(s.clone()),
            Value::String(s) => out.push(format!("{prefix}: {s}")),
            Value::Array(items) => items.iter().for_each(|i| walk(i, prefix, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if k == "detail"
                        || k == "__all__"
                        || k == "non_field_errors"
                        || k == "message"
                    {
                        prefix.to_string()
                    } else if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    if k == "locations" || k == "path" {
                        continue;
                    }
                    walk(v, &key, out);
                }
            }
            Value::Null => {}
            other => out.push(other.to_string()),
        }
    }
    let mut out = Vec::new();
    walk(body, "", &mut out);
    if out.is_empty() {
        return "no details given".into();
    }
    snippet(&out.join("; "))
}

fn snippet(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() <= MAX_MESSAGE {
        return t.to_string();
    }
    let cut: String = t.chars().take(MAX_MESSAGE).collect();
    format!("{cut}…")
}

/// The error and its causes, innermost last, without repeats ("error sending request: client
/// error (Connect): tcp connect error: Connection refused (os error 111)").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    // The URL reqwest adds to its own message is already in ours.
    parts
        .last()
        .cloned()
        .unwrap_or_else(|| "unknown error".into())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nautobot_error_bodies_read_as_one_line() {
        assert_eq!(
            describe(&json!({"detail": "Invalid token"})),
            "Invalid token"
        );
        assert_eq!(
            describe(&json!({"name": ["This field is required."], "status": ["Bad."]})),
            "name: This field is required.; status: Bad."
        );
        assert_eq!(
            describe(&json!([{"id": ["This field is required."]}])),
            "id: This field is required."
        );
        assert_eq!(
            describe(&json!({"__all__": ["Invalid value for custom field 'x'."]})),
            "Invalid value for custom field 'x'."
        );
        assert_eq!(
            describe(
                &json!({"errors": [{"message": "Cannot query field 'x' on type 'DeviceType'.", "locations": [{"line": 1, "column": 3}]}]})
            ),
            "errors: Cannot query field 'x' on type 'DeviceType'."
        );
    }

    #[test]
    fn token_problems_are_told_from_missing_permissions() {
        assert!(matches!(
            refusal(
                StatusCode::FORBIDDEN,
                "GET /api/",
                &json!({"detail": "Invalid token"})
            ),
            NautobotError::BadToken(_)
        ));
        assert!(matches!(
            refusal(
                StatusCode::FORBIDDEN,
                "PATCH /api/dcim/devices/",
                &json!({"detail": "You do not have permission to perform this action."})
            ),
            NautobotError::Forbidden { .. }
        ));
    }

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let c = Connection {
            url: "https://nautobot.example.net".into(),
            token: Some("0123456789abcdef0123456789abcdef01234567".into()),
            timeout_seconds: 5,
            verify_tls: true,
            ca_file: String::new(),
        };
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
