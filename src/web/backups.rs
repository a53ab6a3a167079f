//! A device's stored configuration versions: history, one version (view and download), and
//! the differences between two versions. Reading needs `read`; secrets are masked at display
//! time unless the viewer may see them (`services::backups::reveals_secrets`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::list::{ListQuery, NoFilters, Pager};
use super::{page, page_or_block};
use crate::auth::permissions::{ADMIN, READ};
use crate::auth::{Auth, Ctx};
use crate::device::platforms;
use crate::entity::{backups as backup_entity, devices as device_entity};
use crate::services::audit::{self, Event};
use crate::services::backups::{self, VersionRow};
use crate::services::config_diff::{LineDiff, Row, SideRow};
use crate::services::devices;
use crate::web::diff_view::{DiffQuery, DiffView};
use crate::web::error::AppError;

routes! {
    GET r"/devices/{id:\d+}/backups" => history,
    GET r"/devices/{id:\d+}/backups/diff" => diff,
    GET r"/devices/{id:\d+}/backups/{version:\d+}" => show,
    GET r"/devices/{id:\d+}/backups/{version:\d+}/download" => download,
    GET r"/devices/{id:\d+}/backups/{version:\d+}/changes" => changes,
}

#[derive(Template)]
#[template(path = "backups/history.html", blocks = ["table"])]
struct HistoryPage {
    ctx: Ctx,
    device: device_entity::Model,
    rows: Vec<VersionRow>,
    pager: Pager,
}

impl HistoryPage {
    /// The compare form starts on the newest two versions of the page.
    fn checked_as_to(&self, version: &i32) -> bool {
        self.rows.first().map(|r| r.version) == Some(*version)
    }
    fn checked_as_from(&self, version: &i32) -> bool {
        self.rows.get(1).map(|r| r.version) == Some(*version)
    }
}

pub async fn history(
    auth: Auth<READ>,
    id: web::Path<i32>,
    list: ListQuery<NoFilters>,
) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let result = backups::history(auth.db(), device.id, list.paging).await?;
    let pager = list.pager(&result);
    let fragment = auth.wants_fragment();
    let view = HistoryPage {
        ctx: auth.0,
        device,
        rows: result.items,
        pager,
    };
    page_or_block(fragment, StatusCode::OK, &view, HistoryPage::as_table)
}

/// How a version's secrets are shown on a page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secrets {
    /// Masked before storing: nobody can see them.
    StoredMasked,
    /// Stored, masked for this viewer.
    MaskedForDisplay,
    /// Stored and shown to this administrator.
    Shown,
}

impl Secrets {
    fn of(backup: &backup_entity::Model, reveal: bool) -> Self {
        match (backup.secrets_masked, reveal) {
            (true, _) => Secrets::StoredMasked,
            (false, false) => Secrets::MaskedForDisplay,
            (false, true) => Secrets::Shown,
        }
    }
}

/// Whether this request may see secrets (an administrator, and the setting allows it).
async fn reveal(auth: &Ctx) -> Result<bool, AppError> {
    Ok(backups::reveals_secrets(auth.db(), auth.can(ADMIN)).await?)
}

/// The texts of `versions` of `device` as this request may see them (masked unless it may see
/// secrets), recording secrets shown: the one way every page and API reads stored content.
pub(crate) async fn visible_texts(
    auth: &Ctx,
    device: &device_entity::Model,
    versions: &[&backup_entity::Model],
    action: &str,
) -> Result<Vec<String>, AppError> {
    let reveal = reveal(auth).await?;
    audit_shown(auth, reveal, device, versions, action).await?;
    Ok(versions
        .iter()
        .map(|b| {
            backups::visible_content(&device.device_type, &b.content, b.secrets_masked, reveal)
                .into_owned()
        })
        .collect())
}

/// Showing stored secrets to an administrator is recorded, as any access to secrets is.
async fn audit_shown(
    auth: &Ctx,
    reveal: bool,
    device: &device_entity::Model,
    versions: &[&backup_entity::Model],
    action: &str,
) -> Result<(), AppError> {
    for b in versions
        .iter()
        .filter(|b| Secrets::of(b, reveal) == Secrets::Shown)
    {
        audit::record(
            auth.db(),
            &auth.audit_actor(),
            Event::security("backup.secrets_shown")
                .target("backup", b.id)
                .detail("device", device.hostname.clone())
                .detail("version", b.version)
                .detail("action", action),
        )
        .await?;
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "backups/show.html")]
struct VersionPage<'a> {
    ctx: Ctx,
    device: device_entity::Model,
    backup: &'a backup_entity::Model,
    lines: Vec<&'a str>,
    previous: Option<i32>,
    secrets: Secrets,
}

impl VersionPage<'_> {
    fn stored_masked(&self) -> bool {
        self.secrets == Secrets::StoredMasked
    }
    fn masked_for_display(&self) -> bool {
        self.secrets == Secrets::MaskedForDisplay
    }
    fn secrets_shown(&self) -> bool {
        self.secrets == Secrets::Shown
    }
    fn platform_name(&self) -> &str {
        platforms::name(&self.device.device_type)
    }
}

