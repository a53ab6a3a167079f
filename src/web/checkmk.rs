//! CheckMK: the overview (comparisons, *Compare*), the mapping form with its preview, a
//! comparison's results with the actions on them, and the pending changes with *Activate*.
//! Reading needs `read`; comparing, adding, updating and activating `write`; deleting hosts and
//! the mapping `admin`.

use actix_web::{HttpResponse, web};
use askama::Template;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::form::{Form, accepted, page_or_again};
use super::list::{ListQuery, Pager, lenient};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{ADMIN, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{checkmk_mapping, job_logs, nb2cmk_results as results};
use crate::error::Error;
use crate::services::checkmk::client::{Client, Connection};
use crate::services::checkmk::compare::{self, Counts};
use crate::services::checkmk::hosts::{self, Change, Current};
use crate::services::checkmk::mapping::{self, Host, Mapper, MappingInput};
use crate::services::checkmk::rules::{PLACEHOLDERS, SourceDevice};
use crate::services::checkmk::{apply, source};
use crate::services::jobs::{self, Target};
use crate::services::nautobot::sources as nautobot_sources;
use crate::services::validation::{FieldErrors, toggle};
use crate::vocabulary::{CheckmkSourceKind, CheckmkStatus, JobType};
use crate::web::error::AppError;

routes! {
    GET r"/checkmk" => index,
    POST r"/checkmk/compare" => start_compare,
    GET r"/checkmk/mapping" => mapping_form,
    POST r"/checkmk/mapping" => save_mapping,
    POST r"/checkmk/mapping/preview" => preview_mapping,
    GET r"/checkmk/jobs/{id:\d+}" => results_page,
    POST r"/checkmk/jobs/{id:\d+}/apply" => apply_results,
    GET r"/checkmk/changes" => changes_page,
    POST r"/checkmk/activate" => activate,
}

#[derive(Template)]
#[template(path = "checkmk/index.html")]
struct IndexPage {
    ctx: Ctx,
    configured: bool,
    saved: bool,
    mapping: checkmk_mapping::Model,
    source_name: Option<String>,
    jobs: Vec<job_logs::Model>,
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let mapping = mapping::load(db).await?;
    let source_name = match mapping.nautobot_source_id {
        Some(id) => nautobot_sources::get(db, id).await.ok().map(|s| s.name),
        None => None,
    };
    let jobs = job_logs::Entity::find()
        .filter(job_logs::Column::JobType.is_in([JobType::CheckmkCompare, JobType::CheckmkApply]))
        .order_by_desc(job_logs::Column::Id)
        .limit(15)
        .all(db)
        .await?;
    let view = IndexPage {
        configured: Connection::load(db, &auth.state.vault)
            .await?
            .is_configured(),
        saved: mapping::is_saved(db).await?,
        mapping,
        source_name,
        jobs,
        ctx: auth.0,
    };
    page(&view)
}

pub async fn start_compare(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    let job = compare::start(
        auth.db(),
        &auth.state.vault,
        &auth.state.queue,
        &auth.audit_actor(),
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Comparison {} started.", job.id),
    );
    Ok(redirect(&format!("/checkmk/jobs/{}", job.id)))
}

/// What a preview found for the chosen device.
struct Preview {
    device: String,
    source: Option<SourceDevice>,
    host: Result<Host, String>,
    current: Option<Current>,
    differences: Vec<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "checkmk/mapping.html")]
struct MappingPage {
    ctx: Ctx,
    input: MappingInput,
    sources: Vec<crate::entity::nautobot_sources::Model>,
    errors: FieldErrors,
    preview: Option<Preview>,
}

impl MappingPage {
    fn kinds(&self) -> &'static [CheckmkSourceKind] {
        CheckmkSourceKind::ALL
    }
    fn placeholders(&self) -> String {
        PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn chosen_source(&self, id: &i32) -> bool {
        self.input.nautobot_source_id == id.to_string()
    }
}

