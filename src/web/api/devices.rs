//! `/api/v1/devices`: the inventory, with the device list's filters and order.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, ListOf, ListParams, Params, created, ok};
use crate::auth::Auth;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::device::platforms;
use crate::entity::{devices as device_entity, tags as tag_entity};
use crate::services::devices::{self, DeviceFilter, DeviceInput, DeviceSort, LastBackup};
use crate::services::query::{Direction, Sort, SortColumn};
use crate::vocabulary::ResultStatus;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/devices" => list,
    POST r"/api/v1/devices" => create,
    GET r"/api/v1/devices/{id:\d+}" => show,
    PATCH r"/api/v1/devices/{id:\d+}" => update,
    DELETE r"/api/v1/devices/{id:\d+}" => delete,
}

/// A device as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Device {
    pub id: i32,
    pub hostname: String,
    pub ip_address: String,
    pub port: i32,
    /// The platform id (`cisco_ios`, `juniper_junos`, ...).
    pub device_type: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub last_backup_status: Option<ResultStatus>,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub tags: Vec<TagRef>,
}

/// A device's tag.
#[derive(Serialize, ToSchema)]
pub struct TagRef {
    pub id: i32,
    pub name: String,
}

impl TagRef {
    fn of(tag: &tag_entity::Model) -> Self {
        Self {
            id: tag.id,
            name: tag.name.clone(),
        }
    }
}

/// A device with what only its own page shows: facts and the last error.
#[derive(Serialize, ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: Device,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub os_version: Option<String>,
    pub last_backup_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DeviceDetail {
    fn of(device: device_entity::Model, tags: &[tag_entity::Model]) -> Self {
        Self {
            device: Device {
                id: device.id,
                hostname: device.hostname,
                ip_address: device.ip_address,
                port: device.port,
                device_type: device.device_type,
                description: device.description,
                enabled: device.enabled,
                last_backup_status: device.last_backup_status,
                last_backup_at: device.last_backup_at,
                tags: tags.iter().map(TagRef::of).collect(),
            },
            model: device.model,
            serial_number: device.serial_number,
            os_version: device.os_version,
            last_backup_error: device.last_backup_error,
            created_at: device.created_at,
            updated_at: device.updated_at,
        }
    }
}

/// The device list's filters and order.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// Text in the host name, address or description.
    q: Option<String>,
    /// A platform id.
    platform: Option<String>,
    /// A tag id.
    tag: Option<i32>,
    enabled: Option<bool>,
    /// The last backup's outcome: `success`, `failed` or `never`.
    status: Option<String>,
    /// `hostname` (default), `ip_address`, `device_type`, `last_backup_at` or `created_at`.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    dir: Option<String>,
}

impl DeviceQuery {
    fn filter(&self) -> Result<DeviceFilter, AppError> {
        let bad = |name: &str, value: &str, allowed: String| {
            AppError::BadRequest(format!(
                "{name} {:?} is not one of: {allowed}",
                value.chars().take(40).collect::<String>()
            ))
        };
        let platform = match self.platform.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(
                platforms::find(p)
                    .ok_or_else(|| {
                        bad(
                            "platform",
                            p,
                            platforms::platforms()
                                .iter()
                                .map(|p| p.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        )
                    })?
                    .id
                    .to_string(),
            ),
        };
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(s) => Some(LastBackup::parse(s).ok_or_else(|| {
                bad(
                    "status",
                    s,
                    LastBackup::CHOICES.map(LastBackup::as_str).join(", "),
                )
            })?),
        };
        let column = match self.sort.as_deref() {
            None | Some("") => DeviceSort::DEFAULT,
            Some(s) => DeviceSort::parse(s).ok_or_else(|| {
                bad(
                    "sort",
                    s,
                    DeviceSort::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })?,
        };
        let direction = match self.dir.as_deref() {
            None | Some("") => Direction::Ascending,
            Some(d) => Direction::parse(d).ok_or_else(|| bad("dir", d, "asc, desc".into()))?,
        };
        Ok(DeviceFilter {
            text: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_string),
            platform,
            tag_id: self.tag,
            enabled: self.enabled,
            status,
            sort: Sort { column, direction },
        })
    }
}

