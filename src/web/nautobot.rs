//! Nautobot: the sources (list, form, a source's page with *Preview* and *Apply*), the platform
//! mapping table, a sync job's planned changes, and *Add to Nautobot* on a device. Reading needs
//! `read`; sources, mappings and syncs `admin`; adding a device to Nautobot `write`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::form::{Form, accepted, again, page_or_again};
use super::list::{ListQuery, Pager, lenient};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{ADMIN, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::device::platforms::{self, Platform};
use crate::entity::{
    devices, job_logs, nautobot_platforms, nautobot_sources as source, nautobot_sync_items as items,
};
use crate::error::Error;
use crate::services::jobs::{self, Target};
use crate::services::nautobot::client::{Client, Connection};
use crate::services::nautobot::onboard::{self, Choices, OnboardInput};
use crate::services::nautobot::sources::{self, FILTERS, MappingInput, SourceInput};
use crate::services::nautobot::sync;
use crate::services::validation::FieldErrors;
use crate::vocabulary::{JobStatus, JobType, LeaveAction, SyncAction};
use crate::web::error::AppError;

routes! {
    GET r"/nautobot" => index,
    POST r"/nautobot" => create,
    GET r"/nautobot/new" => new_form,
    GET r"/nautobot/{id:\d+}" => show,
    POST r"/nautobot/{id:\d+}" => update,
    GET r"/nautobot/{id:\d+}/edit" => edit_form,
    GET r"/nautobot/{id:\d+}/delete" => confirm_delete,
    POST r"/nautobot/{id:\d+}/delete" => delete,
    POST r"/nautobot/{id:\d+}/preview" => preview,
    POST r"/nautobot/{id:\d+}/apply" => apply,
    POST r"/nautobot/platforms" => map_platform,
    POST r"/nautobot/platforms/{id:\d+}/delete" => unmap_platform,
    GET r"/nautobot/jobs/{id:\d+}" => sync_results,
    GET r"/devices/{id:\d+}/nautobot" => onboard_form,
    POST r"/devices/{id:\d+}/nautobot" => onboard_device,
}

#[derive(Template)]
#[template(path = "nautobot/list.html")]
struct ListPage {
    ctx: Ctx,
    connection: Connection,
    rows: Vec<(source::Model, u64)>,
    mappings: Vec<nautobot_platforms::Model>,
    mapping: MappingInput,
    errors: FieldErrors,
}

impl ListPage {
    fn platforms(&self) -> &'static [Platform] {
        platforms::platforms()
    }
    fn platform_name<'a>(&self, id: &'a str) -> &'a str {
        platforms::name(id)
    }
}

async fn list_page(
    auth: Auth<READ>,
    mapping: MappingInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let mut rows = Vec::new();
    for s in sources::list(db).await? {
        let n = sources::device_count(db, s.id).await?;
        rows.push((s, n));
    }
    let view = ListPage {
        connection: Connection::load(db, &auth.state.vault).await?,
        mappings: sources::platform_map(db).await?,
        ctx: auth.0,
        rows,
        mapping,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    list_page(auth, MappingInput::default(), FieldErrors::new()).await
}

#[derive(Template)]
#[template(path = "nautobot/form.html")]
struct FormPage {
    ctx: Ctx,
    source: Option<source::Model>,
    input: SourceInput,
    errors: FieldErrors,
}

impl FormPage {
    /// (field, label, value) of each filter.
    fn filters(&self) -> Vec<(&'static str, &'static str, &str)> {
        let i = &self.input;
        let values = [
            &i.locations,
            &i.roles,
            &i.statuses,
            &i.tags,
            &i.platforms,
            &i.tenants,
        ];
        FILTERS
            .iter()
            .zip(values)
            .map(|((field, _, label), v)| (*field, *label, v.as_str()))
            .collect()
    }
    /// (field, label, value) of each generated-tag prefix.
    fn prefixes(&self) -> [(&'static str, &'static str, &str); 4] {
        let i = &self.input;
        [
            (
                "location_tag_prefix",
                "Location",
                i.location_tag_prefix.as_str(),
            ),
            ("role_tag_prefix", "Role", i.role_tag_prefix.as_str()),
            ("status_tag_prefix", "Status", i.status_tag_prefix.as_str()),
            ("tenant_tag_prefix", "Tenant", i.tenant_tag_prefix.as_str()),
        ]
    }
    fn leave_actions(&self) -> &'static [LeaveAction] {
        LeaveAction::ALL
    }
}

