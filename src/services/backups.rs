//! Stored configuration versions. A new version only when the configuration changed (compared by
//! the hash of the text without the lines the platform's ignore filter leaves out); an unchanged
//! fetch only moves `last_seen_at`. Each store is one transaction with the device's facts and
//! last-backup status, so a crash never leaves half a version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::config_diff;
use crate::device::facts::Facts;
use crate::device::fetch::Config;
use crate::device::{profile, scrub};
use crate::entity::{backups, devices};
use crate::error::AppError;

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

/// Store a fetched configuration for a device and record the successful backup on the device.
/// `masked` stores the text with its secrets masked (setting `backups.store_secrets_masked`).
pub async fn store(
    db: &DatabaseConnection,
    device: &devices::Model,
    config: &Config,
    facts: &Facts,
    job_log_id: Option<i32>,
    masked: bool,
) -> Result<Stored, AppError> {
    // Two jobs backing up the same device at once race for the next version number; the
    // unique (device_id, version) index stops the loser, which reads again and retries.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match store_once(db, device, config, facts, job_log_id, masked).await {
            Err(AppError::Db(e)) if attempt < 4 && is_unique_violation(&e) => continue,
            other => return other,
        }
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

async fn store_once(
    db: &DatabaseConnection,
    device: &devices::Model,
    config: &Config,
    facts: &Facts,
    job_log_id: Option<i32>,
    masked: bool,
) -> Result<Stored, AppError> {
    let now = Utc::now();
    let txn = db.begin().await?;
    // Write first: on SQLite a transaction that reads before it writes fails at once when
    // another connection committed in between; one that writes first waits its turn.
    let mut update = devices::Entity::update_many()
        .col_expr(devices::Column::LastBackupAt, Expr::value(now))
        .col_expr(devices::Column::LastBackupStatus, Expr::value("success"))
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
        .exec(&txn)
        .await?
        .rows_affected;
    if touched == 0 {
        return Err(AppError::NotFound);
    }
    let latest = backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device.id))
        .order_by_desc(backups::Column::Version)
        .one(&txn)
        .await?;
    let stored = match latest {
        Some(previous) if previous.content_hash == config.change_key => {
            let (id, version) = (previous.id, previous.version);
            let mut active = previous.into_active_model();
            active.last_seen_at = Set(now);
            active.update(&txn).await?;
            Stored {
                backup_id: id,
                version,
                changed: false,
                changed_lines: 0,
            }
        }
        previous => {
            let content = if masked {
                config.masked.clone()
            } else {
                config.text.clone()
            };
            // Lines that differ on every read (the ignore filter's) are not a change.
            let relevant = |text: &str| match profile::find(&device.device_type) {
                Some(p) => scrub::for_change_detection(&p.filters, text),
                None => text.to_string(),
            };
            let changed_lines = match &previous {
                Some(p) => config_diff::changed_lines(&relevant(&p.content), &relevant(&content)),
                None => content.lines().count(),
            };
            let version = previous.map_or(1, |p| p.version + 1);
            let row = backups::ActiveModel {
                device_id: Set(Some(device.id)),
                hostname: Set(device.hostname.clone()),
                version: Set(version),
                size: Set(i32::try_from(content.len()).unwrap_or(i32::MAX)),
                content: Set(content),
                content_hash: Set(config.change_key.clone()),
                changed_lines: Set(i32::try_from(changed_lines).unwrap_or(i32::MAX)),
                filename: Set(filename(&device.hostname, version)),
                job_log_id: Set(job_log_id),
                first_seen_at: Set(now),
                last_seen_at: Set(now),
                secrets_masked: Set(masked),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            Stored {
                backup_id: row.id,
                version,
                changed: true,
                changed_lines: row.changed_lines,
            }
        }
    };
    txn.commit().await?;
    Ok(stored)
}

/// Record a failed backup on the device (its stored versions are untouched).
pub async fn record_failure(
    db: &DatabaseConnection,
    device_id: i32,
    error: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    devices::Entity::update_many()
        .col_expr(devices::Column::LastBackupAt, Expr::value(at))
        .col_expr(devices::Column::LastBackupStatus, Expr::value("failed"))
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
) -> Result<Option<backups::Model>, AppError> {
    Ok(backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device_id))
        .order_by_desc(backups::Column::Version)
        .limit(1)
        .one(db)
        .await?)
}
