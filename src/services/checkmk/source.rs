//! The devices of the CheckMK mapping's source, as templates and rules see them: a Nautobot
//! source's devices read from Nautobot (with locations' parents, custom fields and tags), or
//! NetRaven's enabled devices, limited by a tag (with their platform and facts).

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use super::rules::SourceDevice;
use crate::crypto::Vault;
use crate::entity::{checkmk_mapping as mapping, device_tags, devices, tags};
use crate::error::Error;
use crate::services::nautobot::client::Client as NautobotClient;
use crate::services::nautobot::sources as nautobot_sources;
use crate::services::nautobot::sync::{PAGE, read_page};
use crate::vocabulary::CheckmkSourceKind;

/// What is read of each Nautobot device: locations with up to four levels of parents.
const NAUTOBOT_FIELDS: &str = "name primary_ip4 { host } primary_ip6 { host } \
platform { name } location { name parent { name parent { name parent { name } } } } \
role { name } status { name } tenant { name } tags { name } _custom_field_data";

fn text<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A Nautobot device's fields; `None` without a name.
fn from_nautobot(d: &Value) -> Option<SourceDevice> {
    let name = text(d, &["name"])?.to_string();
    let address = text(d, &["primary_ip4", "host"])
        .or_else(|| text(d, &["primary_ip6", "host"]))
        .map(|h| h.split('/').next().unwrap_or(h).to_string());
    let mut locations = Vec::new();
    let mut at = d.get("location");
    while let Some(l) = at.filter(|l| !l.is_null()) {
        if let Some(n) = text(l, &["name"]) {
            locations.insert(0, n.to_string());
        }
        at = l.get("parent");
    }
    let mut values = BTreeMap::new();
    for field in ["role", "status", "platform", "tenant"] {
        if let Some(v) = text(d, &[field, "name"]) {
            values.insert(field.to_string(), v.to_string());
        }
    }
    if let Some(Value::Object(cf)) = d.get("_custom_field_data") {
        for (k, v) in cf {
            let v = match v {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            values.insert(format!("cf.{k}"), v);
        }
    }
    let tags = d
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|t| text(t, &["name"]).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Some(SourceDevice {
        name,
        address,
        locations,
        values,
        tags,
    })
}

/// The source's devices; `name` limits them to one (for a preview). Devices without a name
/// (Nautobot allows them) cannot be hosts and are counted in the second value.
pub async fn read(
    db: &impl ConnectionTrait,
    vault: &Vault,
    m: &mapping::Model,
    name: Option<&str>,
) -> Result<(Vec<SourceDevice>, usize), Error> {
    match m.source_kind {
        CheckmkSourceKind::Nautobot => {
            let id = m.nautobot_source_id.ok_or_else(|| {
                Error::Refused("the CheckMK mapping names no Nautobot source".into())
            })?;
            let s = match nautobot_sources::get(db, id).await {
                Err(Error::NotFound) => {
                    return Err(Error::Refused(
                        "the CheckMK mapping's Nautobot source was deleted: choose another".into(),
                    ));
                }
                other => other?,
            };
            let client = NautobotClient::from_settings(db, vault).await?;
            let mut out = Vec::new();
            let mut unnamed = 0;
            let mut offset = 0;
            loop {
                let page = read_page(&client, &s, NAUTOBOT_FIELDS, name, offset).await?;
                for d in &page {
                    match from_nautobot(d) {
                        Some(d) => out.push(d),
                        None => unnamed += 1,
                    }
                }
                if page.len() < PAGE {
                    break;
                }
                offset += page.len();
            }
            Ok((out, unnamed))
        }
        CheckmkSourceKind::Inventory => Ok((inventory(db, &m.inventory_tag, name).await?, 0)),
    }
}

async fn inventory(
    db: &impl ConnectionTrait,
    tag: &str,
    name: Option<&str>,
) -> Result<Vec<SourceDevice>, Error> {
    let mut q = devices::Entity::find()
        .filter(devices::Column::Enabled.eq(true))
        .order_by_asc(devices::Column::Hostname);
    if !tag.is_empty() {
        let tagged = sea_orm::sea_query::Query::select()
            .column(device_tags::Column::DeviceId)
            .from(device_tags::Entity)
            .inner_join(
                tags::Entity,
                Expr::col((tags::Entity, tags::Column::Id))
                    .equals((device_tags::Entity, device_tags::Column::TagId)),
            )
            .and_where(
                Expr::expr(Func::lower(Expr::col((tags::Entity, tags::Column::Name))))
                    .eq(tag.to_lowercase()),
            )
            .to_owned();
        q = q.filter(devices::Column::Id.in_subquery(tagged));
    }
    if let Some(name) = name {
        q = q.filter(
            Expr::expr(Func::lower(Expr::col(devices::Column::Hostname))).eq(name.to_lowercase()),
        );
    }
    let found = q.all(db).await?;
    let mut tag_names: HashMap<i32, Vec<String>> = HashMap::new();
    let names: HashMap<i32, String> = tags::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    // Per chunk: SQLite takes a bounded number of parameters.
    for chunk in found.chunks(500) {
        let links = device_tags::Entity::find()
            .filter(device_tags::Column::DeviceId.is_in(chunk.iter().map(|d| d.id)))
            .all(db)
            .await?;
        for l in links {
            if let Some(n) = names.get(&l.tag_id) {
                tag_names.entry(l.device_id).or_default().push(n.clone());
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|d| {
            let mut values = BTreeMap::from([("platform".to_string(), d.device_type.clone())]);
            let facts = [
                ("fact.model", &d.model),
                ("fact.serial", &d.serial_number),
                ("fact.os_version", &d.os_version),
            ];
            for (k, v) in facts {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    values.insert(k.to_string(), v.to_string());
                }
            }
            let mut tags = tag_names.remove(&d.id).unwrap_or_default();
            tags.sort();
            SourceDevice {
                name: d.hostname,
                address: Some(d.ip_address),
                locations: Vec::new(),
                values,
                tags,
            }
        })
        .collect())
}
