use actix_web::HttpResponse;
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::{Ctx, SignedIn};
use crate::services::users::{self, PasswordChange, ProfileInput};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/profile" => show,
    POST r"/profile" => update,
    POST r"/profile/password" => change_password,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    ctx: Ctx,
    input: ProfileInput,
    errors: FieldErrors,
    password_errors: FieldErrors,
}

impl ProfilePage {
    fn new(ctx: Ctx) -> Self {
        Self {
            input: ProfileInput::of(&ctx.user),
            ctx,
            errors: FieldErrors::new(),
            password_errors: FieldErrors::new(),
        }
    }
}

pub async fn show(auth: SignedIn) -> Result<HttpResponse, AppError> {
    page(&ProfilePage::new(auth.0))
}

pub async fn update(
    auth: SignedIn,
    Form(input): Form<ProfileInput>,
) -> Result<HttpResponse, AppError> {
    let result = users::update_profile(auth.db(), &auth.audit_actor(), auth.user.id, &input).await;
    match accepted(result)? {
        Ok(_) => {
            auth.flash(FlashKind::Success, "Profile saved.");
            Ok(redirect("/profile"))
        }
        Err(errors) => again(&ProfilePage {
            input,
            errors,
            ..ProfilePage::new(auth.0)
        }),
    }
}

pub async fn change_password(
    auth: SignedIn,
    Form(change): Form<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let result =
        users::change_own_password(auth.db(), &auth.audit_actor(), auth.user.id, change).await;
    match accepted(result)? {
        Ok(()) => {
            // Every session of this user was ended; this browser keeps working under a new key.
            auth.session.renew();
            auth.flash(
                FlashKind::Success,
                "Password changed. Your other sessions were signed out.",
            );
            Ok(redirect("/profile"))
        }
        Err(password_errors) => again(&ProfilePage {
            password_errors,
            ..ProfilePage::new(auth.0)
        }),
    }
}
