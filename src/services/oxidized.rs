//! The inventory as Oxidized describes its nodes, for the Oxidized-compatible routes
//! (`web::oxidized`): the node record, its last run, and its version history, in oxidized-web's
//! field names and value shapes, so that tools written for it (LibreNMS, NetBox plugins,
//! exporters) read NetRaven unchanged.
//!
//! Nodes have no group: NetRaven's devices are not partitioned the way Oxidized's groups are
//! (tags overlap), so `group` is `null` (`"default"` in the node list, as Oxidized writes a node
//! without one) and a group in a request is accepted and ignored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{Map, Value};

use super::backups::{self, VersionRow};
use super::query::Paging;
use crate::device::profile;
use crate::entity::{backups as backup_entity, devices, job_results};
use crate::error::Error;
use crate::vocabulary::ResultStatus;

/// Oxidized's job times: `Time.now.utc.to_s`.
pub fn job_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Oxidized's commit times: `Time#to_s` with the offset (UTC here).
pub fn commit_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S +0000").to_string()
}

/// A node's last run.
#[derive(Serialize)]
pub struct LastRun {
    pub start: String,
    pub end: String,
    /// `success`, `fail`, `no_connection` or `timelimit`.
    pub status: &'static str,
    /// Seconds.
    pub time: f64,
}

impl LastRun {
    fn of(result: &job_results::Model) -> Option<Self> {
        let (start, end) = (result.started_at?, result.finished_at?);
        let status = match (result.status, result.error_class.as_deref()) {
            (ResultStatus::Success, _) => "success",
            (_, Some("connection_refused" | "unreachable")) => "no_connection",
            (_, Some("connection_dropped"))
                if result
                    .message
                    .as_deref()
                    .is_some_and(|m| m.contains("timed out")) =>
            {
                "timelimit"
            }
            _ => "fail",
        };
        Some(Self {
            start: job_time(start),
            end: job_time(end),
            status,
            time: (end - start).num_milliseconds() as f64 / 1000.0,
        })
    }
}

/// A node as `/node/show` answers it; `/nodes` adds `status` and `time` (see [`listed`]).
#[derive(Serialize)]
pub struct Node {
    pub name: String,
    pub full_name: String,
    pub ip: String,
    pub group: Option<String>,
    pub model: String,
    pub last: Option<LastRun>,
    pub vars: Map<String, Value>,
    pub mtime: String,
}

fn model_of(device_type: &str) -> String {
    profile::find(device_type)
        .map(|p| p.oxidized_model.clone())
        .unwrap_or_else(|| device_type.to_string())
}

fn node(
    device: &devices::Model,
    last: Option<&job_results::Model>,
    changed: Option<DateTime<Utc>>,
) -> Node {
    Node {
        name: device.hostname.clone(),
        full_name: device.hostname.clone(),
        ip: device.ip_address.clone(),
        group: None,
        model: model_of(&device.device_type),
        last: last.and_then(LastRun::of),
        vars: Map::new(),
        mtime: changed.map_or_else(|| "unknown".to_string(), job_time),
    }
}

/// A node in the node list: `group` "default" for a node without one, and its last `status` and
/// `time` ("never" before a run) after the node's own fields, as oxidized-web's `/nodes` writes
/// them.
#[derive(Serialize)]
pub struct Listed {
    pub name: String,
    pub full_name: String,
    pub ip: String,
    pub group: String,
    pub model: String,
    pub last: Option<LastRun>,
    pub vars: Map<String, Value>,
    pub mtime: String,
    pub status: String,
    pub time: String,
}

pub fn listed(node: Node) -> Listed {
    let (status, time) = match &node.last {
        Some(last) => (last.status.to_string(), last.end.clone()),
        None => ("never".to_string(), "never".to_string()),
    };
    Listed {
        name: node.name,
        full_name: node.full_name,
        ip: node.ip,
        group: node.group.unwrap_or_else(|| "default".into()),
        model: node.model,
        last: node.last,
        vars: node.vars,
        mtime: node.mtime,
        status,
        time,
    }
}

/// The device a request names: by host name, else by address (as Oxidized finds a node).
pub async fn find(db: &impl ConnectionTrait, name: &str) -> Result<Option<devices::Model>, Error> {
    if let Some(device) = devices::Entity::find()
        .filter(devices::Column::Hostname.eq(name))
        .one(db)
        .await?
    {
        return Ok(Some(device));
    }
    Ok(devices::Entity::find()
        .filter(devices::Column::IpAddress.eq(name))
        .order_by_asc(devices::Column::Id)
        .one(db)
        .await?)
}

