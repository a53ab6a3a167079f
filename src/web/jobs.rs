//! Jobs: the list, a job's page with live progress, cancel, and the "Back up now" actions that
//! start a job and take the user to it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;

use super::form::FormPairs;
use super::list::{Pager, query_string};
use super::{page, page_or_block, redirect, safe_next};
use crate::auth::permissions::{READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{
    backups, devices, job_log_entries, job_logs, job_results, scheduled_jobs, tags, users,
};
use crate::error::AppError;
use crate::services::jobs::{self, JobFilter, NewJob, Target};
use crate::services::query::PageParams;
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};

routes! {
    POST r"/devices/backup" => backup_selected,
    POST r"/devices/{id:\d+}/backup" => backup_device,
    POST r"/tags/{id:\d+}/backup" => backup_tag,
    POST r"/backup-all" => backup_all,
    GET r"/jobs" => index,
    GET r"/jobs/{id:\d+}" => show,
    POST r"/jobs/{id:\d+}/cancel" => cancel,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    job_type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    device: String,
    #[serde(flatten)]
    paging: PageParams,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<job_logs::Model>,
    names: Names,
    users: Vec<(i32, String)>,
    f: ListQuery,
    pager: Pager,
    date_error: bool,
}

/// Display names of the users and schedules that started the listed jobs, and of the devices
/// and tags they target.
#[derive(Default)]
struct Names {
    users: HashMap<i32, String>,
    schedules: HashMap<i32, String>,
    devices: HashMap<i32, String>,
    tags: HashMap<i32, String>,
}