pub async fn show(auth: Auth<READ>, path: web::Path<(i32, i32)>) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let device = devices::get(auth.db(), id).await?;
    let backup = backups::get_version(auth.db(), device.id, version).await?;
    let previous = backups::previous_number(auth.db(), device.id, version).await?;
    let reveal = reveal(&auth).await?;
    audit_shown(&auth, reveal, &device, &[&backup], "view").await?;
    let text = backups::visible_content(
        &device.device_type,
        &backup.content,
        backup.secrets_masked,
        reveal,
    );
    page(&VersionPage {
        secrets: Secrets::of(&backup, reveal),
        lines: text.lines().collect(),
        ctx: auth.0,
        device,
        backup: &backup,
        previous,
    })
}

pub async fn download(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let device = devices::get(auth.db(), id).await?;
    let backup = backups::get_version(auth.db(), device.id, version).await?;
    let reveal = reveal(&auth).await?;
    audit_shown(&auth, reveal, &device, &[&backup], "download").await?;
    let body = backups::visible_content(
        &device.device_type,
        &backup.content,
        backup.secrets_masked,
        reveal,
    )
    .into_owned();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                backups::download_name(&backup.hostname, backup.version)
            ),
        ))
        // A configuration is not for shared caches, even masked.
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

/// A version number from the query string, with a message that says what is wrong.
fn version_param(which: &str, value: Option<&str>) -> Result<i32, AppError> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(AppError::BadRequest(format!(
            "Choose the {which} version to compare."
        )));
    }
    value
        .parse::<i32>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "The {which} version must be a version number (1, 2, …), not \"{value}\"."
            ))
        })
}

#[derive(Template)]
#[template(path = "backups/diff.html")]
struct DiffPage<'a> {
    ctx: Ctx,
    device: device_entity::Model,
    old: Option<&'a backup_entity::Model>,
    new: &'a backup_entity::Model,
    diff: DiffView<'a>,
    only_secrets: bool,
    secrets_shown: bool,
    /// The address compares one version with its predecessor (`/changes`).
    changes: bool,
}

/// Renders the difference between two versions of one device (old may be absent: the first
/// version has nothing before it).
#[allow(clippy::too_many_arguments)]
async fn diff_page(
    auth: Auth<READ>,
    device: device_entity::Model,
    old: Option<backup_entity::Model>,
    new: backup_entity::Model,
    q: &DiffQuery,
    path: String,
    keep: Vec<(&'static str, String)>,
    changes: bool,
) -> Result<HttpResponse, AppError> {
    let reveal = reveal(&auth).await?;
    let shown: Vec<&backup_entity::Model> = old.iter().chain([&new]).collect();
    audit_shown(&auth, reveal, &device, &shown, "diff").await?;
    let visible = |b: &backup_entity::Model| {
        backups::visible_content(&device.device_type, &b.content, b.secrets_masked, reveal)
            .into_owned()
    };
    let old_text = old.as_ref().map(visible);
    let new_text = visible(&new);
    let only_secrets = old
        .as_ref()
        .is_some_and(|o| backups::only_secrets_changed(&device.device_type, o, &new));
    let secrets_shown = shown
        .iter()
        .any(|b| Secrets::of(b, reveal) == Secrets::Shown);
    let diff = old_text
        .as_deref()
        .map(|old_text| LineDiff::new(old_text, &new_text));
    let labels = (
        old.as_ref()
            .map(|o| format!("v{}", o.version))
            .unwrap_or_default(),
        format!("v{}", new.version),
    );
    let diff = DiffView::new(diff.as_ref(), q, path, keep, labels);
    page(&DiffPage {
        ctx: auth.0,
        old: old.as_ref(),
        new: &new,
        diff,
        only_secrets,
        secrets_shown,
        changes,
        device,
    })
}

/// What changed in a version since the one before it.
pub async fn changes(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let device = devices::get(auth.db(), id).await?;
    let new = backups::get_version(auth.db(), device.id, version).await?;
    let old = backups::previous(auth.db(), device.id, version).await?;
    let path = format!("/devices/{}/backups/{}/changes", device.id, version);
    diff_page(auth, device, old, new, &query, path, Vec::new(), true).await
}

/// Any two versions of a device.
pub async fn diff(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let from = version_param("first", query.from.as_deref())?;
    let to = version_param("second", query.to.as_deref())?;
    if from == to {
        return Err(AppError::BadRequest(format!(
            "Both sides are version {from}: choose two different versions to compare."
        )));
    }
    let load = async |v: i32| {
        backups::find_version(auth.db(), device.id, v)
            .await?
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{} has no version {v}: see its version history for the versions stored.",
                    device.hostname
                ))
            })
    };
    let old = load(from).await?;
    let new = load(to).await?;
    let path = format!("/devices/{}/backups/diff", device.id);
    let keep = vec![("from", from.to_string()), ("to", to.to_string())];
    diff_page(auth, device, Some(old), new, &query, path, keep, false).await
}

/// A size in a readable unit, for the version tables.
pub fn human_size(bytes: &i32) -> String {
    let b = f64::from(*bytes);
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    }
}
