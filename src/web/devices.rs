use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::form::{Form, accepted, again};
use super::list::{ListQuery, Pager, Sorter, lenient, trimmed};
use super::{page, page_or_block, redirect, render, safe_next};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::device::platforms::{self, Platform};
use crate::entity::{devices as device_entity, job_logs, job_results, tags as tag_entity};
use crate::services::credentials::{self, DeviceCredential};
use crate::services::device_access;
use crate::services::device_csv::{self, ImportPlan, ImportSummary};
use crate::services::devices::{
    self, BulkAction, DeviceFilter, DeviceInput, DeviceRow, DeviceSort, LastBackup,
};
use crate::services::query::Sort;
use crate::services::tags;
use crate::services::validation::{FieldErrors, ticked};
use crate::web::error::AppError;

routes! {
    GET r"/devices" => index,
    POST r"/devices" => create,
    GET r"/devices/new" => new_form,
    POST r"/devices/bulk" => bulk,
    GET r"/devices/export.csv" => export,
    GET r"/devices/import" => import_form,
    POST r"/devices/import" => import,
    GET r"/devices/{id:\d+}" => show,
    POST r"/devices/{id:\d+}" => update,
    GET r"/devices/{id:\d+}/edit" => edit_form,
    GET r"/devices/{id:\d+}/delete" => confirm_delete,
    POST r"/devices/{id:\d+}/delete" => delete,
    POST r"/devices/{id:\d+}/tags" => add_tag,
    POST r"/devices/{id:\d+}/tags/{tag_id:\d+}/remove" => remove_tag,
}

/// The device list's filters, by their names in its address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DeviceFilters {
    #[serde(deserialize_with = "trimmed")]
    q: String,
    /// A platform id; one the list does not know filters nothing.
    platform: String,
    #[serde(deserialize_with = "lenient")]
    tag: Option<i32>,
    #[serde(deserialize_with = "lenient")]
    enabled: Option<Enabled>,
    #[serde(deserialize_with = "lenient")]
    status: Option<LastBackup>,
}

/// The "enabled" filter's choices, by the words the address uses.
#[derive(Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enabled {
    Yes,
    No,
}

type DeviceList = ListQuery<DeviceFilters, Sort<DeviceSort>>;

impl DeviceFilters {
    fn device_filter(&self, sort: Sort<DeviceSort>) -> DeviceFilter {
        DeviceFilter {
            text: (!self.q.is_empty()).then(|| self.q.clone()),
            platform: platforms::find(self.platform.trim()).map(|p| p.id.to_string()),
            tag_id: self.tag,
            enabled: self.enabled.map(|e| match e {
                Enabled::Yes => true,
                Enabled::No => false,
            }),
            status: self.status,
            sort,
        }
    }
    /// No filter chosen: an empty list then means there are no devices at all.
    fn is_unfiltered(&self) -> bool {
        self.q.is_empty()
            && self.platform.is_empty()
            && self.tag.is_none()
            && self.enabled.is_none()
            && self.status.is_none()
    }
}

#[derive(Template)]
#[template(path = "devices/list.html", blocks = ["table"])]
struct ListPage {
    ctx: Ctx,
    rows: Vec<DeviceRow>,
    f: DeviceFilters,
    all_tags: crate::web::tag_cache::Tags,
    sorter: Sorter<DeviceSort>,
    pager: Pager,
    /// The current list address, so bulk actions come back to the same view.
    here: String,
    /// The export of the rows the filters select (all pages).
    export_href: String,
}

impl ListPage {
    fn platforms(&self) -> &'static [Platform] {
        platforms::platforms()
    }
    fn statuses(&self) -> [LastBackup; 3] {
        LastBackup::CHOICES
    }
    fn platform_name<'a>(&self, id: &'a str) -> &'a str {
        platforms::name(id)
    }
    fn tag_selected(&self, id: &i32) -> bool {
        self.f.tag == Some(*id)
    }
}