/// List devices.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    params(DeviceQuery, super::docs::Window),
    responses((status = 200, body = ListOf<Device>), (status = 400, body = super::ErrorBody)))]
pub async fn list(
    auth: Auth<READ>,
    params: ListParams<DeviceQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = params.filters.filter()?;
    let all_tags = auth.state.tags.get(auth.db()).await?;
    let page = devices::list(auth.db(), &filter, params.paging, &all_tags).await?;
    Ok(ok(&params.envelope(page, |row| Device {
        id: row.device.id,
        hostname: row.device.hostname,
        ip_address: row.device.ip_address,
        port: row.device.port,
        device_type: row.device.device_type,
        description: row.device.description,
        enabled: row.device.enabled,
        last_backup_status: row.device.last_backup_status,
        last_backup_at: row.device.last_backup_at,
        tags: row.tags.iter().map(|t| TagRef::of(t)).collect(),
    })))
}

async fn detail(
    auth: &crate::auth::Ctx,
    device: device_entity::Model,
) -> Result<DeviceDetail, AppError> {
    let mut tags = crate::services::tags::for_devices(auth.db(), &[device.id]).await?;
    let tags = tags.remove(&device.id).unwrap_or_default();
    Ok(DeviceDetail::of(device, &tags))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices",
    params(("id" = i32, Path, description = "Device id")),
    responses((status = 200, body = DeviceDetail), (status = 404, body = super::ErrorBody)))]
pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    Ok(ok(&detail(&auth, device).await?))
}

/// A device to add, or the fields of one to change (absent ones keep their value).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    #[schema(example = "core-sw-01")]
    hostname: Option<String>,
    #[schema(example = "10.0.0.1")]
    ip_address: Option<String>,
    /// SSH port; 22 when a new device leaves it out.
    port: Option<u16>,
    /// Platform id; `cisco_ios` when a new device leaves it out.
    device_type: Option<String>,
    description: Option<String>,
    /// On when a new device leaves it out.
    enabled: Option<bool>,
}

impl DeviceBody {
    /// This body over `base`: the service validates the result as it does a form.
    fn over(self, mut base: DeviceInput) -> DeviceInput {
        if let Some(v) = self.hostname {
            base.hostname = v;
        }
        if let Some(v) = self.ip_address {
            base.ip_address = v;
        }
        if let Some(v) = self.port {
            base.port = v.to_string();
        }
        if let Some(v) = self.device_type {
            base.device_type = v;
        }
        if let Some(v) = self.description {
            base.description = v;
        }
        if let Some(v) = self.enabled {
            base.enabled = v;
        }
        base
    }
}

/// Add a device (tag rules apply to it as to one added on the page).
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body = DeviceBody,
    responses((status = 201, body = DeviceDetail), (status = 422, body = super::ErrorBody)))]
pub async fn create(auth: Auth<WRITE>, body: Body<DeviceBody>) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let input = body.over(DeviceInput::for_new());
    let device = devices::create(auth.db(), &auth.audit_actor(), &input).await?;
    Ok(created(&detail(&auth, device).await?))
}

/// Change a device's fields.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", request_body = DeviceBody,
    params(("id" = i32, Path, description = "Device id")),
    responses((status = 200, body = DeviceDetail), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<DeviceBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let id = id.into_inner();
    let current = devices::get(auth.db(), id).await?;
    let input = body.over(DeviceInput::of(&current));
    let device = devices::update(auth.db(), &auth.audit_actor(), id, &input).await?;
    Ok(ok(&detail(&auth, device).await?))
}

/// What to delete with a device.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete its stored configurations (kept, readable, by default).
    with_backups: bool,
}

/// Delete a device.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices",
    params(("id" = i32, Path, description = "Device id"), DeleteQuery),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
    Params(q): Params<DeleteQuery>,
) -> Result<HttpResponse, AppError> {
    devices::delete(
        auth.db(),
        &auth.audit_actor(),
        id.into_inner(),
        q.with_backups,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
