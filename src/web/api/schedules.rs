//! `/api/v1/schedules`: when jobs run by themselves. A schedule is read and written with the
//! schedule form's fields (`schedule_type` once, interval, daily, weekly, monthly or cron, with
//! the fields that type uses), validated by the same service.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, ListOf, ListParams, NoParams, Params, created, ok};
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::scheduled_jobs;
use crate::services::query::Sort;
use crate::services::schedules::{self, ScheduleInput};
use crate::vocabulary::{JobType, ScheduleKind, TargetKind};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/schedules" => list,
    POST r"/api/v1/schedules" => create,
    GET r"/api/v1/schedules/{id:\d+}" => show,
    PATCH r"/api/v1/schedules/{id:\d+}" => update,
    DELETE r"/api/v1/schedules/{id:\d+}" => delete,
    POST r"/api/v1/schedules/{id:\d+}/run" => run,
}

/// A schedule.
#[derive(Serialize, ToSchema)]
pub struct Schedule {
    pub id: i32,
    pub name: String,
    pub job_type: JobType,
    pub target_type: TargetKind,
    /// The device's or tag's id, for those targets.
    pub target_id: Option<i32>,
    pub schedule_type: ScheduleKind,
    /// The fields of its type (`at`, `minutes`, `time`, `days`, `day`, `cron`).
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    pub timezone: String,
    pub enabled: bool,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<scheduled_jobs::Model> for Schedule {
    fn from(s: scheduled_jobs::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            job_type: s.job_type,
            target_type: s.target_type,
            target_id: s.target_id,
            schedule_type: s.schedule_type,
            parameters: s.parameters,
            timezone: s.timezone,
            enabled: s.enabled,
            next_run_at: s.next_run_at,
            last_run_at: s.last_run_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Schedules by name.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules", params(super::docs::Window),
    responses((status = 200, body = ListOf<Schedule>)))]
pub async fn list(
    auth: Auth<READ>,
    params: ListParams<NoParams>,
) -> Result<HttpResponse, AppError> {
    let page = schedules::list(auth.db(), Sort::default(), params.paging).await?;
    Ok(ok(
        &params.envelope(page, |row| Schedule::from(row.schedule))
    ))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = i32, Path, description = "Schedule id")),
    responses((status = 200, body = Schedule), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    Ok(ok(&Schedule::from(
        schedules::get(auth.db(), id.into_inner()).await?,
    )))
}

/// A schedule to add, or the fields of one to change (absent ones keep their value).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    name: Option<String>,
    /// `backup`, `retention` or `nautobot_sync` (administrators only).
    job_type: Option<String>,
    /// `device`, `tag` or `all`.
    target_type: Option<String>,
    /// The device's host name, for target `device`.
    device: Option<String>,
    /// The tag's id, for target `tag`.
    tag_id: Option<i32>,
    /// The Nautobot source's id, for job type `nautobot_sync`.
    source_id: Option<i32>,
    /// `once`, `interval`, `daily`, `weekly`, `monthly` or `cron`.
    schedule_type: Option<String>,
    /// For `once`: `YYYY-MM-DDTHH:MM` in the time zone.
    at: Option<String>,
    /// For `interval`.
    minutes: Option<u32>,
    /// For `daily`, `weekly`, `monthly`: `HH:MM`.
    time: Option<String>,
    /// For `weekly`: `mon` … `sun`.
    days: Option<Vec<String>>,
    /// For `monthly`: the day of the month.
    day: Option<u32>,
    /// For `cron`: five fields.
    cron: Option<String>,
    /// An IANA name such as `Europe/Zurich`.
    timezone: Option<String>,
    enabled: Option<bool>,
    /// Record device session transcripts in the job log.
    debug: Option<bool>,
}

impl ScheduleBody {
    fn over(self, mut base: ScheduleInput) -> ScheduleInput {
        let set = |field: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        set(&mut base.name, self.name);
        set(&mut base.job_type, self.job_type);
        set(&mut base.target_type, self.target_type);
        set(&mut base.device, self.device);
        set(&mut base.tag_id, self.tag_id.map(|t| t.to_string()));
        set(&mut base.source_id, self.source_id.map(|s| s.to_string()));
        set(&mut base.schedule_type, self.schedule_type);
        set(&mut base.at, self.at);
        set(&mut base.minutes, self.minutes.map(|m| m.to_string()));
        set(&mut base.time, self.time);
        set(&mut base.day, self.day.map(|d| d.to_string()));
        set(&mut base.cron, self.cron);
        set(&mut base.timezone, self.timezone);
        if let Some(days) = self.days {
            base.days = days;
        }
        if let Some(enabled) = self.enabled {
            base.enabled = enabled;
        }
        if let Some(debug) = self.debug {
            base.debug = debug;
        }
        base
    }
}

/// Add a schedule.
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleBody,
    responses((status = 201, body = Schedule), (status = 422, body = super::ErrorBody)))]
pub async fn create(auth: Auth<WRITE>, body: Body<ScheduleBody>) -> Result<HttpResponse, AppError> {
    let base = ScheduleInput {
        job_type: JobType::Backup.as_str().into(),
        target_type: TargetKind::All.as_str().into(),
        timezone: "UTC".into(),
        enabled: true,
        ..ScheduleInput::default()
    };
    let input = body.read()?.over(base);
    let s = schedules::create(auth.db(), &auth.audit_actor(), &input).await?;
    Ok(created(&Schedule::from(s)))
}

async fn current_input(auth: &Ctx, s: &scheduled_jobs::Model) -> Result<ScheduleInput, AppError> {
    let hostname = schedules::device_hostname(auth.db(), s).await?;
    Ok(ScheduleInput::from_model(s, hostname))
}

/// Change a schedule.
#[utoipa::path(patch, path = "/api/v1/schedules/{id}", tag = "schedules",
    request_body = ScheduleBody, params(("id" = i32, Path, description = "Schedule id")),
    responses((status = 200, body = Schedule), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<ScheduleBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let id = id.into_inner();
    let current = schedules::get(auth.db(), id).await?;
    let input = body.over(current_input(&auth, &current).await?);
    let s = schedules::update(auth.db(), &auth.audit_actor(), id, &input).await?;
    Ok(ok(&Schedule::from(s)))
}

/// Delete a schedule (the jobs it started stay).
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = i32, Path, description = "Schedule id")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    schedules::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start the schedule's job now, outside its times.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/run", tag = "schedules",
    params(("id" = i32, Path, description = "Schedule id")),
    responses((status = 201, body = super::jobs::Job), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn run(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let job = schedules::start_now(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        id.into_inner(),
        auth.user.id,
    )
    .await?;
    Ok(created(&super::jobs::Job::from(job)))
}
