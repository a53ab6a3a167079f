use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::form::Form;
use super::list::{ListQuery, Pager, Sorter, lenient, trimmed};
use super::{page, page_or_block, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{FLAGS, Permissions, ROLES, USER_MANAGE, flag_bits, role_bits};
use crate::auth::{Auth, Ctx};
use crate::entity::users as user_entity;
use crate::error::AppError;
use crate::services::query::Sort;
use crate::services::users::{
    self, Manager, NewUser, UserChanges, UserFilter, UserSort, UserStatus,
};
use crate::services::validation::FieldErrors;
use crate::services::validation::toggle;

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

/// The user form's fields as submitted, so a rejected form comes back as it was typed.
#[derive(Deserialize)]
pub struct UserForm {
    realname: String,
    email: String,
    role: String,
    #[serde(deserialize_with = "toggle")]
    perm_read: bool,
    #[serde(deserialize_with = "toggle")]
    perm_write: bool,
    #[serde(deserialize_with = "toggle")]
    perm_delete: bool,
    #[serde(deserialize_with = "toggle")]
    perm_admin: bool,
    #[serde(deserialize_with = "toggle")]
    perm_user_manage: bool,
    #[serde(deserialize_with = "toggle")]
    is_active: bool,
}

/// The new-user form: the user form plus the fields only a new account has.
#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    password: String,
    #[serde(flatten)]
    user: UserForm,
}

impl UserForm {
    /// A preset role wins; "custom" takes the ticked flags.
    fn permissions(&self) -> i32 {
        if let Some(bits) = role_bits(&self.role) {
            return bits;
        }
        [
            ("read", self.perm_read),
            ("write", self.perm_write),
            ("delete", self.perm_delete),
            ("admin", self.perm_admin),
            ("user_manage", self.perm_user_manage),
        ]
        .iter()
        .filter(|(_, ticked)| *ticked)
        .filter_map(|(name, _)| flag_bits(name))
        .fold(0, |acc, b| acc | b)
    }
}

#[derive(Template)]
#[template(path = "users/form.html")]
struct FormPage {
    ctx: Ctx,
    /// None when creating.
    user: Option<user_entity::Model>,
    username: String,
    realname: String,
    email: String,
    perms: i32,
    is_active: bool,
    errors: FieldErrors,
    password_errors: FieldErrors,
    /// A one-time message (a generated password) shown in this response only.
    notice: Option<String>,
}

impl FormPage {
    fn role(&self) -> &'static str {
        Permissions(self.perms).role().unwrap_or("custom")
    }
    fn roles(&self) -> &'static [(&'static str, i32)] {
        &ROLES
    }
    fn flags(&self) -> &'static [(i32, &'static str, &'static str)] {
        &FLAGS
    }
    fn has(&self, bit: &i32) -> bool {
        self.perms & bit != 0
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

fn form_page(ctx: Ctx, user: Option<user_entity::Model>) -> FormPage {
    let (username, realname, email, perms, is_active) = match &user {
        Some(u) => (
            u.username.clone(),
            u.realname.clone().unwrap_or_default(),
            u.email.clone().unwrap_or_default(),
            u.permissions,
            u.is_active,
        ),
        None => (
            String::new(),
            String::new(),
            String::new(),
            crate::auth::permissions::READ,
            true,
        ),
    };
    FormPage {
        ctx,
        user,
        username,
        realname,
        email,
        perms,
        is_active,
        errors: FieldErrors::new(),
        password_errors: FieldErrors::new(),
        notice: None,
    }
}

pub async fn new_form(auth: Manage) -> Result<HttpResponse, AppError> {
    page(&form_page(auth.0, None))
}

pub async fn create(auth: Manage, Form(form): Form<NewUserForm>) -> Result<HttpResponse, AppError> {
    let generate = form.password.trim().is_empty();
    let password = if generate {
        users::generate_password()
    } else {
        form.password.clone()
    };
    let user = &form.user;
    let input = NewUser {
        username: form.username.clone(),
        realname: user.realname.clone(),
        email: user.email.clone(),
        permissions: user.permissions(),
        password: password.clone(),
        is_active: user.is_active,
    };
    match users::create(
        auth.db(),
        &auth.audit_actor(),
        Manager::of(&auth.user),
        input,
    )
    .await
    {
        Ok(created) if generate => show_generated(auth, created, "created", &password),
        Ok(created) => {
            auth.flash(
                FlashKind::Success,
                format!("User {} created.", created.username),
            );
            Ok(redirect(&format!("/users/{}", created.id)))
        }
        Err(AppError::Validation(errors)) => {
            let mut view = form_page(auth.0, None);
            view.username = form.username.clone();
            view.realname = user.realname.clone();
            view.email = user.email.clone();
            view.perms = user.permissions();
            view.is_active = user.is_active;
            view.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e),
    }
}

pub async fn edit_form(auth: Manage, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let user = users::get(auth.db(), id.into_inner()).await?;
    page(&form_page(auth.0, Some(user)))
}

pub async fn update(
    auth: Manage,
    id: web::Path<i32>,
    Form(form): Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let changes = UserChanges {
        realname: form.realname.clone(),
        email: form.email.clone(),
        permissions: form.permissions(),
        is_active: form.is_active,
    };
    match users::update(
        auth.db(),
        &auth.audit_actor(),
        Manager::of(&auth.user),
        id,
        changes,
    )
    .await
    {
        Ok(user) => {
            auth.flash(FlashKind::Success, format!("User {} saved.", user.username));
            Ok(redirect(&format!("/users/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let user = users::get(auth.db(), id).await?;
            let mut view = form_page(auth.0, Some(user));
            view.realname = form.realname.clone();
            view.email = form.email.clone();
            view.perms = form.permissions();
            view.is_active = form.is_active;
            view.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e),
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
    match users::reset_password(
        auth.db(),
        &auth.audit_actor(),
        Manager::of(&auth.user),
        id,
        password.clone(),
    )
    .await
    {
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
        Err(AppError::Validation(errors)) => {
            let user = users::get(auth.db(), id).await?;
            let mut view = form_page(auth.0, Some(user));
            view.password_errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e),
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
    let mut view = form_page(auth.0, Some(user));
    view.notice = Some(notice);
    render(StatusCode::OK, &view)
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
    match users::delete(auth.db(), &auth.audit_actor(), Manager::of(&auth.user), id).await {
        Ok(user) => {
            auth.flash(
                FlashKind::Success,
                format!("User {} deleted.", user.username),
            );
            Ok(redirect("/users"))
        }
        Err(AppError::Conflict(message)) => {
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
        Err(e) => Err(e),
    }
}
