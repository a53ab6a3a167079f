//! The only code that speaks CheckMK's REST API (`<site URL>/check_mk/api/1.0`): the connection
//! settings, one request path with the automation user's `Bearer <user> <secret>` header, and
//! CheckMK's answers and failures (its JSON "problem" objects) turned into `CheckmkError`s worded
//! for an engineer. The secret never leaves this module except in the request header.

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::crypto::Vault;
use crate::error::Error;
use crate::services::http::{self, Answer, ClientSpec, Failure, SetupError, Unusable, snippet};
use crate::services::settings::{self, registry};

/// Where CheckMK is and how to sign in.
#[derive(Clone)]
pub struct Connection {
    /// The site's URL, `https://host/site`.
    pub url: String,
    pub user: String,
    pub secret: Option<String>,
    pub timeout_seconds: u64,
    pub verify_tls: bool,
}

/// Hand-written so the secret cannot reach a log through `{:?}`.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("timeout_seconds", &self.timeout_seconds)
            .field("verify_tls", &self.verify_tls)
            .finish()
    }
}

impl Connection {
    /// The saved settings.
    pub async fn load(db: &impl ConnectionTrait, vault: &Vault) -> Result<Connection, Error> {
        Ok(Connection {
            url: settings::text(db, &registry::CHECKMK_URL).await?,
            user: settings::text(db, &registry::CHECKMK_USER).await?,
            secret: settings::secret(db, vault, &registry::CHECKMK_SECRET).await?,
            timeout_seconds: settings::int(db, &registry::CHECKMK_TIMEOUT_SECONDS)
                .await?
                .unsigned_abs(),
            verify_tls: settings::boolean(db, &registry::CHECKMK_VERIFY_TLS).await?,
        })
    }

    pub fn is_configured(&self) -> bool {
        !self.url.trim().is_empty()
            && !self.user.trim().is_empty()
            && self.secret.as_deref().is_some_and(|s| !s.is_empty())
    }
}

/// A failure talking to CheckMK, in words.
#[derive(Debug, thiserror::Error)]
pub enum CheckmkError {
    #[error(
        "CheckMK is not configured: set its site URL, automation user and secret under Settings → CheckMK"
    )]
    NotConfigured,
    #[error("the CheckMK site URL {0:?} is not an http:// or https:// address")]
    BadUrl(String),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot reach CheckMK at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("TLS failure talking to {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("CheckMK did not answer within {0} s")]
    Timeout(u64),
    /// 401: the automation user or its secret.
    #[error("CheckMK refused the automation user or its secret: {0}")]
    Unauthorized(String),
    #[error("CheckMK redirects {url} to {to}: use the site's URL (https://host/site)")]
    Redirect { url: String, to: String },
    #[error("CheckMK answered {status} to {what}: {message}")]
    Rejected {
        status: u16,
        what: String,
        message: String,
    },
    #[error("the answer to {what} is not CheckMK's REST API: {reason}")]
    NotCheckmk { what: String, reason: String },
    /// A move refused (428) because changes are pending.
    #[error(
        "CheckMK does not move hosts while changes are pending: activate the pending changes first, then update again"
    )]
    PendingChanges,
    /// What happened to one host, when CheckMK's answer alone does not say it.
    #[error("{0}")]
    Host(String),
    #[error("activation {id} still runs after {seconds} s: see CheckMK's activation page")]
    StillActivating { id: String, seconds: u64 },
}

impl CheckmkError {
    /// CheckMK answered about this one request (a host it refuses, a 500 on one host); the
    /// others may still work. Any other failure (unreachable, credentials) ends the job.
    pub fn concerns_one_request(&self) -> bool {
        match self {
            CheckmkError::Rejected { status, .. } => *status != 401,
            CheckmkError::Host(_) | CheckmkError::PendingChanges => true,
            _ => false,
        }
    }
}

