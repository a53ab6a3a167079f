//! `/api/v1/credentials`: the vault's credentials as metadata. Secrets can be written (set,
//! replaced, cleared) and are never read back: a credential says only whether each is stored.
//! Each user sees the general credentials and their own private ones, as on the pages.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, ListOf, ListParams, NoParams, Params, created, ok};
use crate::auth::Auth;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::services::credentials::{self, CredentialInput, CredentialView, DeviceCredential};
use crate::services::devices;
use crate::vocabulary::CredentialKind;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/credentials" => list,
    POST r"/api/v1/credentials" => create,
    GET r"/api/v1/credentials/{id:\d+}" => show,
    PATCH r"/api/v1/credentials/{id:\d+}" => update,
    DELETE r"/api/v1/credentials/{id:\d+}" => delete,
    GET r"/api/v1/credentials/{id:\d+}/tags" => tag_links,
    PUT r"/api/v1/credentials/{id:\d+}/tags/{tag_id:\d+}" => attach,
    DELETE r"/api/v1/credentials/{id:\d+}/tags/{tag_id:\d+}" => detach,
    GET r"/api/v1/devices/{id:\d+}/credentials" => for_device,
}

/// A credential without its secrets.
#[derive(Serialize, ToSchema)]
pub struct Credential {
    pub id: i32,
    pub name: String,
    pub kind: CredentialKind,
    pub username: String,
    pub description: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    /// `active`, `expiring` or `expired`.
    pub status: &'static str,
    /// Private to its owner (the caller).
    pub private: bool,
    /// Where it may be sent; empty: anywhere.
    pub allowed_networks: Vec<String>,
    pub has_secret: bool,
    pub has_enable_secret: bool,
    pub has_private_key: bool,
    pub success_count: i32,
    pub failure_count: i32,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl From<CredentialView> for Credential {
    fn from(c: CredentialView) -> Self {
        Self {
            id: c.id,
            name: c.name,
            kind: c.kind,
            username: c.username,
            description: c.description,
            valid_until: c.valid_until,
            status: c.status.name(),
            private: c.private,
            allowed_networks: c.allowed_networks.iter().map(ToString::to_string).collect(),
            has_secret: c.has_secret,
            has_enable_secret: c.has_enable_secret,
            has_private_key: c.has_private_key,
            success_count: c.success_count,
            failure_count: c.failure_count,
            last_used_at: c.last_used_at,
            last_success_at: c.last_success_at,
            last_failure_at: c.last_failure_at,
        }
    }
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct CredentialQuery {
    /// Include expired credentials.
    expired: bool,
}

/// Credentials by name.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "credentials",
    params(CredentialQuery, super::docs::Window),
    responses((status = 200, body = ListOf<Credential>)))]
pub async fn list(
    auth: Auth<READ>,
    params: ListParams<CredentialQuery>,
) -> Result<HttpResponse, AppError> {
    let all =
        credentials::list(auth.db(), auth.credential_viewer(), params.filters.expired).await?;
    Ok(ok(&params.envelope(
        super::window_of(all, params.paging),
        Credential::from,
    )))
}

/// One credential.
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "credentials",
    params(("id" = i32, Path, description = "Credential id")),
    responses((status = 200, body = Credential), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let c = credentials::get(auth.db(), auth.credential_viewer(), id.into_inner()).await?;
    Ok(ok(&Credential::from(c)))
}

/// A credential to add, or the fields of one to change (absent ones keep their value). A secret
/// given replaces the stored one; `clear_*` removes it.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    name: Option<String>,
    /// `ssh`, `tacacs`, `generic` or `token`.
    kind: Option<String>,
    username: Option<String>,
    #[schema(format = Password)]
    secret: Option<String>,
    #[schema(format = Password)]
    enable_secret: Option<String>,
    #[schema(format = Password)]
    private_key: Option<String>,
    #[serde(default)]
    clear_secret: bool,
    #[serde(default)]
    clear_enable_secret: bool,
    #[serde(default)]
    clear_private_key: bool,
    description: Option<String>,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC); empty: no expiry.
    valid_until: Option<String>,
    /// Networks or addresses, separated by spaces or commas; empty: anywhere.
    allowed_networks: Option<String>,
    private: Option<bool>,
    /// Make it private although other users' devices use it.
    #[serde(default)]
    confirm_private: bool,
}

impl CredentialBody {
    fn over(self, mut base: CredentialInput) -> CredentialInput {
        let set = |field: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        set(&mut base.name, self.name);
        set(&mut base.kind, self.kind);
        set(&mut base.username, self.username);
        set(&mut base.secret, self.secret);
        set(&mut base.enable_secret, self.enable_secret);
        set(&mut base.private_key, self.private_key);
        set(&mut base.description, self.description);
        set(&mut base.valid_until, self.valid_until);
        set(&mut base.allowed_networks, self.allowed_networks);
        if let Some(private) = self.private {
            base.private = private;
        }
        base.clear_secret = self.clear_secret;
        base.clear_enable_secret = self.clear_enable_secret;
        base.clear_private_key = self.clear_private_key;
        base.confirm_private = self.confirm_private;
        base
    }
}

