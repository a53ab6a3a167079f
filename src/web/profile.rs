use actix_web::HttpResponse;
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::{Ctx, SignedIn};
use crate::entity::api_tokens;
use crate::services::api_tokens::TokenInput;
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
pub(super) struct ProfilePage {
    ctx: Ctx,
    input: ProfileInput,
    errors: FieldErrors,
    password_errors: FieldErrors,
    /// The user's API tokens, and the form for a new one (`web::tokens`).
    pub(super) tokens: Vec<api_tokens::Model>,
    pub(super) token_input: TokenInput,
    pub(super) token_errors: FieldErrors,
    /// A token just made, shown this once.
    pub(super) new_token: Option<String>,
}

impl ProfilePage {
    pub(super) async fn load(ctx: Ctx) -> Result<Self, AppError> {
        let tokens = crate::services::api_tokens::of_user(ctx.db(), ctx.user.id).await?;
        Ok(Self {
            input: ProfileInput::of(&ctx.user),
            ctx,
            errors: FieldErrors::new(),
            password_errors: FieldErrors::new(),
            tokens,
            token_input: TokenInput::for_new(),
            token_errors: FieldErrors::new(),
            new_token: None,
        })
    }

    fn flags(&self) -> &'static [(i32, &'static str, &'static str)] {
        &crate::auth::permissions::FLAGS
    }

    fn token_perms(&self, token: &api_tokens::Model) -> String {
        crate::auth::Permissions(token.permissions).label()
    }
}

pub async fn show(auth: SignedIn) -> Result<HttpResponse, AppError> {
    page(&ProfilePage::load(auth.0).await?)
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
            ..ProfilePage::load(auth.0).await?
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
            ..ProfilePage::load(auth.0).await?
        }),
    }
}
