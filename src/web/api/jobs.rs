//! `/api/v1/jobs`: start a backup (of a device, a tag, a list of devices or everything) and get
//! its id back; follow its status, progress, per-device results and log; cancel it.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, ListOf, ListParams, NoParams, Params, created, ok};
use crate::auth::Auth;
use crate::auth::permissions::{READ, WRITE};
use crate::entity::{job_log_entries, job_logs, job_results};
use crate::services::jobs::{self, JobFilter, Target};
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/jobs" => list,
    POST r"/api/v1/jobs" => start,
    GET r"/api/v1/jobs/{id:\d+}" => show,
    GET r"/api/v1/jobs/{id:\d+}/results" => results,
    GET r"/api/v1/jobs/{id:\d+}/log" => log,
    POST r"/api/v1/jobs/{id:\d+}/cancel" => cancel,
}

/// A job and where it stands.
#[derive(Serialize, ToSchema)]
pub struct Job {
    pub id: i32,
    pub job_type: JobType,
    pub status: JobStatus,
    /// What it covers: `{"target": "device", "id": 3}`, `{"target": "tag", "id": 2}`,
    /// `{"target": "devices", "ids": [..]}` or `{"target": "all"}`.
    #[schema(value_type = Object)]
    pub target: Option<serde_json::Value>,
    /// Devices finished.
    pub progress_done: i32,
    /// Devices in the job.
    pub progress_total: i32,
    pub message: Option<String>,
    pub created_by: Option<i32>,
    pub scheduled_job_id: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<job_logs::Model> for Job {
    fn from(j: job_logs::Model) -> Self {
        Self {
            id: j.id,
            job_type: j.job_type,
            status: j.status,
            target: j.parameters,
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            message: j.message,
            created_by: j.created_by,
            scheduled_job_id: j.scheduled_job_id,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

/// A job with its per-device counts by status.
#[derive(Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    /// Devices per result status (`queued`, `running`, `success`, `failed`, ...).
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// The job list's filters.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    job_type: Option<JobType>,
    status: Option<JobStatus>,
    /// Jobs a device took part in.
    device: Option<i32>,
    /// Jobs a schedule started.
    schedule: Option<i32>,
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery, super::docs::Window),
    responses((status = 200, body = ListOf<Job>), (status = 400, body = super::ErrorBody)))]
pub async fn list(
    auth: Auth<READ>,
    params: ListParams<JobQuery>,
) -> Result<HttpResponse, AppError> {
    let f = &params.filters;
    let filter = JobFilter {
        job_type: f.job_type,
        status: f.status,
        device_id: f.device,
        scheduled_job_id: f.schedule,
        ..JobFilter::default()
    };
    let page = jobs::list(auth.db(), &filter, params.paging).await?;
    Ok(ok(&params.envelope(page, Job::from)))
}

/// What a backup job covers: exactly one of the four.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// One device's id.
    device: Option<i32>,
    /// A tag's id: its enabled devices.
    tag: Option<i32>,
    /// Device ids.
    devices: Option<Vec<i32>>,
    /// Every enabled device.
    all: Option<bool>,
}

impl StartBody {
    fn target(self) -> Result<Target, AppError> {
        let chosen = [
            self.device.map(Target::Device),
            self.tag.map(Target::Tag),
            self.devices.map(Target::Devices),
            self.all.filter(|all| *all).map(|_| Target::All),
        ];
        let mut targets = chosen.into_iter().flatten();
        match (targets.next(), targets.next()) {
            (Some(target), None) => Ok(target),
            _ => Err(crate::services::validation::FieldErrors::single(
                "target",
                "Give exactly one of device, tag, devices or \"all\": true.",
            )
            .into()),
        }
    }
}

/// Start a backup job; answers the job (its id to follow) at once, the work runs in the
/// background.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = StartBody,
    responses((status = 201, body = Job), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn start(auth: Auth<WRITE>, body: Body<StartBody>) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let target = body.target()?;
    if let Target::Tag(id) = target {
        crate::services::tags::get(auth.db(), id).await?;
    }
    let job = jobs::start_backup(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        target,
        auth.user.id,
        auth.user.debug,
    )
    .await?;
    Ok(created(&Job::from(job)))
}

