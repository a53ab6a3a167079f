//! Tags: named, coloured groups of devices. Credentials and schedules target devices by tag.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::audit::{self, Actor, Event};
use super::validation::FieldErrors;
use crate::entity::{device_tags, tags};
use crate::error::Error;

pub const MAX_TAG_NAME: usize = 64;
pub const DEFAULT_COLOR: &str = "#1f6feb";

/// A tag as its form sends it: the form's body, this service's input, and what a form shown
/// again holds.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TagInput {
    pub name: String,
    pub color: String,
    pub description: String,
}

impl TagInput {
    pub fn for_new() -> Self {
        Self {
            color: DEFAULT_COLOR.into(),
            ..Self::default()
        }
    }

    pub fn of(tag: &tags::Model) -> Self {
        Self {
            name: tag.name.clone(),
            color: tag.color.clone(),
            description: tag.description.clone().unwrap_or_default(),
        }
    }
}

struct ValidTag {
    name: String,
    color: String,
    description: Option<String>,
}

pub fn valid_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

async fn validate(
    db: &impl ConnectionTrait,
    input: &TagInput,
    existing_id: Option<i32>,
) -> Result<ValidTag, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_TAG_NAME);
    if name.contains([';', ',']) {
        errors.add(
            "name",
            "Tag names cannot contain ; or , (they separate tags in CSV files).",
        );
    }
    let color = input.color.trim().to_lowercase();
    let color = if color.is_empty() {
        DEFAULT_COLOR.to_string()
    } else {
        color
    };
    if !valid_color(&color) {
        errors.add("color", "Enter a colour as #RRGGBB, for example #1f6feb.");
    }
    let description = errors.optional("description", &input.description, 1000);
    if errors.get("name").is_none() {
        let mut q = tags::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(tags::Column::Name))).eq(name.to_lowercase()));
        if let Some(id) = existing_id {
            q = q.filter(tags::Column::Id.ne(id));
        }
        if q.count(db).await? > 0 {
            errors.add("name", "A tag with this name already exists.");
        }
    }
    errors.into_result()?;
    Ok(ValidTag {
        name,
        color,
        description,
    })
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &TagInput,
) -> Result<tags::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None).await?;
    let now = Utc::now();
    let tag = tags::ActiveModel {
        name: Set(v.name),
        color: Set(v.color),
        description: Set(v.description),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Event::data("tag.create")
            .target("tag", tag.id)
            .detail("name", tag.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(tag)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &TagInput,
) -> Result<tags::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let tag = get(&txn, id).await?;
    let v = validate(&txn, input, Some(id)).await?;
    let fields = audit::changed_fields(&[
        ("name", v.name != tag.name),
        ("color", v.color != tag.color),
        ("description", v.description != tag.description),
    ]);
    let mut active = tag.into_active_model();
    active.name = Set(v.name);
    active.color = Set(v.color);
    active.description = Set(v.description);
    active.updated_at = Set(Utc::now());
    let tag = active.update(&txn).await?;
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("tag.update")
                .target("tag", id)
                .detail("name", tag.name.clone())
                .detail("fields", fields),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(tag)
}

/// The tag picked in a form's tag menu (whose first entry is an empty "choose").
pub fn chosen(raw: &str) -> Result<i32, Error> {
    raw.trim()
        .parse()
        .map_err(|_| FieldErrors::single("tag_id", "Pick a tag."))
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<tags::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let tag = get(&txn, id).await?;
    let devices = device_count(&txn, id).await?;
    tags::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("tag.delete")
            .target("tag", id)
            .detail("name", tag.name.clone())
            .detail("devices", devices),
    )
    .await?;
    txn.commit().await?;
    Ok(tag)
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<tags::Model, Error> {
    tags::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<tags::Model>, DbErr> {
    tags::Entity::find()
        .order_by_asc(tags::Column::Name)
        .all(db)
        .await
}

pub async fn device_count(db: &impl ConnectionTrait, tag_id: i32) -> Result<u64, DbErr> {
    device_tags::Entity::find()
        .filter(device_tags::Column::TagId.eq(tag_id))
        .count(db)
        .await
}

#[derive(Debug, FromQueryResult)]
struct TagCount {
    tag_id: i32,
    devices: i64,
}

/// Every tag with its number of devices, in one grouped query.
pub async fn list_with_counts(db: &impl ConnectionTrait) -> Result<Vec<(tags::Model, i64)>, DbErr> {
    let counts: HashMap<i32, i64> = device_tags::Entity::find()
        .select_only()
        .column(device_tags::Column::TagId)
        .column_as(device_tags::Column::Id.count(), "devices")
        .group_by(device_tags::Column::TagId)
        .into_model::<TagCount>()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.tag_id, c.devices))
        .collect();
    Ok(all(db)
        .await?
        .into_iter()
        .map(|t| {
            let n = counts.get(&t.id).copied().unwrap_or(0);
            (t, n)
        })
        .collect())
}

/// Tags of each of the given devices, in one query; a device without tags is absent.
pub async fn for_devices(
    db: &impl ConnectionTrait,
    device_ids: &[i32],
) -> Result<HashMap<i32, Vec<tags::Model>>, DbErr> {
    if device_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(device_tags::Model, Option<tags::Model>)> = device_tags::Entity::find()
        .filter(device_tags::Column::DeviceId.is_in(device_ids.iter().copied()))
        .find_also_related(tags::Entity)
        .order_by_asc(tags::Column::Name)
        .all(db)
        .await?;
    let mut map: HashMap<i32, Vec<tags::Model>> = HashMap::new();
    for (link, tag) in rows {
        if let Some(tag) = tag {
            map.entry(link.device_id).or_default().push(tag);
        }
    }
    Ok(map)
}

/// Device ids that carry a tag, as a subquery for filters.
pub fn devices_with_tag(tag_id: i32) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(device_tags::Column::DeviceId)
        .from(device_tags::Entity)
        .and_where(device_tags::Column::TagId.eq(tag_id))
        .to_owned()
}