impl From<CheckmkError> for Error {
    fn from(e: CheckmkError) -> Self {
        Error::Refused(e.to_string())
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `<site URL>/check_mk/api/1.0`.
    base: String,
    timeout_seconds: u64,
}

impl Client {
    pub fn new(c: &Connection) -> Result<Client, CheckmkError> {
        if !c.is_configured() {
            return Err(CheckmkError::NotConfigured);
        }
        let site = http::base_url(&c.url).map_err(CheckmkError::BadUrl)?;
        let authorization = format!(
            "Bearer {} {}",
            c.user.trim(),
            c.secret.as_deref().unwrap_or_default()
        );
        let http = http::client(&ClientSpec {
            authorization: &authorization,
            timeout_seconds: c.timeout_seconds,
            verify_tls: c.verify_tls,
            ca_file: "",
        })?;
        Ok(Client {
            http,
            base: format!("{site}/check_mk/api/1.0"),
            timeout_seconds: c.timeout_seconds,
        })
    }

    /// `Client::new` on the saved settings.
    pub async fn from_settings(db: &impl ConnectionTrait, vault: &Vault) -> Result<Client, Error> {
        Ok(Client::new(&Connection::load(db, vault).await?)?)
    }

    /// Sends one request (with the `If-Match` ETag CheckMK's changes need); any answer that
    /// is not a failure of the request itself.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, CheckmkError> {
        let url = format!("{}{path}", self.base);
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, &url);
        if let Some(etag) = if_match {
            req = req.header(reqwest::header::IF_MATCH, etag);
        }
        // The activation's wait-for-completion answers a redirect to itself while it runs.
        let own = |to: &str| to.contains("/check_mk/api/");
        http::send(req, body, own).await.map_err(|u| match u {
            Unusable::Failed(f) => self.failure(f),
            Unusable::Redirect(to) => CheckmkError::Redirect { url, to },
            Unusable::NotJson(status, text) => CheckmkError::NotCheckmk {
                what,
                reason: format!("HTTP {status}, not JSON: {text}"),
            },
        })
    }

    /// A request that must succeed (2xx); its JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CheckmkError> {
        let what = format!("{method} {path}");
        let a = self.send(method, path, body, None).await?;
        if a.status.is_success() {
            return Ok(a.body);
        }
        Err(refusal(a.status, &what, &a.body))
    }

    fn failure(&self, f: Failure) -> CheckmkError {
        let url = self.base.clone();
        match f {
            Failure::Timeout => CheckmkError::Timeout(self.timeout_seconds),
            Failure::Tls(reason) => CheckmkError::Tls { url, reason },
            Failure::Unreachable(reason) => CheckmkError::Unreachable { url, reason },
        }
    }
}

/// A non-2xx answer as an error, from CheckMK's problem object.
pub fn refusal(status: StatusCode, what: &str, body: &Value) -> CheckmkError {
    let message = describe(body);
    match status.as_u16() {
        401 => CheckmkError::Unauthorized(message),
        code => CheckmkError::Rejected {
            status: code,
            what: what.to_string(),
            message,
        },
    }
}

/// A problem object (`title`, `detail`, `fields`) in one line.
pub fn describe(body: &Value) -> String {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim);
    let mut parts: Vec<String> = Vec::new();
    match (text("title"), text("detail")) {
        (Some(t), Some(d)) if !d.is_empty() => parts.push(format!("{t}: {d}")),
        (Some(t), _) => parts.push(t.to_string()),
        (None, Some(d)) => parts.push(d.to_string()),
        (None, None) => {}
    }
    if let Some(fields) = body.get("fields").and_then(Value::as_object) {
        for (field, messages) in fields {
            let m = match messages {
                Value::Array(list) => list
                    .iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string),
            };
            parts.push(format!("{field}: {m}"));
        }
    }
    if parts.is_empty() {
        return if body.is_null() {
            "no details given".into()
        } else {
            snippet(&body.to_string())
        };
    }
    snippet(&parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_read_as_one_line() {
        assert_eq!(
            describe(
                &json!({"title": "Unauthorized", "status": 401, "detail": "Wrong credentials"})
            ),
            "Unauthorized: Wrong credentials"
        );
        assert_eq!(
            describe(
                &json!({"title": "Bad Request", "status": 400, "detail": "These fields have problems: folder",
                "fields": {"folder": ["Folder not found: '/nope'"]}})
            ),
            "Bad Request: These fields have problems: folder; folder: Folder not found: '/nope'"
        );
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let c = Connection {
            url: "https://cmk.example.net/prod".into(),
            user: "automation".into(),
            secret: Some("s3cr3t-value".into()),
            timeout_seconds: 5,
            verify_tls: true,
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
