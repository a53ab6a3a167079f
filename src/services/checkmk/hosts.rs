//! What NetRaven does with CheckMK's hosts, folders and activations, each a request (or a few)
//! through the one client: read a host with its ETag, list hosts, create a folder path level by
//! level, add hosts (one or in bulk), move then update a host under its ETag, delete hosts, and
//! activate pending changes and wait for the run.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::client::{CheckmkError, Client, refusal};
use super::mapping::Host;

/// A host as CheckMK has it.
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    pub folder: String,
    pub attributes: Map<String, Value>,
    pub etag: Option<String>,
}

impl Current {
    pub fn to_json(&self) -> Value {
        json!({"folder": self.folder, "attributes": self.attributes, "etag": self.etag})
    }

    pub fn from_json(v: &Value) -> Option<Current> {
        Some(Current {
            folder: v.get("folder")?.as_str()?.to_string(),
            attributes: v.get("attributes")?.as_object()?.clone(),
            etag: v.get("etag").and_then(Value::as_str).map(str::to_string),
        })
    }

    fn of_object(host: &Value, etag: Option<String>) -> Current {
        let ext = host.get("extensions");
        Current {
            folder: ext
                .and_then(|e| e.get("folder"))
                .and_then(Value::as_str)
                .map_or_else(|| "/".to_string(), normalize),
            attributes: ext
                .and_then(|e| e.get("attributes"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            etag,
        }
    }
}

/// `~network~dc1`, `/network/dc1/` → `/network/dc1`.
fn normalize(folder: &str) -> String {
    let levels: Vec<&str> = folder.split(['/', '~']).filter(|l| !l.is_empty()).collect();
    format!("/{}", levels.join("/"))
}

/// A name CheckMK takes as a host name and a URL can carry as it is.
pub fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 240
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn etag_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The host named `name`; `None` when CheckMK has no such host.
pub async fn get(client: &Client, name: &str) -> Result<Option<Current>, CheckmkError> {
    let path = format!("/objects/host_config/{name}");
    let a = client.send(Method::GET, &path, None, None).await?;
    match a.status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => Ok(Some(Current::of_object(&a.body, etag_of(&a.headers)))),
        s => Err(refusal(s, &format!("GET {path}"), &a.body)),
    }
}

/// Every host: (name, folder).
pub async fn list(client: &Client) -> Result<Vec<(String, String)>, CheckmkError> {
    let body = client
        .call(
            Method::GET,
            "/domain-types/host_config/collections/all",
            None,
        )
        .await?;
    Ok(body
        .get("value")
        .and_then(Value::as_array)
        .map(|hosts| {
            hosts
                .iter()
                .filter_map(|h| {
                    let name = h.get("id").and_then(Value::as_str)?.to_string();
                    Some((name, Current::of_object(h, None).folder))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Folders known to exist, so a job asks CheckMK about each at most once.
#[derive(Default)]
pub struct Folders(HashSet<String>);

impl Folders {
    /// Creates the folder path level by level where a level is missing.
    pub async fn ensure(&mut self, client: &Client, folder: &str) -> Result<(), CheckmkError> {
        let levels: Vec<&str> = folder.split('/').filter(|l| !l.is_empty()).collect();
        let mut path = String::new();
        for level in levels {
            let parent = if path.is_empty() {
                "~".to_string()
            } else {
                path.replace('/', "~")
            };
            path = format!("{path}/{level}");
            if self.0.contains(&path) {
                continue;
            }
            let slug = path.replace('/', "~");
            let a = client
                .send(
                    Method::GET,
                    &format!("/objects/folder_config/{slug}"),
                    None,
                    None,
                )
                .await?;
            if a.status == StatusCode::NOT_FOUND {
                let body = json!({"name": level, "title": level, "parent": parent});
                client
                    .call(
                        Method::POST,
                        "/domain-types/folder_config/collections/all",
                        Some(&body),
                    )
                    .await?;
            } else if !a.status.is_success() {
                return Err(refusal(a.status, &format!("GET folder {path}"), &a.body));
            }
            self.0.insert(path.clone());
        }
        Ok(())
    }
}

/// Creates hosts in one request; CheckMK creates all or none.
pub async fn create_many(client: &Client, hosts: &[&Host]) -> Result<(), CheckmkError> {
    let entries: Vec<Value> = hosts
        .iter()
        .map(|h| json!({"host_name": h.name, "folder": h.folder, "attributes": h.attributes}))
        .collect();
    client
        .call(
            Method::POST,
            "/domain-types/host_config/actions/bulk-create/invoke",
            Some(&json!({"entries": entries})),
        )
        .await
        .map(drop)
}

/// Creates one host.
pub async fn create(client: &Client, h: &Host) -> Result<(), CheckmkError> {
    let body = json!({"host_name": h.name, "folder": h.folder, "attributes": h.attributes});
    client
        .call(
            Method::POST,
            "/domain-types/host_config/collections/all",
            Some(&body),
        )
        .await
        .map(drop)
}

/// Why an update did not happen, in words an operator can act on.
fn worded(e: CheckmkError, what: &str) -> CheckmkError {
    match e {
        CheckmkError::Rejected { status: 412, .. } => CheckmkError::Rejected {
            status: 412,
            what: what.to_string(),
            message: "the host changed in CheckMK since the comparison: compare again".into(),
        },
        CheckmkError::Rejected {
            status: 428,
            message,
            ..
        } if message.starts_with("Pending changes") => CheckmkError::PendingChanges,
        other => other,
    }
}

/// Moves the host to `folder` under `etag`; the host's new ETag.
pub async fn move_to(
    client: &Client,
    name: &str,
    folder: &str,
    etag: &str,
) -> Result<Option<String>, CheckmkError> {
    let path = format!("/objects/host_config/{name}/actions/move/invoke");
    let what = format!("moving {name} to {folder}");
    let a = client
        .send(
            Method::POST,
            &path,
            Some(&json!({"target_folder": folder})),
            Some(etag),
        )
        .await?;
    if !a.status.is_success() {
        return Err(worded(refusal(a.status, &what, &a.body), &what));
    }
    Ok(etag_of(&a.headers))
}

/// Replaces the host's attributes under `etag`.
pub async fn replace_attributes(
    client: &Client,
    name: &str,
    attributes: &Map<String, Value>,
    etag: &str,
) -> Result<(), CheckmkError> {
    let path = format!("/objects/host_config/{name}");
    let what = format!("updating {name}");
    let a = client
        .send(
            Method::PUT,
            &path,
            Some(&json!({"attributes": attributes})),
            Some(etag),
        )
        .await?;
    if !a.status.is_success() {
        return Err(worded(refusal(a.status, &what, &a.body), &what));
    }
    Ok(())
}

/// Deletes hosts in one request; CheckMK deletes all or none.
pub async fn delete_many(client: &Client, names: &[&str]) -> Result<(), CheckmkError> {
    client
        .call(
            Method::POST,
            "/domain-types/host_config/actions/bulk-delete/invoke",
            Some(&json!({"entries": names})),
        )
        .await
        .map(drop)
}

/// A pending change, as CheckMK lists it.
#[derive(Clone, Debug)]
pub struct Change {
    pub user: String,
    pub action: String,
    pub text: String,
    pub time: String,
}

/// The pending changes and their ETag (what an activation must name).
pub async fn pending(client: &Client) -> Result<(Vec<Change>, Option<String>), CheckmkError> {
    let path = "/domain-types/activation_run/collections/pending_changes";
    let a = client.send(Method::GET, path, None, None).await?;
    if !a.status.is_success() {
        return Err(refusal(a.status, &format!("GET {path}"), &a.body));
    }
    let s = |c: &Value, k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let changes = a
        .body
        .get("value")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| Change {
                    user: s(c, "user_id"),
                    action: s(c, "action_name"),
                    text: s(c, "text"),
                    time: s(c, "time"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((changes, etag_of(&a.headers)))
}

/// How an activation ended.
#[derive(Clone, Debug)]
pub struct Activation {
    pub id: String,
    pub changes: usize,
    pub title: String,
}

/// Activates the pending changes named by `etag` and waits (up to `wait`) for the run to end.
pub async fn activate(
    client: &Client,
    etag: &str,
    wait: Duration,
) -> Result<Activation, CheckmkError> {
    let path = "/domain-types/activation_run/actions/activate-changes/invoke";
    let what = "activating changes".to_string();
    let body = json!({"redirect": false, "force_foreign_changes": false});
    let a = client
        .send(Method::POST, path, Some(&body), Some(etag))
        .await?;
    if !a.status.is_success() {
        let e = refusal(a.status, &what, &a.body);
        return Err(match a.status.as_u16() {
            412 => CheckmkError::Rejected {
                status: 412,
                what,
                message:
                    "the pending changes changed while activating: look at them again and activate"
                        .into(),
            },
            _ => e,
        });
    }
    let id = a
        .body
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| CheckmkError::NotCheckmk {
            what: what.clone(),
            reason: "no activation id in the answer".into(),
        })?
        .to_string();
    let started = tokio::time::Instant::now();
    let run_path = format!("/objects/activation_run/{id}");
    loop {
        let run = client.call(Method::GET, &run_path, None).await?;
        let ext = run.get("extensions");
        let running = ext
            .and_then(|e| e.get("is_running"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !running {
            return Ok(Activation {
                changes: ext
                    .and_then(|e| e.get("changes"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
                title: run
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or("Activation complete")
                    .to_string(),
                id,
            });
        }
        if started.elapsed() > wait {
            return Err(CheckmkError::StillActivating {
                id,
                seconds: wait.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
