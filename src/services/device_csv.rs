//! Devices as CSV: export of a filtered list, and import with a preview, applied in one
//! transaction (every good row or nothing).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use super::audit::{self, Actor, Event};
use super::devices::{
    DeviceFilter, DeviceInput, ValidDevice, condition, ip_sort_key, validate_fields,
};
use super::tag_rules;
use super::tags::{self, MAX_TAG_NAME};
use super::validation::FieldErrors;
use crate::entity::{device_tags, devices, tag_rules as rule_entity, tags as tag_entity};
use crate::error::Error;
use crate::vocabulary::DeviceSource;

pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;
const CHUNK: usize = 500;
const COLUMNS: [&str; 6] = [
    "hostname",
    "ip",
    "port",
    "device_type",
    "description",
    "tags",
];
/// Columns that look like credentials: never stored with devices, and said so.
const SECRET_COLUMNS: [&str; 6] = [
    "username",
    "password",
    "secret",
    "enable_password",
    "enable_secret",
    "community",
];

/// The filtered device list as CSV, in the import's column layout plus read-only facts.
pub async fn export(db: &impl ConnectionTrait, filter: &DeviceFilter) -> Result<String, Error> {
    let rows = devices::Entity::find()
        .filter(condition(filter))
        .order_by_asc(devices::Column::Hostname)
        .all(db)
        .await?;
    let ids: Vec<i32> = rows.iter().map(|d| d.id).collect();
    let mut tag_map = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        tag_map.extend(tags::for_devices(db, chunk).await?);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        &COLUMNS[..],
        &[
            "enabled",
            "model",
            "serial_number",
            "os_version",
            "last_backup_at",
            "last_backup_status",
        ],
    ]
    .concat();
    let csv_err = |e: csv::Error| Error::Internal(format!("CSV export failed: {e}"));
    w.write_record(&header).map_err(csv_err)?;
    for d in rows {
        let tag_names = tag_map
            .get(&d.id)
            .map(|t| {
                t.iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default();
        let cells = [
            d.hostname.as_str(),
            &d.ip_address,
            &d.port.to_string(),
            &d.device_type,
            d.description.as_deref().unwrap_or(""),
            &tag_names,
            if d.enabled { "true" } else { "false" },
            d.model.as_deref().unwrap_or(""),
            d.serial_number.as_deref().unwrap_or(""),
            d.os_version.as_deref().unwrap_or(""),
            &d.last_backup_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            d.last_backup_status.map_or("", |s| s.as_str()),
        ];
        w.write_record(cells.iter().map(|c| defuse(c).into_owned()))
            .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("CSV export failed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("CSV export failed: {e}")))
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet shows as text: one that would start a formula gets a leading `'`
/// (a device description `=HYPERLINK(...)` must not run when the export is opened).
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The cell as it was before `defuse`, so an exported file imports unchanged.
fn undo_defuse(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub line: u64,
    pub device: ValidDevice,
    pub tags: Vec<String>,
    pub existing_id: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ImportPlan {
    pub creates: Vec<PlannedRow>,
    pub updates: Vec<PlannedRow>,
    pub errors: Vec<RowError>,
    pub notices: Vec<String>,
    pub new_tags: Vec<String>,
}

impl ImportPlan {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

fn file_error(message: impl Into<String>) -> Error {
    FieldErrors::single("file", message)
}

struct Header {
    index: HashMap<&'static str, usize>,
}

fn read_header(record: &csv::StringRecord, notices: &mut Vec<String>) -> Result<Header, Error> {
    let mut index = HashMap::new();
    let mut ignored = Vec::new();
    let mut secrets = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let name = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
        let canonical = match name.as_str() {
            "hostname" | "host" => Some("hostname"),
            "ip" | "ip_address" | "address" => Some("ip"),
            "port" | "ssh_port" => Some("port"),
            "device_type" | "platform" => Some("device_type"),
            "description" => Some("description"),
            "tags" => Some("tags"),
            _ => None,
        };
        match canonical {
            Some(c) if index.contains_key(c) => {
                return Err(file_error(format!(
                    "The header names the column {c:?} twice."
                )));
            }
            Some(c) => {
                index.insert(c, i);
            }
            None if SECRET_COLUMNS.contains(&name.as_str()) => secrets.push(name),
            None => ignored.push(if name.is_empty() {
                format!("(column {})", i + 1)
            } else {
                name
            }),
        }
    }
    let missing: Vec<&str> = ["hostname", "ip", "device_type"]
        .into_iter()
        .filter(|c| !index.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(file_error(format!(
            "The header row lacks the column(s) {}. Expected: {}.",
            missing.join(", "),
            COLUMNS.join(",")
        )));
    }
    if !secrets.is_empty() {
        notices.push(format!(
            "Ignored the column(s) {}: credentials belong in the credential vault and are never stored with devices.",
            secrets.join(", ")
        ));
    }
    if !ignored.is_empty() {
        notices.push(format!(
            "Ignored unknown column(s): {}.",
            ignored.join(", ")
        ));
    }
    Ok(Header { index })
}

fn column_of(field: &str) -> &str {
    match field {
        "ip_address" => "ip",
        other => other,
    }
}

/// Reads and checks the whole file against the database, changing nothing.
pub async fn plan(db: &impl ConnectionTrait, data: &[u8]) -> Result<ImportPlan, Error> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(file_error(format!(
            "The file is larger than {} MB.",
            MAX_IMPORT_BYTES / 1024 / 1024
        )));
    }
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(file_error("The file is empty."));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(data);
    let mut records = reader.records();
    let mut plan = ImportPlan::default();
    let header = match records.next() {
        Some(Ok(r)) => read_header(&r, &mut plan.notices)?,
        Some(Err(e)) => return Err(file_error(csv_message(&e))),
        None => return Err(file_error("The file is empty.")),
    };
    let existing: HashMap<String, i32> = devices::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.hostname.to_lowercase(), d.id))
        .collect();
    let known_tags: HashMap<String, i32> = tags::all(db)
        .await?
        .into_iter()
        .map(|t| (t.name.to_lowercase(), t.id))
        .collect();
    let networks = ImportNetworks::load(db).await?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut new_tags: Vec<String> = Vec::new();
    for result in records {
        let record = match result {
            Ok(r) => r,
            // Bad quoting or bytes that are not UTF-8 make the rest of the file unreliable.
            Err(e) => return Err(file_error(csv_message(&e))),
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |c: &str| {
            let cell = header
                .index
                .get(c)
                .and_then(|i| record.get(*i))
                .unwrap_or("");
            undo_defuse(cell).to_string()
        };
        let input = DeviceInput {
            hostname: get("hostname"),
            ip_address: get("ip"),
            port: get("port"),
            device_type: get("device_type"),
            description: get("description"),
            enabled: true,
        };
        let mut errors = FieldErrors::new();
        let device = validate_fields(&mut errors, &input);
        let mut tag_names = Vec::new();
        for name in get("tags")
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if name.chars().count() > MAX_TAG_NAME || name.contains(',') {
                errors.add(
                    "tags",
                    format!(
                        "Tag {name:?} is longer than {MAX_TAG_NAME} characters or contains a comma."
                    ),
                );
                continue;
            }
            let lower = name.to_lowercase();
            if !known_tags.contains_key(&lower)
                && !new_tags.iter().any(|t| t.to_lowercase() == lower)
            {
                new_tags.push(name.to_string());
            }
            tag_names.push(name.to_string());
        }
        let key = device.hostname.to_lowercase();
        let existing_id = existing.get(&key).copied();
        if errors.get("ip_address").is_none() {
            let tag_ids: Vec<i32> = tag_names
                .iter()
                .filter_map(|n| known_tags.get(&n.to_lowercase()).copied())
                .chain(networks.tags_of(existing_id))
                .collect();
            let labels =
                super::credentials::conflicts(&networks.restricted, &tag_ids, &device.ip_address);
            if !labels.is_empty() {
                errors.add(
                    "tags",
                    super::credentials::conflict_message(
                        &device.hostname,
                        &device.ip_address,
                        &labels,
                    ),
                );
            }
        }
        if errors.get("hostname").is_none() {
            if let Some(first) = seen.get(&key) {
                errors.add(
                    "hostname",
                    format!(
                        "Host name {:?} already appears on line {first}.",
                        device.hostname
                    ),
                );
            } else {
                seen.insert(key.clone(), line);
            }
        }
        if !errors.is_empty() {
            plan.errors
                .extend(errors.iter().map(|(field, message)| RowError {
                    line,
                    column: column_of(field).to_string(),
                    message: message.to_string(),
                }));
            continue;
        }
        let row = PlannedRow {
            line,
            existing_id,
            device,
            tags: tag_names,
        };
        if row.existing_id.is_some() {
            plan.updates.push(row)
        } else {
            plan.creates.push(row)
        }
    }
    if plan.creates.is_empty() && plan.updates.is_empty() && plan.errors.is_empty() {
        return Err(file_error("The file has a header but no device rows."));
    }
    plan.new_tags = new_tags;
    Ok(plan)
}

/// What an import checks rows against: the credentials restricted to networks, by tag, and the
/// devices that already carry those tags (an update may move a device's address).
struct ImportNetworks {
    restricted: Vec<super::credentials::Restricted>,
    existing: HashMap<i32, Vec<i32>>,
}

impl ImportNetworks {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let restricted = super::credentials::restricted_on_tags(db, None).await?;
        let mut existing: HashMap<i32, Vec<i32>> = HashMap::new();
        if !restricted.is_empty() {
            let links = device_tags::Entity::find()
                .filter(device_tags::Column::TagId.is_in(restricted.iter().map(|r| r.tag_id)))
                .all(db)
                .await?;
            for link in links {
                existing
                    .entry(link.device_id)
                    .or_default()
                    .push(link.tag_id);
            }
        }
        Ok(Self {
            restricted,
            existing,
        })
    }

    fn tags_of(&self, device_id: Option<i32>) -> impl Iterator<Item = i32> + '_ {
        device_id
            .and_then(|id| self.existing.get(&id))
            .into_iter()
            .flatten()
            .copied()
    }
}

