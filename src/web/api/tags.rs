//! `/api/v1/tags`: tags with their device counts.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, ListOf, ListParams, NoParams, Params, created, ok};
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::tags as tag_entity;
use crate::services::tags::{self, TagInput};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/tags" => list,
    POST r"/api/v1/tags" => create,
    GET r"/api/v1/tags/{id:\d+}" => show,
    PATCH r"/api/v1/tags/{id:\d+}" => update,
    DELETE r"/api/v1/tags/{id:\d+}" => delete,
}

#[derive(Serialize, ToSchema)]
pub struct Tag {
    pub id: i32,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    pub description: Option<String>,
    /// Devices that carry it.
    pub devices: i64,
}

impl Tag {
    fn of(tag: tag_entity::Model, devices: i64) -> Self {
        Self {
            id: tag.id,
            name: tag.name,
            color: tag.color,
            description: tag.description,
            devices,
        }
    }
}

/// Tags by name.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags", params(super::docs::Window),
    responses((status = 200, body = ListOf<Tag>)))]
pub async fn list(
    auth: Auth<READ>,
    params: ListParams<NoParams>,
) -> Result<HttpResponse, AppError> {
    let all = tags::list_with_counts(auth.db()).await?;
    let page = super::window_of(all, params.paging);
    Ok(ok(&params.envelope(page, |(tag, n)| Tag::of(tag, n))))
}

async fn counted(auth: &Ctx, tag: tag_entity::Model) -> Result<Tag, AppError> {
    let n = tags::device_count(auth.db(), tag.id).await?;
    Ok(Tag::of(tag, i64::try_from(n).unwrap_or(i64::MAX)))
}

/// One tag.
#[utoipa::path(get, path = "/api/v1/tags/{id}", tag = "tags",
    params(("id" = i32, Path, description = "Tag id")),
    responses((status = 200, body = Tag), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    Ok(ok(&counted(&auth, tag).await?))
}

/// A tag to add, or the fields of one to change (absent ones keep their value).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    name: Option<String>,
    color: Option<String>,
    description: Option<String>,
}

impl TagBody {
    fn over(self, mut base: TagInput) -> TagInput {
        if let Some(v) = self.name {
            base.name = v;
        }
        if let Some(v) = self.color {
            base.color = v;
        }
        if let Some(v) = self.description {
            base.description = v;
        }
        base
    }
}

/// Add a tag.
#[utoipa::path(post, path = "/api/v1/tags", tag = "tags", request_body = TagBody,
    responses((status = 201, body = Tag), (status = 422, body = super::ErrorBody)))]
pub async fn create(auth: Auth<WRITE>, body: Body<TagBody>) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let tag = tags::create(
        auth.db(),
        &auth.audit_actor(),
        &body.over(TagInput::for_new()),
    )
    .await?;
    auth.state.tags.invalidate();
    Ok(created(&counted(&auth, tag).await?))
}

/// Change a tag.
#[utoipa::path(patch, path = "/api/v1/tags/{id}", tag = "tags", request_body = TagBody,
    params(("id" = i32, Path, description = "Tag id")),
    responses((status = 200, body = Tag), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<TagBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let id = id.into_inner();
    let current = tags::get(auth.db(), id).await?;
    let input = body.over(TagInput::of(&current));
    let tag = tags::update(auth.db(), &auth.audit_actor(), id, &input).await?;
    auth.state.tags.invalidate();
    Ok(ok(&counted(&auth, tag).await?))
}

/// Delete a tag (its devices stay, without it).
#[utoipa::path(delete, path = "/api/v1/tags/{id}", tag = "tags",
    params(("id" = i32, Path, description = "Tag id")),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    tags::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    auth.state.tags.invalidate();
    Ok(HttpResponse::NoContent().finish())
}
