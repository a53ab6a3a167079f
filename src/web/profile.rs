use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use serde::Deserialize;

use super::form::Form;
use super::{page, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::{Ctx, SignedIn};
use crate::error::AppError;
use crate::services::users::{self, ProfileChanges};
use crate::services::validation::FieldErrors;
use crate::services::validation::toggle;

routes! {
    GET r"/profile" => show,
    POST r"/profile" => update,
    POST r"/profile/password" => change_password,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    ctx: Ctx,
    realname: String,
    email: String,
    debug: bool,
    errors: FieldErrors,
    password_errors: FieldErrors,
}

fn profile_page(ctx: Ctx) -> ProfilePage {
    ProfilePage {
        realname: ctx.user.realname.clone().unwrap_or_default(),
        email: ctx.user.email.clone().unwrap_or_default(),
        debug: ctx.user.debug,
        ctx,
        errors: FieldErrors::new(),
        password_errors: FieldErrors::new(),
    }
}

pub async fn show(auth: SignedIn) -> Result<HttpResponse, AppError> {
    page(&profile_page(auth.0))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    realname: String,
    email: String,
    #[serde(deserialize_with = "toggle")]
    debug: bool,
}

pub async fn update(
    auth: SignedIn,
    Form(form): Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let changes = ProfileChanges {
        realname: form.realname.clone(),
        email: form.email.clone(),
        debug: form.debug,
    };
    match users::update_profile(auth.db(), &auth.audit_actor(), auth.user.id, changes).await {
        Ok(_) => {
            auth.flash(FlashKind::Success, "Profile saved.");
            Ok(redirect("/profile"))
        }
        Err(AppError::Validation(errors)) => {
            let mut view = profile_page(auth.0);
            view.realname = form.realname;
            view.email = form.email;
            view.debug = form.debug;
            view.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change_password(
    auth: SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let result = users::change_own_password(
        auth.db(),
        &auth.audit_actor(),
        auth.user.id,
        form.current_password,
        form.new_password,
        form.confirm_password,
    )
    .await;
    match result {
        Ok(()) => {
            // Every session of this user was ended; this browser keeps working under a new key.
            auth.session.renew();
            auth.flash(
                FlashKind::Success,
                "Password changed. Your other sessions were signed out.",
            );
            Ok(redirect("/profile"))
        }
        Err(AppError::Validation(errors)) => {
            let mut view = profile_page(auth.0);
            view.password_errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e),
    }
}