pub async fn index(auth: Auth<READ>, list: DeviceList) -> Result<HttpResponse, AppError> {
    let filter = list.filters.device_filter(list.sort);
    let all_tags = auth.state.tags.get(auth.db()).await?;
    let result = devices::list(auth.db(), &filter, list.paging, &all_tags).await?;
    let sorter = list.sorter();
    let pager = list.pager(&result);
    let here = pager.href(&result.paging.page());
    let export_href = list.filters_link("/devices/export.csv");
    let fragment = auth.wants_fragment();
    let view = ListPage {
        ctx: auth.0,
        rows: result.items,
        f: list.filters,
        all_tags,
        sorter,
        pager,
        here,
        export_href,
    };
    page_or_block(fragment, StatusCode::OK, &view, ListPage::as_table)
}

#[derive(Template)]
#[template(path = "devices/form.html")]
struct FormPage {
    ctx: Ctx,
    device: Option<device_entity::Model>,
    input: DeviceInput,
    errors: FieldErrors,
}

impl FormPage {
    fn platforms(&self) -> &'static [Platform] {
        platforms::platforms()
    }
    fn new(ctx: Ctx, device: Option<device_entity::Model>) -> Self {
        let input = device
            .as_ref()
            .map_or_else(DeviceInput::for_new, DeviceInput::of);
        Self {
            ctx,
            device,
            input,
            errors: FieldErrors::new(),
        }
    }
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage::new(auth.0, None))
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(input): Form<DeviceInput>,
) -> Result<HttpResponse, AppError> {
    match accepted(devices::create(auth.db(), &auth.audit_actor(), &input).await)? {
        Ok(device) => {
            auth.flash(
                FlashKind::Success,
                format!("Device {} added.", device.hostname),
            );
            Ok(redirect(&format!("/devices/{}", device.id)))
        }
        Err(errors) => again(&FormPage {
            ctx: auth.0,
            device: None,
            input,
            errors,
        }),
    }
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    page(&FormPage::new(auth.0, Some(device)))
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<DeviceInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    match accepted(devices::update(auth.db(), &auth.audit_actor(), id, &input).await)? {
        Ok(device) => {
            auth.flash(
                FlashKind::Success,
                format!("Device {} saved.", device.hostname),
            );
            Ok(redirect(&format!("/devices/{id}")))
        }
        Err(errors) => {
            let device = Some(devices::get(auth.db(), id).await?);
            again(&FormPage {
                ctx: auth.0,
                device,
                input,
                errors,
            })
        }
    }
}

#[derive(Template)]
#[template(path = "devices/show.html")]
struct ShowPage {
    ctx: Ctx,
    device: device_entity::Model,
    tags: Vec<tag_entity::Model>,
    other_tags: Vec<tag_entity::Model>,
    backups: u64,
    creds: Vec<DeviceCredential>,
    /// The recent jobs that included this device, with its result in each.
    jobs: Vec<(job_results::Model, Option<job_logs::Model>)>,
    /// The newest stored versions, for the "Backups" panel.
    recent_backups: Vec<crate::services::backups::VersionRow>,
}

impl ShowPage {
    fn platform_name(&self) -> &str {
        platforms::name(&self.device.device_type)
    }

    fn host_key(&self) -> Option<String> {
        self.device
            .ssh_host_key
            .as_deref()
            .map(device_access::fingerprint)
    }

