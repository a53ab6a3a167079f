//! The `nautobot_sync` job. It reads a source's devices from Nautobot's GraphQL API a page at a
//! time and writes, per page, what it would do with each into `nautobot_sync_items`: add,
//! update (field by field), conflict or skip; then the devices that left the source. A preview
//! stops there. An apply then writes every planned change in one transaction, so an error while
//! reading (Nautobot's or the network's) stops the job before anything changed, and a failure
//! while writing leaves the inventory as it was.
//!
//! Memory stays bounded by a page: each page is compared with the devices it names, found by
//! Nautobot id or host name; only the ids and names seen so far are kept, to find duplicates and
//! the devices that left.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Map, Value, json};

use super::client::{Client, NautobotError};
use super::mapping::{DEVICE_FIELDS, Desired, Mapper, Skipped};
use super::sources;
use crate::background::Queue;
use crate::crypto::Vault;
use crate::entity::{
    device_tags, devices, job_logs, nautobot_sources as source, nautobot_sync_items as items,
    tag_rules, tags,
};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::devices::ip_sort_key;
use crate::services::jobs::{self, NewJob, Target};
use crate::services::tags::DEFAULT_COLOR;
use crate::vocabulary::{DeviceSource, JobStatus, JobType, LeaveAction, LogLevel, SyncAction};

/// Devices asked of Nautobot per request.
pub const PAGE: usize = 1000;
/// Rows written per statement.
const CHUNK: usize = 500;

/// Start a preview (`apply` false) or an apply of source `id` as a job.
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    id: i32,
    apply: bool,
    user_id: Option<i32>,
) -> Result<job_logs::Model, Error> {
    sources::get(db, id).await?;
    let new = NewJob::by_hand(
        JobType::NautobotSync,
        Target::NautobotSource { id, apply },
        user_id,
    );
    jobs::start_fresh(db, queue, actor, new).await
}

/// What a sync found, by action, and the devices it left as they were.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub read: usize,
    pub add: usize,
    pub update: usize,
    pub unchanged: usize,
    pub disable: usize,
    pub delete: usize,
    pub conflict: usize,
    pub skip: usize,
}

impl Counts {
    fn count(&mut self, action: SyncAction) {
        match action {
            SyncAction::Add => self.add += 1,
            SyncAction::Update => self.update += 1,
            SyncAction::Disable => self.disable += 1,
            SyncAction::Delete => self.delete += 1,
            SyncAction::Conflict => self.conflict += 1,
            SyncAction::Skip => self.skip += 1,
        }
    }

    pub fn changes(&self) -> usize {
        self.add + self.update + self.disable + self.delete
    }

    fn summary(&self) -> String {
        format!(
            "{} read from Nautobot: {} to add, {} to update, {} unchanged, {} to disable, {} to delete, {} conflicts, {} skipped",
            self.read,
            self.add,
            self.update,
            self.unchanged,
            self.disable,
            self.delete,
            self.conflict,
            self.skip
        )
    }
}