/// One job, with its device counts.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i32, Path, description = "Job id")),
    responses((status = 200, body = JobDetail), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let job = jobs::get(auth.db(), id.into_inner()).await?;
    let counts = jobs::result_counts(auth.db(), job.id)
        .await?
        .into_iter()
        .map(|(status, n)| (status.as_str().to_string(), n))
        .collect();
    Ok(ok(&JobDetail {
        job: Job::from(job),
        counts,
    }))
}

/// A device's part in a job.
#[derive(Serialize, ToSchema)]
pub struct DeviceResult {
    pub device_id: Option<i32>,
    pub hostname: String,
    pub status: ResultStatus,
    pub message: Option<String>,
    /// The configuration changed (a new version was stored).
    pub changed: bool,
    /// The stored version's backup id, when one was stored.
    pub backup_id: Option<i32>,
    pub credential_name: Option<String>,
    pub error_class: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i32>,
}

impl From<job_results::Model> for DeviceResult {
    fn from(r: job_results::Model) -> Self {
        Self {
            device_id: r.device_id,
            hostname: r.hostname,
            status: r.status,
            message: r.message,
            changed: r.changed,
            backup_id: r.backup_id,
            credential_name: r.credential_name,
            error_class: r.error_class,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
        }
    }
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    status: Option<ResultStatus>,
}

/// A job's per-device results: failures first, then by host name.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/results", tag = "jobs",
    params(("id" = i32, Path, description = "Job id"), ResultQuery, super::docs::Window),
    responses((status = 200, body = ListOf<DeviceResult>), (status = 404, body = super::ErrorBody)))]
pub async fn results(
    auth: Auth<READ>,
    id: web::Path<i32>,
    params: ListParams<ResultQuery>,
) -> Result<HttpResponse, AppError> {
    let job = jobs::get(auth.db(), id.into_inner()).await?;
    let rows = jobs::results(auth.db(), job.id, params.filters.status).await?;
    Ok(ok(&params.envelope(
        super::window_of(rows, params.paging),
        DeviceResult::from,
    )))
}

/// A job log entry.
#[derive(Serialize, ToSchema)]
pub struct LogEntry {
    /// Ascending: ask for `after=<the last id seen>` to follow a running job.
    pub id: i32,
    pub timestamp: DateTime<Utc>,
    pub level: LogLevel,
    pub category: String,
    pub message: String,
    pub device_id: Option<i32>,
}

impl From<job_log_entries::Model> for LogEntry {
    fn from(e: job_log_entries::Model) -> Self {
        Self {
            id: e.id,
            timestamp: e.timestamp,
            level: e.level,
            category: e.category,
            message: e.message,
            device_id: e.device_id,
        }
    }
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only entries after this id.
    after: Option<i32>,
    /// The least level shown (`debug`, `info`, `warning`, `error`).
    level: Option<LogLevel>,
    /// At most this many entries (default 500, at most 5000).
    limit: Option<u64>,
}

/// A job's log, oldest first.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/log", tag = "jobs",
    params(("id" = i32, Path, description = "Job id"), LogQuery),
    responses((status = 200, body = Vec<LogEntry>), (status = 404, body = super::ErrorBody)))]
pub async fn log(
    auth: Auth<READ>,
    id: web::Path<i32>,
    Params(q): Params<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(AppError::BadRequest("limit must be from 1 to 5000".into()));
    }
    let job = jobs::get(auth.db(), id.into_inner()).await?;
    let entries = jobs::entries_after(auth.db(), job.id, q.level, q.after.unwrap_or(0), limit)
        .await?
        .into_iter()
        .map(LogEntry::from)
        .collect::<Vec<_>>();
    Ok(ok(&entries))
}

/// Cancel a queued or running job: devices not started yet are not started.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = i32, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn cancel(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    jobs::cancel(auth.db(), &auth.audit_actor(), id).await?;
    Ok(ok(&Job::from(jobs::get(auth.db(), id).await?)))
}
