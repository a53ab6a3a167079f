//! What a template sees when rendered for a device: `device` (its fields, facts and tags),
//! `config` (the latest stored configuration, secrets masked as the viewer would see them, and
//! its lines), `vars` (the declared defaults with the user's values over them) and `nautobot`
//! (the device's Nautobot record, when it has one and Nautobot is configured; otherwise none,
//! with a warning saying why).

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

/// The context for `device`; the warnings say what could not be included.
pub async fn for_device(
    db: &DatabaseConnection,
    vault: &Vault,
    device: &devices::Model,
    vars: Map<String, Value>,
    reveal_secrets: bool,
) -> Result<(Value, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let tag_names: Vec<String> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .filter(
            tags::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(device_tags::Column::TagId)
                    .from(device_tags::Entity)
                    .and_where(device_tags::Column::DeviceId.eq(device.id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
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
        "tags": tag_names,
    });
    let config = match backups::latest(db, device.id).await? {
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
    let nautobot = nautobot_record(db, vault, device, &mut warnings).await?;
    Ok((
        json!({"device": d, "config": config, "vars": vars, "nautobot": nautobot}),
        warnings,
    ))
}

async fn nautobot_record(
    db: &DatabaseConnection,
    vault: &Vault,
    device: &devices::Model,
    warnings: &mut Vec<String>,
) -> Result<Value, Error> {
    let Some(id) = device.external_id.as_deref() else {
        return Ok(Value::Null);
    };
    let connection = NautobotConnection::load(db, vault).await?;
    if !connection.is_configured() {
        warnings.push("Nautobot is not configured: nautobot is none".into());
        return Ok(Value::Null);
    }
    let answer = match NautobotClient::new(&connection) {
        Ok(client) => client
            .get(
                &format!("/api/dcim/devices/{id}/"),
                &[("depth", "1".into())],
            )
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match answer {
        Ok(record) => Ok(record),
        Err(why) => {
            warnings.push(format!(
                "the Nautobot record could not be read ({why}): nautobot is none"
            ));
            Ok(Value::Null)
        }
    }
}