/// The `nautobot_sync` job, run by a worker.
pub async fn run_job(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
) -> Result<(), Error> {
    let Some(Target::NautobotSource { id, apply }) = Target::of_job(job) else {
        return jobs::settle(db, job.id, JobStatus::Failed, "the job names no source").await;
    };
    let s = match sources::get(db, id).await {
        Ok(s) => s,
        Err(Error::NotFound) => {
            return jobs::settle(db, job.id, JobStatus::Failed, "the source was deleted").await;
        }
        Err(e) => return Err(e),
    };
    jobs::mark_running(db, job.id).await?;
    let outcome = sync(db, vault, job, &s, apply).await;
    let (status, message) = match outcome {
        Ok(counts) if apply => (
            JobStatus::Success,
            format!(
                "applied: {} added, {} updated, {} disabled, {} deleted; {} unchanged, {} conflicts, {} skipped",
                counts.add,
                counts.update,
                counts.disable,
                counts.delete,
                counts.unchanged,
                counts.conflict,
                counts.skip
            ),
        ),
        Ok(counts) => (
            JobStatus::Success,
            format!("preview, nothing changed: {}", counts.summary()),
        ),
        // Nautobot's or the network's words; the database's errors go to the queue to retry.
        Err(Error::Refused(message)) => {
            jobs::entry(db, job.id, LogLevel::Error, "nautobot", &message, None).await?;
            (JobStatus::Failed, message)
        }
        Err(e) => return Err(e),
    };
    source::Entity::update_many()
        .col_expr(source::Column::LastSyncAt, Expr::value(Utc::now()))
        .col_expr(source::Column::LastSyncJobId, Expr::value(job.id))
        .col_expr(
            source::Column::LastSyncMessage,
            Expr::value(message.clone()),
        )
        .filter(source::Column::Id.eq(s.id))
        .exec(db)
        .await?;
    jobs::settle(db, job.id, status, &message).await
}

async fn sync(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
    s: &source::Model,
    apply: bool,
) -> Result<Counts, Error> {
    let client = Client::from_settings(db, vault).await?;
    // A retried job starts its plan again.
    items::Entity::delete_many()
        .filter(items::Column::JobLogId.eq(job.id))
        .exec(db)
        .await?;
    let mut counts = plan(db, &client, job.id, s).await?;
    if apply && counts.changes() > 0 {
        counts = apply_plan(db, job, s, counts).await?;
    } else if apply {
        jobs::entry(
            db,
            job.id,
            LogLevel::Info,
            "nautobot",
            "nothing to change: the inventory already matches the source",
            None,
        )
        .await?;
    }
    Ok(counts)
}

/// One page of a source's devices from offset `offset` (only those named `name` when given),
/// each with the GraphQL `fields`; a page shorter than `PAGE` is the last.
pub async fn read_page(
    client: &Client,
    s: &source::Model,
    fields: &str,
    name: Option<&str>,
    offset: usize,
) -> Result<Vec<Value>, Error> {
    let (query, mut vars) = query_of(s, fields, name);
    vars.insert("limit".into(), json!(PAGE));
    vars.insert("offset".into(), json!(offset));
    let mut data = client.graphql(&query, &Value::Object(vars)).await?;
    match data.get_mut("devices").map(Value::take) {
        Some(Value::Array(page)) => Ok(page),
        _ => Err(NautobotError::NotNautobot {
            what: "POST /api/graphql/".into(),
            reason: "no \"devices\" list in the answer".into(),
        }
        .into()),
    }
}

/// The GraphQL query of a source reading `fields` of each device, and its variables without
/// the paging ones.
pub fn query_of(
    s: &source::Model,
    fields: &str,
    name: Option<&str>,
) -> (String, Map<String, Value>) {
    let mut filters = sources::filters_of(s);
    if let Some(name) = name {
        filters.push(("name", vec![name.to_string()]));
    }
    let mut declared = vec!["$limit: Int".to_string(), "$offset: Int".to_string()];
    let mut args = Vec::new();
    let mut vars = Map::new();
    for (arg, values) in filters {
        declared.push(format!("${arg}: [String]"));
        args.push(format!("{arg}: ${arg}"));
        vars.insert(arg.to_string(), json!(values));
    }
    if let Some(extra) = s
        .graphql_filter
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        args.push(extra.to_string());
    }
    args.push("limit: $limit".into());
    args.push("offset: $offset".into());
    let query = format!(
        "query NetRavenSync({}) {{ devices({}) {{ {fields} }} }}",
        declared.join(", "),
        args.join(", ")
    );
    (query, vars)
}

