//! Stored configuration versions. A new version only when the configuration changed (compared by
//! the hash of the text without the lines the platform's ignore filter leaves out); an unchanged
//! fetch only moves `last_seen_at`. Each store is one transaction with the device's facts and
//! last-backup status, so a crash never leaves half a version.

use crate::vocabulary::ResultStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::config_diff;
use super::query::is_unique_violation;
use crate::device::facts::Facts;
use crate::device::fetch::Config;
use crate::device::{profile, scrub};
use crate::entity::{backups, devices};
use crate::error::Error;

/// What storing a fetched configuration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub backup_id: i32,
    pub version: i32,
    /// A new version was written.
    pub changed: bool,
    /// Lines added or removed against the previous version (all lines for a first version).
    pub changed_lines: i32,
}

/// The file name a version is downloaded as.
pub fn filename(hostname: &str, version: i32) -> String {
    format!("{hostname}_{version}.cfg")
}

/// Store a fetched configuration for a device and record the successful backup on the device,
/// in a transaction left open for the caller's own rows (a job's outcome); the caller commits.
/// `masked` stores the text with its secrets masked (setting `backups.store_secrets_masked`).
/// A plan that another job overtook (it stored a version of this device between the plan and
/// the transaction) is rolled back and made again.
pub async fn begin_store(
    db: &DatabaseConnection,
    device: &devices::Model,
    config: &Config,
    facts: &Facts,
    job_log_id: Option<i32>,
    masked: bool,
) -> Result<(DatabaseTransaction, Stored), Error> {
    for _ in 0..STORE_ATTEMPTS {
        let plan = plan(db, device, config, masked).await?;
        let txn = crate::db::begin_write(db).await?;
        match apply(&txn, device, &plan, facts, job_log_id).await? {
            Some(stored) => return Ok((txn, stored)),
            None => txn.rollback().await?,
        }
    }
    Err(Error::Conflict(format!(
        "{}: other jobs kept storing versions of this device; try again",
        device.hostname
    )))
}

/// How often a store is planned again when other jobs overtook it.
const STORE_ATTEMPTS: usize = 4;

/// What storing a configuration will write, worked out before the write transaction so that the
/// transaction only writes (on SQLite every statement under the write lock makes every other
/// device of a job wait).
pub struct Plan {
    step: PlannedStep,
}

enum PlannedStep {
    /// Same configuration as the newest version: move its `last_seen_at`.
    Seen { backup_id: i32, version: i32 },
    /// A new version after `previous` (0: the first).
    New {
        previous: i32,
        content: String,
        change_key: String,
        changed_lines: i32,
        masked: bool,
    },
}

pub async fn plan(
    db: &impl ConnectionTrait,
    device: &devices::Model,
    config: &Config,
    masked: bool,
) -> Result<Plan, Error> {
    let previous = backups::Entity::find()
        .select_only()
        .columns([
            backups::Column::Id,
            backups::Column::Version,
            backups::Column::ContentHash,
        ])
        .filter(backups::Column::DeviceId.eq(device.id))
        .order_by_desc(backups::Column::Version)
        .limit(1)
        .into_tuple::<(i32, i32, String)>()
        .one(db)
        .await?;
    let step = match previous {
        Some((backup_id, version, hash)) if hash == config.change_key => {
            PlannedStep::Seen { backup_id, version }
        }
        previous => {
            let content = if masked {
                config.masked.clone()
            } else {
                config.text.clone()
            };
            let changed_lines = match previous {
                Some((id, _, _)) => {
                    let before = backups::Entity::find_by_id(id)
                        .select_only()
                        .column(backups::Column::Content)
                        .into_tuple::<String>()
                        .one(db)
                        .await?
                        .unwrap_or_default();
                    // Lines that differ on every read (the ignore filter's) are not a change.
                    let relevant = |text: &str| match profile::find(&device.device_type) {
                        Some(p) => scrub::for_change_detection(&p.filters, text),
                        None => text.to_string(),
                    };
                    config_diff::changed_lines(&relevant(&before), &relevant(&content))
                }
                None => content.lines().count(),
            };
            PlannedStep::New {
                previous: previous.map_or(0, |(_, version, _)| version),
                content,
                change_key: config.change_key.clone(),
                changed_lines: i32::try_from(changed_lines).unwrap_or(i32::MAX),
                masked,
            }
        }
    };
    Ok(Plan { step })
}

