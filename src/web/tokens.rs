//! API tokens: a user makes and revokes their own under Profile; a user manager sees and
//! revokes anyone's. A new token is shown once, on the page that answers its form (never in a
//! redirect's flash message, which the session store would keep).

use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::profile::ProfilePage;
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::USER_MANAGE;
use crate::auth::{Auth, Ctx, Permissions, SignedIn};
use crate::services::api_tokens::{self, Listed, TokenInput};
use crate::web::error::AppError;

routes! {
    POST r"/profile/tokens" => create,
    POST r"/profile/tokens/{id:\d+}/revoke" => revoke_own,
    GET r"/tokens" => index,
    POST r"/tokens/{id:\d+}/revoke" => revoke_any,
}

pub async fn create(
    auth: SignedIn,
    Form(input): Form<TokenInput>,
) -> Result<HttpResponse, AppError> {
    let result = api_tokens::create(auth.db(), &auth.audit_actor(), &auth.user, &input).await;
    match accepted(result)? {
        Ok(made) => {
            let mut view = ProfilePage::load(auth.0).await?;
            view.new_token = Some(made.secret);
            page(&view)
        }
        Err(token_errors) => {
            let mut view = ProfilePage::load(auth.0).await?;
            view.token_input = input;
            view.token_errors = token_errors;
            again(&view)
        }
    }
}

pub async fn revoke_own(auth: SignedIn, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let token = api_tokens::revoke(
        auth.db(),
        &auth.audit_actor(),
        id.into_inner(),
        Some(auth.user.id),
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Token {} revoked: it no longer works.", token.name),
    );
    Ok(redirect("/profile#tokens"))
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Listed>,
}

impl ListPage {
    fn perms(&self, row: &Listed) -> String {
        Permissions(row.token.permissions).label()
    }
}

pub async fn index(auth: Auth<USER_MANAGE>) -> Result<HttpResponse, AppError> {
    let rows = api_tokens::all(auth.db()).await?;
    page(&ListPage { ctx: auth.0, rows })
}

pub async fn revoke_any(
    auth: Auth<USER_MANAGE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let token = api_tokens::revoke(auth.db(), &auth.audit_actor(), id.into_inner(), None).await?;
    auth.flash(
        FlashKind::Success,
        format!("Token {} revoked: it no longer works.", token.name),
    );
    Ok(redirect("/tokens"))
}