/// Reads the source page by page, writing each device's item; returns the counts.
async fn plan(
    db: &DatabaseConnection,
    client: &Client,
    job_id: i32,
    s: &source::Model,
) -> Result<Counts, Error> {
    let platform_map: HashMap<String, String> = sources::platform_map(db)
        .await?
        .into_iter()
        .map(|m| (m.nautobot_platform.to_lowercase(), m.platform))
        .collect();
    let mapper = Mapper::new(s, platform_map);
    let mut counts = Counts::default();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut seen_names: HashSet<String> = HashSet::new();
    let mut offset = 0usize;
    loop {
        let page = read_page(client, s, DEVICE_FIELDS, None, offset).await?;
        let mut planned: Vec<items::ActiveModel> = Vec::new();
        let mut wanted: Vec<Desired> = Vec::new();
        for d in &page {
            match mapper.map(d) {
                Ok(desired) => {
                    if !seen_ids.insert(desired.nautobot_id.clone()) {
                        // Paging over a changing inventory can show a device twice.
                        continue;
                    }
                    if !seen_names.insert(desired.hostname.to_lowercase()) {
                        planned.push(skip_item(
                            job_id,
                            Skipped {
                                reason: format!(
                                    "duplicate name: another device of this source is also named {}",
                                    desired.hostname
                                ),
                                nautobot_id: desired.nautobot_id,
                                name: desired.hostname,
                            },
                        ));
                        continue;
                    }
                    wanted.push(desired);
                }
                Err(skipped) => {
                    // Still in the source: a device imported before is left as it is.
                    if !skipped.nautobot_id.is_empty() {
                        seen_ids.insert(skipped.nautobot_id.clone());
                    }
                    planned.push(skip_item(job_id, skipped));
                }
            }
        }
        counts.unchanged += compare(db, job_id, s, &wanted, &mut planned).await?;
        for item in &planned {
            if let Set(action) = &item.action {
                counts.count(*action);
            }
        }
        write_items(db, planned).await?;
        counts.read += page.len();
        jobs::progress(db, job_id, counts.read, None).await?;
        if page.len() < PAGE {
            break;
        }
        offset += page.len();
    }
    let mut leaving = Vec::new();
    plan_leaves(db, job_id, s, &seen_ids, &mut leaving).await?;
    for item in &leaving {
        if let Set(action) = &item.action {
            counts.count(*action);
        }
    }
    write_items(db, leaving).await?;
    jobs::progress(db, job_id, counts.read, Some(counts.read)).await?;
    jobs::entry(
        db,
        job_id,
        LogLevel::Info,
        "nautobot",
        &counts.summary(),
        None,
    )
    .await?;
    Ok(counts)
}

fn skip_item(job_id: i32, s: Skipped) -> items::ActiveModel {
    item(
        job_id,
        SyncAction::Skip,
        if s.name.is_empty() {
            "(no name)".into()
        } else {
            s.name
        },
        Some(s.nautobot_id).filter(|i| !i.is_empty()),
        None,
        None,
        Some(s.reason),
    )
}

fn item(
    job_id: i32,
    action: SyncAction,
    hostname: String,
    nautobot_id: Option<String>,
    device_id: Option<i32>,
    detail: Option<Value>,
    reason: Option<String>,
) -> items::ActiveModel {
    items::ActiveModel {
        job_log_id: Set(job_id),
        action: Set(action),
        hostname: Set(hostname),
        nautobot_id: Set(nautobot_id),
        device_id: Set(device_id),
        detail: Set(detail),
        reason: Set(reason),
        ..Default::default()
    }
}

async fn write_items(
    db: &impl ConnectionTrait,
    planned: Vec<items::ActiveModel>,
) -> Result<(), Error> {
    let mut rows = planned.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<items::ActiveModel> = rows.by_ref().take(CHUNK).collect();
        items::Entity::insert_many(chunk).exec(db).await?;
    }
    Ok(())
}

/// Devices read so far; the total is known only at the end (GraphQL gives no count).
/// A device's tags: (name, attached by a sync).
type DeviceTags = HashMap<i32, Vec<(String, bool)>>;