/// Write a plan with the device's facts and last-backup status. `None`: another job stored a
/// version of this device since the plan was made; roll back and plan again.
pub async fn apply(
    txn: &DatabaseTransaction,
    device: &devices::Model,
    plan: &Plan,
    facts: &Facts,
    job_log_id: Option<i32>,
) -> Result<Option<Stored>, Error> {
    let now = Utc::now();
    // Write first: on SQLite a transaction that reads before it writes fails at once when
    // another connection committed in between; one that writes first waits its turn.
    let mut update = devices::Entity::update_many()
        .col_expr(devices::Column::LastBackupAt, Expr::value(now))
        .col_expr(
            devices::Column::LastBackupStatus,
            Expr::value(ResultStatus::Success),
        )
        .col_expr(
            devices::Column::LastBackupError,
            Expr::value(None::<String>),
        );
    for (column, fact) in [
        (devices::Column::Model, &facts.model),
        (devices::Column::SerialNumber, &facts.serial),
        (devices::Column::OsVersion, &facts.os_version),
    ] {
        if let Some(value) = fact {
            update = update.col_expr(column, Expr::value(value.clone()));
        }
    }
    let touched = update
        .filter(devices::Column::Id.eq(device.id))
        .exec(txn)
        .await?
        .rows_affected;
    if touched == 0 {
        return Err(Error::NotFound);
    }
    match &plan.step {
        PlannedStep::Seen { backup_id, version } => {
            // Still the newest version? Otherwise the plan is stale.
            let newer = Query::select()
                .expr(Expr::val(1))
                .from(backups::Entity)
                .and_where(Expr::col(backups::Column::DeviceId).eq(device.id))
                .and_where(Expr::col(backups::Column::Version).gt(*version))
                .to_owned();
            let seen = backups::Entity::update_many()
                .col_expr(backups::Column::LastSeenAt, Expr::value(now))
                .filter(backups::Column::Id.eq(*backup_id))
                .filter(Expr::exists(newer).not())
                .exec(txn)
                .await?
                .rows_affected;
            Ok((seen > 0).then_some(Stored {
                backup_id: *backup_id,
                version: *version,
                changed: false,
                changed_lines: 0,
            }))
        }
        PlannedStep::New {
            previous,
            content,
            change_key,
            changed_lines,
            masked,
        } => {
            let version = previous + 1;
            let row = backups::ActiveModel {
                device_id: Set(Some(device.id)),
                hostname: Set(device.hostname.clone()),
                version: Set(version),
                size: Set(i32::try_from(content.len()).unwrap_or(i32::MAX)),
                content: Set(content.clone()),
                content_hash: Set(change_key.clone()),
                changed_lines: Set(*changed_lines),
                filename: Set(filename(&device.hostname, version)),
                job_log_id: Set(job_log_id),
                first_seen_at: Set(now),
                last_seen_at: Set(now),
                secrets_masked: Set(*masked),
                ..Default::default()
            };
            // The unique (device_id, version) index stops a second job that planned the same
            // version.
            match backups::Entity::insert(row).exec(txn).await {
                Ok(inserted) => Ok(Some(Stored {
                    backup_id: inserted.last_insert_id,
                    version,
                    changed: true,
                    changed_lines: *changed_lines,
                })),
                Err(e) if is_unique_violation(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Record a failed backup on the device (its stored versions are untouched).
pub async fn record_failure(
    db: &impl ConnectionTrait,
    device_id: i32,
    error: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    devices::Entity::update_many()
        .col_expr(devices::Column::LastBackupAt, Expr::value(at))
        .col_expr(
            devices::Column::LastBackupStatus,
            Expr::value(ResultStatus::Failed),
        )
        .col_expr(devices::Column::LastBackupError, Expr::value(error))
        .filter(devices::Column::Id.eq(device_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The newest version of a device, if any.
pub async fn latest(
    db: &DatabaseConnection,
    device_id: i32,
) -> Result<Option<backups::Model>, Error> {
    Ok(backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device_id))
        .order_by_desc(backups::Column::Version)
        .limit(1)
        .one(db)
        .await?)
}

/// The newest version of each of these devices (those that have one), by device id.
pub async fn latest_of_devices(
    db: &impl sea_orm::ConnectionTrait,
    device_ids: &[i32],
) -> Result<std::collections::HashMap<i32, backups::Model>, Error> {
    let x = sea_orm::sea_query::Alias::new("x");
    // Correlated: the (device_id, version) index answers each device's newest version.
    let newest = sea_orm::sea_query::Query::select()
        .expr(sea_orm::sea_query::Expr::col((x.clone(), backups::Column::Version)).max())
        .from_as(backups::Entity, x.clone())
        .and_where(
            sea_orm::sea_query::Expr::col((x, backups::Column::DeviceId))
                .equals((backups::Entity, backups::Column::DeviceId)),
        )
        .to_owned();
    let mut out = std::collections::HashMap::new();
    for chunk in device_ids.chunks(500) {
        for b in backups::Entity::find()
            .filter(backups::Column::DeviceId.is_in(chunk.to_vec()))
            .filter(backups::Column::Version.in_subquery(newest.clone()))
            .all(db)
            .await?
        {
            if let Some(d) = b.device_id {
                out.insert(d, b);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reading stored versions: history, one version, its predecessor, and the latest version of
// every device for the configuration search.

use sea_orm::sea_query::{Alias, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::query::{Page, Paging, PastEnd};
use crate::entity::device_tags;

/// One line of a device's version history. Never carries `content`: a history page of a device
/// with thousands of versions reads a few hundred bytes per row, not the configurations.
#[derive(Clone, Debug, FromQueryResult)]
pub struct VersionRow {
    pub id: i32,
    pub version: i32,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub size: i32,
    pub changed_lines: i32,
}

/// A device's versions, newest first, one page at a time: a count and one page, each a walk of
/// the unique (device_id, version) index. The page is a deferred join: the page's version
/// numbers come from the index alone (OFFSET skips index entries, not rows), then only those
/// rows are read. Selecting the rows directly, PostgreSQL's planner reads and sorts all of a
/// device's rows once they are a large part of the table (10 ms for 10,000 versions); SQLite
/// walks the index either way. A page past the end shows the last page.
pub async fn history(
    db: &impl ConnectionTrait,
    device_id: i32,
    paging: Paging,
) -> Result<Page<VersionRow>, Error> {
    let backend = db.get_database_backend();
    // The same parameter twice: numbered, so it is bound once on either database.
    let p = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?1"
    };
    let count = sea_orm::Statement::from_sql_and_values(
        backend,
        format!("SELECT COUNT(*) AS n FROM backups WHERE device_id = {p}"),
        [device_id.into()],
    );
    let total: i64 = match db.query_one_raw(count).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    let total = u64::try_from(total).unwrap_or(0);
    let last_page = Ord::max(total.div_ceil(paging.limit), 1);
    let paging = match paging.past_end {
        PastEnd::LastPage if paging.page() > last_page => Paging::page_of(last_page, paging.limit),
        _ => paging,
    };
    // LIMIT and OFFSET are numbers written into the SQL, not bound: SQLite plans a bound LIMIT
    // by its value and would prepare the statement again on every run.
    let (per_page, offset) = (paging.limit, paging.offset);
    let rows = sea_orm::Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT id, version, first_seen_at, last_seen_at, size, changed_lines FROM backups \
             WHERE device_id = {p} AND version IN (SELECT version FROM backups \
             WHERE device_id = {p} ORDER BY version DESC LIMIT {per_page} OFFSET {offset}) \
             ORDER BY version DESC"
        ),
        [device_id.into()],
    );
    let items = VersionRow::find_by_statement(rows).all(db).await?;
    Ok(Page {
        items,
        total,
        paging,
    })
}

/// The newest `count` versions of a device (the device page's summary).
pub async fn recent(
    db: &impl ConnectionTrait,
    device_id: i32,
    count: u64,
) -> Result<Vec<VersionRow>, Error> {
    let paging = Paging::page_of(1, count);
    Ok(history(db, device_id, paging).await?.items)
}

/// One version of a device, content included; `NotFound` when the device has no such version.
pub async fn get_version(
    db: &impl ConnectionTrait,
    device_id: i32,
    version: i32,
) -> Result<backups::Model, Error> {
    find_version(db, device_id, version)
        .await?
        .ok_or(Error::NotFound)
}

/// One version of a device, if it exists.
pub async fn find_version(
    db: &impl ConnectionTrait,
    device_id: i32,
    version: i32,
) -> Result<Option<backups::Model>, Error> {
    // (device_id, version) is unique, so no LIMIT: SeaORM's `one()` binds one, which makes
    // SQLite prepare the statement anew on every run.
    Ok(backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device_id))
        .filter(backups::Column::Version.eq(version))
        .all(db)
        .await?
        .into_iter()
        .next())
}

/// The version stored before `version` (the highest lower number: retention may have removed
/// the ones in between), content included.
pub async fn previous(
    db: &impl ConnectionTrait,
    device_id: i32,
    version: i32,
) -> Result<Option<backups::Model>, Error> {
    Ok(backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device_id))
        .filter(backups::Column::Version.lt(version))
        .order_by_desc(backups::Column::Version)
        .limit(1)
        .one(db)
        .await?)
}

/// The number of the version stored before `version`, without reading its content.
pub async fn previous_number(
    db: &impl ConnectionTrait,
    device_id: i32,
    version: i32,
) -> Result<Option<i32>, Error> {
    Ok(backups::Entity::find()
        .select_only()
        .column(backups::Column::Version)
        .filter(backups::Column::DeviceId.eq(device_id))
        .filter(backups::Column::Version.lt(version))
        .order_by_desc(backups::Column::Version)
        .limit(1)
        .into_tuple::<i32>()
        .one(db)
        .await?)
}

/// Which devices' latest configurations `latest_configs` reads.
#[derive(Clone, Debug, Default)]
pub struct LatestFilter {
    pub platform: Option<String>,
    pub tag_id: Option<i32>,
}

/// The latest configuration of one device, with what the search shows and needs to mask it.
#[derive(Clone, Debug, FromQueryResult)]
pub struct LatestConfig {
    pub device_id: i32,
    pub hostname: String,
    pub device_type: String,
    pub version: i32,
    pub content: String,
    pub secrets_masked: bool,
}

/// The latest version of every device (matching `filter`) whose host name sorts after `after`,
/// in host-name order, at most `limit` of them. Callers walk the whole inventory in chunks
/// (keyset on the unique host name), so no more than one chunk of configurations is in memory
/// and no connection is held while the caller works on a chunk.
///
/// The plan wanted: devices in host-name index order, and for each one the newest version from
/// the unique (device_id, version) index, never a scan of older versions. SQLite plans the
/// correlated `MAX(version)` that way. PostgreSQL, estimating one row for that join, hashes the
/// whole backups table for every chunk instead (10-30 ms each with 20,000 rows, growing with
/// every version stored), so it gets a LATERAL subquery that can only be an index probe.
pub async fn latest_configs(
    db: &impl ConnectionTrait,
    filter: &LatestFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<LatestConfig>, Error> {
    let backend = db.get_database_backend();
    let stmt = latest_configs_query(backend, filter, after, limit);
    Ok(LatestConfig::find_by_statement(backend.build(&stmt))
        .all(db)
        .await?)
}

fn latest_configs_query(
    backend: sea_orm::DbBackend,
    filter: &LatestFilter,
    after: Option<&str>,
    limit: u64,
) -> SelectStatement {
    let (d, b, x) = (Alias::new("d"), Alias::new("b"), Alias::new("x"));
    let of_device =
        Expr::col((x.clone(), backups::Column::DeviceId)).equals((d.clone(), devices::Column::Id));
    let mut q = Query::select();
    q.expr_as(Expr::col((d.clone(), devices::Column::Id)), "device_id")
        .column((d.clone(), devices::Column::Hostname))
        .column((d.clone(), devices::Column::DeviceType))
        .column((b.clone(), backups::Column::Version))
        .column((b.clone(), backups::Column::Content))
        .column((b.clone(), backups::Column::SecretsMasked))
        .from_as(devices::Entity, d.clone());
    if backend == sea_orm::DbBackend::Postgres {
        let newest = Query::select()
            .columns([
                backups::Column::Version,
                backups::Column::Content,
                backups::Column::SecretsMasked,
            ])
            .from_as(backups::Entity, x.clone())
            .and_where(of_device)
            .order_by(backups::Column::Version, sea_orm::Order::Desc)
            .limit(1)
            .to_owned();
        q.join_lateral(JoinType::InnerJoin, newest, b.clone(), Expr::cust("TRUE"));
    } else {
        let newest = Query::select()
            .expr(Expr::col((x.clone(), backups::Column::Version)).max())
            .from_as(backups::Entity, x.clone())
            .and_where(of_device)
            .to_owned();
        q.join_as(
            JoinType::InnerJoin,
            backups::Entity,
            b.clone(),
            Expr::col((b.clone(), backups::Column::DeviceId))
                .equals((d.clone(), devices::Column::Id)),
        )
        .and_where(
            Expr::col((b.clone(), backups::Column::Version))
                .eq(Expr::SubQuery(None, Box::new(newest.into()))),
        );
    }
    q.order_by((d.clone(), devices::Column::Hostname), sea_orm::Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        q.and_where(Expr::col((d.clone(), devices::Column::Hostname)).gt(after));
    }
    if let Some(platform) = &filter.platform {
        q.and_where(Expr::col((d.clone(), devices::Column::DeviceType)).eq(platform.as_str()));
    }
    if let Some(tag_id) = filter.tag_id {
        q.and_where(
            Expr::col((d.clone(), devices::Column::Id)).in_subquery(
                Query::select()
                    .column(device_tags::Column::DeviceId)
                    .from(device_tags::Entity)
                    .and_where(device_tags::Column::TagId.eq(tag_id))
                    .to_owned(),
            ),
        );
    }
    q
}

// ---------------------------------------------------------------------------------------------
// Secrets at display time. A version stored unmasked still shows `<masked>` to everyone except
// administrators, and to them only when `backups.show_secrets_to_admins` is on.

/// Whether this user sees the secrets of versions stored unmasked.
pub async fn reveals_secrets(db: &impl ConnectionTrait, is_admin: bool) -> Result<bool, Error> {
    if !is_admin {
        return Ok(false);
    }
    Ok(super::settings::boolean(
        db,
        &super::settings::registry::BACKUPS_SHOW_SECRETS_TO_ADMINS,
    )
    .await?)
}

/// `text` with the secrets of the platform's mask filter replaced by the marker. For a platform
/// without a profile (none should exist: device types are validated) every profile's mask
/// applies, so an unknown platform never means an unmasked secret.
pub fn mask_for_platform(device_type: &str, text: &str) -> String {
    match profile::find(device_type) {
        Some(p) => scrub::mask(&p.filters, text),
        None => profile::all()
            .iter()
            .fold(text.to_string(), |t, p| scrub::mask(&p.filters, &t)),
    }
}

/// The content of a version as this viewer may see it.
pub fn visible_content<'a>(
    device_type: &str,
    content: &'a str,
    stored_masked: bool,
    reveal: bool,
) -> std::borrow::Cow<'a, str> {
    if reveal || stored_masked {
        std::borrow::Cow::Borrowed(content)
    } else {
        std::borrow::Cow::Owned(mask_for_platform(device_type, content))
    }
}

/// Two versions that differ only in secret values: the same text once masked, although they
/// are different versions (different text, or the same masked text stored for configurations
/// whose secrets differed).
pub fn only_secrets_changed(device_type: &str, old: &backups::Model, new: &backups::Model) -> bool {
    if old.content == new.content {
        return old.content_hash != new.content_hash;
    }
    visible_content(device_type, &old.content, old.secrets_masked, false)
        == visible_content(device_type, &new.content, new.secrets_masked, false)
}

/// A file name safe in a `Content-Disposition` header, whatever the stored host name holds.
pub fn download_name(hostname: &str, version: i32) -> String {
    let safe: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    filename(&safe, version)
}
