//! `/api/v1/tags/{id}/rules`: a tag's rules, which give the tag to every device their criteria
//! match; a preview says what a rule would do before it is saved. The criteria are the rule
//! editor's as JSON: `{"op": "all"|"any", "negate": false, "items": [conditions or groups]}`,
//! a condition being `{"field", "operator", "value", "negate"}`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, NoParams, Params, created, ok};
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{devices as device_entity, tag_rules as rule_entity};
use crate::services::rule_criteria::Group;
use crate::services::tag_rules::{self, Applied, RuleInput};
use crate::services::tags;
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/tags/{id:\d+}/rules" => list,
    POST r"/api/v1/tags/{id:\d+}/rules" => create,
    POST r"/api/v1/tags/{id:\d+}/rules/preview" => preview,
    GET r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}" => show,
    PATCH r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}" => update,
    DELETE r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}" => delete,
    POST r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}/apply" => apply,
}

/// A tag rule.
#[derive(Serialize, ToSchema)]
pub struct Rule {
    pub id: i32,
    pub tag_id: i32,
    pub name: String,
    pub is_active: bool,
    #[schema(value_type = Object)]
    pub criteria: serde_json::Value,
    /// Devices that have the tag through this rule.
    pub assigned: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn rule_out(auth: &Ctx, rule: rule_entity::Model) -> Result<Rule, AppError> {
    let assigned = tag_rules::assigned_count(auth.db(), rule.id).await?;
    Ok(Rule {
        id: rule.id,
        tag_id: rule.tag_id,
        name: rule.name,
        is_active: rule.is_active,
        criteria: rule.criteria,
        assigned,
        created_at: rule.created_at,
        updated_at: rule.updated_at,
    })
}

/// What saving or applying a rule did.
#[derive(Serialize, ToSchema)]
pub struct Saved {
    pub rule: Rule,
    /// Devices that gained the tag.
    pub added: usize,
    /// Devices that lost it (only links this rule had made).
    pub removed: usize,
    /// Matching devices left without it: outside a credential's allowed networks.
    pub withheld: usize,
}

fn saved(rule: Rule, applied: Applied) -> Saved {
    Saved {
        rule,
        added: applied.added,
        removed: applied.removed,
        withheld: applied.withheld,
    }
}

/// A tag's rules.
#[utoipa::path(get, path = "/api/v1/tags/{id}/rules", tag = "tag_rules",
    params(("id" = i32, Path, description = "Tag id")),
    responses((status = 200, body = Vec<Rule>), (status = 404, body = super::ErrorBody)))]
pub async fn list(
    auth: Auth<READ>,
    id: web::Path<i32>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    let mut out = Vec::new();
    for rule in tag_rules::for_tag(auth.db(), tag.id).await? {
        out.push(rule_out(&auth, rule).await?);
    }
    Ok(ok(&out))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/tags/{id}/rules/{rule_id}", tag = "tag_rules",
    params(("id" = i32, Path, description = "Tag id"), ("rule_id" = i32, Path, description = "Rule id")),
    responses((status = 200, body = Rule), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let rule = tag_rules::get(auth.db(), tag_id, rule_id).await?;
    Ok(ok(&rule_out(&auth, rule).await?))
}

/// A rule to add, or the fields of one to change.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    name: Option<String>,
    /// An active rule is applied when saved and to every device added or changed later.
    is_active: Option<bool>,
    #[schema(value_type = Object)]
    criteria: Option<Group>,
}

