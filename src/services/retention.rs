//! Retention: old configuration versions and old job logs are removed according to the settings
//! `backups.retention_versions` (keep the last N versions of each device; 0 = no limit),
//! `backups.retention_days` (keep versions seen in the last D days; 0 = no limit) and
//! `jobs.log_retention_days`. A version survives when any rule keeps it, and the newest version
//! of a device is always kept. Versions of deleted devices follow the day rule only.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::settings::{self, registry};
use crate::entity::{backups, job_logs};
use crate::error::Error;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub versions: u64,
    pub job_logs: u64,
}

pub async fn run(db: &impl ConnectionTrait) -> Result<Removed, Error> {
    // Each within its setting's bounds: never negative, and job logs are kept at least a day.
    let keep_versions = settings::int(db, &registry::BACKUPS_RETENTION_VERSIONS).await?;
    let keep_days = settings::int(db, &registry::BACKUPS_RETENTION_DAYS).await?;
    let log_days = settings::int(db, &registry::JOBS_LOG_RETENTION_DAYS).await?;
    let now = Utc::now();
    let mut removed = Removed::default();

    if keep_versions > 0 || keep_days > 0 {
        // Settings are integers read from our own table, never user text in SQL.
        let newest =
            "(SELECT MAX(b2.version) FROM backups b2 WHERE b2.device_id = backups.device_id)";
        let mut doomed = Condition::all()
            .add(backups::Column::DeviceId.is_not_null())
            .add(Expr::cust(format!("backups.version < {newest}")));
        if keep_versions > 0 {
            doomed = doomed.add(Expr::cust(format!(
                "backups.version <= {newest} - {keep_versions}"
            )));
        }
        if keep_days > 0 {
            doomed = doomed.add(backups::Column::LastSeenAt.lt(now - Duration::days(keep_days)));
        }
        removed.versions += backups::Entity::delete_many()
            .filter(doomed)
            .exec(db)
            .await?
            .rows_affected;
        if keep_days > 0 {
            removed.versions += backups::Entity::delete_many()
                .filter(backups::Column::DeviceId.is_null())
                .filter(backups::Column::LastSeenAt.lt(now - Duration::days(keep_days)))
                .exec(db)
                .await?
                .rows_affected;
        }
    }
    removed.job_logs = job_logs::Entity::delete_many()
        .filter(job_logs::Column::FinishedAt.is_not_null())
        .filter(job_logs::Column::FinishedAt.lt(now - Duration::days(log_days)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(removed)
}
