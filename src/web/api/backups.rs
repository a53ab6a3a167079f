//! `/api/v1/devices/{id}/backups`: a device's stored configuration versions, one version's
//! text (masked exactly as its page masks it), and the difference between two.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ListOf, ListParams, NoParams, Params, ok};
use crate::auth::Auth;
use crate::auth::permissions::READ;
use crate::services::backups::{self, VersionRow};
use crate::services::config_diff::{self, Hunk};
use crate::services::devices;
use crate::web::backups::visible_texts;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/devices/{id:\d+}/backups" => list,
    GET r"/api/v1/devices/{id:\d+}/backups/diff" => diff,
    GET r"/api/v1/devices/{id:\d+}/backups/{version:\d+}" => show,
    GET r"/api/v1/devices/{id:\d+}/backups/{version:\d+}/content" => content,
}

/// A stored version (its text is at `…/content`).
#[derive(Serialize, ToSchema)]
pub struct Version {
    pub id: i32,
    /// Numbered from 1 per device.
    pub version: i32,
    /// When the device first had this configuration.
    pub first_seen_at: DateTime<Utc>,
    /// The last backup that found it unchanged.
    pub last_seen_at: DateTime<Utc>,
    /// Bytes.
    pub size: i32,
    /// Lines added or removed since the version before.
    pub changed_lines: i32,
}

impl From<VersionRow> for Version {
    fn from(v: VersionRow) -> Self {
        Self {
            id: v.id,
            version: v.version,
            first_seen_at: v.first_seen_at,
            last_seen_at: v.last_seen_at,
            size: v.size,
            changed_lines: v.changed_lines,
        }
    }
}

/// A device's versions, newest first.
#[utoipa::path(get, path = "/api/v1/devices/{id}/backups", tag = "backups",
    params(("id" = i32, Path, description = "Device id"), super::docs::Window),
    responses((status = 200, body = ListOf<Version>), (status = 404, body = super::ErrorBody)))]
pub async fn list(
    auth: Auth<READ>,
    id: web::Path<i32>,
    params: ListParams<NoParams>,
) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let page = backups::history(auth.db(), device.id, params.paging).await?;
    Ok(ok(&params.envelope(page, Version::from)))
}

/// One version's facts.
#[utoipa::path(get, path = "/api/v1/devices/{id}/backups/{version}", tag = "backups",
    params(("id" = i32, Path, description = "Device id"),
        ("version" = i32, Path, description = "Version number")),
    responses((status = 200, body = Version), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let b = backups::get_version(auth.db(), id, version).await?;
    Ok(ok(&Version {
        id: b.id,
        version: b.version,
        first_seen_at: b.first_seen_at,
        last_seen_at: b.last_seen_at,
        size: b.size,
        changed_lines: b.changed_lines,
    }))
}

/// One version's text, as `text/plain`: secrets masked unless the caller may see them (an
/// administrator, when the setting allows; shown secrets are audited).
#[utoipa::path(get, path = "/api/v1/devices/{id}/backups/{version}/content", tag = "backups",
    params(("id" = i32, Path, description = "Device id"),
        ("version" = i32, Path, description = "Version number")),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, body = super::ErrorBody)))]
pub async fn content(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let device = devices::get(auth.db(), id).await?;
    let backup = backups::get_version(auth.db(), device.id, version).await?;
    let mut texts = visible_texts(&auth, &device, &[&backup], "api").await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(texts.pop().unwrap_or_default()))
}

/// The two versions to compare and how.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older side's version number.
    from: Option<i32>,
    /// The newer side's version number.
    to: Option<i32>,
    /// `unified` (default: unified diff text) or `json` (hunks).
    format: Option<String>,
    /// Lines of context around each change (default 3, at most 1000).
    context: Option<usize>,
}

/// A difference as JSON hunks.
#[derive(Serialize, ToSchema)]
pub struct Diff {
    pub from: i32,
    pub to: i32,
    pub added: usize,
    pub removed: usize,
    pub hunks: Vec<Hunk>,
}

/// The difference between two versions: unified diff text, or JSON hunks with `format=json`.
#[utoipa::path(get, path = "/api/v1/devices/{id}/backups/diff", tag = "backups",
    params(("id" = i32, Path, description = "Device id"), DiffQuery),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 200, content_type = "application/json", body = Diff),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn diff(
    auth: Auth<READ>,
    id: web::Path<i32>,
    Params(q): Params<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    let json = match q.format.as_deref() {
        None | Some("unified") => false,
        Some("json") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "format {other:?} is not one of: unified, json"
            )));
        }
    };
    let context = q.context.unwrap_or(3);
    if context > 1000 {
        return Err(AppError::BadRequest("context must be at most 1000".into()));
    }
    let (Some(from), Some(to)) = (q.from, q.to) else {
        return Err(AppError::BadRequest(
            "give the two version numbers as from and to".into(),
        ));
    };
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let old = backups::get_version(auth.db(), device.id, from).await?;
    let new = backups::get_version(auth.db(), device.id, to).await?;
    let texts = visible_texts(&auth, &device, &[&old, &new], "api diff").await?;
    let (Some(old_text), Some(new_text)) = (texts.first(), texts.get(1)) else {
        return Err(AppError::internal("a version's text went missing"));
    };
    if json {
        let hunks = config_diff::hunks(old_text, new_text, context);
        let count = |op: &str| {
            hunks
                .iter()
                .flat_map(|h| &h.lines)
                .filter(|l| l.op == op)
                .count()
        };
        return Ok(ok(&Diff {
            from,
            to,
            added: count("+"),
            removed: count("-"),
            hunks,
        }));
    }
    let name = |v: i32| format!("{}@{v}", device.hostname);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(config_diff::unified_text(
            old_text,
            new_text,
            &name(from),
            &name(to),
            context,
        )))
}
