//! The device inventory: validation, changes, the filtered list, bulk actions.

use crate::vocabulary::ResultStatus;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic, IntoActiveModel,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait,
};
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Event};
use super::query::{
    self, JsonPage, Page, Paging, Sort, contains_ci, fetch_json_page, sort_columns,
};
use super::tags;
use super::validation::FieldErrors;
use crate::device::platforms;
use crate::entity::{backups, device_tags, devices, tags as tag_entity};
use crate::error::Error;

pub const MAX_DESCRIPTION: usize = 2000;

/// A device as the form sends it (and an import row), text before validation: the form's body,
/// this service's input, and what a form shown again holds.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeviceInput {
    pub hostname: String,
    pub ip_address: String,
    pub port: String,
    pub device_type: String,
    pub description: String,
    #[serde(deserialize_with = "crate::services::validation::toggle")]
    pub enabled: bool,
}

impl DeviceInput {
    /// What the form for a new device starts with.
    pub fn for_new() -> Self {
        Self {
            port: "22".into(),
            device_type: "cisco_ios".into(),
            enabled: true,
            ..Self::default()
        }
    }

    /// A stored device as its form shows it.
    pub fn of(device: &devices::Model) -> Self {
        Self {
            hostname: device.hostname.clone(),
            ip_address: device.ip_address.clone(),
            port: device.port.to_string(),
            device_type: device.device_type.clone(),
            description: device.description.clone().unwrap_or_default(),
            enabled: device.enabled,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidDevice {
    pub hostname: String,
    pub ip_address: String,
    pub port: i32,
    pub device_type: String,
    pub description: Option<String>,
    pub enabled: bool,
}

/// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, 1–63 characters
/// each, not starting or ending with a hyphen, 253 characters in all.
pub fn hostname_error(name: &str) -> Option<&'static str> {
    if name.len() > 253 {
        return Some("At most 253 characters.");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Some("Each dot-separated part must have 1 to 63 characters.");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some("Use letters, digits, hyphens and dots only.");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("A part cannot start or end with a hyphen.");
        }
    }
    None
}

/// Checks the fields alone (no database); errors are named by field.
pub fn validate_fields(errors: &mut FieldErrors, input: &DeviceInput) -> ValidDevice {
    let hostname = errors.required("hostname", &input.hostname, 253);
    if !hostname.is_empty()
        && let Some(message) = hostname_error(&hostname)
    {
        errors.add("hostname", message);
    }
    let ip_text = errors.required("ip_address", &input.ip_address, 45);
    let ip_address = match ip_text.parse::<IpAddr>() {
        // Stored canonically, so 2001:DB8::1 and 2001:db8:0::1 are the same address.
        Ok(ip) => ip.to_string(),
        Err(_) => {
            if !ip_text.is_empty() {
                errors.add(
                    "ip_address",
                    "Enter an IPv4 (192.0.2.10) or IPv6 (2001:db8::10) address.",
                );
            }
            ip_text
        }
    };
    let port_text = input.port.trim();
    let port = if port_text.is_empty() {
        22
    } else {
        match port_text.parse::<i32>() {
            Ok(p) if (1..=65535).contains(&p) => p,
            _ => {
                errors.add("port", "Enter a port from 1 to 65535.");
                22
            }
        }
    };
    let device_type = input.device_type.trim().to_string();
    if platforms::find(&device_type).is_none() {
        errors.add(
            "device_type",
            format!(
                "Unknown platform {:?}: pick one from the list.",
                truncate(&device_type)
            ),
        );
    }
    let description = errors.optional("description", &input.description, MAX_DESCRIPTION);
    ValidDevice {
        hostname,
        ip_address,
        port,
        device_type,
        description,
        enabled: input.enabled,
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

async fn hostname_taken(
    db: &impl ConnectionTrait,
    hostname: &str,
    except: Option<i32>,
) -> Result<bool, DbErr> {
    let mut q = devices::Entity::find().filter(
        Expr::expr(Func::lower(Expr::col(devices::Column::Hostname))).eq(hostname.to_lowercase()),
    );
    if let Some(id) = except {
        q = q.filter(devices::Column::Id.ne(id));
    }
    Ok(q.count(db).await? > 0)
}

async fn validate(
    db: &impl ConnectionTrait,
    input: &DeviceInput,
    except: Option<i32>,
) -> Result<ValidDevice, Error> {
    let mut errors = FieldErrors::new();
    let valid = validate_fields(&mut errors, input);
    if errors.get("hostname").is_none() && hostname_taken(db, &valid.hostname, except).await? {
        errors.add("hostname", "A device with this host name already exists.");
    }
    errors.into_result()?;
    Ok(valid)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &DeviceInput,
) -> Result<devices::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None).await?;
    let now = Utc::now();
    let device = devices::ActiveModel {
        hostname: Set(v.hostname),
        ip_sort: Set(ip_sort_key(&v.ip_address)),
        ip_address: Set(v.ip_address),
        port: Set(v.port),
        device_type: Set(v.device_type),
        description: Set(v.description),
        owner_id: Set(actor.id),
        enabled: Set(v.enabled),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    super::tag_rules::apply_to_device(&txn, &device).await?;
    audit::record(
        &txn,
        actor,
        Event::data("device.create")
            .target("device", device.id)
            .detail("hostname", device.hostname.clone())
            .detail("ip_address", device.ip_address.clone())
            .detail("device_type", device.device_type.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(device)
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<devices::Model, Error> {
    devices::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// Enabled devices with a tag, by host name, at most `limit`; and how many there are.
pub async fn enabled_with_tag(
    db: &impl ConnectionTrait,
    tag_id: i32,
    limit: u64,
) -> Result<(Vec<devices::Model>, u64), Error> {
    use sea_orm::{PaginatorTrait, QuerySelect};
    let q = devices::Entity::find()
        .filter(devices::Column::Enabled.eq(true))
        .filter(
            devices::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(crate::entity::device_tags::Column::DeviceId)
                    .from(crate::entity::device_tags::Entity)
                    .and_where(crate::entity::device_tags::Column::TagId.eq(tag_id))
                    .to_owned(),
            ),
        )
        .order_by_asc(devices::Column::Hostname);
    let total = q.clone().count(db).await?;
    Ok((q.limit(limit).all(db).await?, total))
}

/// The device with this host name (without case), if any.
/// The ids of the devices with these host names (any case), in the order given, and the names
/// no device has.
pub async fn ids_by_hostnames(
    db: &impl ConnectionTrait,
    names: &[&str],
) -> Result<(Vec<i32>, Vec<String>), Error> {
    let wanted: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let mut found: std::collections::HashMap<String, i32> = std::collections::HashMap::new();
    for chunk in wanted.chunks(500) {
        let rows: Vec<(i32, String)> = devices::Entity::find()
            .select_only()
            .column(devices::Column::Id)
            .column(devices::Column::Hostname)
            .filter(
                Expr::expr(Func::lower(Expr::col(devices::Column::Hostname))).is_in(chunk.to_vec()),
            )
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|(id, h)| (h.to_lowercase(), id)));
    }
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for (name, key) in names.iter().zip(&wanted) {
        match found.get(key) {
            Some(id) if !ids.contains(id) => ids.push(*id),
            Some(_) => {}
            None => unknown.push((*name).to_string()),
        }
    }
    Ok((ids, unknown))
}

pub async fn find_by_hostname(
    db: &impl ConnectionTrait,
    hostname: &str,
) -> Result<Option<devices::Model>, Error> {
    Ok(devices::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(devices::Column::Hostname)))
                .eq(hostname.to_lowercase()),
        )
        .one(db)
        .await?)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &DeviceInput,
) -> Result<devices::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let device = get(&txn, id).await?;
    let v = validate(&txn, input, Some(id)).await?;
    let fields = audit::changed_fields(&[
        ("hostname", v.hostname != device.hostname),
        ("ip_address", v.ip_address != device.ip_address),
        ("port", v.port != device.port),
        ("device_type", v.device_type != device.device_type),
        ("description", v.description != device.description),
        ("enabled", v.enabled != device.enabled),
    ]);
    let mut active = device.into_active_model();
    active.hostname = Set(v.hostname);
    active.ip_sort = Set(ip_sort_key(&v.ip_address));
    active.ip_address = Set(v.ip_address);
    active.port = Set(v.port);
    active.device_type = Set(v.device_type);
    active.description = Set(v.description);
    active.enabled = Set(v.enabled);
    active.updated_at = Set(Utc::now());
    let device = active.update(&txn).await?;
    super::tag_rules::apply_to_device(&txn, &device).await?;
    if fields.contains(&"ip_address") {
        // The tags it keeps must not hand it credentials its new address may not receive.
        let tag_ids: Vec<i32> = device_tags::Entity::find()
            .filter(device_tags::Column::DeviceId.eq(device.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.tag_id)
            .collect();
        super::credentials::check_tags_for_address(
            &txn,
            "ip_address",
            &tag_ids,
            &device.hostname,
            &device.ip_address,
        )
        .await?;
    }
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("device.update")
                .target("device", id)
                .detail("hostname", device.hostname.clone())
                .detail("fields", fields),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(device)
}