    fn pending_host_key(&self) -> Option<String> {
        self.device
            .ssh_host_key_pending
            .as_deref()
            .map(device_access::fingerprint)
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let tags = tags::for_devices(auth.db(), &[device.id])
        .await?
        .remove(&device.id)
        .unwrap_or_default();
    let other_tags = tags::all(auth.db())
        .await?
        .into_iter()
        .filter(|t| !tags.iter().any(|x| x.id == t.id))
        .collect();
    let backups = devices::backup_count(auth.db(), device.id).await?;
    let viewer = auth.credential_viewer();
    let creds = credentials::for_device(auth.db(), Some(viewer), &device).await?;
    let jobs = crate::services::jobs::for_device(auth.db(), device.id, 10).await?;
    let recent_backups = crate::services::backups::recent(auth.db(), device.id, 5).await?;
    page(&ShowPage {
        ctx: auth.0,
        device,
        tags,
        other_tags,
        backups,
        creds,
        jobs,
        recent_backups,
    })
}

#[derive(Deserialize)]
pub struct TagForm {
    tag_id: String,
}

pub async fn add_tag(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let tag_id = tags::chosen(&form.tag_id)?;
    if let Err(errors) =
        accepted(devices::add_tag(auth.db(), &auth.audit_actor(), id, tag_id).await)?
    {
        auth.flash(FlashKind::Error, errors.messages());
    }
    Ok(redirect(&format!("/devices/{id}")))
}

pub async fn remove_tag(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, tag_id) = path.into_inner();
    devices::remove_tag(auth.db(), &auth.audit_actor(), id, tag_id).await?;
    Ok(redirect(&format!("/devices/{id}")))
}

#[derive(Template)]
#[template(path = "devices/delete.html")]
struct DeletePage {
    ctx: Ctx,
    device: device_entity::Model,
    backups: u64,
}

pub async fn confirm_delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let backups = devices::backup_count(auth.db(), device.id).await?;
    page(&DeletePage {
        ctx: auth.0,
        device,
        backups,
    })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default, deserialize_with = "ticked")]
    delete_backups: bool,
}

pub async fn delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
    Form(form): Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let device = devices::delete(
        auth.db(),
        &auth.audit_actor(),
        id.into_inner(),
        form.delete_backups,
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Device {} deleted.", device.hostname),
    );
    Ok(redirect("/devices"))
}

/// The device list's selection form: the ticked rows and what to do with them. "Back up
/// selected" posts the same form to `jobs::backup_selected`.
#[derive(Deserialize)]
pub struct SelectionForm {
    /// None ticked: no field at all.
    #[serde(default)]
    pub ids: Vec<i32>,
    pub back: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    tag_id: String,
    #[serde(default, deserialize_with = "ticked")]
    confirm_delete: bool,
}

pub async fn bulk(
    auth: Auth<WRITE>,
    Form(form): Form<SelectionForm>,
) -> Result<HttpResponse, AppError> {
    let ids = form.ids;
    let back = safe_next(&form.back).to_string();
    let tag_id = form.tag_id.parse::<i32>().ok();
    let action = match (form.action.as_str(), tag_id) {
        ("add_tag", Some(t)) => BulkAction::AddTag(t),
        ("remove_tag", Some(t)) => BulkAction::RemoveTag(t),
        ("add_tag" | "remove_tag", None) => {
            return bulk_refused(&auth, &back, "Pick the tag to add or remove.");
        }
        ("enable", _) => BulkAction::Enable,
        ("disable", _) => BulkAction::Disable,
        ("delete", _) => BulkAction::Delete,
        _ => return bulk_refused(&auth, &back, "Pick an action."),
    };
    if action == BulkAction::Delete {
        if !auth.can(DELETE) {
            return Err(AppError::Forbidden {
                missing: auth.perms.missing(DELETE),
            });
        }
        if !form.confirm_delete {
            return bulk_refused(
                &auth,
                &back,
                "Tick the confirmation box to delete the selected devices.",
            );
        }
    }
    if ids.is_empty() {
        return bulk_refused(&auth, &back, "Select at least one device.");
    }
    let changed = match accepted(devices::bulk(auth.db(), &auth.audit_actor(), &ids, action).await)?
    {
        Ok(changed) => changed,
        Err(errors) => return bulk_refused(&auth, &back, &errors.messages()),
    };
    auth.flash(
        FlashKind::Success,
        format!("{changed} of {} selected devices changed.", ids.len()),
    );
    Ok(redirect(&back))
}

