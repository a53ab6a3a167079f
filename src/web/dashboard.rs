use actix_web::HttpResponse;
use askama::Template;

use super::page;
use crate::auth::permissions::{ADMIN, READ, USER_MANAGE};
use crate::auth::{Auth, Ctx};
use crate::error::AppError;
use crate::services::dashboard::{self, Summary};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    s: Summary,
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let s = dashboard::summary(auth.db(), auth.user.id).await?;
    page(&DashboardPage { ctx: auth.0, s })
}

impl DashboardPage {
    fn can_manage_users(&self) -> bool {
        self.ctx.can(USER_MANAGE)
    }
    fn is_admin(&self) -> bool {
        self.ctx.can(ADMIN)
    }
}