fn form_page(
    auth: Auth<ADMIN>,
    source: Option<source::Model>,
    input: SourceInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let view = FormPage {
        ctx: auth.0,
        source,
        input,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn new_form(auth: Auth<ADMIN>) -> Result<HttpResponse, AppError> {
    form_page(auth, None, SourceInput::for_new(), FieldErrors::new())
}

pub async fn create(
    auth: Auth<ADMIN>,
    Form(input): Form<SourceInput>,
) -> Result<HttpResponse, AppError> {
    let result = sources::create(auth.db(), &auth.audit_actor(), &input).await;
    match accepted(result)? {
        Ok(s) => {
            auth.flash(
                FlashKind::Success,
                format!(
                    "Source {} added. Preview it to see what it would import.",
                    s.name
                ),
            );
            Ok(redirect(&format!("/nautobot/{}", s.id)))
        }
        Err(errors) => form_page(auth, None, input, errors),
    }
}

pub async fn edit_form(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let s = sources::get(auth.db(), id.into_inner()).await?;
    let input = SourceInput::of(&s);
    form_page(auth, Some(s), input, FieldErrors::new())
}

pub async fn update(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
    Form(input): Form<SourceInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = sources::update(auth.db(), &auth.audit_actor(), id, &input).await;
    match accepted(result)? {
        Ok(s) => {
            auth.flash(FlashKind::Success, format!("Source {} saved.", s.name));
            Ok(redirect(&format!("/nautobot/{id}")))
        }
        Err(errors) => {
            let s = sources::get(auth.db(), id).await?;
            form_page(auth, Some(s), input, errors)
        }
    }
}

#[derive(Template)]
#[template(path = "nautobot/show.html")]
struct ShowPage {
    ctx: Ctx,
    source: source::Model,
    devices: u64,
    filters: Vec<(&'static str, Vec<String>)>,
    jobs: Vec<job_logs::Model>,
    configured: bool,
}

/// The latest sync jobs of a source (read from the latest sync jobs of any source).
async fn recent_jobs(
    db: &sea_orm::DatabaseConnection,
    id: i32,
) -> Result<Vec<job_logs::Model>, Error> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    Ok(job_logs::Entity::find()
        .filter(job_logs::Column::JobType.eq(JobType::NautobotSync))
        .order_by_desc(job_logs::Column::Id)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .filter(
            |j| matches!(Target::of_job(j), Some(Target::NautobotSource { id: s, .. }) if s == id),
        )
        .take(10)
        .collect())
}

impl ShowPage {
    fn label(&self, arg: &str) -> &'static str {
        FILTERS
            .iter()
            .find(|(_, a, _)| *a == arg)
            .map_or("", |(_, _, label)| *label)
    }
    /// The generated-tag prefixes that are on.
    fn prefixes(&self) -> Vec<&str> {
        let s = &self.source;
        [
            &s.location_tag_prefix,
            &s.role_tag_prefix,
            &s.status_tag_prefix,
            &s.tenant_tag_prefix,
        ]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect()
    }
    fn mode(&self, job: &job_logs::Model) -> &'static str {
        match Target::of_job(job) {
            Some(Target::NautobotSource { apply: true, .. }) => "apply",
            _ => "preview",
        }
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let s = sources::get(db, id.into_inner()).await?;
    let view = ShowPage {
        devices: sources::device_count(db, s.id).await?,
        filters: sources::filters_of(&s),
        jobs: recent_jobs(db, s.id).await?,
        configured: Connection::load(db, &auth.state.vault)
            .await?
            .is_configured(),
        ctx: auth.0,
        source: s,
    };
    page(&view)
}

#[derive(Template)]
#[template(path = "nautobot/delete.html")]
struct DeletePage {
    ctx: Ctx,
    source: source::Model,
    devices: u64,
}

pub async fn confirm_delete(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let source = sources::get(auth.db(), id.into_inner()).await?;
    let devices = sources::device_count(auth.db(), source.id).await?;
    page(&DeletePage {
        ctx: auth.0,
        source,
        devices,
    })
}

pub async fn delete(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let s = sources::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    auth.flash(
        FlashKind::Success,
        format!(
            "Source {} removed; its devices stay in the inventory.",
            s.name
        ),
    );
    Ok(redirect("/nautobot"))
}

async fn start(auth: &Ctx, id: i32, apply: bool) -> Result<HttpResponse, AppError> {
    let job = sync::start(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        id,
        apply,
        Some(auth.user.id),
    )
    .await?;
    Ok(redirect(&format!("/nautobot/jobs/{}", job.id)))
}

pub async fn preview(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    start(&auth, id.into_inner(), false).await
}

pub async fn apply(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    start(&auth, id.into_inner(), true).await
}

pub async fn map_platform(
    auth: Auth<ADMIN>,
    Form(input): Form<MappingInput>,
) -> Result<HttpResponse, AppError> {
    let result = sources::map_platform(auth.db(), &auth.audit_actor(), &input).await;
    match accepted(result)? {
        Ok(m) => {
            auth.flash(
                FlashKind::Success,
                format!(
                    "Nautobot platform {} maps to {}.",
                    m.nautobot_platform,
                    platforms::name(&m.platform)
                ),
            );
            Ok(redirect("/nautobot#platforms"))
        }
        Err(errors) => {
            let Auth(ctx) = auth;
            list_page(Auth(ctx), input, errors).await
        }
    }
}

pub async fn unmap_platform(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    sources::unmap_platform(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    auth.flash(FlashKind::Success, "Mapping removed.");
    Ok(redirect("/nautobot#platforms"))
}

/// The planned changes' filter, by its name in the address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ItemFilters {
    #[serde(deserialize_with = "lenient")]
    action: Option<SyncAction>,
}

#[derive(Template)]
#[template(path = "nautobot/items.html")]
struct ItemsPage {
    ctx: Ctx,
    job: job_logs::Model,
    source: Option<source::Model>,
    apply: bool,
    counts: Vec<(SyncAction, i64)>,
    rows: Vec<items::Model>,
    f: ItemFilters,
    pager: Pager,
}

impl ItemsPage {
    fn actions(&self) -> &'static [SyncAction] {
        SyncAction::ALL
    }
    fn count(&self, a: &SyncAction) -> i64 {
        self.counts
            .iter()
            .find(|(k, _)| k == a)
            .map_or(0, |(_, n)| *n)
    }
    fn chosen(&self, a: &SyncAction) -> bool {
        self.f.action == Some(*a)
    }
    /// A finished preview that found changes can be applied.
    fn can_apply(&self) -> bool {
        !self.apply
            && self.job.status == JobStatus::Success
            && self.source.is_some()
            && self.counts.iter().any(|(a, n)| a.changes() && *n > 0)
    }
    /// `field: old → new` for an update; the device's fields for an add.
    fn changes(&self, i: &items::Model) -> Vec<(String, String, String)> {
        let Some(detail) = &i.detail else {
            return Vec::new();
        };
        let show = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "(none)".into(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        if let Some(changes) = detail.get("changes").and_then(|c| c.as_object()) {
            return changes
                .iter()
                .map(|(k, v)| {
                    let pair = v.as_array();
                    let old = pair.and_then(|p| p.first()).map(show).unwrap_or_default();
                    let new = pair.and_then(|p| p.get(1)).map(show).unwrap_or_default();
                    (k.clone(), old, new)
                })
                .collect();
        }
        if i.action == SyncAction::Add
            && let Some(d) = detail.get("desired").and_then(|d| d.as_object())
        {
            return d
                .iter()
                .map(|(k, v)| (k.clone(), String::new(), show(v)))
                .collect();
        }
        Vec::new()
    }
}

pub async fn sync_results(
    auth: Auth<READ>,
    id: web::Path<i32>,
    list: ListQuery<ItemFilters>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = jobs::get(db, id.into_inner()).await?;
    let Some(Target::NautobotSource {
        id: source_id,
        apply,
    }) = Target::of_job(&job)
    else {
        return Err(AppError::from(Error::NotFound));
    };
    let source = match sources::get(db, source_id).await {
        Ok(s) => Some(s),
        Err(Error::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let result = sync::items_page(db, job.id, list.filters.action, list.paging).await?;
    let pager = list.pager(&result);
    let counts = sync::item_counts(db, job.id).await?;
    page(&ItemsPage {
        ctx: auth.0,
        job,
        source,
        apply,
        counts,
        rows: result.items,
        f: list.filters,
        pager,
    })
}

#[derive(Template)]
#[template(path = "nautobot/onboard.html")]
struct OnboardPage {
    ctx: Ctx,
    device: devices::Model,
    input: OnboardInput,
    choices: Choices,
    /// Why Nautobot's lists could not be read (the form still works with typed names).
    choices_problem: Option<String>,
    errors: FieldErrors,
    failure: Option<String>,
}

async fn onboard_page(
    auth: Auth<WRITE>,
    device: devices::Model,
    input: Option<OnboardInput>,
    errors: FieldErrors,
    failure: Option<String>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let (choices, choices_problem) = match Client::from_settings(db, &auth.state.vault).await {
        Ok(client) => match onboard::choices(&client).await {
            Ok(c) => (c, None),
            Err(e) => (Choices::default(), Some(e.to_string())),
        },
        Err(e) => (Choices::default(), Some(e.to_string())),
    };
    let input = match input {
        Some(i) => i,
        None => onboard::defaults(db, &device, &choices).await?,
    };
    let status_failed = !errors.is_empty() || failure.is_some();
    let view = OnboardPage {
        ctx: auth.0,
        device,
        input,
        choices,
        choices_problem,
        errors,
        failure,
    };
    if status_failed {
        again(&view)
    } else {
        page(&view)
    }
}

pub async fn onboard_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let device = crate::services::devices::get(auth.db(), id.into_inner()).await?;
    onboard_page(auth, device, None, FieldErrors::new(), None).await
}

pub async fn onboard_device(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<OnboardInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = onboard::onboard(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        id,
        &input,
    )
    .await;
    let device = crate::services::devices::get(auth.db(), id).await?;
    match result {
        Ok(nautobot_id) => {
            auth.flash(
                FlashKind::Success,
                format!("{} added to Nautobot (id {nautobot_id}).", device.hostname),
            );
            Ok(redirect(&format!("/devices/{id}")))
        }
        Err(Error::Invalid(errors)) => onboard_page(auth, device, Some(input), errors, None).await,
        Err(Error::Refused(m)) => {
            onboard_page(auth, device, Some(input), FieldErrors::new(), Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}