impl Names {
    async fn load(
        db: &sea_orm::DatabaseConnection,
        jobs: &[job_logs::Model],
    ) -> Result<Names, AppError> {
        let user_ids: Vec<i32> = jobs.iter().filter_map(|j| j.created_by).collect();
        let schedule_ids: Vec<i32> = jobs.iter().filter_map(|j| j.scheduled_job_id).collect();
        let users = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::Username)
            .filter(users::Column::Id.is_in(user_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let schedules = scheduled_jobs::Entity::find()
            .select_only()
            .column(scheduled_jobs::Column::Id)
            .column(scheduled_jobs::Column::Name)
            .filter(scheduled_jobs::Column::Id.is_in(schedule_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let targets: Vec<Target> = jobs.iter().filter_map(Target::of_job).collect();
        let device_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Device(id) => Some(*id),
                _ => None,
            })
            .collect();
        let devices = devices::Entity::find()
            .select_only()
            .column(devices::Column::Id)
            .column(devices::Column::Hostname)
            .filter(devices::Column::Id.is_in(device_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let tag_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Tag(id) => Some(*id),
                _ => None,
            })
            .collect();
        let tags = tags::Entity::find()
            .select_only()
            .column(tags::Column::Id)
            .column(tags::Column::Name)
            .filter(tags::Column::Id.is_in(tag_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        Ok(Names {
            users,
            schedules,
            devices,
            tags,
        })
    }

    /// "device core1", "tag site-a", "3 selected devices", "all devices".
    fn target(&self, job: &job_logs::Model) -> String {
        if job.job_type == JobType::Retention {
            return "stored versions and old job logs".into();
        }
        let named = |map: &HashMap<i32, String>, id: i32, what: &str| match map.get(&id) {
            Some(name) => format!("{what} {name}"),
            None => format!("{what} #{id} (deleted)"),
        };
        match Target::of_job(job) {
            Some(Target::Device(id)) => named(&self.devices, id, "device"),
            Some(Target::Tag(id)) => named(&self.tags, id, "tag"),
            Some(Target::Devices(ids)) => format!("{} selected devices", ids.len()),
            Some(Target::All) | None => "all devices".into(),
        }
    }

    /// "alice", "schedule Daily backup", or "system".
    fn started_by(&self, job: &job_logs::Model) -> String {
        if let Some(name) = job.scheduled_job_id.and_then(|s| self.schedules.get(&s)) {
            return format!("schedule {name}");
        }
        match job.created_by.and_then(|u| self.users.get(&u)) {
            Some(name) => name.clone(),
            None if job.scheduled_job_id.is_some() => "a schedule".into(),
            None => "system".into(),
        }
    }
}

fn duration_words(job: &job_logs::Model) -> String {
    match (job.started_at, job.finished_at) {
        (Some(s), Some(f)) => {
            let secs = (f - s).num_milliseconds() as f64 / 1000.0;
            if secs < 120.0 {
                format!("{secs:.1} s")
            } else {
                format!("{:.1} min", secs / 60.0)
            }
        }
        (Some(_), None) => "running".into(),
        _ => "—".into(),
    }
}

impl ListPage {
    fn job_types(&self) -> &'static [JobType] {
        JobType::ALL
    }
    fn statuses(&self) -> &'static [JobStatus] {
        JobStatus::ALL
    }
    fn target(&self, job: &job_logs::Model) -> String {
        self.names.target(job)
    }
    fn started_by(&self, job: &job_logs::Model) -> String {
        self.names.started_by(job)
    }
    fn duration(&self, job: &job_logs::Model) -> String {
        duration_words(job)
    }
    fn user_selected(&self, id: &i32) -> bool {
        self.f.user == id.to_string()
    }
}

fn date(value: &str) -> Result<Option<NaiveDate>, ()> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

pub async fn index(
    auth: Auth<READ>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner();
    let (from, to) = (date(&f.from), date(&f.to));
    let filter = JobFilter {
        job_type: JobType::parse(&f.job_type),
        status: JobStatus::parse(&f.status),
        created_by: f.user.parse().ok(),
        device_id: f.device.parse().ok(),
        from: from.ok().flatten(),
        to: to.ok().flatten(),
        ..JobFilter::default()
    };
    let result = jobs::list(auth.db(), &filter, f.paging.paging()).await?;
    let names = Names::load(auth.db(), &result.items).await?;
    let users = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Username)
        .into_tuple::<(i32, String)>()
        .all(auth.db())
        .await?;
    let filters = query_string(&[
        ("job_type", &f.job_type),
        ("status", &f.status),
        ("user", &f.user),
        ("from", &f.from),
        ("to", &f.to),
        ("device", &f.device),
    ]);
    let pager = Pager::new("/jobs", &filters, None, &result);
    page(&ListPage {
        ctx: auth.0,
        rows: result.items,
        names,
        users,
        pager,
        date_error: from.is_err() || to.is_err(),
        f,
    })
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    level: String,
}

#[derive(Template)]
#[template(path = "jobs/show.html", blocks = ["live"])]
struct ShowPage {
    ctx: Ctx,
    job: job_logs::Model,
    started_by: String,
    target: String,
    results: Vec<job_results::Model>,
    /// backup id -> (device id, version), for links to stored versions.
    versions: HashMap<i32, (i32, i32)>,
    counts: Vec<(ResultStatus, i64)>,
    entries: Vec<job_log_entries::Model>,
    level: Option<LogLevel>,
}

/// Most entries shown on a job's page (the newest are the interesting ones while it runs).
const MAX_ENTRIES: u64 = 2000;