async fn mapping_page(
    auth: Auth<ADMIN>,
    input: MappingInput,
    errors: FieldErrors,
    preview: Option<Preview>,
) -> Result<HttpResponse, AppError> {
    let view = MappingPage {
        sources: nautobot_sources::list(auth.db()).await?,
        ctx: auth.0,
        input,
        errors,
        preview,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn mapping_form(auth: Auth<ADMIN>) -> Result<HttpResponse, AppError> {
    let input = MappingInput::of(&mapping::load(auth.db()).await?);
    mapping_page(auth, input, FieldErrors::new(), None).await
}

pub async fn save_mapping(
    auth: Auth<ADMIN>,
    Form(input): Form<MappingInput>,
) -> Result<HttpResponse, AppError> {
    let result = mapping::save(auth.db(), &auth.audit_actor(), &input).await;
    match accepted(result)? {
        Ok(_) => {
            auth.flash(FlashKind::Success, "CheckMK mapping saved.");
            Ok(redirect("/checkmk"))
        }
        Err(errors) => mapping_page(auth, input, errors, None).await,
    }
}

/// Shows, for the device named in the form, its source fields, the host the typed (unsaved)
/// mapping makes of it, and CheckMK's host with the differences.
pub async fn preview_mapping(
    auth: Auth<ADMIN>,
    Form(input): Form<MappingInput>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let m = match accepted(mapping::check(db, &input).await)? {
        Ok(m) => m,
        Err(errors) => return mapping_page(auth, input, errors, None).await,
    };
    let name = input.preview_device.trim().to_string();
    if name.is_empty() {
        let mut errors = FieldErrors::new();
        errors.add("preview_device", "Enter a device name to preview.");
        return mapping_page(auth, input, errors, None).await;
    }
    let preview = preview_of(&auth, &m, &name).await?;
    mapping_page(auth, input, FieldErrors::new(), Some(preview)).await
}

async fn preview_of(auth: &Ctx, m: &checkmk_mapping::Model, name: &str) -> Result<Preview, Error> {
    let db = auth.db();
    let vault = &auth.state.vault;
    let mut p = Preview {
        device: name.to_string(),
        source: None,
        host: Err(String::new()),
        current: None,
        differences: Vec::new(),
        problem: None,
    };
    let mapper = Mapper::new(m)?;
    let found = match source::read(db, vault, m, Some(name)).await {
        Ok((devices, _)) => devices
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(name)),
        Err(Error::Refused(why)) => {
            p.problem = Some(why);
            return Ok(p);
        }
        Err(e) => return Err(e),
    };
    let Some(d) = found else {
        p.problem = Some(format!("the source has no device named {name}"));
        return Ok(p);
    };
    p.host = mapper.host(&d);
    if let Ok(host) = &p.host {
        match Client::from_settings(db, vault).await {
            Ok(client) => match hosts::get(&client, &host.name).await {
                Ok(Some(current)) => {
                    p.differences = mapper.differences(host, &current.folder, &current.attributes);
                    p.current = Some(current);
                }
                Ok(None) => {}
                Err(e) => p.problem = Some(format!("CheckMK's host could not be read: {e}")),
            },
            Err(Error::Refused(why)) => p.problem = Some(why),
            Err(e) => return Err(e),
        }
    }
    p.source = Some(d);
    Ok(p)
}

impl Preview {
    fn source_json(&self) -> String {
        self.source
            .as_ref()
            .map(|d| pretty(&d.to_json()))
            .unwrap_or_default()
    }
    fn host_json(&self) -> String {
        match &self.host {
            Ok(h) => pretty(&h.to_json()),
            Err(_) => String::new(),
        }
    }
    fn host_problem(&self) -> &str {
        match &self.host {
            Err(e) => e,
            Ok(_) => "",
        }
    }
    fn current_json(&self) -> String {
        self.current
            .as_ref()
            .map(|c| pretty(&serde_json::json!({"folder": c.folder, "attributes": c.attributes})))
            .unwrap_or_default()
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The results' filter, by its name in the address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResultFilters {
    #[serde(deserialize_with = "lenient")]
    status: Option<CheckmkStatus>,
}

#[derive(Template)]
#[template(path = "checkmk/results.html")]
struct ResultsPage {
    ctx: Ctx,
    job: job_logs::Model,
    counts: Counts,
    rows: Vec<results::Model>,
    f: ResultFilters,
    pager: Pager,
    allow_delete: bool,
}

impl ResultsPage {
    fn statuses(&self) -> &'static [CheckmkStatus] {
        CheckmkStatus::ALL
    }
    fn count(&self, s: &CheckmkStatus) -> usize {
        let c = &self.counts;
        match s {
            CheckmkStatus::Equal => c.equal,
            CheckmkStatus::Diff => c.diff,
            CheckmkStatus::Missing => c.missing,
            CheckmkStatus::Error => c.error,
            CheckmkStatus::Extra => c.extra,
        }
    }
    fn chosen(&self, s: &CheckmkStatus) -> bool {
        self.f.status == Some(*s)
    }
    /// This page as it is filtered, for its refreshes while the job runs.
    fn live_href(&self) -> String {
        match self.f.status {
            Some(s) => format!("/checkmk/jobs/{}?status={s}", self.job.id),
            None => format!("/checkmk/jobs/{}", self.job.id),
        }
    }
    fn folder_of(&self, v: &Option<serde_json::Value>) -> String {
        v.as_ref()
            .and_then(|v| v.get("folder"))
            .and_then(|f| f.as_str())
            .unwrap_or_default()
            .to_string()
    }
    /// Whether this user may act on a row.
    fn may_act(&self, r: &results::Model) -> bool {
        match r.status.action() {
            Some(crate::vocabulary::CheckmkAction::Delete) => {
                self.allow_delete && self.ctx.is_admin()
            }
            Some(_) => self.ctx.can_write(),
            None => false,
        }
    }
    fn action_label(&self, r: &results::Model) -> &'static str {
        match r.status.action() {
            Some(crate::vocabulary::CheckmkAction::Add) => "Add",
            Some(crate::vocabulary::CheckmkAction::Update) => "Update",
            Some(crate::vocabulary::CheckmkAction::Delete) => "Delete",
            None => "",
        }
    }
}

