//! `/api/v1/users`: user accounts, for user managers (read-only here; accounts are changed on
//! the Users pages, where the granting rule is shown beside each flag).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ListOf, ListParams, NoParams, Params, ok};
use crate::auth::permissions::USER_MANAGE;
use crate::auth::{Auth, Permissions};
use crate::entity::users as user_entity;
use crate::services::users::{self, UserFilter, UserStatus};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/users" => list,
    GET r"/api/v1/users/{id:\d+}" => show,
}

/// A user account (never its password hash).
#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub realname: Option<String>,
    pub email: Option<String>,
    /// Flag names: `read`, `write`, `delete`, `admin`, `user_manage`.
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