fn csv_message(e: &csv::Error) -> String {
    let line = e
        .position()
        .map(|p| format!(" on line {}", p.line()))
        .unwrap_or_default();
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            format!("The file is not UTF-8 text{line}: save it as UTF-8 CSV and try again.")
        }
        _ => format!("The file is not valid CSV{line}: {e}"),
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub tags_created: usize,
}

/// Plans again and, when no row has an error, writes everything in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    data: &[u8],
) -> Result<(ImportPlan, Option<ImportSummary>), Error> {
    let txn = crate::db::begin_write(db).await?;
    let plan = plan(&txn, data).await?;
    if !plan.is_clean() {
        return Ok((plan, None));
    }
    let now = Utc::now();
    for name in &plan.new_tags {
        tag_entity::ActiveModel {
            name: Set(name.clone()),
            color: Set(tags::DEFAULT_COLOR.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let tag_ids: HashMap<String, i32> = tags::all(&txn)
        .await?
        .into_iter()
        .map(|t| (t.name.to_lowercase(), t.id))
        .collect();

    for chunk in plan.creates.chunks(CHUNK) {
        let rows = chunk.iter().map(|r| devices::ActiveModel {
            hostname: Set(r.device.hostname.clone()),
            ip_address: Set(r.device.ip_address.clone()),
            ip_sort: Set(ip_sort_key(&r.device.ip_address)),
            port: Set(r.device.port),
            device_type: Set(r.device.device_type.clone()),
            description: Set(r.device.description.clone()),
            owner_id: Set(actor.id),
            enabled: Set(true),
            source: Set(DeviceSource::Csv),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        devices::Entity::insert_many(rows).exec(&txn).await?;
    }
    for r in &plan.updates {
        let Some(id) = r.existing_id else { continue };
        devices::Entity::update_many()
            .col_expr(
                devices::Column::Hostname,
                Expr::value(r.device.hostname.clone()),
            )
            .col_expr(
                devices::Column::IpAddress,
                Expr::value(r.device.ip_address.clone()),
            )
            .col_expr(
                devices::Column::IpSort,
                Expr::value(ip_sort_key(&r.device.ip_address)),
            )
            .col_expr(devices::Column::Port, Expr::value(r.device.port))
            .col_expr(
                devices::Column::DeviceType,
                Expr::value(r.device.device_type.clone()),
            )
            .col_expr(
                devices::Column::Description,
                Expr::value(r.device.description.clone()),
            )
            .col_expr(devices::Column::UpdatedAt, Expr::value(now))
            .filter(devices::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    link_tags(&txn, &plan, &tag_ids).await?;
    // Rules see the imported devices as if each had been saved by hand.
    for rule in rule_entity::Entity::find()
        .filter(rule_entity::Column::IsActive.eq(true))
        .all(&txn)
        .await?
    {
        tag_rules::apply_rule(&txn, &rule).await?;
    }
    let summary = ImportSummary {
        created: plan.creates.len(),
        updated: plan.updates.len(),
        tags_created: plan.new_tags.len(),
    };
    audit::record(
        &txn,
        actor,
        Event::data("device.import")
            .detail("created", summary.created)
            .detail("updated", summary.updated)
            .detail("tags_created", summary.tags_created),
    )
    .await?;
    txn.commit().await?;
    Ok((plan, Some(summary)))
}

/// Adds each row's tags as manual tags, skipping links that exist.
async fn link_tags(
    db: &impl ConnectionTrait,
    plan: &ImportPlan,
    tag_ids: &HashMap<String, i32>,
) -> Result<(), DbErr> {
    let rows: Vec<&PlannedRow> = plan
        .creates
        .iter()
        .chain(plan.updates.iter())
        .filter(|r| !r.tags.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut device_ids: HashMap<String, i32> = HashMap::new();
    let names: Vec<String> = rows.iter().map(|r| r.device.hostname.clone()).collect();
    for chunk in names.chunks(CHUNK) {
        for d in devices::Entity::find()
            .filter(devices::Column::Hostname.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            device_ids.insert(d.hostname.to_lowercase(), d.id);
        }
    }
    let ids: Vec<i32> = device_ids.values().copied().collect();
    let mut linked: HashSet<(i32, i32)> = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        for l in device_tags::Entity::find()
            .filter(device_tags::Column::DeviceId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            linked.insert((l.device_id, l.tag_id));
        }
    }
    let now = Utc::now();
    let mut new_links = Vec::new();
    for r in rows {
        let Some(device_id) = device_ids.get(&r.device.hostname.to_lowercase()) else {
            continue;
        };
        for name in &r.tags {
            if let Some(tag_id) = tag_ids.get(&name.to_lowercase())
                && linked.insert((*device_id, *tag_id))
            {
                new_links.push(device_tags::ActiveModel {
                    device_id: Set(*device_id),
                    tag_id: Set(*tag_id),
                    rule_id: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in new_links.chunks(CHUNK) {
        device_tags::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_restored() {
        for cell in ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let out = defuse(cell);
            assert_eq!(out, format!("'{cell}"));
            assert_eq!(undo_defuse(&out), cell);
        }
        assert_eq!(defuse("core-1"), "core-1");
        assert_eq!(undo_defuse("'quoted"), "'quoted");
    }
}