impl ShowPage {
    fn running(&self) -> bool {
        self.job.finished_at.is_none()
    }
    fn cancellable(&self) -> bool {
        self.job.status.is_open()
    }
    fn percent(&self) -> i64 {
        if self.job.progress_total == 0 {
            return if self.running() { 0 } else { 100 };
        }
        i64::from(self.job.progress_done) * 100 / i64::from(self.job.progress_total)
    }
    /// The devices by status for the progress card: the usual four always, the others when
    /// there are any.
    fn tally(&self) -> Vec<(ResultStatus, i64)> {
        let count = |status| {
            self.counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n)
        };
        ResultStatus::ALL
            .iter()
            .map(|s| (*s, count(*s)))
            .filter(|(s, n)| {
                *n > 0 || !matches!(s, ResultStatus::Skipped | ResultStatus::Cancelled)
            })
            .collect()
    }
    fn target(&self) -> String {
        self.target.clone()
    }
    fn duration(&self) -> String {
        duration_words(&self.job)
    }
    fn levels(&self) -> &'static [LogLevel] {
        LogLevel::ALL
    }
    fn level_chosen(&self, level: &LogLevel) -> bool {
        self.level == Some(*level)
    }
    fn version_of(&self, r: &job_results::Model) -> Option<(i32, i32)> {
        r.backup_id.and_then(|b| self.versions.get(&b).copied())
    }
}

pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let job = jobs::get(auth.db(), id.into_inner()).await?;
    let level = LogLevel::parse(&query.level);
    let results = jobs::results(auth.db(), job.id, None).await?;
    let backup_ids: Vec<i32> = results.iter().filter_map(|r| r.backup_id).collect();
    let versions = backups::Entity::find()
        .select_only()
        .column(backups::Column::Id)
        .column(backups::Column::DeviceId)
        .column(backups::Column::Version)
        .filter(backups::Column::Id.is_in(backup_ids))
        .into_tuple::<(i32, Option<i32>, i32)>()
        .all(auth.db())
        .await?
        .into_iter()
        .filter_map(|(id, device, version)| device.map(|d| (id, (d, version))))
        .collect();
    let counts = jobs::result_counts(auth.db(), job.id).await?;
    let entries = jobs::entries(auth.db(), job.id, level, MAX_ENTRIES).await?;
    let names = Names::load(auth.db(), std::slice::from_ref(&job)).await?;
    let (started_by, target) = (names.started_by(&job), names.target(&job));
    let fragment = auth.wants_fragment();
    let view = ShowPage {
        ctx: auth.0,
        job,
        started_by,
        target,
        results,
        versions,
        counts,
        entries,
        level,
    };
    page_or_block(fragment, StatusCode::OK, &view, ShowPage::as_live)
}

pub async fn cancel(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    jobs::cancel(auth.db(), &auth.audit_actor(), id).await?;
    auth.flash(
        "warning",
        "Job cancelled: devices not yet started are skipped; running ones finish.",
    );
    Ok(redirect(&format!("/jobs/{id}")))
}

/// Start a backup job for `target` as the signed-in user and go to its page.
async fn back_up(auth: &Ctx, target: Target) -> Result<HttpResponse, AppError> {
    let job = jobs::start(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        NewJob {
            job_type: JobType::Backup,
            target,
            created_by: Some(auth.user.id),
            scheduled_job_id: None,
            idempotency_key: None,
            debug: auth.user.debug,
        },
    )
    .await?
    .ok_or_else(|| AppError::Internal("a fresh job key was already used".into()))?;
    Ok(redirect(&format!("/jobs/{}", job.id)))
}

pub async fn backup_device(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    back_up(&auth, Target::Device(id.into_inner())).await
}

pub async fn backup_tag(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    crate::services::tags::get(auth.db(), id).await?;
    back_up(&auth, Target::Tag(id)).await
}

pub async fn backup_all(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    back_up(&auth, Target::All).await
}

/// "Back up selected" from the device list: the form posts repeated `ids` fields.
pub async fn backup_selected(auth: Auth<WRITE>, form: FormPairs) -> Result<HttpResponse, AppError> {
    let ids: Vec<i32> = form.all("ids").filter_map(|v| v.parse().ok()).collect();
    if ids.is_empty() {
        let back = form.last("back").map_or("/devices", safe_next);
        auth.flash("warning", "Tick the devices to back up first.");
        return Ok(redirect(back));
    }
    back_up(&auth, Target::Devices(ids)).await
}
