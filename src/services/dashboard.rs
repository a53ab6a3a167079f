//! The numbers on the dashboard, each one query.

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::{
    audit_logs, backups, credentials, devices, discovery_results, job_logs, scheduled_jobs, tags,
    users,
};
use crate::vocabulary::{DiscoveryOutcome, JobStatus, JobType, ResultStatus};

#[derive(Debug, Default)]
pub struct Summary {
    pub devices: u64,
    pub devices_enabled: u64,
    pub backed_up_24h: u64,
    pub failing: u64,
    pub tags: u64,
    pub credentials: u64,
    /// Of those, the ones without allowed networks (sent to any device address).
    pub credentials_unrestricted: u64,
    pub backups: u64,
    pub jobs_running: u64,
    pub schedules: u64,
    pub users: u64,
    pub audit_24h: u64,
    pub changed_24h: u64,
    /// The newest scheduled scan that finished: its job and the identified devices it found that
    /// are not in the inventory.
    pub discovered: Option<(i32, u64)>,
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
            .filter(devices::Column::LastBackupStatus.eq(ResultStatus::Success))
            .count(db)
            .await?,
        failing: devices::Entity::find()
            .filter(devices::Column::LastBackupStatus.eq(ResultStatus::Failed))
            .count(db)
            .await?,
        tags: tags::Entity::find().count(db).await?,
        credentials: visible_credentials(user_id).count(db).await?,
        credentials_unrestricted: visible_credentials(user_id)
            .filter(credentials::Column::AllowedNetworks.eq(""))
            .count(db)
            .await?,
        backups: backups::Entity::find().count(db).await?,
        jobs_running: job_logs::Entity::find()
            .filter(job_logs::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
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
        changed_24h: changed_since(since).count(db).await?,
        discovered: discovered(db).await?,
    })
}

/// The newest finished scheduled scan and how many new devices it identified.
async fn discovered(db: &impl ConnectionTrait) -> Result<Option<(i32, u64)>, DbErr> {
    let Some(job) = job_logs::Entity::find()
        .filter(job_logs::Column::JobType.eq(JobType::Discovery))
        .filter(job_logs::Column::ScheduledJobId.is_not_null())
        .filter(job_logs::Column::Status.eq(JobStatus::Success))
        .order_by_desc(job_logs::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // New against today's inventory: onboarding from another scan counts too.
    let inventory = |column: devices::Column| {
        sea_orm::sea_query::Query::select()
            .column(column)
            .from(devices::Entity)
            .to_owned()
    };
    let new = discovery_results::Entity::find()
        .filter(discovery_results::Column::JobLogId.eq(job.id))
        .filter(discovery_results::Column::Outcome.eq(DiscoveryOutcome::Identified))
        .filter(
            discovery_results::Column::Address
                .not_in_subquery(inventory(devices::Column::IpAddress)),
        )
        .filter(
            Condition::any()
                .add(discovery_results::Column::Hostname.is_null())
                .add(
                    discovery_results::Column::Hostname
                        .not_in_subquery(inventory(devices::Column::Hostname)),
                ),
        )
        .count(db)
        .await?;
    Ok(Some((job.id, new)))
}

/// General credentials plus the user's own private ones: never other users' private ones.
fn visible_credentials(user_id: i32) -> sea_orm::Select<credentials::Entity> {
    credentials::Entity::find().filter(
        Condition::any()
            .add(credentials::Column::OwnerId.is_null())
            .add(credentials::Column::OwnerId.eq(user_id)),
    )
}

/// Versions first seen since `since` that follow an earlier one: real configuration changes.
fn changed_since(since: chrono::DateTime<Utc>) -> sea_orm::Select<backups::Entity> {
    backups::Entity::find()
        .filter(backups::Column::FirstSeenAt.gte(since))
        .filter(backups::Column::Version.gt(1))
        .filter(backups::Column::DeviceId.is_not_null())
}

/// How many rows each dashboard list shows.
const LIST: u64 = 10;

/// The lists on the dashboard: what needs attention and what happens next.
#[derive(Debug, Default)]
pub struct Lists {
    /// Devices whose last backup failed, most recent first.
    pub failing: Vec<devices::Model>,
    /// Configuration changes of the last 24 hours: (device id, host name, version, changed lines, when).
    pub changes: Vec<(i32, String, i32, i32, chrono::DateTime<Utc>)>,
    /// Running jobs first, then the most recent.
    pub jobs: Vec<job_logs::Model>,
    /// Enabled schedules by their next run.
    pub next_runs: Vec<scheduled_jobs::Model>,
}

pub async fn lists(db: &impl ConnectionTrait) -> Result<Lists, DbErr> {
    let since = Utc::now() - Duration::hours(24);
    let failing = devices::Entity::find()
        .filter(devices::Column::LastBackupStatus.eq(ResultStatus::Failed))
        .order_by_desc(devices::Column::LastBackupAt)
        .limit(LIST)
        .all(db)
        .await?;
    let changes = changed_since(since)
        .select_only()
        .column(backups::Column::DeviceId)
        .column(backups::Column::Hostname)
        .column(backups::Column::Version)
        .column(backups::Column::ChangedLines)
        .column(backups::Column::FirstSeenAt)
        .order_by_desc(backups::Column::FirstSeenAt)
        .limit(LIST)
        .into_tuple::<(Option<i32>, String, i32, i32, chrono::DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(d, h, v, c, t)| d.map(|d| (d, h, v, c, t)))
        .collect();
    let mut jobs = job_logs::Entity::find()
        .filter(job_logs::Column::FinishedAt.is_null())
        .order_by_desc(job_logs::Column::Id)
        .limit(LIST)
        .all(db)
        .await?;
    let recent = job_logs::Entity::find()
        .filter(job_logs::Column::FinishedAt.is_not_null())
        .order_by_desc(job_logs::Column::Id)
        .limit(LIST.saturating_sub(jobs.len() as u64).max(5))
        .all(db)
        .await?;
    jobs.extend(recent);
    let next_runs = scheduled_jobs::Entity::find()
        .filter(scheduled_jobs::Column::Enabled.eq(true))
        .filter(scheduled_jobs::Column::NextRunAt.is_not_null())
        .order_by_asc(scheduled_jobs::Column::NextRunAt)
        .limit(5)
        .all(db)
        .await?;
    Ok(Lists {
        failing,
        changes,
        jobs,
        next_runs,
    })
}