/// The latest finished result of each device (all devices when `device` is `None`).
async fn last_results(
    db: &impl ConnectionTrait,
    device: Option<i32>,
) -> Result<HashMap<i32, job_results::Model>, Error> {
    let mut latest = Query::select()
        .expr(Func::max(Expr::col(job_results::Column::Id)))
        .from(job_results::Entity)
        .and_where(job_results::Column::FinishedAt.is_not_null())
        .and_where(job_results::Column::DeviceId.is_not_null())
        .group_by_col(job_results::Column::DeviceId)
        .to_owned();
    if let Some(id) = device {
        latest.and_where(job_results::Column::DeviceId.eq(id));
    }
    Ok(job_results::Entity::find()
        .filter(job_results::Column::Id.in_subquery(latest))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.device_id?, r)))
        .collect())
}

/// When each device's configuration last changed: its newest version's first sighting.
async fn last_changes(
    db: &impl ConnectionTrait,
    device: Option<i32>,
) -> Result<HashMap<i32, DateTime<Utc>>, Error> {
    let mut q = backup_entity::Entity::find()
        .select_only()
        .column(backup_entity::Column::DeviceId)
        .column_as(backup_entity::Column::FirstSeenAt.max(), "changed")
        .filter(backup_entity::Column::DeviceId.is_not_null())
        .group_by(backup_entity::Column::DeviceId);
    if let Some(id) = device {
        q = q.filter(backup_entity::Column::DeviceId.eq(id));
    }
    let rows: Vec<(Option<i32>, Option<DateTime<Utc>>)> = q.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| Some((id?, at?)))
        .collect())
}

/// Every device as a node, by host name.
pub async fn nodes(db: &impl ConnectionTrait) -> Result<Vec<Node>, Error> {
    let all = devices::Entity::find()
        .order_by_asc(devices::Column::Hostname)
        .all(db)
        .await?;
    let last = last_results(db, None).await?;
    let changed = last_changes(db, None).await?;
    Ok(all
        .iter()
        .map(|d| node(d, last.get(&d.id), changed.get(&d.id).copied()))
        .collect())
}

/// One device as a node.
pub async fn show(db: &impl ConnectionTrait, device: &devices::Model) -> Result<Node, Error> {
    let last = last_results(db, Some(device.id)).await?;
    let changed = last_changes(db, Some(device.id)).await?;
    Ok(node(
        device,
        last.get(&device.id),
        changed.get(&device.id).copied(),
    ))
}

/// A version as `/node/version` lists it.
#[derive(Serialize)]
pub struct Version {
    pub date: String,
    pub time: String,
    /// The version's id, as a string (Oxidized's commit oid).
    pub oid: String,
    pub author: Author,
    pub message: String,
}

#[derive(Serialize)]
pub struct Author {
    pub name: String,
    pub email: String,
    pub time: String,
}

/// The most versions the history lists.
const MAX_VERSIONS: u64 = 10_000;

/// A device's versions, newest first.
pub async fn versions(
    db: &impl ConnectionTrait,
    device: &devices::Model,
) -> Result<Vec<Version>, Error> {
    let page = backups::history(db, device.id, Paging::window(0, MAX_VERSIONS)).await?;
    Ok(page
        .items
        .into_iter()
        .map(|v: VersionRow| {
            let when = commit_time(v.first_seen_at);
            Version {
                date: when.clone(),
                time: when.clone(),
                oid: v.id.to_string(),
                author: Author {
                    name: "NetRaven".into(),
                    email: "netraven@localhost".into(),
                    time: when,
                },
                message: format!("update {} (version {})", device.hostname, v.version),
            }
        })
        .collect())
}

/// A version of `device` by its oid (our version id); `None` for an oid it does not have.
pub async fn version_by_oid(
    db: &impl ConnectionTrait,
    device: &devices::Model,
    oid: &str,
) -> Result<Option<backup_entity::Model>, Error> {
    let Ok(id) = oid.trim().parse::<i32>() else {
        return Ok(None);
    };
    Ok(backup_entity::Entity::find_by_id(id)
        .filter(backup_entity::Column::DeviceId.eq(device.id))
        .one(db)
        .await?)
}

/// The version before `version` of the same device.
pub async fn parent(
    db: &impl ConnectionTrait,
    version: &backup_entity::Model,
) -> Result<Option<backup_entity::Model>, Error> {
    let Some(device_id) = version.device_id else {
        return Ok(None);
    };
    backups::previous(db, device_id, version.version).await
}