/// Back to the list with the reason shown above it.
fn bulk_refused(auth: &Auth<WRITE>, back: &str, message: &str) -> Result<HttpResponse, AppError> {
    auth.flash(FlashKind::Error, message);
    Ok(redirect(back))
}

pub async fn export(auth: Auth<READ>, list: DeviceList) -> Result<HttpResponse, AppError> {
    let csv = device_csv::export(auth.db(), &list.filters.device_filter(list.sort)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/csv; charset=utf-8"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"devices.csv\"",
        ))
        .body(csv))
}

#[derive(Template)]
#[template(path = "devices/import.html")]
struct ImportPage {
    ctx: Ctx,
}

pub async fn import_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&ImportPage { ctx: auth.0 })
}

#[derive(Template)]
#[template(path = "devices/import_result.html")]
struct ImportResult {
    plan: Option<ImportPlan>,
    summary: Option<ImportSummary>,
    file_error: Option<String>,
    applied: bool,
}

impl ImportResult {
    fn error(message: String) -> Self {
        Self {
            plan: None,
            summary: None,
            file_error: Some(message),
            applied: false,
        }
    }
}

/// The import form's fields other than the file ("preview" or "apply") are short.
const MAX_IMPORT_FIELD: usize = 64;

/// The uploaded file and what to do with it, read from a multipart body with a size cap.
async fn read_upload(mut payload: Multipart) -> Result<(Vec<u8>, String), ImportResult> {
    let (mut file, mut intent) = (None, String::new());
    while let Some(item) = payload.next().await {
        let mut field =
            item.map_err(|e| ImportResult::error(format!("The upload could not be read: {e}")))?;
        let is_file = field.name() == Some("file");
        let limit = if is_file {
            device_csv::MAX_IMPORT_BYTES
        } else {
            MAX_IMPORT_FIELD
        };
        let bytes = match field.bytes(limit).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                return Err(ImportResult::error(format!(
                    "The upload could not be read: {e}"
                )));
            }
            Err(_) if is_file => {
                return Err(ImportResult::error(format!(
                    "The file is larger than {} MB; split it into smaller files.",
                    device_csv::MAX_IMPORT_BYTES / 1024 / 1024
                )));
            }
            Err(_) => {
                let name: String = field
                    .name()
                    .unwrap_or("(unnamed)")
                    .chars()
                    .take(40)
                    .collect();
                return Err(ImportResult::error(format!(
                    "The form field {name:?} is longer than {MAX_IMPORT_FIELD} bytes; only the file may be large."
                )));
            }
        };
        match field.name() {
            Some("file") => file = Some(bytes.to_vec()),
            Some("intent") => intent = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    match file {
        Some(f) if !f.is_empty() => Ok((f, intent)),
        _ => Err(ImportResult::error("Choose a CSV file to import.".into())),
    }
}

pub async fn import(auth: Auth<WRITE>, payload: Multipart) -> Result<HttpResponse, AppError> {
    let (data, intent) = match read_upload(payload).await {
        Ok(upload) => upload,
        Err(view) => return again(&view),
    };
    let outcome = if intent == "apply" {
        device_csv::apply(auth.db(), &auth.audit_actor(), &data)
            .await
            .map(|(plan, summary)| (plan, summary, true))
    } else {
        device_csv::plan(auth.db(), &data)
            .await
            .map(|plan| (plan, None, false))
    };
    // An import may have created tags.
    auth.state.tags.invalidate();
    match accepted(outcome)? {
        Ok((plan, summary, applied)) => {
            let status = if plan.is_clean() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(
                status,
                &ImportResult {
                    plan: Some(plan),
                    summary,
                    file_error: None,
                    applied,
                },
            )
        }
        Err(errors) => again(&ImportResult::error(errors.messages())),
    }
}
