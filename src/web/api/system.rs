//! `/api/v1/health` and `/api/v1/me`: whether the service works, and who the caller is.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::{NoParams, Params, ok};
use crate::auth::SignedIn;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/health" => health,
    GET r"/api/v1/me" => me,
}

/// The database and this process's workers, as `/healthz` reports them: 200 when all work, 503
/// with each part's state and reason when one does not.
#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, description = "All parts work", body = Object),
        (status = 503, description = "A part does not work", body = Object)))]
pub async fn health(auth: SignedIn, _: Params<NoParams>) -> Result<HttpResponse, AppError> {
    Ok(crate::web::health::report(&auth.state).await)
}

/// The caller: its user, the permissions it acts with, and its token.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: i32,
    pub username: String,
    /// The flags this request acts with: a token's are those its owner still holds.
    pub permissions: Vec<&'static str>,
    /// The token's name; `null` for a browser session.
    pub token: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "system", responses((status = 200, body = Me)))]
pub async fn me(auth: SignedIn, _: Params<NoParams>) -> Result<HttpResponse, AppError> {
    Ok(ok(&Me {
        user_id: auth.user.id,
        username: auth.user.username.clone(),
        permissions: auth.perms.names(),
        token: auth.token.as_ref().map(|t| t.name.clone()),
    }))
}