/// Add a credential.
#[utoipa::path(post, path = "/api/v1/credentials", tag = "credentials",
    request_body = CredentialBody,
    responses((status = 201, body = Credential), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    auth: Auth<WRITE>,
    body: Body<CredentialBody>,
) -> Result<HttpResponse, AppError> {
    let input = body.read()?.over(CredentialInput::for_new());
    let (c, _) = credentials::create(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        auth.credential_viewer(),
        &input,
    )
    .await?;
    Ok(created(&Credential::from(c)))
}

/// Change a credential.
#[utoipa::path(patch, path = "/api/v1/credentials/{id}", tag = "credentials",
    request_body = CredentialBody, params(("id" = i32, Path, description = "Credential id")),
    responses((status = 200, body = Credential), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<CredentialBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let id = id.into_inner();
    let viewer = auth.credential_viewer();
    let current = credentials::get(auth.db(), viewer, id).await?;
    let input = body.over(CredentialInput::of(&current));
    let c = credentials::update(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        viewer,
        id,
        &input,
    )
    .await?;
    Ok(ok(&Credential::from(c)))
}

/// Delete a credential.
#[utoipa::path(delete, path = "/api/v1/credentials/{id}", tag = "credentials",
    params(("id" = i32, Path, description = "Credential id")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    credentials::delete(
        auth.db(),
        &auth.audit_actor(),
        auth.credential_viewer(),
        id.into_inner(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A credential a device will try, in order.
#[derive(Serialize, ToSchema)]
pub struct DeviceCredentialOut {
    #[serde(flatten)]
    pub credential: Credential,
    /// Its best priority on the device's tags (lower is tried first).
    pub priority: i32,
    /// False when the device's address is outside the credential's networks: never sent to it.
    pub permitted: bool,
}

impl From<DeviceCredential> for DeviceCredentialOut {
    fn from(d: DeviceCredential) -> Self {
        Self {
            credential: Credential::from(d.view),
            priority: d.priority,
            permitted: d.permitted,
        }
    }
}

/// The credentials a device tries, in the order it tries them (by priority on its tags, then the
/// one that worked most recently).
#[utoipa::path(get, path = "/api/v1/devices/{id}/credentials", tag = "credentials",
    params(("id" = i32, Path, description = "Device id")),
    responses((status = 200, body = Vec<DeviceCredentialOut>), (status = 404, body = super::ErrorBody)))]
pub async fn for_device(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let device = devices::get(auth.db(), id.into_inner()).await?;
    let order = credentials::for_device(auth.db(), Some(auth.credential_viewer()), &device).await?;
    Ok(ok(&order
        .into_iter()
        .map(DeviceCredentialOut::from)
        .collect::<Vec<_>>()))
}

/// A tag a credential is tried on, with its priority there.
#[derive(Serialize, ToSchema)]
pub struct TagLink {
    pub tag_id: i32,
    pub tag: String,
    /// Lower is tried first.
    pub priority: i32,
}

/// The tags a credential is attached to: their devices try it.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/tags", tag = "credentials",
    params(("id" = i32, Path, description = "Credential id")),
    responses((status = 200, body = Vec<TagLink>), (status = 404, body = super::ErrorBody)))]
pub async fn tag_links(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let links = credentials::tags_of(auth.db(), auth.credential_viewer(), id.into_inner()).await?;
    Ok(ok(&links
        .into_iter()
        .map(|l| TagLink {
            tag_id: l.tag.id,
            tag: l.tag.name,
            priority: l.priority,
        })
        .collect::<Vec<_>>()))
}

/// The priority of a credential on a tag.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachBody {
    /// 0 to 10000; lower is tried first.
    priority: i32,
}

/// Attach a credential to a tag, or change its priority there. Refused when a device with the
/// tag is outside the credential's allowed networks.
#[utoipa::path(put, path = "/api/v1/credentials/{id}/tags/{tag_id}", tag = "credentials",
    request_body = AttachBody,
    params(("id" = i32, Path, description = "Credential id"), ("tag_id" = i32, Path, description = "Tag id")),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn attach(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
    body: Body<AttachBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let (id, tag_id) = path.into_inner();
    let priority = credentials::parse_priority(&body.priority.to_string())?;
    credentials::attach(
        auth.db(),
        &auth.audit_actor(),
        auth.credential_viewer(),
        id,
        tag_id,
        priority,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Detach a credential from a tag.
#[utoipa::path(delete, path = "/api/v1/credentials/{id}/tags/{tag_id}", tag = "credentials",
    params(("id" = i32, Path, description = "Credential id"), ("tag_id" = i32, Path, description = "Tag id")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn detach(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, tag_id) = path.into_inner();
    credentials::detach(
        auth.db(),
        &auth.audit_actor(),
        auth.credential_viewer(),
        id,
        tag_id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
