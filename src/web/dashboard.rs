use actix_web::HttpResponse;
use askama::Template;

use super::page;
use crate::auth::permissions::READ;
use crate::auth::{Auth, Ctx};
use crate::services::dashboard::{self, Lists, Summary};
use crate::web::error::AppError;

routes! {
    GET r"/" => index,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    s: Summary,
    l: Lists,
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let s = dashboard::summary(auth.db(), auth.user.id).await?;
    let l = dashboard::lists(auth.db()).await?;
    page(&DashboardPage { ctx: auth.0, s, l })
}

impl DashboardPage {}