/// Add a rule; an active one is applied at once.
#[utoipa::path(post, path = "/api/v1/tags/{id}/rules", tag = "tag_rules", request_body = RuleBody,
    params(("id" = i32, Path, description = "Tag id")),
    responses((status = 201, body = Saved), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn create(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<RuleBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let input = RuleInput {
        name: body.name.unwrap_or_default(),
        is_active: body.is_active.unwrap_or(true),
        criteria: body.criteria.unwrap_or_default(),
    };
    let (rule, applied) =
        tag_rules::save(auth.db(), &auth.audit_actor(), id.into_inner(), None, input).await?;
    auth.state.tags.invalidate();
    Ok(created(&saved(rule_out(&auth, rule).await?, applied)))
}

/// Change a rule; an active one is applied again.
#[utoipa::path(patch, path = "/api/v1/tags/{id}/rules/{rule_id}", tag = "tag_rules",
    request_body = RuleBody,
    params(("id" = i32, Path, description = "Tag id"), ("rule_id" = i32, Path, description = "Rule id")),
    responses((status = 200, body = Saved), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn update(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
    body: Body<RuleBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let (tag_id, rule_id) = path.into_inner();
    let current = tag_rules::get(auth.db(), tag_id, rule_id).await?;
    let input = RuleInput {
        name: body.name.unwrap_or(current.name.clone()),
        is_active: body.is_active.unwrap_or(current.is_active),
        criteria: match body.criteria {
            Some(c) => c,
            None => tag_rules::criteria_of(&current)?,
        },
    };
    let (rule, applied) =
        tag_rules::save(auth.db(), &auth.audit_actor(), tag_id, Some(rule_id), input).await?;
    auth.state.tags.invalidate();
    Ok(ok(&saved(rule_out(&auth, rule).await?, applied)))
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also take the tag from the devices this rule gave it to.
    remove_assigned: bool,
}

/// Delete a rule.
#[utoipa::path(delete, path = "/api/v1/tags/{id}/rules/{rule_id}", tag = "tag_rules",
    params(("id" = i32, Path, description = "Tag id"), ("rule_id" = i32, Path, description = "Rule id"),
        DeleteQuery),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    auth: Auth<DELETE>,
    path: web::Path<(i32, i32)>,
    Params(q): Params<DeleteQuery>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    tag_rules::delete(
        auth.db(),
        &auth.audit_actor(),
        tag_id,
        rule_id,
        q.remove_assigned,
    )
    .await?;
    auth.state.tags.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

/// Run an active rule over the whole inventory now.
#[utoipa::path(post, path = "/api/v1/tags/{id}/rules/{rule_id}/apply", tag = "tag_rules",
    params(("id" = i32, Path, description = "Tag id"), ("rule_id" = i32, Path, description = "Rule id")),
    responses((status = 200, body = Saved), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody)))]
pub async fn apply(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let applied = tag_rules::apply(auth.db(), &auth.audit_actor(), tag_id, rule_id).await?;
    let rule = tag_rules::get(auth.db(), tag_id, rule_id).await?;
    Ok(ok(&saved(rule_out(&auth, rule).await?, applied)))
}

/// Criteria to preview, for a new rule or in place of an existing one's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    #[schema(value_type = Object)]
    criteria: Group,
    /// The rule these criteria would replace (its links count as its own).
    rule_id: Option<i32>,
}

/// A device a preview names.
#[derive(Serialize, ToSchema)]
pub struct DeviceRef {
    pub id: i32,
    pub hostname: String,
    pub ip_address: String,
}

impl From<device_entity::Model> for DeviceRef {
    fn from(d: device_entity::Model) -> Self {
        Self {
            id: d.id,
            hostname: d.hostname,
            ip_address: d.ip_address,
        }
    }
}

/// What a rule would do now.
#[derive(Serialize, ToSchema)]
pub struct PreviewOut {
    /// Devices that would gain the tag (the first 100 listed).
    pub gain_total: usize,
    pub gain: Vec<DeviceRef>,
    /// Matching devices that have it already.
    pub already: usize,
    /// Devices that would lose it.
    pub lose: usize,
    /// Matching devices that would be left without it (outside a credential's networks).
    pub withheld_total: usize,
    pub withheld: Vec<DeviceRef>,
}

/// What criteria would do, without changing anything.
#[utoipa::path(post, path = "/api/v1/tags/{id}/rules/preview", tag = "tag_rules",
    request_body = PreviewBody, params(("id" = i32, Path, description = "Tag id")),
    responses((status = 200, body = PreviewOut), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn preview(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    body: Body<PreviewBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.read()?;
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    if let Some(rule_id) = body.rule_id {
        tag_rules::get(auth.db(), tag.id, rule_id).await?;
    }
    let p = tag_rules::preview(auth.db(), tag.id, body.rule_id, &body.criteria).await?;
    Ok(ok(&PreviewOut {
        gain_total: p.gain_total,
        gain: p.gain.into_iter().map(DeviceRef::from).collect(),
        already: p.already,
        lose: p.lose,
        withheld_total: p.withheld_total,
        withheld: p.withheld.into_iter().map(DeviceRef::from).collect(),
    }))
}
