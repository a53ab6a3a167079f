use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{credentials as cred_entity, tags as tag_entity};
use crate::services::credentials::{self, CredentialInput, CredentialView, TagLink, Viewer};
use crate::services::tags;
use crate::services::validation::FieldErrors;
use crate::vocabulary::CredentialKind;
use crate::web::error::AppError;

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
    ctx.credential_viewer()
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

/// The form as shown: never holds a secret, only whether one is stored.
#[derive(Template)]
#[template(path = "credentials/form.html")]
struct FormPage {
    ctx: Ctx,
    cred: Option<CredentialView>,
    input: CredentialInput,
    /// Networks covering the devices that already use the credential, for an empty field.
    suggested: String,
    errors: FieldErrors,
}

impl FormPage {
    fn kinds(&self) -> &'static [CredentialKind] {
        CredentialKind::ALL
    }
    fn new(ctx: Ctx) -> Self {
        Self {
            ctx,
            cred: None,
            input: CredentialInput::for_new(),
            suggested: String::new(),
            errors: FieldErrors::new(),
        }
    }
    /// The form of an existing credential, with the networks of the devices using it.
    async fn edit(ctx: Ctx, cred: CredentialView) -> Result<Self, AppError> {
        let suggested = credentials::suggested_networks(ctx.db(), cred.id).await?;
        Ok(Self {
            ctx,
            input: CredentialInput::of(&cred),
            cred: Some(cred),
            suggested: credentials::networks_text(&suggested),
            errors: FieldErrors::new(),
        })
    }
    /// The form shown again with what the user typed (secrets dropped) and the messages.
    fn again(mut self, input: CredentialInput, errors: FieldErrors) -> Self {
        self.input = input.without_secrets();
        self.errors = errors;
        self
    }
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage::new(auth.0))
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(input): Form<CredentialInput>,
) -> Result<HttpResponse, AppError> {
    let v = viewer(&auth);
    let result =
        credentials::create(auth.db(), &auth.state.vault, &auth.audit_actor(), v, &input).await;
    match accepted(result)? {
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
        Err(errors) => again(&FormPage::new(auth.0).again(input, errors)),
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

impl ShowPage {
    async fn load(ctx: Ctx, id: i32, errors: FieldErrors) -> Result<Self, AppError> {
        let (db, v) = (ctx.db(), viewer(&ctx));
        let cred = credentials::get(db, v, id).await?;
        let links = credentials::tags_of(db, v, cred.id).await?;
        let all_tags = tags::all(db).await?;
        let outside = credentials::devices_outside(db, v, cred.id).await?;
        Ok(Self {
            ctx,
            cred,
            outside,
            links,
            all_tags,
            errors,
        })
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    page(&ShowPage::load(auth.0, id.into_inner(), FieldErrors::new()).await?)
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let cred = credentials::get(auth.db(), viewer(&auth), id.into_inner()).await?;
    page(&FormPage::edit(auth.0, cred).await?)
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<CredentialInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = viewer(&auth);
    let result = credentials::update(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        v,
        id,
        &input,
    )
    .await;
    match accepted(result)? {
        Ok(cred) => {
            auth.flash(
                FlashKind::Success,
                format!("Credential {} saved.", cred.name),
            );
            Ok(redirect(&format!("/credentials/{id}")))
        }
        Err(errors) => {
            let cred = credentials::get(auth.db(), v, id).await?;
            again(&FormPage::edit(auth.0, cred).await?.again(input, errors))
        }
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
        let tag_id = tags::chosen(&form.tag_id)?;
        let priority = credentials::parse_priority(&form.priority)?;
        credentials::attach(auth.db(), &auth.audit_actor(), v, id, tag_id, priority).await
    }
    .await;
    match accepted(result)? {
        Ok(()) => Ok(redirect(&format!("/credentials/{id}"))),
        Err(errors) => again(&ShowPage::load(auth.0, id, errors).await?),
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