async fn tags_of(db: &impl ConnectionTrait, ids: &[i32]) -> Result<DeviceTags, Error> {
    let rows: Vec<(i32, String, bool)> = device_tags::Entity::find()
        .select_only()
        .column(device_tags::Column::DeviceId)
        .column(tags::Column::Name)
        .column(device_tags::Column::FromNautobot)
        .inner_join(tags::Entity)
        .filter(device_tags::Column::DeviceId.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: DeviceTags = HashMap::new();
    for (id, name, synced) in rows {
        out.entry(id).or_default().push((name, synced));
    }
    Ok(out)
}

fn describe_source(d: &devices::Model) -> String {
    match (d.source, d.nautobot_source_id) {
        (DeviceSource::Nautobot, Some(id)) => format!("nautobot source #{id}"),
        (other, _) => other.as_str().to_string(),
    }
}

/// Compares one page's wanted devices with the inventory; pushes an item for each that is not
/// unchanged and returns how many are.
async fn compare(
    db: &DatabaseConnection,
    job_id: i32,
    s: &source::Model,
    wanted: &[Desired],
    planned: &mut Vec<items::ActiveModel>,
) -> Result<usize, Error> {
    if wanted.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = wanted.iter().map(|d| d.nautobot_id.clone()).collect();
    let names: Vec<String> = wanted.iter().map(|d| d.hostname.to_lowercase()).collect();
    let found = devices::Entity::find()
        .filter(
            Condition::any()
                .add(devices::Column::ExternalId.is_in(ids))
                .add(Expr::expr(Func::lower(Expr::col(devices::Column::Hostname))).is_in(names)),
        )
        .all(db)
        .await?;
    let device_ids: Vec<i32> = found.iter().map(|d| d.id).collect();
    let tag_map = tags_of(db, &device_ids).await?;
    let by_ext: HashMap<&str, &devices::Model> = found
        .iter()
        .filter_map(|d| d.external_id.as_deref().map(|e| (e, d)))
        .collect();
    let by_name: HashMap<String, &devices::Model> = found
        .iter()
        .map(|d| (d.hostname.to_lowercase(), d))
        .collect();
    let mut unchanged = 0;
    for want in wanted {
        let linked = by_ext.get(want.nautobot_id.as_str()).copied();
        let named = by_name.get(&want.hostname.to_lowercase()).copied();
        let conflict = |reason: String, device: &devices::Model| {
            item(
                job_id,
                SyncAction::Conflict,
                want.hostname.clone(),
                Some(want.nautobot_id.clone()),
                Some(device.id),
                Some(json!({"desired": want.to_json()})),
                Some(reason),
            )
        };
        let other_source = |d: &devices::Model| {
            d.source == DeviceSource::Nautobot && d.nautobot_source_id.is_some_and(|o| o != s.id)
        };
        let target = match (linked, named) {
            (Some(d), _) if other_source(d) => {
                planned.push(conflict(
                    format!(
                        "already imported by another source ({})",
                        describe_source(d)
                    ),
                    d,
                ));
                continue;
            }
            (Some(d), Some(n)) if n.id != d.id => {
                planned.push(conflict(
                    format!(
                        "renamed to {} in Nautobot, but another device already has that name",
                        want.hostname
                    ),
                    n,
                ));
                continue;
            }
            (Some(d), _) => d,
            (None, Some(n)) if other_source(n) => {
                planned.push(conflict(
                    format!(
                        "a device with this name was imported by another source ({})",
                        describe_source(n)
                    ),
                    n,
                ));
                continue;
            }
            (None, Some(n)) if n.external_id.is_some() && n.source != DeviceSource::Nautobot => {
                planned.push(conflict(
                    "a device with this name is linked to another Nautobot device".into(),
                    n,
                ));
                continue;
            }
            (None, Some(n)) if n.source.is_by_hand() && !s.adopt => {
                planned.push(conflict(
                    "a hand-added device has this name (let the source adopt such devices to take it over)".into(),
                    n,
                ));
                continue;
            }
            (None, Some(n)) => n,
            (None, None) => {
                planned.push(item(
                    job_id,
                    SyncAction::Add,
                    want.hostname.clone(),
                    Some(want.nautobot_id.clone()),
                    None,
                    Some(json!({"desired": want.to_json()})),
                    None,
                ));
                continue;
            }
        };
        let changes = changes_of(target, want, s, tag_map.get(&target.id));
        if changes.is_empty() {
            unchanged += 1;
        } else {
            planned.push(item(
                job_id,
                SyncAction::Update,
                want.hostname.clone(),
                Some(want.nautobot_id.clone()),
                Some(target.id),
                Some(json!({"changes": changes, "desired": want.to_json()})),
                None,
            ));
        }
    }
    Ok(unchanged)
}

/// The tags a device ends with: its own and rules' tags stay, the sync's follow Nautobot.
fn resulting_tags(current: &[(String, bool)], want: &BTreeSet<String>) -> BTreeSet<String> {
    let wanted_lower: HashSet<String> = want.iter().map(|t| t.to_lowercase()).collect();
    let mut out: BTreeSet<String> = current
        .iter()
        .filter(|(name, synced)| !synced || wanted_lower.contains(&name.to_lowercase()))
        .map(|(name, _)| name.clone())
        .collect();
    for t in want {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.insert(t.clone());
        }
    }
    out
}

