//! The numbers on the dashboard, each one query.

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::entity::{
    audit_logs, backups, credentials, devices, job_logs, scheduled_jobs, tags, users,
};

#[derive(Debug, Default)]
pub struct Summary {
    pub devices: u64,
    pub devices_enabled: u64,
    pub backed_up_24h: u64,
    pub failing: u64,
    pub tags: u64,
    pub credentials: u64,
    pub backups: u64,
    pub jobs_running: u64,
    pub schedules: u64,
    pub users: u64,
    pub audit_24h: u64,
}

pub async fn summary(db: &impl ConnectionTrait, user_id: i32) -> Result<Summary, DbErr> {
    let since = Utc::now() - Duration::hours(24);
    Ok(Summary {
        devices: devices::Entity::find().count(db).await?,
        devices_enabled: devices::Entity::find()
            .filter(devices::Column::Enabled.eq(true))
            .count(db)
            .await?,
        backed_up_24h: devices::Entity::find()
            .filter(devices::Column::LastBackupAt.gte(since))
            .filter(devices::Column::LastBackupStatus.eq("success"))
            .count(db)
            .await?,
        failing: devices::Entity::find()
            .filter(devices::Column::LastBackupStatus.eq("failed"))
            .count(db)
            .await?,
        tags: tags::Entity::find().count(db).await?,
        // General credentials plus the user's own private ones: never other users' private ones.
        credentials: credentials::Entity::find()
            .filter(
                Condition::any()
                    .add(credentials::Column::OwnerId.is_null())
                    .add(credentials::Column::OwnerId.eq(user_id)),
            )
            .count(db)
            .await?,
        backups: backups::Entity::find().count(db).await?,
        jobs_running: job_logs::Entity::find()
            .filter(job_logs::Column::Status.is_in(["queued", "running"]))
            .count(db)
            .await?,
        schedules: scheduled_jobs::Entity::find()
            .filter(scheduled_jobs::Column::Enabled.eq(true))
            .count(db)
            .await?,
        users: users::Entity::find().count(db).await?,
        audit_24h: audit_logs::Entity::find()
            .filter(audit_logs::Column::Timestamp.gte(since))
            .count(db)
            .await?,
    })
}
