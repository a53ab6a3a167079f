//! Reading jobs for pages: one job, the filtered list, a job's results, counts and log.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{job_logs, job_results};
use crate::error::Error;
use crate::vocabulary::{JobStatus, JobType, ResultStatus};

/// The newest jobs of one type (an area's "recent" list).
pub async fn recent_of_type(
    db: &impl ConnectionTrait,
    job_type: JobType,
    limit: u64,
) -> Result<Vec<job_logs::Model>, DbErr> {
    job_logs::Entity::find()
        .filter(job_logs::Column::JobType.eq(job_type))
        .order_by_desc(job_logs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<job_logs::Model, Error> {
    job_logs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// Started time of a job for display, or its creation time while queued.
pub fn started_or_created(job: &job_logs::Model) -> DateTime<Utc> {
    job.started_at.unwrap_or(job.created_at)
}

/// Filters of the job list.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub job_type: Option<JobType>,
    pub status: Option<JobStatus>,
    pub created_by: Option<i32>,
    pub scheduled_job_id: Option<i32>,
    pub device_id: Option<i32>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

fn start_of(day: chrono::NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Jobs, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &JobFilter,
    paging: crate::services::query::Paging,
) -> Result<crate::services::query::Page<job_logs::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(t) = filter.job_type {
        cond = cond.add(job_logs::Column::JobType.eq(t));
    }
    if let Some(s) = filter.status {
        cond = cond.add(job_logs::Column::Status.eq(s));
    }
    if let Some(u) = filter.created_by {
        cond = cond.add(job_logs::Column::CreatedBy.eq(u));
    }
    if let Some(s) = filter.scheduled_job_id {
        cond = cond.add(job_logs::Column::ScheduledJobId.eq(s));
    }
    if let Some(d) = filter.device_id {
        cond = cond.add(
            job_logs::Column::Id.in_subquery(
                Query::select()
                    .column(job_results::Column::JobLogId)
                    .from(job_results::Entity)
                    .and_where(job_results::Column::DeviceId.eq(d))
                    .to_owned(),
            ),
        );
    }
    if let Some(from) = filter.from {
        cond = cond.add(job_logs::Column::CreatedAt.gte(start_of(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        cond = cond.add(job_logs::Column::CreatedAt.lt(start_of(to)));
    }
    let select = job_logs::Entity::find()
        .filter(cond)
        .order_by_desc(job_logs::Column::Id);
    crate::services::query::fetch_page(db, select, paging).await
}

/// The per-device results of a job: failures first, then by host name.
pub async fn results(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    status: Option<ResultStatus>,
) -> Result<Vec<job_results::Model>, DbErr> {
    let mut q = job_results::Entity::find().filter(job_results::Column::JobLogId.eq(job_log_id));
    if let Some(s) = status {
        q = q.filter(job_results::Column::Status.eq(s));
    }
    let mut rows = q
        .order_by_asc(job_results::Column::Hostname)
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.status.list_rank());
    Ok(rows)
}

/// Result counts of a job by status.
pub async fn result_counts(
    db: &impl ConnectionTrait,
    job_log_id: i32,
) -> Result<Vec<(ResultStatus, i64)>, DbErr> {
    job_results::Entity::find()
        .select_only()
        .column(job_results::Column::Status)
        .column_as(job_results::Column::Id.count(), "n")
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .group_by(job_results::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// The recent jobs a device took part in, newest first, with its result in each.
pub async fn for_device(
    db: &impl ConnectionTrait,
    device_id: i32,
    limit: u64,
) -> Result<Vec<(job_results::Model, Option<job_logs::Model>)>, DbErr> {
    job_results::Entity::find()
        .filter(job_results::Column::DeviceId.eq(device_id))
        .find_also_related(job_logs::Entity)
        .order_by_desc(job_results::Column::JobLogId)
        .limit(limit)
        .all(db)
        .await
}

/// The configuration versions a job's results stored: backup id -> (device id, version), for
/// links to them.
pub async fn versions_stored(
    db: &impl ConnectionTrait,
    results: &[job_results::Model],
) -> Result<std::collections::HashMap<i32, (i32, i32)>, DbErr> {
    let backup_ids: Vec<i32> = results.iter().filter_map(|r| r.backup_id).collect();
    if backup_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(crate::entity::backups::Entity::find()
        .select_only()
        .column(crate::entity::backups::Column::Id)
        .column(crate::entity::backups::Column::DeviceId)
        .column(crate::entity::backups::Column::Version)
        .filter(crate::entity::backups::Column::Id.is_in(backup_ids))
        .into_tuple::<(i32, Option<i32>, i32)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, device, version)| device.map(|d| (id, (d, version))))
        .collect())
}