/// `{field: [old, new]}` for what the sync would change on `d`.
fn changes_of(
    d: &devices::Model,
    want: &Desired,
    s: &source::Model,
    current_tags: Option<&Vec<(String, bool)>>,
) -> Map<String, Value> {
    let mut changes = Map::new();
    let mut field = |name: &str, old: Value, new: Value| {
        if old != new {
            changes.insert(name.to_string(), json!([old, new]));
        }
    };
    field("hostname", json!(d.hostname), json!(want.hostname));
    field("ip_address", json!(d.ip_address), json!(want.ip_address));
    field("port", json!(d.port), json!(want.port));
    field("device_type", json!(d.device_type), json!(want.device_type));
    let empty = Vec::new();
    let current = current_tags.unwrap_or(&empty);
    let before: BTreeSet<String> = current.iter().map(|(n, _)| n.clone()).collect();
    let after = resulting_tags(current, &want.tags);
    field("tags", json!(before), json!(after));
    if d.left_source_at.is_some() {
        field("enabled", json!(d.enabled), json!(true));
    }
    if d.source != DeviceSource::Nautobot || d.nautobot_source_id != Some(s.id) {
        field(
            "source",
            json!(describe_source(d)),
            json!(format!("nautobot source #{}", s.id)),
        );
    }
    field("nautobot_id", json!(d.external_id), json!(want.nautobot_id));
    changes
}

/// A device a source imported: id, host name, Nautobot id, when it left the source.
type Imported = (i32, String, Option<String>, Option<chrono::DateTime<Utc>>);

/// Devices of this source that Nautobot no longer lists under its filter.
async fn plan_leaves(
    db: &DatabaseConnection,
    job_id: i32,
    s: &source::Model,
    seen: &HashSet<String>,
    planned: &mut Vec<items::ActiveModel>,
) -> Result<(), Error> {
    let mut after = 0;
    loop {
        let page: Vec<Imported> = devices::Entity::find()
            .select_only()
            .column(devices::Column::Id)
            .column(devices::Column::Hostname)
            .column(devices::Column::ExternalId)
            .column(devices::Column::LeftSourceAt)
            .filter(devices::Column::NautobotSourceId.eq(s.id))
            .filter(devices::Column::Source.eq(DeviceSource::Nautobot))
            .filter(devices::Column::Id.gt(after))
            .order_by_asc(devices::Column::Id)
            .limit(PAGE as u64)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.0;
        for (id, hostname, external, left) in page {
            if external.as_deref().is_some_and(|e| seen.contains(e)) {
                continue;
            }
            let action = match s.on_leave {
                LeaveAction::Disable if left.is_some() => continue,
                LeaveAction::Disable => SyncAction::Disable,
                LeaveAction::Delete => SyncAction::Delete,
            };
            planned.push(item(
                job_id,
                action,
                hostname,
                external,
                Some(id),
                None,
                Some("no longer in the source".into()),
            ));
        }
    }
}

