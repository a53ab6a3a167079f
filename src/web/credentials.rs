use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Form, checked};
use super::{page, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{ADMIN, DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{credentials as cred_entity, tags as tag_entity};
use crate::error::AppError;
use crate::services::credentials::{self, CredentialInput, CredentialView, TagLink, Viewer};
use crate::services::tags;
use crate::services::validation::FieldErrors;
use crate::services::validation::toggle;
use crate::vocabulary::CredentialKind;

routes! {
    GET r"/credentials" => index,
    POST r"/credentials" => create,
    GET r"/credentials/new" => new_form,
    GET r"/credentials/{id:\d+}" => show,
    POST r"/credentials/{id:\d+}" => update,
    GET r"/credentials/{id:\d+}/edit" => edit_form,
    POST r"/credentials/{id:\d+}/tags" => attach,
    POST r"/credentials/{id:\d+}/tags/{tag_id:\d+}/remove" => detach,
    GET r"/credentials/{id:\d+}/delete" => confirm_delete,
    POST r"/credentials/{id:\d+}/delete" => delete,
}

fn viewer(ctx: &Ctx) -> Viewer {
    Viewer {
        user_id: ctx.user.id,
        is_admin: ctx.can(ADMIN),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    expired: Option<String>,
}

#[derive(Template)]
#[template(path = "credentials/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<CredentialView>,
    show_expired: bool,
    others_private: Vec<cred_entity::Model>,
}

pub async fn index(
    auth: Auth<READ>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let show_expired = query.expired.is_some();
    let v = viewer(&auth);
    let rows = credentials::list(auth.db(), v, show_expired).await?;
    let others_private = credentials::others_private(auth.db(), v).await?;
    page(&ListPage {
        ctx: auth.0,
        rows,
        show_expired,
        others_private,
    })
}

#[derive(Deserialize)]
pub struct CredentialForm {
    name: String,
    kind: String,
    username: String,
    secret: String,
    clear_secret: Option<String>,
    enable_secret: String,
    clear_enable_secret: Option<String>,
    private_key: String,
    clear_private_key: Option<String>,
    description: String,
    valid_until: String,
    allowed_networks: String,
    #[serde(deserialize_with = "toggle")]
    private: bool,
    confirm_private: Option<String>,
}

impl CredentialForm {
    fn input(&self) -> CredentialInput {
        CredentialInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            username: self.username.clone(),
            secret: self.secret.clone(),
            clear_secret: checked(&self.clear_secret),
            enable_secret: self.enable_secret.clone(),
            clear_enable_secret: checked(&self.clear_enable_secret),
            private_key: self.private_key.clone(),
            clear_private_key: checked(&self.clear_private_key),
            description: self.description.clone(),
            valid_until: self.valid_until.clone(),
            allowed_networks: self.allowed_networks.clone(),
            private: self.private,
            confirm_private: checked(&self.confirm_private),
        }
    }
}

/// The form as shown: never holds a secret, only whether one is stored.
#[derive(Template)]
#[template(path = "credentials/form.html")]
struct FormPage {
    ctx: Ctx,
    cred: Option<CredentialView>,
    name: String,
    kind: String,
    username: String,
    description: String,
    valid_until: String,
    allowed_networks: String,
    /// Networks covering the devices that already use the credential, for an empty field.
    suggested: String,
    private: bool,
    errors: FieldErrors,
}

impl FormPage {
    fn kinds(&self) -> &'static [CredentialKind] {
        CredentialKind::ALL
    }
    fn new(ctx: Ctx, cred: Option<CredentialView>) -> Self {
        let (name, kind, username, description, valid_until, allowed_networks, private) =
            match &cred {
                Some(c) => (
                    c.name.clone(),
                    c.kind.as_str().to_string(),
                    c.username.clone(),
                    c.description.clone().unwrap_or_default(),
                    c.valid_until
                        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                        .unwrap_or_default(),
                    c.networks_text(),
                    c.private,
                ),
                None => (
                    String::new(),
                    CredentialKind::Ssh.as_str().to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    false,
                ),
            };
        Self {
            ctx,
            cred,
            name,
            kind,
            username,
            description,
            valid_until,
            allowed_networks,
            suggested: String::new(),
            private,
            errors: FieldErrors::new(),
        }
    }
    /// The form of an existing credential, with the networks of the devices using it.
    async fn edit(ctx: Ctx, cred: CredentialView) -> Result<Self, AppError> {
        let suggested = credentials::suggested_networks(ctx.db(), cred.id).await?;
        let mut page = Self::new(ctx, Some(cred));
        page.suggested = credentials::networks_text(&suggested);
        Ok(page)
    }
    fn with_form(mut self, f: &CredentialForm, errors: FieldErrors) -> Self {
        self.name = f.name.clone();
        self.kind = f.kind.clone();
        self.username = f.username.clone();
        self.description = f.description.clone();
        self.valid_until = f.valid_until.clone();
        self.allowed_networks = f.allowed_networks.clone();
        self.private = f.private;
        self.errors = errors;
        self
    }
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage::new(auth.0, None))
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(form): Form<CredentialForm>,
) -> Result<HttpResponse, AppError> {
    let v = viewer(&auth);
    match credentials::create(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        v,
        form.input(),
    )
    .await
    {
        Ok((cred, past)) => {
            auth.flash(
                FlashKind::Success,
                format!(
                    "Credential {} saved; its secret is stored encrypted.",
                    cred.name
                ),
            );
            if past {
                auth.flash(
                    FlashKind::Warning,
                    "Its expiry date is in the past: it is expired and will not be used by jobs.",
                );
            }
            Ok(redirect(&format!("/credentials/{}", cred.id)))
        }
        Err(AppError::Validation(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &FormPage::new(auth.0, None).with_form(&form, errors),
        ),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "credentials/show.html")]
struct ShowPage {
    ctx: Ctx,
    cred: CredentialView,
    /// Devices with its tags that are outside its networks and so never receive it.
    outside: Vec<(String, String)>,
    links: Vec<TagLink>,
    all_tags: Vec<tag_entity::Model>,
    errors: FieldErrors,
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let v = viewer(&auth);
    let cred = credentials::get(auth.db(), v, id.into_inner()).await?;
    let links = credentials::tags_of(auth.db(), v, cred.id).await?;
    let all_tags = tags::all(auth.db()).await?;
    let outside = credentials::devices_outside(auth.db(), v, cred.id).await?;
    page(&ShowPage {
        ctx: auth.0,
        cred,
        outside,
        links,
        all_tags,
        errors: FieldErrors::new(),
    })
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let cred = credentials::get(auth.db(), viewer(&auth), id.into_inner()).await?;
    page(&FormPage::edit(auth.0, cred).await?)
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<CredentialForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = viewer(&auth);
    match credentials::update(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        v,
        id,
        form.input(),
    )
    .await
    {
        Ok(cred) => {
            auth.flash(
                FlashKind::Success,
                format!("Credential {} saved.", cred.name),
            );
            Ok(redirect(&format!("/credentials/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let cred = credentials::get(auth.db(), v, id).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage::edit(auth.0, cred).await?.with_form(&form, errors),
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct AttachForm {
    tag_id: String,
    priority: String,
}

pub async fn attach(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<AttachForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = viewer(&auth);
    let result = async {
        let tag_id: i32 = form
            .tag_id
            .trim()
            .parse()
            .map_err(|_| FieldErrors::single("tag_id", "Pick a tag."))?;
        let priority = credentials::parse_priority(&form.priority)?;
        credentials::attach(auth.db(), &auth.audit_actor(), v, id, tag_id, priority).await
    }
    .await;
    match result {
        Ok(()) => Ok(redirect(&format!("/credentials/{id}"))),
        Err(AppError::Validation(errors)) => {
            let cred = credentials::get(auth.db(), v, id).await?;
            let links = credentials::tags_of(auth.db(), v, id).await?;
            let all_tags = tags::all(auth.db()).await?;
            let outside = credentials::devices_outside(auth.db(), v, id).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ShowPage {
                    ctx: auth.0,
                    cred,
                    outside,
                    links,
                    all_tags,
                    errors,
                },
            )
        }
        Err(e) => Err(e),
    }
}

pub async fn detach(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, tag_id) = path.into_inner();
    credentials::detach(auth.db(), &auth.audit_actor(), viewer(&auth), id, tag_id).await?;
    Ok(redirect(&format!("/credentials/{id}")))
}

#[derive(Template)]
#[template(path = "credentials/delete.html")]
struct DeletePage {
    ctx: Ctx,
    cred: CredentialView,
}

pub async fn confirm_delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let cred = credentials::get(auth.db(), viewer(&auth), id.into_inner()).await?;
    page(&DeletePage { ctx: auth.0, cred })
}

pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let name = credentials::delete(
        auth.db(),
        &auth.audit_actor(),
        viewer(&auth),
        id.into_inner(),
    )
    .await?;
    auth.flash(FlashKind::Success, format!("Credential {name} deleted."));
    Ok(redirect("/credentials"))
}
