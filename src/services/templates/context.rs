//! What a template sees when rendered for a device: `device` (its fields, facts and tags),
//! `config` (the latest stored configuration, secrets masked as the viewer would see them, and
//! its lines), `vars` (the declared defaults with the user's values over them) and `nautobot`
//! (the device's Nautobot record, when it has one and Nautobot is configured; otherwise none,
//! with a warning saying why). `pre_run` is none here; the rendering fills it in for templates
//! with a pre-run command (`pre_run`).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Map, Value, json};

use super::store::Variable;
use crate::crypto::Vault;
use crate::entity::{device_tags, devices, tags};
use crate::error::Error;
use crate::services::backups;
use crate::services::nautobot::client::{
    Client as NautobotClient, Connection as NautobotConnection,
};

/// A value as typed: JSON when it reads as a number, boolean, list or object, else text.
fn typed(text: &str) -> Value {
    let t = text.trim();
    match serde_json::from_str::<Value>(t) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => v,
        _ => Value::String(text.to_string()),
    }
}

/// `name = value` lines as a map (the preview form's values).
pub fn parse_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: write name = value", i + 1))?;
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// The declared defaults with the given values over them (undeclared names are kept too).
pub fn vars(declared: &[Variable], given: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for v in declared {
        out.insert(v.name.clone(), typed(&v.default));
    }
    for (k, v) in given {
        out.insert(k.clone(), typed(v));
    }
    out
}

/// One device's context and the warnings about it.
pub struct DeviceContext {
    pub context: Value,
    pub warnings: Vec<String>,
}

/// The parts of a context a template reads (the others stay none: reading a configuration and
/// masking its secrets, or asking Nautobot, costs more than all the rest).
#[derive(Clone, Copy, Debug)]
pub struct Reads {
    pub config: bool,
    pub nautobot: bool,
}

/// The contexts of `devices`, read a chunk at a time (their tags and newest configurations in a
/// few queries).
pub async fn for_devices(
    db: &DatabaseConnection,
    vault: &Vault,
    devices: &[devices::Model],
    vars: &Map<String, Value>,
    reveal_secrets: bool,
    reads: Reads,
) -> Result<Vec<DeviceContext>, Error> {
    let mut out = Vec::with_capacity(devices.len());
    let mut nautobot = Nautobot::Unread;
    for chunk in devices.chunks(500) {
        let ids: Vec<i32> = chunk.iter().map(|d| d.id).collect();
        let mut tags = tags_of(db, &ids).await?;
        let mut configs = if reads.config {
            backups::latest_of_devices(db, &ids).await?
        } else {
            HashMap::new()
        };
        for device in chunk {
            let mut warnings = Vec::new();
            let config = match configs.remove(&device.id) {
                _ if !reads.config => Value::Null,
                Some(b) => {
                    let text = backups::visible_content(
                        &device.device_type,
                        &b.content,
                        b.secrets_masked,
                        reveal_secrets,
                    )
                    .into_owned();
                    let lines: Vec<&str> = text.lines().collect();
                    json!({"text": text, "lines": lines, "version": b.version,
                           "captured_at": b.last_seen_at.to_rfc3339()})
                }
                None => {
                    warnings.push(format!(
                        "{} has no stored configuration: config.text is empty",
                        device.hostname
                    ));
                    json!({"text": "", "lines": [], "version": null, "captured_at": null})
                }
            };
            let record = if reads.nautobot {
                nautobot.record(db, vault, device, &mut warnings).await?
            } else {
                Value::Null
            };
            let d = json!({
                "id": device.id,
                "hostname": device.hostname,
                "ip_address": device.ip_address,
                "port": device.port,
                "platform": device.device_type,
                "description": device.description,
                "enabled": device.enabled,
                "model": device.model,
                "serial_number": device.serial_number,
                "os_version": device.os_version,
                "source": device.source.as_str(),
                "external_id": device.external_id,
                "tags": tags.remove(&device.id).unwrap_or_default(),
            });
            out.push(DeviceContext {
                context: json!({"device": d, "config": config, "vars": vars, "nautobot": record,
                                "pre_run": null}),
                warnings,
            });
        }
    }
    Ok(out)
}

/// Tag names by device.
async fn tags_of(db: &DatabaseConnection, ids: &[i32]) -> Result<HashMap<i32, Vec<String>>, Error> {
    let rows: Vec<(i32, String)> = device_tags::Entity::find()
        .select_only()
        .column(device_tags::Column::DeviceId)
        .column(tags::Column::Name)
        .inner_join(tags::Entity)
        .filter(device_tags::Column::DeviceId.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    for (d, name) in rows {
        out.entry(d).or_default().push(name);
    }
    for names in out.values_mut() {
        names.sort();
    }
    Ok(out)
}

/// Nautobot, connected once per batch.
enum Nautobot {
    Unread,
    Ready(NautobotClient),
    /// Why no record can be read (not configured, a bad URL).
    Unusable(String),
}

impl Nautobot {
    async fn record(
        &mut self,
        db: &DatabaseConnection,
        vault: &Vault,
        device: &devices::Model,
        warnings: &mut Vec<String>,
    ) -> Result<Value, Error> {
        let Some(id) = device.external_id.as_deref() else {
            return Ok(Value::Null);
        };
        if let Nautobot::Unread = self {
            let connection = NautobotConnection::load(db, vault).await?;
            *self = if !connection.is_configured() {
                Nautobot::Unusable("Nautobot is not configured".into())
            } else {
                match NautobotClient::new(&connection) {
                    Ok(client) => Nautobot::Ready(client),
                    Err(e) => Nautobot::Unusable(e.to_string()),
                }
            };
        }
        let answer = match self {
            Nautobot::Ready(client) => client
                .get(
                    &format!("/api/dcim/devices/{id}/"),
                    &[("depth", "1".into())],
                )
                .await
                .map_err(|e| e.to_string()),
            Nautobot::Unusable(why) => Err(why.clone()),
            Nautobot::Unread => Err("Nautobot was not read".into()),
        };
        Ok(answer.unwrap_or_else(|why| {
            warnings.push(format!(
                "the Nautobot record could not be read ({why}): nautobot is none"
            ));
            Value::Null
        }))
    }
}