/// Writes the job's planned changes in one transaction.
async fn apply_plan(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    s: &source::Model,
    counts: Counts,
) -> Result<Counts, Error> {
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    let mut after = 0;
    loop {
        let chunk = items::Entity::find()
            .filter(items::Column::JobLogId.eq(job.id))
            .filter(items::Column::Action.is_in([
                SyncAction::Add,
                SyncAction::Update,
                SyncAction::Disable,
                SyncAction::Delete,
            ]))
            .filter(items::Column::Id.gt(after))
            .order_by_asc(items::Column::Id)
            .limit(CHUNK as u64)
            .all(&txn)
            .await?;
        let Some(last) = chunk.last() else { break };
        after = last.id;
        apply_chunk(&txn, s, &chunk, now).await?;
    }
    // Rules see the synced devices as if each had been saved by hand.
    for rule in tag_rules::Entity::find()
        .filter(tag_rules::Column::IsActive.eq(true))
        .all(&txn)
        .await?
    {
        crate::services::tag_rules::apply_rule(&txn, &rule).await?;
    }
    // The person who started the job; a schedule's job has none.
    let actor = Actor {
        id: job.created_by,
        ..Actor::system(&format!("nautobot sync job {}", job.id))
    };
    audit::record(
        &txn,
        &actor,
        Event::data("nautobot.sync.apply")
            .target("nautobot_source", s.id)
            .detail("name", s.name.clone())
            .detail("job", job.id)
            .detail("added", counts.add)
            .detail("updated", counts.update)
            .detail("disabled", counts.disable)
            .detail("deleted", counts.delete),
    )
    .await?;
    txn.commit().await?;
    Ok(counts)
}

