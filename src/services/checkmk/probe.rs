//! *Test connection*: reach CheckMK with given settings and say which release and edition
//! answered, or what went wrong, in words.

use reqwest::Method;
use serde_json::Value;

use super::client::{CheckmkError, Client, Connection};

/// What a successful test found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub version: String,
    pub edition: String,
    pub site: String,
}

/// CheckMK's edition codes, as its documentation names them.
fn edition_name(code: &str) -> String {
    match code {
        "cre" => "Raw edition".into(),
        "cee" => "Enterprise edition".into(),
        "cme" => "Managed Services edition".into(),
        "cce" => "Cloud edition".into(),
        "cse" => "Saas edition".into(),
        other => format!("edition {other}"),
    }
}

impl Report {
    pub fn words(&self) -> String {
        format!(
            "Connected to CheckMK {} ({}), site {}.",
            self.version,
            edition_name(&self.edition),
            self.site
        )
    }
}

pub async fn test(c: &Connection) -> Result<Report, CheckmkError> {
    let client = Client::new(c)?;
    let v = client.call(Method::GET, "/version", None).await?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let version = text(v.get("versions").and_then(|x| x.get("checkmk"))).ok_or_else(|| {
        CheckmkError::NotCheckmk {
            what: "GET /version".into(),
            reason: "no versions.checkmk in the answer".into(),
        }
    })?;
    let edition = text(v.get("edition")).unwrap_or_default();
    // "2.3.0p20.cre": the edition is said in words beside it.
    let version = version
        .strip_suffix(&format!(".{edition}"))
        .map(str::to_string)
        .unwrap_or(version);
    Ok(Report {
        version,
        edition,
        site: text(v.get("site")).unwrap_or_default(),
    })
}