pub async fn results_page(
    auth: Auth<READ>,
    id: web::Path<i32>,
    list: ListQuery<ResultFilters>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = jobs::get(db, id.into_inner()).await?;
    match (job.job_type, Target::of_job(&job)) {
        (JobType::CheckmkCompare, _) => {}
        (JobType::CheckmkApply, Some(Target::CheckmkResults { job: Some(c), .. })) => {
            return Ok(redirect(&format!("/checkmk/jobs/{c}")));
        }
        (JobType::CheckmkApply, _) => return Ok(redirect("/checkmk/changes")),
        _ => return Err(Error::NotFound.into()),
    }
    let result = compare::results_page(db, job.id, list.filters.status, list.paging).await?;
    let pager = list.pager(&result);
    let view = ResultsPage {
        counts: compare::counts(db, job.id).await?,
        allow_delete: mapping::load(db).await?.allow_delete,
        ctx: auth.0,
        job,
        rows: result.items,
        f: list.filters,
        pager,
    };
    page(&view)
}

/// The action form: chosen rows (`ids`), or every row of one status (`all`).
#[derive(Deserialize)]
pub struct ApplyInput {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    all: String,
    #[serde(default, deserialize_with = "toggle")]
    activate: bool,
}

pub async fn apply_results(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<ApplyInput>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let compare_job = id.into_inner();
    let mut ids: Vec<i32> = Vec::new();
    for raw in &input.ids {
        let id = raw
            .trim()
            .parse::<i32>()
            .map_err(|_| AppError::BadRequest(format!("{raw:?} is not a result id")))?;
        ids.push(id);
    }
    if !input.all.trim().is_empty() {
        let status = CheckmkStatus::parse(input.all.trim())
            .filter(|s| s.action().is_some())
            .ok_or_else(|| {
                AppError::BadRequest("choose missing, diff or extra hosts".to_string())
            })?;
        ids.extend(compare::ids_of(db, compare_job, status).await?);
    }
    // Deleting hosts is an administrator's decision.
    let deleting = !ids.is_empty()
        && results::Entity::find()
            .filter(results::Column::JobLogId.eq(compare_job))
            .filter(results::Column::Id.is_in(ids.clone()))
            .filter(results::Column::Status.eq(CheckmkStatus::Extra))
            .one(db)
            .await?
            .is_some();
    if deleting && !auth.is_admin() {
        return Err(Error::NotPermitted {
            missing: vec!["admin"],
        }
        .into());
    }
    let job = apply::start(
        db,
        &auth.state.vault,
        &auth.state.queue,
        &auth.audit_actor(),
        Some(compare_job),
        ids,
        input.activate,
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("CheckMK changes started as job {}.", job.id),
    );
    Ok(redirect(&format!("/jobs/{}", job.id)))
}

#[derive(Template)]
#[template(path = "checkmk/changes.html")]
struct ChangesPage {
    ctx: Ctx,
    changes: Vec<Change>,
    problem: Option<String>,
}

pub async fn changes_page(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let read = match Client::from_settings(db, &auth.state.vault).await {
        Ok(client) => hosts::pending(&client).await.map_err(|e| e.to_string()),
        Err(Error::Refused(why)) => Err(why),
        Err(e) => return Err(e.into()),
    };
    let (changes, problem) = match read {
        Ok((changes, _)) => (changes, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    page(&ChangesPage {
        ctx: auth.0,
        changes,
        problem,
    })
}

pub async fn activate(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    let job = apply::start(
        auth.db(),
        &auth.state.vault,
        &auth.state.queue,
        &auth.audit_actor(),
        None,
        Vec::new(),
        true,
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Activation started as job {}.", job.id),
    );
    Ok(redirect(&format!("/jobs/{}", job.id)))
}