async fn apply_chunk(
    txn: &impl ConnectionTrait,
    s: &source::Model,
    chunk: &[items::Model],
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    let desired: Vec<(&items::Model, Desired)> = chunk
        .iter()
        .filter_map(|i| {
            let id = i.nautobot_id.as_deref()?;
            let d = Desired::from_json(id, i.detail.as_ref()?.get("desired")?)?;
            Some((i, d))
        })
        .collect();
    let tag_ids = ensure_tags(txn, desired.iter().flat_map(|(_, d)| d.tags.iter()), now).await?;
    let adds: Vec<&Desired> = desired
        .iter()
        .filter(|(i, _)| i.action == SyncAction::Add)
        .map(|(_, d)| d)
        .collect();
    if !adds.is_empty() {
        devices::Entity::insert_many(adds.iter().map(|d| devices::ActiveModel {
            hostname: Set(d.hostname.clone()),
            ip_sort: Set(ip_sort_key(&d.ip_address)),
            ip_address: Set(d.ip_address.clone()),
            port: Set(d.port),
            device_type: Set(d.device_type.clone()),
            enabled: Set(true),
            source: Set(DeviceSource::Nautobot),
            nautobot_source_id: Set(Some(s.id)),
            external_id: Set(Some(d.nautobot_id.clone())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(txn)
        .await?;
        let new_ids: HashMap<String, i32> = devices::Entity::find()
            .select_only()
            .column(devices::Column::ExternalId)
            .column(devices::Column::Id)
            .filter(devices::Column::ExternalId.is_in(adds.iter().map(|d| d.nautobot_id.clone())))
            .filter(devices::Column::NautobotSourceId.eq(s.id))
            .into_tuple::<(String, i32)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let links = adds.iter().flat_map(|d| {
            let device = new_ids.get(&d.nautobot_id).copied();
            d.tags
                .iter()
                .filter_map(|t| tag_ids.get(&t.to_lowercase()).copied())
                .filter_map(move |tag| device.map(|dev| (dev, tag)))
        });
        link(txn, links.collect(), now).await?;
    }
    for (i, d) in desired
        .iter()
        .filter(|(i, _)| i.action == SyncAction::Update)
    {
        let Some(device_id) = i.device_id else {
            continue;
        };
        devices::Entity::update_many()
            .col_expr(devices::Column::Hostname, Expr::value(d.hostname.clone()))
            .col_expr(
                devices::Column::IpAddress,
                Expr::value(d.ip_address.clone()),
            )
            .col_expr(
                devices::Column::IpSort,
                Expr::value(ip_sort_key(&d.ip_address)),
            )
            .col_expr(devices::Column::Port, Expr::value(d.port))
            .col_expr(
                devices::Column::DeviceType,
                Expr::value(d.device_type.clone()),
            )
            .col_expr(devices::Column::Source, Expr::value(DeviceSource::Nautobot))
            .col_expr(devices::Column::NautobotSourceId, Expr::value(s.id))
            .col_expr(
                devices::Column::ExternalId,
                Expr::value(d.nautobot_id.clone()),
            )
            .col_expr(devices::Column::UpdatedAt, Expr::value(now))
            .filter(devices::Column::Id.eq(device_id))
            .exec(txn)
            .await?;
        // Back in the source after leaving it: the sync disabled it, so the sync enables it.
        devices::Entity::update_many()
            .col_expr(devices::Column::Enabled, Expr::value(true))
            .col_expr(
                devices::Column::LeftSourceAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(devices::Column::Id.eq(device_id))
            .filter(devices::Column::LeftSourceAt.is_not_null())
            .exec(txn)
            .await?;
        retag(txn, device_id, &d.tags, &tag_ids, now).await?;
    }
    let leaving = |action: SyncAction| -> Vec<i32> {
        chunk
            .iter()
            .filter(|i| i.action == action)
            .filter_map(|i| i.device_id)
            .collect()
    };
    let disable = leaving(SyncAction::Disable);
    if !disable.is_empty() {
        devices::Entity::update_many()
            .col_expr(devices::Column::Enabled, Expr::value(false))
            .col_expr(devices::Column::LeftSourceAt, Expr::value(now))
            .col_expr(devices::Column::UpdatedAt, Expr::value(now))
            .filter(devices::Column::Id.is_in(disable))
            .exec(txn)
            .await?;
    }
    let delete = leaving(SyncAction::Delete);
    if !delete.is_empty() {
        // Only devices this source imported: never one added by hand.
        devices::Entity::delete_many()
            .filter(devices::Column::Id.is_in(delete))
            .filter(devices::Column::Source.eq(DeviceSource::Nautobot))
            .filter(devices::Column::NautobotSourceId.eq(s.id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Tag ids by lower-case name, creating the tags that do not exist yet.
async fn ensure_tags<'a>(
    txn: &impl ConnectionTrait,
    names: impl Iterator<Item = &'a String>,
    now: chrono::DateTime<Utc>,
) -> Result<HashMap<String, i32>, Error> {
    let mut wanted: HashMap<String, &String> = HashMap::new();
    for n in names {
        wanted.entry(n.to_lowercase()).or_insert(n);
    }
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let lookup = |keys: Vec<String>| {
        tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .column(tags::Column::Id)
            .filter(Expr::expr(Func::lower(Expr::col(tags::Column::Name))).is_in(keys))
            .into_tuple::<(String, i32)>()
    };
    let mut ids: HashMap<String, i32> = lookup(wanted.keys().cloned().collect())
        .all(txn)
        .await?
        .into_iter()
        .map(|(n, id)| (n.to_lowercase(), id))
        .collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|(k, _)| !ids.contains_key(*k))
        .map(|(_, n)| *n)
        .collect();
    if !missing.is_empty() {
        tags::Entity::insert_many(missing.iter().map(|name| tags::ActiveModel {
            name: Set((*name).clone()),
            color: Set(DEFAULT_COLOR.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(txn)
        .await?;
        ids.extend(
            lookup(missing.iter().map(|n| n.to_lowercase()).collect())
                .all(txn)
                .await?
                .into_iter()
                .map(|(n, id)| (n.to_lowercase(), id)),
        );
    }
    Ok(ids)
}

async fn link(
    txn: &impl ConnectionTrait,
    pairs: Vec<(i32, i32)>,
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    for chunk in pairs.chunks(CHUNK) {
        device_tags::Entity::insert_many(chunk.iter().map(|(device, tag)| {
            device_tags::ActiveModel {
                device_id: Set(*device),
                tag_id: Set(*tag),
                from_nautobot: Set(true),
                created_at: Set(now),
                ..Default::default()
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Brings a device's sync-attached tags in line with `want`; its own and rules' tags stay.
async fn retag(
    txn: &impl ConnectionTrait,
    device_id: i32,
    want: &BTreeSet<String>,
    tag_ids: &HashMap<String, i32>,
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    let wanted: HashSet<i32> = want
        .iter()
        .filter_map(|t| tag_ids.get(&t.to_lowercase()).copied())
        .collect();
    let current = device_tags::Entity::find()
        .filter(device_tags::Column::DeviceId.eq(device_id))
        .all(txn)
        .await?;
    let stale: Vec<i32> = current
        .iter()
        .filter(|l| l.from_nautobot && !wanted.contains(&l.tag_id))
        .map(|l| l.id)
        .collect();
    if !stale.is_empty() {
        device_tags::Entity::delete_many()
            .filter(device_tags::Column::Id.is_in(stale))
            .exec(txn)
            .await?;
    }
    let missing: Vec<(i32, i32)> = wanted
        .iter()
        .filter(|t| !current.iter().any(|l| l.tag_id == **t))
        .map(|t| (device_id, *t))
        .collect();
    link(txn, missing, now).await
}

/// One page of a sync job's items, optionally of one action, in the order they were planned.
pub async fn items_page(
    db: &impl ConnectionTrait,
    job_id: i32,
    action: Option<SyncAction>,
    paging: crate::services::query::Paging,
) -> Result<crate::services::query::Page<items::Model>, Error> {
    let mut q = items::Entity::find()
        .filter(items::Column::JobLogId.eq(job_id))
        .order_by_asc(items::Column::Id);
    if let Some(a) = action {
        q = q.filter(items::Column::Action.eq(a));
    }
    Ok(crate::services::query::fetch_page(db, q, paging).await?)
}

/// A sync job's items by action.
pub async fn item_counts(
    db: &impl ConnectionTrait,
    job_id: i32,
) -> Result<Vec<(SyncAction, i64)>, Error> {
    Ok(items::Entity::find()
        .select_only()
        .column(items::Column::Action)
        .column_as(items::Column::Id.count(), "n")
        .filter(items::Column::JobLogId.eq(job_id))
        .group_by(items::Column::Action)
        .into_tuple()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tags_follow_nautobot_and_the_others_stay() {
        let current = vec![
            ("core".to_string(), true),
            ("old".to_string(), true),
            ("mine".to_string(), false),
        ];
        let want: BTreeSet<String> = ["CORE", "new"].iter().map(|s| s.to_string()).collect();
        let after: Vec<String> = resulting_tags(&current, &want).into_iter().collect();
        assert_eq!(after, vec!["core", "mine", "new"]);
    }
}
