use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::Form;
use super::{page, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::tags as tag_entity;
use crate::error::AppError;
use crate::services::devices::{self, DeviceFilter, DeviceRow};
use crate::services::tags::{self, DEFAULT_COLOR, TagInput};
use crate::services::validation::FieldErrors;
use crate::web::list::{ListQuery, NoFilters, Pager};

routes! {
    GET r"/tags" => index,
    POST r"/tags" => create,
    GET r"/tags/new" => new_form,
    GET r"/tags/{id:\d+}" => show,
    POST r"/tags/{id:\d+}" => update,
    GET r"/tags/{id:\d+}/edit" => edit_form,
    GET r"/tags/{id:\d+}/delete" => confirm_delete,
    POST r"/tags/{id:\d+}/delete" => delete,
}

#[derive(Template)]
#[template(path = "tags/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<(tag_entity::Model, i64)>,
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let rows = tags::list_with_counts(auth.db()).await?;
    page(&ListPage { ctx: auth.0, rows })
}

#[derive(Template)]
#[template(path = "tags/show.html")]
struct ShowPage {
    ctx: Ctx,
    tag: tag_entity::Model,
    rows: Vec<DeviceRow>,
    pager: Pager,
}

pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    list: ListQuery<NoFilters>,
) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    let filter = DeviceFilter {
        tag_id: Some(tag.id),
        ..Default::default()
    };
    let all_tags = auth.state.tags.get(auth.db()).await?;
    let result = devices::list(auth.db(), &filter, list.paging, &all_tags).await?;
    let pager = list.pager(&result);
    page(&ShowPage {
        ctx: auth.0,
        tag,
        rows: result.items,
        pager,
    })
}

#[derive(Deserialize, Default)]
pub struct TagForm {
    name: String,
    color: String,
    description: String,
}

impl TagForm {
    fn input(&self) -> TagInput {
        TagInput {
            name: self.name.clone(),
            color: self.color.clone(),
            description: self.description.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "tags/form.html")]
struct FormPage {
    ctx: Ctx,
    tag: Option<tag_entity::Model>,
    form: TagForm,
    errors: FieldErrors,
}

fn form_of(tag: Option<&tag_entity::Model>) -> TagForm {
    match tag {
        Some(t) => TagForm {
            name: t.name.clone(),
            color: t.color.clone(),
            description: t.description.clone().unwrap_or_default(),
        },
        None => TagForm {
            color: DEFAULT_COLOR.into(),
            ..Default::default()
        },
    }
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage {
        ctx: auth.0,
        tag: None,
        form: form_of(None),
        errors: FieldErrors::new(),
    })
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(form): Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    let result = tags::create(auth.db(), &auth.audit_actor(), form.input()).await;
    auth.state.tags.invalidate();
    match result {
        Ok(tag) => {
            auth.flash(FlashKind::Success, format!("Tag {} created.", tag.name));
            Ok(redirect(&format!("/tags/{}", tag.id)))
        }
        Err(AppError::Validation(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &FormPage {
                ctx: auth.0,
                tag: None,
                form,
                errors,
            },
        ),
        Err(e) => Err(e),
    }
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    let form = form_of(Some(&tag));
    page(&FormPage {
        ctx: auth.0,
        tag: Some(tag),
        form,
        errors: FieldErrors::new(),
    })
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = tags::update(auth.db(), &auth.audit_actor(), id, form.input()).await;
    auth.state.tags.invalidate();
    match result {
        Ok(tag) => {
            auth.flash(FlashKind::Success, format!("Tag {} saved.", tag.name));
            Ok(redirect(&format!("/tags/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let tag = tags::get(auth.db(), id).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage {
                    ctx: auth.0,
                    tag: Some(tag),
                    form,
                    errors,
                },
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "tags/delete.html")]
struct DeletePage {
    ctx: Ctx,
    tag: tag_entity::Model,
    devices: u64,
}

pub async fn confirm_delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    let devices = tags::device_count(auth.db(), tag.id).await?;
    page(&DeletePage {
        ctx: auth.0,
        tag,
        devices,
    })
}

pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let tag = tags::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await;
    auth.state.tags.invalidate();
    let tag = tag?;
    auth.flash(
        FlashKind::Success,
        format!("Tag {} deleted; its devices were kept.", tag.name),
    );
    Ok(redirect("/tags"))
}
