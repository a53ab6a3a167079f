//! The simulated site's configuration: folders, hosts, pending changes and activation runs.
//! Everything here is plain data; `api.rs` turns requests into calls on it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// One host as stored: its folder (`/network/dc1`) and attributes (including `meta_data`).
#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub folder: String,
    pub attributes: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Folder {
    pub title: String,
    pub attributes: Map<String, Value>,
}

/// A pending change, serialized exactly as CheckMK's `ChangesFields`.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub id: String,
    pub user_id: String,
    pub action_name: String,
    pub text: String,
    pub time: String,
}

impl Change {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "user_id": self.user_id,
            "action_name": self.action_name,
            "text": self.text,
            "time": self.time,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub id: String,
    pub sites: Vec<String>,
    pub force_foreign_changes: bool,
    pub changes: Vec<Change>,
    pub started: Instant,
    pub time_started: String,
    pub is_running: bool,
}

/// The mutable part of the simulator, behind one `Mutex`.
#[derive(Debug)]
pub(crate) struct State {
    pub site: String,
    pub user: String,
    pub secret: String,
    pub latency: Duration,
    pub fail_hosts: Vec<String>,
    pub refuse_move_while_pending: bool,
    pub activation_time: Duration,
    pub folders: BTreeMap<String, Folder>,
    pub hosts: BTreeMap<String, Host>,
    pub pending: Vec<Change>,
    pub runs: BTreeMap<String, Run>,
    pub requests: Vec<(String, String)>,
    counter: u64,
}

impl State {
    pub fn new(options: &crate::Options) -> State {
        let mut folders = BTreeMap::new();
        folders.insert(
            "/".to_string(),
            Folder {
                title: "Main".into(),
                attributes: Map::new(),
            },
        );
        State {
            site: options.site.clone(),
            user: options.user.clone(),
            secret: options.secret.clone(),
            latency: options.latency,
            fail_hosts: options.fail_hosts.clone(),
            refuse_move_while_pending: options.refuse_move_while_pending,
            activation_time: options.activation_time,
            folders,
            hosts: BTreeMap::new(),
            pending: Vec::new(),
            runs: BTreeMap::new(),
            requests: Vec::new(),
            counter: 0,
        }
    }

    /// A fresh UUID-shaped identifier (derived from a counter and the clock; unique per process).
    pub fn new_id(&mut self) -> String {
        self.counter += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let digest = Sha256::digest(format!("{}:{}:{nanos}", self.counter, self.site));
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    /// Finishes activation runs whose simulated duration has passed; their changes stop
    /// being pending.
    pub fn settle(&mut self) {
        let mut done = Vec::new();
        for run in self.runs.values_mut() {
            if run.is_running && run.started.elapsed() >= self.activation_time {
                run.is_running = false;
                done.extend(run.changes.iter().map(|c| c.id.clone()));
            }
        }
        if !done.is_empty() {
            self.pending.retain(|c| !done.contains(&c.id));
        }
    }

    pub fn running_activation(&self) -> bool {
        self.runs.values().any(|r| r.is_running)
    }

    pub fn add_change(&mut self, action_name: &str, text: String) {
        let change = Change {
            id: self.new_id(),
            user_id: self.user.clone(),
            action_name: action_name.into(),
            text,
            time: now(),
        };
        self.pending.push(change);
    }

    /// Adds a folder and its missing parents (seeding; no pending change).
    pub fn seed_folder(&mut self, path: &str) {
        let path = normalize_folder(path);
        let mut current = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current.push('/');
            current.push_str(part);
            self.folders
                .entry(current.clone())
                .or_insert_with(|| Folder {
                    title: part.to_string(),
                    attributes: Map::new(),
                });
        }
    }

    pub fn meta_data(&self) -> Value {
        let now = now();
        json!({"created_at": now, "updated_at": now, "created_by": self.user})
    }

    /// The pending changes' ETag value (unquoted), as CheckMK hashes them: over a dict of
    /// change id → change.
    pub fn pending_etag(&self) -> String {
        let map: Map<String, Value> = self
            .pending
            .iter()
            .map(|c| (c.id.clone(), c.to_json()))
            .collect();
        hash_of_dict(&Value::Object(map))
    }
}

/// ISO-8601 with time zone, as CheckMK renders its timestamps.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// `~network~dc1`, `network/dc1`, `/network/dc1/`, `\network\dc1` → `/network/dc1`; root → `/`.
pub(crate) fn normalize_folder(path: &str) -> String {
    let parts: Vec<&str> = path
        .split(['/', '~', '\\'])
        .filter(|p| !p.is_empty())
        .collect();
    format!("/{}", parts.join("/"))
}

/// `/network/dc1` → `~network~dc1`; `/` → `~`.
pub(crate) fn folder_slug(path: &str) -> String {
    if path == "/" {
        "~".into()
    } else {
        path.replace('/', "~")
    }
}

pub(crate) fn parent_of(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) | None => Some("/".into()),
        Some(i) => Some(path[..i].to_string()),
    }
}

/// CheckMK's `constructors.hash_of_dict`: SHA-256 over sorted keys and `str()`-ed values.
pub(crate) fn hash_of_dict(value: &Value) -> String {
    fn py_str(v: &Value) -> String {
        match v {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    fn update(hasher: &mut Sha256, v: &Value) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| update(hasher, i)),
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    hasher.update(key.as_bytes());
                    match &map[key] {
                        inner @ (Value::Object(_) | Value::Array(_)) => update(hasher, inner),
                        Value::Bool(b) => hasher.update(if *b { "true" } else { "false" }),
                        other => hasher.update(py_str(other).as_bytes()),
                    }
                }
            }
            other => hasher.update(py_str(other).as_bytes()),
        }
    }
    let mut hasher = Sha256::new();
    update(&mut hasher, value);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_checkmk_doctests() {
        assert_eq!(
            hash_of_dict(&json!({"a": "b", "c": "d"})),
            "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"
        );
        assert_eq!(
            hash_of_dict(&json!({"a": "b", "c": {"d": {"e": "f"}}})),
            "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721"
        );
        assert_eq!(
            hash_of_dict(&json!({"a": [{"b": 1, "d": 2}, {"d": 2, "b": 3}]})),
            "6ea899bec9b061d54f1f8fcdb7405363126c0e96d198d09792eff0996590ee3e"
        );
    }

    #[test]
    fn folder_paths() {
        assert_eq!(normalize_folder("~network~dc1"), "/network/dc1");
        assert_eq!(normalize_folder("/network/dc1/"), "/network/dc1");
        assert_eq!(normalize_folder("~"), "/");
        assert_eq!(normalize_folder(""), "/");
        assert_eq!(folder_slug("/network/dc1"), "~network~dc1");
        assert_eq!(folder_slug("/"), "~");
        assert_eq!(parent_of("/network/dc1").as_deref(), Some("/network"));
        assert_eq!(parent_of("/network").as_deref(), Some("/"));
        assert_eq!(parent_of("/"), None);
    }
}
