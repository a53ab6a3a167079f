//! The only code that speaks Nautobot's HTTP API: the connection settings, one request path
//! with the token header, and Nautobot's answers and failures turned into `NautobotError`s
//! worded for an engineer. The token never leaves this module except in the request header.

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::crypto::Vault;
use crate::error::Error;
use crate::services::http::{self, Answer, ClientSpec, Failure, SetupError, Unusable, snippet};
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
    #[error(transparent)]
    Setup(#[from] SetupError),
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

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    timeout_seconds: u64,
}

impl Client {
    pub fn new(c: &Connection) -> Result<Client, NautobotError> {
        if !c.is_configured() {
            return Err(NautobotError::NotConfigured);
        }
        let base = http::base_url(&c.url).map_err(NautobotError::BadUrl)?;
        let authorization = format!("Token {}", c.token.as_deref().unwrap_or_default());
        let http = http::client(&ClientSpec {
            authorization: &authorization,
            timeout_seconds: c.timeout_seconds,
            verify_tls: c.verify_tls,
            ca_file: &c.ca_file,
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
        let req = self.http.request(method, &url).query(query);
        http::send(req, body, |_| false).await.map_err(|u| match u {
            Unusable::Failed(f) => self.failure(f),
            Unusable::Redirect(to) => NautobotError::Redirect { url, to },
            Unusable::NotJson(status, text) => NautobotError::NotNautobot {
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

    fn failure(&self, f: Failure) -> NautobotError {
        let url = self.base.clone();
        match f {
            Failure::Timeout => NautobotError::Timeout(self.timeout_seconds),
            Failure::Tls(reason) => NautobotError::Tls { url, reason },
            Failure::Unreachable(reason) => NautobotError::Unreachable { url, reason },
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
