//! Jobs: the list and the "Back up now" actions that start a job and take the user to it (its
//! page is `job_page`).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::list::{ListQuery, Pager, date, lenient};
use super::{page, redirect, safe_next};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::job_logs;
use crate::services::jobs::{self, JobFilter, Target};
use crate::vocabulary::{JobStatus, JobType};
use crate::web::error::AppError;

routes! {
    POST r"/devices/backup" => backup_selected,
    POST r"/devices/{id:\d+}/backup" => backup_device,
    POST r"/tags/{id:\d+}/backup" => backup_tag,
    POST r"/backup-all" => backup_all,
    GET r"/jobs" => index,
}

/// The job list's filters, by their names in its address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct JobFilters {
    #[serde(deserialize_with = "lenient")]
    job_type: Option<JobType>,
    #[serde(deserialize_with = "lenient")]
    status: Option<JobStatus>,
    /// The id of the user who started the jobs.
    #[serde(deserialize_with = "lenient")]
    user: Option<i32>,
    /// Dates as typed (see `list::date`).
    from: String,
    to: String,
    /// The jobs of one device, as its page links them.
    #[serde(deserialize_with = "lenient")]
    device: Option<i32>,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<job_logs::Model>,
    names: jobs::Names,
    users: Vec<(i32, String)>,
    f: JobFilters,
    pager: Pager,
    date_error: bool,
}

pub(super) fn duration_words(job: &job_logs::Model) -> String {
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
        self.f.user == Some(*id)
    }
}

pub async fn index(
    auth: Auth<READ>,
    list: ListQuery<JobFilters>,
) -> Result<HttpResponse, AppError> {
    let f = &list.filters;
    let (from, to) = (date(&f.from), date(&f.to));
    let date_error = from.is_err() || to.is_err();
    let filter = JobFilter {
        job_type: f.job_type,
        status: f.status,
        created_by: f.user,
        device_id: f.device,
        from: from.ok().flatten(),
        to: to.ok().flatten(),
        ..JobFilter::default()
    };
    let result = jobs::list(auth.db(), &filter, list.paging).await?;
    let names = jobs::Names::load(auth.db(), &result.items).await?;
    let users = crate::services::users::names(auth.db()).await?;
    let pager = list.pager(&result);
    page(&ListPage {
        ctx: auth.0,
        rows: result.items,
        names,
        users,
        pager,
        date_error,
        f: list.filters,
    })
}

/// Start a backup job for `target` as the signed-in user and go to its page.
async fn back_up(auth: &Ctx, target: Target) -> Result<HttpResponse, AppError> {
    let job = jobs::start_backup(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        target,
        auth.user.id,
        auth.user.debug,
    )
    .await?;
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
pub async fn backup_selected(
    auth: Auth<WRITE>,
    Form(form): Form<super::devices::SelectionForm>,
) -> Result<HttpResponse, AppError> {
    let ids = form.ids;
    if ids.is_empty() {
        let back = safe_next(&form.back);
        auth.flash(FlashKind::Warning, "Tick the devices to back up first.");
        return Ok(redirect(back));
    }
    back_up(&auth, Target::Devices(ids)).await
}
