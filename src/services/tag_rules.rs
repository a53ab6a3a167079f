//! Tag rules: criteria that give a tag to matching devices. A tag given by a rule records the
//! rule; rules add and remove only their own links, never manual tags.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::audit::{self, Actor, Event};
use super::credentials;
use super::rule_criteria::{DeviceFacts, Group, Matcher};
use super::tags;
use super::validation::{FieldErrors, MAX_NAME};
use crate::entity::{device_tags, devices, tag_rules};
use crate::error::Error;

/// Rows written per statement, well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 500;

pub struct RuleInput {
    pub name: String,
    pub is_active: bool,
    pub criteria: Group,
}

fn validate(input: &RuleInput) -> Result<(String, Matcher), Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let matcher = match input.criteria.compile() {
        Ok(m) => Some(m),
        Err(e) => {
            errors.add("criteria", e.to_string());
            None
        }
    };
    errors.into_result()?;
    matcher
        .map(|m| (name, m))
        .ok_or_else(|| Error::Internal("criteria did not compile".into()))
}

pub async fn get(
    db: &impl ConnectionTrait,
    tag_id: i32,
    rule_id: i32,
) -> Result<tag_rules::Model, Error> {
    tag_rules::Entity::find_by_id(rule_id)
        .filter(tag_rules::Column::TagId.eq(tag_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn for_tag(
    db: &impl ConnectionTrait,
    tag_id: i32,
) -> Result<Vec<tag_rules::Model>, DbErr> {
    tag_rules::Entity::find()
        .filter(tag_rules::Column::TagId.eq(tag_id))
        .order_by_asc(tag_rules::Column::Id)
        .all(db)
        .await
}

pub fn criteria_of(rule: &tag_rules::Model) -> Result<Group, Error> {
    Group::from_json(&rule.criteria)
        .map_err(|e| Error::Internal(format!("stored rule {} is unreadable: {e}", rule.id)))
}

pub async fn assigned_count(db: &impl ConnectionTrait, rule_id: i32) -> Result<u64, DbErr> {
    device_tags::Entity::find()
        .filter(device_tags::Column::RuleId.eq(rule_id))
        .count(db)
        .await
}

/// Saves a rule (new when `rule_id` is None) and, if active, applies it at once.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    tag_id: i32,
    rule_id: Option<i32>,
    input: RuleInput,
) -> Result<(tag_rules::Model, Applied), Error> {
    let (name, matcher) = validate(&input)?;
    let txn = crate::db::begin_write(db).await?;
    let tag = tags::get(&txn, tag_id).await?;
    let now = Utc::now();
    let rule = match rule_id {
        Some(id) => {
            let mut active = get(&txn, tag_id, id).await?.into_active_model();
            active.name = Set(name);
            active.is_active = Set(input.is_active);
            active.criteria = Set(input.criteria.to_json());
            active.updated_at = Set(now);
            active.update(&txn).await?
        }
        None => {
            tag_rules::ActiveModel {
                tag_id: Set(tag_id),
                name: Set(name),
                criteria: Set(input.criteria.to_json()),
                is_active: Set(input.is_active),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    let applied = if rule.is_active {
        apply_matcher(&txn, &rule, &matcher).await?
    } else {
        Applied::default()
    };
    audit::record(
        &txn,
        actor,
        Event::data(if rule_id.is_some() {
            "tag_rule.update"
        } else {
            "tag_rule.create"
        })
        .target("tag_rule", rule.id)
        .detail("tag", tag.name)
        .detail("criteria", input.criteria.summary())
        .detail("active", rule.is_active)
        .detail("added", applied.added)
        .detail("removed", applied.removed)
        .detail("withheld", applied.withheld),
    )
    .await?;
    txn.commit().await?;
    Ok((rule, applied))
}

/// What a rule would do now, without changing anything.
pub struct Preview {
    pub gain: Vec<devices::Model>,
    pub gain_total: usize,
    pub already: usize,
    pub lose: usize,
    /// Matching devices that do not get the tag: their address is outside the allowed networks
    /// of a credential the tag carries.
    pub withheld: Vec<devices::Model>,
    pub withheld_total: usize,
}

pub const PREVIEW_LIST: usize = 100;

pub async fn preview(
    db: &impl ConnectionTrait,
    tag_id: i32,
    rule_id: Option<i32>,
    criteria: &Group,
) -> Result<Preview, Error> {
    let matcher = criteria
        .compile()
        .map_err(|e| FieldErrors::single("criteria", e.to_string()))?;
    let plan = plan(db, tag_id, rule_id, &matcher).await?;
    let listed = |ids: &[i32]| {
        devices::Entity::find()
            .filter(devices::Column::Id.is_in(ids.iter().take(PREVIEW_LIST).copied()))
            .order_by_asc(devices::Column::Hostname)
            .all(db)
    };
    Ok(Preview {
        gain_total: plan.add.len(),
        gain: listed(&plan.add).await?,
        already: plan.already,
        lose: plan.remove.len(),
        withheld_total: plan.withheld.len(),
        withheld: listed(&plan.withheld).await?,
    })
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Applied {
    pub added: usize,
    pub removed: usize,
    /// Matching devices left without the tag (outside a credential's allowed networks).
    pub withheld: usize,
}

struct Plan {
    add: Vec<i32>,
    remove: Vec<i32>,
    already: usize,
    withheld: Vec<i32>,
}

/// Which devices gain the tag, which lose it (only links this rule made), which already have it.
async fn plan(
    db: &impl ConnectionTrait,
    tag_id: i32,
    rule_id: Option<i32>,
    matcher: &Matcher,
) -> Result<Plan, DbErr> {
    let links = device_tags::Entity::find()
        .filter(device_tags::Column::TagId.eq(tag_id))
        .all(db)
        .await?;
    let linked: HashMap<i32, Option<i32>> = links
        .into_iter()
        .map(|l| (l.device_id, l.rule_id))
        .collect();
    let matching: HashMap<i32, devices::Model> = devices::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|d| matcher.matches(&DeviceFacts::of(d)))
        .map(|d| (d.id, d))
        .collect();
    let restricted = credentials::restricted_on_tags(db, Some(&[tag_id])).await?;
    let (mut add, mut withheld) = (Vec::new(), Vec::new());
    for d in matching.values().filter(|d| !linked.contains_key(&d.id)) {
        if credentials::conflicts(&restricted, &[tag_id], &d.ip_address).is_empty() {
            add.push(d.id);
        } else {
            withheld.push(d.id);
        }
    }
    add.sort_unstable();
    withheld.sort_unstable();
    let already = matching.len() - add.len() - withheld.len();
    let remove = match rule_id {
        Some(rid) => linked
            .iter()
            .filter(|(d, r)| **r == Some(rid) && !matching.contains_key(d))
            .map(|(d, _)| *d)
            .collect(),
        None => Vec::new(),
    };
    Ok(Plan {
        add,
        remove,
        already,
        withheld,
    })
}

async fn apply_matcher(
    db: &impl ConnectionTrait,
    rule: &tag_rules::Model,
    matcher: &Matcher,
) -> Result<Applied, DbErr> {
    let plan = plan(db, rule.tag_id, Some(rule.id), matcher).await?;
    let now = Utc::now();
    for chunk in plan.add.chunks(CHUNK) {
        let rows = chunk.iter().map(|id| device_tags::ActiveModel {
            device_id: Set(*id),
            tag_id: Set(rule.tag_id),
            rule_id: Set(Some(rule.id)),
            created_at: Set(now),
            ..Default::default()
        });
        device_tags::Entity::insert_many(rows).exec(db).await?;
    }
    for chunk in plan.remove.chunks(CHUNK) {
        device_tags::Entity::delete_many()
            .filter(device_tags::Column::TagId.eq(rule.tag_id))
            .filter(device_tags::Column::RuleId.eq(rule.id))
            .filter(device_tags::Column::DeviceId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(Applied {
        added: plan.add.len(),
        removed: plan.remove.len(),
        withheld: plan.withheld.len(),
    })
}

/// Re-applies a stored rule inside the caller's transaction (after an import).
pub async fn apply_rule(
    db: &impl ConnectionTrait,
    rule: &tag_rules::Model,
) -> Result<Applied, Error> {
    let matcher = criteria_of(rule)?
        .compile()
        .map_err(|e| Error::Refused(e.to_string()))?;
    Ok(apply_matcher(db, rule, &matcher).await?)
}

/// Runs an active rule over the whole inventory now.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    tag_id: i32,
    rule_id: i32,
) -> Result<Applied, Error> {
    let txn = crate::db::begin_write(db).await?;
    let rule = get(&txn, tag_id, rule_id).await?;
    let matcher = criteria_of(&rule)?
        .compile()
        .map_err(|e| Error::Refused(e.to_string()))?;
    let applied = apply_matcher(&txn, &rule, &matcher).await?;
    audit::record(
        &txn,
        actor,
        Event::data("tag_rule.apply")
            .target("tag_rule", rule_id)
            .detail("added", applied.added)
            .detail("removed", applied.removed)
            .detail("withheld", applied.withheld),
    )
    .await?;
    txn.commit().await?;
    Ok(applied)
}

/// Deletes a rule; the tags it gave are removed too when asked, else they become manual tags.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    tag_id: i32,
    rule_id: i32,
    remove_assigned: bool,
) -> Result<u64, Error> {
    let txn = crate::db::begin_write(db).await?;
    let rule = get(&txn, tag_id, rule_id).await?;
    let removed = if remove_assigned {
        device_tags::Entity::delete_many()
            .filter(device_tags::Column::RuleId.eq(rule_id))
            .exec(&txn)
            .await?
            .rows_affected
    } else {
        0
    };
    tag_rules::Entity::delete_by_id(rule_id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("tag_rule.delete")
            .target("tag_rule", rule_id)
            .detail("name", rule.name)
            .detail("tags_removed", removed),
    )
    .await?;
    txn.commit().await?;
    Ok(removed)
}

/// Brings one device in line with every active rule (after it was created, edited or imported).
pub async fn apply_to_device(
    db: &impl ConnectionTrait,
    device: &devices::Model,
) -> Result<(), Error> {
    let rules = tag_rules::Entity::find()
        .filter(tag_rules::Column::IsActive.eq(true))
        .all(db)
        .await?;
    if rules.is_empty() {
        return Ok(());
    }
    let links = device_tags::Entity::find()
        .filter(device_tags::Column::DeviceId.eq(device.id))
        .all(db)
        .await?;
    let facts = DeviceFacts::of(device);
    for rule in rules {
        let Ok(matcher) = criteria_of(&rule)?.compile() else {
            tracing::warn!(
                rule = rule.id,
                "skipping a tag rule whose criteria no longer compile"
            );
            continue;
        };
        let link = links.iter().find(|l| l.tag_id == rule.tag_id);
        let hit = matcher.matches(&facts);
        match (hit, link) {
            (true, None) if !credentials::network_allows(db, rule.tag_id, device).await? => {
                tracing::info!(
                    device = device.id,
                    tag = rule.tag_id,
                    "a tag rule matches but the tag's credentials may not go to the device's address"
                );
            }
            (true, None) => {
                device_tags::ActiveModel {
                    device_id: Set(device.id),
                    tag_id: Set(rule.tag_id),
                    rule_id: Set(Some(rule.id)),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
            (false, Some(l)) if l.rule_id == Some(rule.id) => {
                device_tags::Entity::delete_by_id(l.id).exec(db).await?;
            }
            _ => {}
        }
    }
    Ok(())
}
