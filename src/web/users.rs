use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::form::{Form, accepted, again};
use super::list::{ListQuery, Pager, Sorter, lenient, trimmed};
use super::{page, page_or_block, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{FLAGS, Permissions, ROLES, USER_MANAGE};
use crate::auth::{Auth, Ctx};
use crate::entity::users as user_entity;
use crate::error::Error;
use crate::services::query::Sort;
use crate::services::users::{self, NewUser, UserFilter, UserInput, UserSort, UserStatus};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/users" => index,
    POST r"/users" => create,
    GET r"/users/new" => new_form,
    GET r"/users/{id:\d+}" => edit_form,
    POST r"/users/{id:\d+}" => update,
    POST r"/users/{id:\d+}/password" => reset_password,
    GET r"/users/{id:\d+}/delete" => confirm_delete,
    POST r"/users/{id:\d+}/delete" => delete,
}

type Manage = Auth<USER_MANAGE>;

/// The user list's filters, by their names in its address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct UserFilters {
    #[serde(deserialize_with = "trimmed")]
    q: String,
    #[serde(deserialize_with = "lenient")]
    status: Option<UserStatus>,
}

#[derive(Template)]
#[template(path = "users/list.html", blocks = ["table"])]
struct ListPage {
    ctx: Ctx,
    rows: Vec<user_entity::Model>,
    f: UserFilters,
    sorter: Sorter<UserSort>,
    pager: Pager,
}

impl ListPage {
    fn perm_label(&self, bits: &i32) -> String {
        Permissions(*bits).label()
    }
}

pub async fn index(
    auth: Manage,
    list: ListQuery<UserFilters, Sort<UserSort>>,
) -> Result<HttpResponse, AppError> {
    let filter = UserFilter {
        text: (!list.filters.q.is_empty()).then(|| list.filters.q.clone()),
        status: list.filters.status,
        sort: list.sort,
    };
    let result = users::list(auth.db(), &filter, list.paging).await?;
    let sorter = list.sorter();
    let pager = list.pager(&result);
    let fragment = auth.wants_fragment();
    let view = ListPage {
        ctx: auth.0,
        rows: result.items,
        f: list.filters,
        sorter,
        pager,
    };
    page_or_block(fragment, StatusCode::OK, &view, ListPage::as_table)
}

#[derive(Template)]
#[template(path = "users/form.html")]
struct FormPage {
    ctx: Ctx,
    /// None when creating.
    user: Option<user_entity::Model>,
    /// A new account's username as typed.
    username: String,
    input: UserInput,
    errors: FieldErrors,
    password_errors: FieldErrors,
    /// A one-time message (a generated password) shown in this response only.
    notice: Option<String>,
}

impl FormPage {
    fn new(ctx: Ctx, user: Option<user_entity::Model>) -> Self {
        let input = user.as_ref().map_or_else(UserInput::for_new, UserInput::of);
        Self {
            ctx,
            user,
            username: String::new(),
            input,
            errors: FieldErrors::new(),
            password_errors: FieldErrors::new(),
            notice: None,
        }
    }
    fn role(&self) -> &'static str {
        self.input.permissions.role().unwrap_or("custom")
    }
    fn roles(&self) -> &'static [(&'static str, i32)] {
        &ROLES
    }
    fn flags(&self) -> &'static [(i32, &'static str, &'static str)] {
        &FLAGS
    }
    fn has(&self, bit: &i32) -> bool {
        self.input.permissions.0 & bit != 0
    }
    /// Whether the signed-in manager may grant this flag (they hold it).
    fn grantable(&self, bit: &i32) -> bool {
        self.ctx.perms.has(*bit)
    }
    /// Flags of the shown account that the signed-in manager lacks: then they may not change it.
    fn out_of_reach(&self) -> Vec<&'static str> {
        match &self.user {
            Some(u) if u.id != self.ctx.user.id => self.ctx.perms.missing(u.permissions),
            _ => Vec::new(),
        }
    }
}

