use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::tags as tag_entity;
use crate::services::devices::{self, DeviceFilter, DeviceRow};
use crate::services::tags::{self, TagInput};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;
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

#[derive(Template)]
#[template(path = "tags/form.html")]
struct FormPage {
    ctx: Ctx,
    tag: Option<tag_entity::Model>,
    input: TagInput,
    errors: FieldErrors,
}

impl FormPage {
    fn new(ctx: Ctx, tag: Option<tag_entity::Model>) -> Self {
        let input = tag.as_ref().map_or_else(TagInput::for_new, TagInput::of);
        Self {
            ctx,
            tag,
            input,
            errors: FieldErrors::new(),
        }
    }
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage::new(auth.0, None))
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(input): Form<TagInput>,
) -> Result<HttpResponse, AppError> {
    let result = tags::create(auth.db(), &auth.audit_actor(), &input).await;
    auth.state.tags.invalidate();
    match accepted(result)? {
        Ok(tag) => {
            auth.flash(FlashKind::Success, format!("Tag {} created.", tag.name));
            Ok(redirect(&format!("/tags/{}", tag.id)))
        }
        Err(errors) => again(&FormPage {
            ctx: auth.0,
            tag: None,
            input,
            errors,
        }),
    }
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    page(&FormPage::new(auth.0, Some(tag)))
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<TagInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = tags::update(auth.db(), &auth.audit_actor(), id, &input).await;
    auth.state.tags.invalidate();
    match accepted(result)? {
        Ok(tag) => {
            auth.flash(FlashKind::Success, format!("Tag {} saved.", tag.name));
            Ok(redirect(&format!("/tags/{id}")))
        }
        Err(errors) => {
            let tag = Some(tags::get(auth.db(), id).await?);
            again(&FormPage {
                ctx: auth.0,
                tag,
                input,
                errors,
            })
        }
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