/// Deletes a device. Its backups stay readable (their device link is cleared) unless
/// `with_backups` asks to remove them too.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    with_backups: bool,
) -> Result<devices::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let device = get(&txn, id).await?;
    let removed_backups = if with_backups {
        backups::Entity::delete_many()
            .filter(backups::Column::DeviceId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected
    } else {
        0
    };
    devices::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("device.delete")
            .target("device", id)
            .detail("hostname", device.hostname.clone())
            .detail("backups_deleted", removed_backups),
    )
    .await?;
    txn.commit().await?;
    Ok(device)
}

pub async fn backup_count(db: &impl ConnectionTrait, device_id: i32) -> Result<u64, DbErr> {
    backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device_id))
        .count(db)
        .await
}

/// Adds a tag to a device by hand (a manual tag, never removed by rules).
pub async fn add_tag(
    db: &DatabaseConnection,
    actor: &Actor,
    device_id: i32,
    tag_id: i32,
) -> Result<bool, Error> {
    let txn = crate::db::begin_write(db).await?;
    let device = get(&txn, device_id).await?;
    let tag = tags::get(&txn, tag_id).await?;
    super::credentials::check_tags_for_address(
        &txn,
        "tag_id",
        &[tag_id],
        &device.hostname,
        &device.ip_address,
    )
    .await?;
    let exists = device_tags::Entity::find()
        .filter(device_tags::Column::DeviceId.eq(device_id))
        .filter(device_tags::Column::TagId.eq(tag_id))
        .count(&txn)
        .await?
        > 0;
    if !exists {
        device_tags::ActiveModel {
            device_id: Set(device_id),
            tag_id: Set(tag_id),
            rule_id: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            actor,
            Event::data("device.tag_add")
                .target("device", device_id)
                .detail("hostname", device.hostname)
                .detail("tag", tag.name),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(!exists)
}

pub async fn remove_tag(
    db: &DatabaseConnection,
    actor: &Actor,
    device_id: i32,
    tag_id: i32,
) -> Result<bool, Error> {
    let txn = crate::db::begin_write(db).await?;
    let device = get(&txn, device_id).await?;
    let tag = tags::get(&txn, tag_id).await?;
    let removed = device_tags::Entity::delete_many()
        .filter(device_tags::Column::DeviceId.eq(device_id))
        .filter(device_tags::Column::TagId.eq(tag_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed > 0 {
        audit::record(
            &txn,
            actor,
            Event::data("device.tag_remove")
                .target("device", device_id)
                .detail("hostname", device.hostname)
                .detail("tag", tag.name),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(removed > 0)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BulkAction {
    AddTag(i32),
    RemoveTag(i32),
    Enable,
    Disable,
    Delete,
}

impl BulkAction {
    fn name(&self) -> &'static str {
        match self {
            BulkAction::AddTag(_) => "add_tag",
            BulkAction::RemoveTag(_) => "remove_tag",
            BulkAction::Enable => "enable",
            BulkAction::Disable => "disable",
            BulkAction::Delete => "delete",
        }
    }
}

/// Applies one action to the selected devices in one transaction; returns how many changed.
pub async fn bulk(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: &[i32],
    action: BulkAction,
) -> Result<u64, Error> {
    if ids.is_empty() {
        return Err(Error::Refused("Select at least one device.".into()));
    }
    let txn = crate::db::begin_write(db).await?;
    let existing: Vec<i32> = devices::Entity::find()
        .filter(devices::Column::Id.is_in(ids.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let mut event = Event::data("device.bulk")
        .detail("action", action.name())
        .detail("selected", existing.len());
    let changed = match action {
        BulkAction::Enable | BulkAction::Disable => {
            devices::Entity::update_many()
                .col_expr(
                    devices::Column::Enabled,
                    Expr::value(action == BulkAction::Enable),
                )
                .col_expr(devices::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(devices::Column::Id.is_in(existing.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected
        }
        BulkAction::Delete => {
            devices::Entity::delete_many()
                .filter(devices::Column::Id.is_in(existing.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected
        }
        BulkAction::AddTag(tag_id) => {
            let tag = tags::get(&txn, tag_id).await?;
            let restricted = super::credentials::restricted_on_tags(&txn, Some(&[tag_id])).await?;
            if !restricted.is_empty() {
                let outside: Vec<String> = devices::Entity::find()
                    .filter(devices::Column::Id.is_in(existing.iter().copied()))
                    .order_by_asc(devices::Column::Hostname)
                    .all(&txn)
                    .await?
                    .into_iter()
                    .filter_map(|d| {
                        let labels =
                            super::credentials::conflicts(&restricted, &[tag_id], &d.ip_address);
                        (!labels.is_empty()).then(|| format!("{} ({})", d.hostname, d.ip_address))
                    })
                    .collect();
                if !outside.is_empty() {
                    return Err(FieldErrors::single(
                        "tag_id",
                        format!(
                            "Nothing changed: tag {} carries credentials whose allowed networks leave out {} of the selected devices: {}.",
                            tag.name,
                            outside.len(),
                            outside
                                .iter()
                                .take(10)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            event = event.detail("tag", tag.name);
            let tagged: Vec<i32> = device_tags::Entity::find()
                .filter(device_tags::Column::TagId.eq(tag_id))
                .filter(device_tags::Column::DeviceId.is_in(existing.iter().copied()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|l| l.device_id)
                .collect();
            let now = Utc::now();
            let new_links: Vec<device_tags::ActiveModel> = existing
                .iter()
                .filter(|id| !tagged.contains(id))
                .map(|id| device_tags::ActiveModel {
                    device_id: Set(*id),
                    tag_id: Set(tag_id),
                    rule_id: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                })
                .collect();
            let n = new_links.len() as u64;
            if n > 0 {
                device_tags::Entity::insert_many(new_links)
                    .exec(&txn)
                    .await?;
            }
            n
        }
        BulkAction::RemoveTag(tag_id) => {
            let tag = tags::get(&txn, tag_id).await?;
            event = event.detail("tag", tag.name);
            device_tags::Entity::delete_many()
                .filter(device_tags::Column::TagId.eq(tag_id))
                .filter(device_tags::Column::DeviceId.is_in(existing.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected
        }
    };
    audit::record(&txn, actor, event.detail("changed", changed)).await?;
    txn.commit().await?;
    Ok(changed)
}

#[derive(Clone, Debug, Default)]
pub struct DeviceFilter {
    pub text: Option<String>,
    pub platform: Option<String>,
    pub tag_id: Option<i32>,
    pub enabled: Option<bool>,
    pub status: Option<LastBackup>,
    pub sort: Sort<DeviceSort>,
}

sort_columns! {
    pub enum DeviceSort {
        Hostname = "hostname",
        IpAddress = "ip_address",
        DeviceType = "device_type",
        LastBackupAt = "last_backup_at",
        CreatedAt = "created_at",
    } default Hostname
}

/// The device list's "last backup" filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastBackup {
    Never,
    Was(ResultStatus),
}

impl LastBackup {
    /// The choices the list offers.
    pub const CHOICES: [LastBackup; 3] = [
        LastBackup::Was(ResultStatus::Success),
        LastBackup::Was(ResultStatus::Failed),
        LastBackup::Never,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LastBackup::Never => "never",
            LastBackup::Was(status) => status.as_str(),
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::CHOICES.into_iter().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for LastBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written and read as the word the list's address uses for it (`never`, `success`, …).
impl Serialize for LastBackup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LastBackup {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("no last-backup filter {text:?}")))
    }
}

/// A device in a list, with its tags.
pub struct DeviceRow {
    pub device: DeviceSummary,
    pub tags: Vec<Arc<tag_entity::Model>>,
}

/// The columns a device list shows: list pages read only these, as JSON arrays in the order of
/// the fields here (`SUMMARY_COLUMNS`, then the `late` columns of `list_page`; see
/// `query::fetch_json_page`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct DeviceSummary {
    pub id: i32,
    pub hostname: String,
    pub ip_address: String,
    pub port: i32,
    pub device_type: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "query::json_bool")]
    pub enabled: bool,
    pub last_backup_status: Option<ResultStatus>,
    #[serde(deserialize_with = "query::json_time")]
    pub last_backup_at: Option<chrono::DateTime<Utc>>,
    /// The ids of its tags, comma-separated, as the page query reads them (resolved into
    /// `DeviceRow::tags`). A field here rather than beside it with `#[serde(flatten)]`, which
    /// buffers every row before reading it.
    #[serde(default)]
    tag_ids: Option<String>,
}

const SUMMARY_COLUMNS: [devices::Column; 9] = [
    devices::Column::Id,
    devices::Column::Hostname,
    devices::Column::IpAddress,
    devices::Column::Port,
    devices::Column::DeviceType,
    devices::Column::Description,
    devices::Column::Enabled,
    devices::Column::LastBackupStatus,
    devices::Column::LastBackupAt,
];

/// The filters on the device's own columns.
fn attribute_condition(filter: &DeviceFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(text) = &filter.text {
        cond = cond.add(
            Condition::any()
                .add(contains_ci(Expr::col(devices::Column::Hostname), text))
                .add(contains_ci(Expr::col(devices::Column::IpAddress), text))
                .add(contains_ci(Expr::col(devices::Column::Description), text)),
        );
    }
    if let Some(p) = &filter.platform {
        cond = cond.add(devices::Column::DeviceType.eq(p.as_str()));
    }
    if let Some(enabled) = filter.enabled {
        cond = cond.add(devices::Column::Enabled.eq(enabled));
    }
    match filter.status {
        Some(LastBackup::Never) => cond = cond.add(devices::Column::LastBackupStatus.is_null()),
        Some(LastBackup::Was(s)) => cond = cond.add(devices::Column::LastBackupStatus.eq(s)),
        None => {}
    }
    cond
}

/// All of `filter` as one condition on `devices` (the tag as a subquery).
pub fn condition(filter: &DeviceFilter) -> Condition {
    let mut cond = attribute_condition(filter);
    if let Some(tag_id) = filter.tag_id {
        cond = cond.add(devices::Column::Id.in_subquery(tags::devices_with_tag(tag_id)));
    }
    cond
}

/// A page row's tag ids, comma-separated, computed for the page's rows only (`p` is the page
/// row, `query::PAGE_ROW`).
fn tag_ids_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "(SELECT string_agg(dt.tag_id::text, ',') FROM device_tags dt WHERE dt.device_id = p.\"id\")"
        }
        _ => "(SELECT group_concat(dt.tag_id) FROM device_tags dt WHERE dt.device_id = p.\"id\")",
    }
}

/// The devices `filter` selects (FROM, joins and WHERE only). The tag filter is written for
/// each database's planner: SQLite builds a temporary index for `id IN (subquery)` on every run,
/// so it gets a join ((device_id, tag_id) is unique: each device once); PostgreSQL answers a join
/// or `IN` with a scan of every device and a hash join, so it gets `id = ANY(ARRAY(subquery))`,
/// which it answers with primary-key lookups of just the tag's devices.
fn filtered(backend: DbBackend, filter: &DeviceFilter) -> SelectStatement {
    let mut select = devices::Entity::find().filter(attribute_condition(filter));
    if let Some(tag_id) = filter.tag_id {
        select = match backend {
            DbBackend::Postgres => select.filter(Expr::cust_with_exprs(
                "$1 = ANY(ARRAY($2))",
                [
                    Expr::col((devices::Entity, devices::Column::Id)),
                    Expr::SubQuery(None, Box::new(tags::devices_with_tag(tag_id).into())),
                ],
            )),
            _ => select
                .join(
                    JoinType::InnerJoin,
                    device_tags::Relation::Device.def().rev(),
                )
                .filter(device_tags::Column::TagId.eq(tag_id)),
        };
    }
    let mut query = select.into_query();
    query.clear_selects();
    query
}

/// When a tag is the only filter, its links count its devices without reading the devices:
/// each link names an existing device (foreign key) and names it once (unique pair).
fn tag_links_only(filter: &DeviceFilter) -> Option<SelectStatement> {
    let tag_id = filter.tag_id?;
    attribute_condition(filter)
        .is_empty()
        .then(|| tags::devices_with_tag(tag_id))
}

/// A key that sorts IP addresses as addresses: the 16 bytes of the IPv6 form (IPv4 mapped, so
/// IPv4 sorts before IPv6) in hex. Stored as `devices.ip_sort` beside the address.
pub fn ip_sort_key(ip: &str) -> String {
    let octets = match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Ok(IpAddr::V6(v6)) => v6.octets(),
        Err(_) => return String::new(),
    };
    octets.iter().map(|b| format!("{b:02x}")).collect()
}

fn sort_column(sort: DeviceSort) -> devices::Column {
    match sort {
        DeviceSort::Hostname => devices::Column::Hostname,
        DeviceSort::IpAddress => devices::Column::IpSort,
        DeviceSort::DeviceType => devices::Column::DeviceType,
        DeviceSort::LastBackupAt => devices::Column::LastBackupAt,
        DeviceSort::CreatedAt => devices::Column::CreatedAt,
    }
}

/// What a device list page reads: the summary columns and the tag ids of the page's rows,
/// sorted by the chosen column and then id.
fn list_page(backend: DbBackend, filter: &DeviceFilter) -> JsonPage {
    let sort = sort_column(filter.sort.column);
    let order = filter.sort.direction.order();
    JsonPage {
        table: devices::Entity.table_name(),
        columns: SUMMARY_COLUMNS.iter().map(|c| c.as_str()).collect(),
        late: vec![("tag_ids", tag_ids_sql(backend))],
        order: vec![("sort_key", Expr::col((devices::Entity, sort)), order)],
        count: tag_links_only(filter),
    }
}

/// One page of devices with their tags, in one statement; `all_tags` (which list pages show
/// anyway) resolves the tag ids.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &DeviceFilter,
    paging: Paging,
    all_tags: &[Arc<tag_entity::Model>],
) -> Result<Page<DeviceRow>, DbErr> {
    let backend = db.get_database_backend();
    let from = filtered(backend, filter);
    let page: Page<DeviceSummary> =
        fetch_json_page(db, &from, &list_page(backend, filter), paging).await?;
    let by_id: std::collections::HashMap<i32, &Arc<tag_entity::Model>> =
        all_tags.iter().map(|t| (t.id, t)).collect();
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|device| DeviceRow {
                tags: row_tags(device.tag_ids.as_deref(), &by_id),
                device,
            })
            .collect(),
        total: page.total,
        paging: page.paging,
    })
}

/// Tags by name from a comma-separated id list.
fn row_tags(
    ids: Option<&str>,
    by_id: &std::collections::HashMap<i32, &Arc<tag_entity::Model>>,
) -> Vec<Arc<tag_entity::Model>> {
    let mut tags: Vec<Arc<tag_entity::Model>> = ids
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse::<i32>().ok())
        .filter_map(|id| by_id.get(&id).map(|t| Arc::clone(t)))
        .collect();
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page query writes each row as an array in `list_page`'s column order; the row type
    /// reads it in its field order. Read by name and by position, a row must come out the same.
    #[test]
    fn the_list_page_columns_are_in_the_order_of_the_row_type() {
        let page = list_page(DbBackend::Sqlite, &DeviceFilter::default());
        let sample = serde_json::json!({
            "id": 7, "hostname": "r7", "ip_address": "10.0.0.7", "port": 2222,
            "device_type": "cisco_ios", "description": "core", "enabled": 1,
            "last_backup_status": "success", "last_backup_at": "2026-11-25 10:00:00",
            "tag_ids": "3,4",
        });
        let names = page
            .columns
            .iter()
            .copied()
            .chain(page.late.iter().map(|(name, _)| *name));
        let positional: Vec<serde_json::Value> = names
            .map(|name| {
                sample
                    .get(name)
                    .cloned()
                    .expect("a sample value per column")
            })
            .collect();
        let by_name: DeviceSummary = serde_json::from_value(sample.clone()).expect("by name");
        let by_position: DeviceSummary =
            serde_json::from_value(serde_json::Value::Array(positional)).expect("by position");
        assert_eq!(by_name, by_position);
        assert_eq!(by_position.port, 2222);
        assert_eq!(by_position.tag_ids.as_deref(), Some("3,4"));
    }

    #[test]
    fn hostnames_follow_rfc1123() {
        assert_eq!(hostname_error("core-sw01.dc1.example.net"), None);
        assert_eq!(hostname_error("1fw"), None);
        assert!(hostname_error("-bad").is_some());
        assert!(hostname_error("bad-").is_some());
        assert!(hostname_error("has space").is_some());
        assert!(hostname_error("a..b").is_some());
        assert!(hostname_error(&"a".repeat(64)).is_some());
        assert!(hostname_error("under_score").is_some());
    }

    #[test]
    fn fields_are_validated_and_normalised() {
        let mut e = FieldErrors::new();
        let v = validate_fields(
            &mut e,
            &DeviceInput {
                hostname: " r1 ".into(),
                ip_address: "2001:DB8:0::1".into(),
                port: "".into(),
                device_type: "cisco_ios".into(),
                description: "".into(),
                enabled: true,
            },
        );
        assert!(e.is_empty(), "{e}");
        assert_eq!(
            (v.hostname.as_str(), v.ip_address.as_str(), v.port),
            ("r1", "2001:db8::1", 22)
        );
        let mut e = FieldErrors::new();
        validate_fields(
            &mut e,
            &DeviceInput {
                hostname: "r1".into(),
                ip_address: "300.1.1.1".into(),
                port: "70000".into(),
                device_type: "cisco_foo".into(),
                ..Default::default()
            },
        );
        assert!(
            e.get("ip_address").is_some()
                && e.get("port").is_some()
                && e.get("device_type").is_some()
        );
    }
}
