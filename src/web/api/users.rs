//! `/api/v1/users`: user accounts, for user managers. The granting rule is the pages': a request
//! grants only flags it holds (a token's own, not all of its owner's) and changes only accounts
//! whose flags it all holds.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, ListOf, ListParams, NoParams, Params, created, ok};
use crate::auth::permissions::USER_MANAGE;
use crate::auth::permissions::flag_bits;
use crate::auth::{Auth, Permissions};
use crate::entity::users as user_entity;
use crate::services::users::{self, NewUser, UserFilter, UserInput, UserStatus};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/users" => list,
    POST r"/api/v1/users" => create,
    GET r"/api/v1/users/{id:\d+}" => show,
    PATCH r"/api/v1/users/{id:\d+}" => update,
    DELETE r"/api/v1/users/{id:\d+}" => delete,
}

/// A user account (never its password hash).
#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub realname: Option<String>,
    pub email: Option<String>,
    /// Flag names: `read`, `write`, `delete`, `admin`, `user_manage`, `execute`.
    pub permissions: Vec<&'static str>,
    /// The preset the flags match (`viewer`, `operator`, `engineer`, `admin`), if any.
    pub role: Option<&'static str>,
    pub is_active: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<user_entity::Model> for User {
    fn from(u: user_entity::Model) -> Self {
        let perms = Permissions(u.permissions);
        Self {
            id: u.id,
            username: u.username,
            realname: u.realname,
            email: u.email,
            permissions: perms.names(),
            role: perms.role(),
            is_active: u.is_active,
            locked_until: u.locked_until,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
        }
    }
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Text in the username, name or email.
    q: Option<String>,
    /// `active` or `inactive`.
    status: Option<UserStatus>,
}

/// Users by username.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery, super::docs::Window),
    responses((status = 200, body = ListOf<User>)))]
pub async fn list(
    auth: Auth<USER_MANAGE>,
    params: ListParams<UserQuery>,
) -> Result<HttpResponse, AppError> {
    let q = &params.filters;
    let filter = UserFilter {
        text: q
            .q
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        status: q.status,
        ..UserFilter::default()
    };
    let page = users::list(auth.db(), &filter, params.paging).await?;
    Ok(ok(&params.envelope(page, User::from)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i32, Path, description = "User id")),
    responses((status = 200, body = User), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<USER_MANAGE>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    Ok(ok(&User::from(
        users::get(auth.db(), id.into_inner()).await?,
    )))
}

/// An account to add (`username` and `password` required), or the fields of one to change.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    username: Option<String>,
    /// Checked against the password policy.
    #[schema(format = Password)]
    password: Option<String>,
    realname: Option<String>,
    email: Option<String>,
    /// Flag names; `["read"]` when a new account leaves them out.
    permissions: Option<Vec<String>>,
    is_active: Option<bool>,
}

impl UserBody {
    fn over(self, mut base: UserInput) -> Result<UserInput, AppError> {
        if let Some(v) = self.realname {
            base.realname = v;
        }
        if let Some(v) = self.email {
            base.email = v;
        }
        if let Some(flags) = self.permissions {
            let mut bits = 0;
            for flag in &flags {
                bits |= flag_bits(flag).ok_or_else(|| {
                    AppError::from(FieldErrors::single(
                        "permissions",
                        format!("There is no permission {flag:?}."),
                    ))
                })?;
            }
            base.permissions = Permissions(bits);
        }
        if let Some(v) = self.is_active {
            base.is_active = v;
        }
        Ok(base)
    }
}

/// Add an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserBody,
    responses((status = 201, body = User), (status = 403, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn create(
    auth: Auth<USER_MANAGE>,
    body: Body<UserBody>,
) -> Result<HttpResponse, AppError> {
    let mut body = body.read()?;
    let username = body.username.take().unwrap_or_default();
    let password = body.password.take().unwrap_or_default();
    let input = NewUser {
        username,
        password,
        account: body.over(UserInput::for_new())?,
    };
    let user = users::create(auth.db(), &auth.audit_actor(), auth.manager(), &input).await?;
    Ok(created(&User::from(user)))
}

/// Change an account (its password is reset on the Users page, which ends its sessions).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserBody,
    params(("id" = i32, Path, description = "User id")),
    responses((status = 200, body = User), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<USER_MANAGE>,
    id: web::Path<i32>,
    body: Body<UserBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    if body.username.is_some() || body.password.is_some() {
        return Err(AppError::BadRequest(
            "a username is fixed, and a password is reset on the Users page".into(),
        ));
    }
    let id = id.into_inner();
    let current = users::get(auth.db(), id).await?;
    let input = body.over(UserInput::of(&current))?;
    let user = users::update(auth.db(), &auth.audit_actor(), auth.manager(), id, &input).await?;
    Ok(ok(&User::from(user)))
}

/// Delete an account (its sessions and tokens go with it).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i32, Path, description = "User id")),
    responses((status = 204), (status = 403, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn delete(auth: Auth<USER_MANAGE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    users::delete(
        auth.db(),
        &auth.audit_actor(),
        auth.manager(),
        id.into_inner(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