pub async fn new_form(auth: Manage) -> Result<HttpResponse, AppError> {
    page(&FormPage::new(auth.0, None))
}

pub async fn create(auth: Manage, Form(mut new): Form<NewUser>) -> Result<HttpResponse, AppError> {
    let generate = new.password.trim().is_empty();
    if generate {
        new.password = users::generate_password();
    }
    let result = users::create(auth.db(), &auth.audit_actor(), auth.manager(), &new).await;
    match accepted(result)? {
        Ok(created) if generate => show_generated(auth, created, "created", &new.password),
        Ok(created) => {
            auth.flash(
                FlashKind::Success,
                format!("User {} created.", created.username),
            );
            Ok(redirect(&format!("/users/{}", created.id)))
        }
        Err(errors) => again(&FormPage {
            username: new.username,
            input: new.account,
            errors,
            ..FormPage::new(auth.0, None)
        }),
    }
}

pub async fn edit_form(auth: Manage, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let user = users::get(auth.db(), id.into_inner()).await?;
    page(&FormPage::new(auth.0, Some(user)))
}

pub async fn update(
    auth: Manage,
    id: web::Path<i32>,
    Form(input): Form<UserInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = users::update(auth.db(), &auth.audit_actor(), auth.manager(), id, &input).await;
    match accepted(result)? {
        Ok(user) => {
            auth.flash(FlashKind::Success, format!("User {} saved.", user.username));
            Ok(redirect(&format!("/users/{id}")))
        }
        Err(errors) => {
            let user = users::get(auth.db(), id).await?;
            again(&FormPage {
                input,
                errors,
                ..FormPage::new(auth.0, Some(user))
            })
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn reset_password(
    auth: Manage,
    id: web::Path<i32>,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let generate = form.password.trim().is_empty();
    let password = if generate {
        users::generate_password()
    } else {
        form.password
    };
    let result = users::reset_password(
        auth.db(),
        &auth.audit_actor(),
        auth.manager(),
        id,
        password.clone(),
    )
    .await;
    match accepted(result)? {
        Ok(user) if generate => show_generated(
            auth,
            user,
            "given a new password; their sessions were ended",
            &password,
        ),
        Ok(user) => {
            auth.flash(
                FlashKind::Success,
                format!(
                    "Password of {} reset; their sessions were ended.",
                    user.username
                ),
            );
            Ok(redirect(&format!("/users/{id}")))
        }
        Err(password_errors) => {
            let user = users::get(auth.db(), id).await?;
            again(&FormPage {
                password_errors,
                ..FormPage::new(auth.0, Some(user))
            })
        }
    }
}

/// Shows a generated password once, in this response only: a flash message would park it in
/// the session table until the next page.
fn show_generated(
    auth: Manage,
    user: user_entity::Model,
    what: &str,
    password: &str,
) -> Result<HttpResponse, AppError> {
    let notice = format!(
        "User {} {what}. Generated password, shown only now: {password}",
        user.username
    );
    page(&FormPage {
        notice: Some(notice),
        ..FormPage::new(auth.0, Some(user))
    })
}

#[derive(Template)]
#[template(path = "users/delete.html")]
struct DeletePage {
    ctx: Ctx,
    user: user_entity::Model,
    error: Option<String>,
}

pub async fn confirm_delete(auth: Manage, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let user = users::get(auth.db(), id.into_inner()).await?;
    page(&DeletePage {
        ctx: auth.0,
        user,
        error: None,
    })
}

pub async fn delete(auth: Manage, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    match users::delete(auth.db(), &auth.audit_actor(), auth.manager(), id).await {
        Ok(user) => {
            auth.flash(
                FlashKind::Success,
                format!("User {} deleted.", user.username),
            );
            Ok(redirect("/users"))
        }
        Err(Error::Conflict(message)) => {
            let user = users::get(auth.db(), id).await?;
            render(
                StatusCode::CONFLICT,
                &DeletePage {
                    ctx: auth.0,
                    user,
                    error: Some(message),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
