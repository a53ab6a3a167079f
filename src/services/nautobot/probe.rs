//! *Test connection*: reach Nautobot with given settings and say, in words, what answered and
//! what the token may do.

use reqwest::Method;
use serde_json::Value;

use super::client::{Client, Connection, NautobotError, refusal};

/// What a successful test found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub version: String,
    pub api_version: String,
    /// The token may create and change devices (write-back and onboarding need it).
    pub can_write: bool,
}

impl Report {
    pub fn words(&self) -> String {
        let rights = if self.can_write {
            "the token can read and write devices"
        } else {
            "the token is read-only: syncs work, but write-back and Add to Nautobot will be refused"
        };
        format!(
            "Connected to Nautobot {} (REST API {}); {rights}.",
            self.version, self.api_version
        )
    }
}

pub async fn test(c: &Connection) -> Result<Report, NautobotError> {
    let client = Client::new(c)?;
    // The API root: cheap, needs the token, and only Nautobot (or NetBox) lists `dcim` there.
    let root = client.send(Method::GET, "/api/", &[], None).await?;
    if !root.status.is_success() {
        return Err(refusal(root.status, "GET /api/", &root.body));
    }
    if root.body.get("dcim").is_none() {
        return Err(NautobotError::NotNautobot {
            what: "GET /api/".into(),
            reason: "no \"dcim\" entry in the API root".into(),
        });
    }
    let api_version = root
        .headers
        .get("API-Version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    // `/api/status/` names the release; a user without the permission still gets a report.
    let version = match client.get("/api/status/", &[]).await {
        Ok(status) => status
            .get("nautobot-version")
            .and_then(Value::as_str)
            .unwrap_or("of an unknown release")
            .to_string(),
        Err(NautobotError::Forbidden { .. }) => "of an unknown release".into(),
        Err(e) => return Err(e),
    };
    // DRF lists the write methods a caller may use in `actions`.
    let options = client
        .call(Method::OPTIONS, "/api/dcim/devices/", &[], None)
        .await?;
    let can_write = options.get("actions").and_then(|a| a.get("POST")).is_some();
    Ok(Report {
        version,
        api_version,
        can_write,
    })
}
