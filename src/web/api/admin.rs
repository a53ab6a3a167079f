//! `/api/v1/settings` and `/api/v1/audit`: administration. Settings are read and changed by
//! category as on the settings page; a sensitive value is write-only (a setting says only
//! whether it is set). The audit log is read-only.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Body, ListOf, ListParams, NoParams, Params, ok};
use crate::auth::Auth;
use crate::auth::permissions::ADMIN;
use crate::entity::audit_logs;
use crate::services::audit::{self, AuditFilter};
use crate::services::settings::{self, SettingView};
use crate::vocabulary::{AuditKind, Outcome};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/settings" => settings_list,
    PATCH r"/api/v1/settings/{category}" => settings_update,
    GET r"/api/v1/audit" => audit_list,
}

/// A setting and its value.
#[derive(Serialize, ToSchema)]
pub struct Setting {
    pub key: &'static str,
    pub category: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    /// `integer`, `boolean`, `text` or `secret`.
    pub kind: &'static str,
    /// The value; always `null` for a sensitive setting.
    #[schema(value_type = Object)]
    pub value: Value,
    /// Whether a sensitive setting holds a value.
    pub is_set: bool,
    pub sensitive: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl From<&SettingView> for Setting {
    fn from(s: &SettingView) -> Self {
        let kind = match s.input_type() {
            "number" => "integer",
            "checkbox" => "boolean",
            "password" => "secret",
            _ => "text",
        };
        let value = match kind {
            "secret" => Value::Null,
            "boolean" => Value::Bool(s.checked),
            "integer" => s
                .display
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::Null),
            _ => Value::String(s.display.clone()),
        };
        Self {
            key: s.key,
            category: s.category,
            label: s.label,
            help: s.help,
            kind,
            value,
            is_set: s.is_set,
            sensitive: s.is_sensitive,
            min: s.bounds().map(|b| b.0),
            max: s.bounds().map(|b| b.1),
        }
    }
}

/// Every setting, by category.
#[utoipa::path(get, path = "/api/v1/settings", tag = "admin",
    responses((status = 200, body = Vec<Setting>)))]
pub async fn settings_list(
    auth: Auth<ADMIN>,
    _: Params<NoParams>,
) -> Result<HttpResponse, AppError> {
    let all: Vec<Setting> = settings::grouped(auth.db())
        .await?
        .iter()
        .flat_map(|c| c.settings.iter().map(Setting::from))
        .collect();
    Ok(ok(&all))
}

/// Change settings of one category: `{"key": value}` for the ones to change (others keep their
/// value). A sensitive setting takes a string, or `null` to clear it. One bad value changes
/// nothing.
#[utoipa::path(patch, path = "/api/v1/settings/{category}", tag = "admin",
    params(("category" = String, Path, description = "security, jobs, backups or credentials")),
    request_body(content = Object, description = "Keys of the category and their new values"),
    responses((status = 200, body = Vec<Setting>), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn settings_update(
    auth: Auth<ADMIN>,
    category: web::Path<String>,
    body: Body<HashMap<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let sent = body.read()?;
    let category = category.into_inner();
    let current = settings::grouped(auth.db()).await?;
    let Some(views) = current.iter().find(|c| c.id == category) else {
        return Err(AppError::not_found());
    };
    // The settings form of the category, as the page would send it unchanged, with the sent
    // values over it (`services::settings::update_category` validates and stores).
    let mut form: HashMap<String, String> = views
        .settings
        .iter()
        .map(|s| {
            let shown = if s.input_type() == "checkbox" {
                if s.checked { "on" } else { "off" }.to_string()
            } else {
                s.display.clone()
            };
            (s.key.to_string(), shown)
        })
        .collect();
    let mut unknown = Vec::new();
    for (key, value) in sent {
        let Some(view) = views.settings.iter().find(|s| s.key == key) else {
            unknown.push(key);
            continue;
        };
        let text = match (view.input_type(), value) {
            ("password", Value::Null) => {
                form.insert(format!("{key}__clear"), String::new());
                continue;
            }
            ("checkbox", Value::Bool(on)) => if on { "on" } else { "off" }.to_string(),
            (_, Value::String(s)) => s,
            (_, Value::Number(n)) => n.to_string(),
            (kind, other) => {
                return Err(AppError::BadRequest(format!(
                    "{key} takes {}, not {other}",
                    match kind {
                        "checkbox" => "true or false",
                        "number" => "a number",
                        _ => "a string",
                    }
                )));
            }
        };
        form.insert(key, text);
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(AppError::BadRequest(format!(
            "category {category} has no setting {}",
            unknown.join(", ")
        )));
    }
    settings::update_category(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        &category,
        &form,
    )
    .await?;
    let all: Vec<Setting> = settings::grouped(auth.db())
        .await?
        .iter()
        .filter(|c| c.id == category)
        .flat_map(|c| c.settings.iter().map(Setting::from))
        .collect();
    Ok(ok(&all))
}

/// An audit entry.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i32,
    pub timestamp: DateTime<Utc>,
    pub event_type: AuditKind,
    pub event_name: String,
    pub actor_id: Option<i32>,
    pub actor_name: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    #[schema(value_type = Object)]
    pub details: Option<Value>,
}

impl From<audit_logs::Model> for AuditEntry {
    fn from(a: audit_logs::Model) -> Self {
        Self {
            id: a.id,
            timestamp: a.timestamp,
            event_type: a.event_type,
            event_name: a.event_name,
            actor_id: a.actor_id,
            actor_name: a.actor_name,
            target_type: a.target_type,
            target_id: a.target_id,
            ip: a.ip,
            user_agent: a.user_agent,
            outcome: a.outcome,
            details: a.details,
        }
    }
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    event_type: Option<AuditKind>,
    /// Text in the actor's name.
    actor: Option<String>,
    /// From this day (UTC), `YYYY-MM-DD`.
    from: Option<NaiveDate>,
    /// Up to this day (UTC), included.
    to: Option<NaiveDate>,
    /// Text in the event, target, address or details.
    q: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin",
    params(AuditQuery, super::docs::Window),
    responses((status = 200, body = ListOf<AuditEntry>), (status = 400, body = super::ErrorBody)))]
pub async fn audit_list(
    auth: Auth<ADMIN>,
    params: ListParams<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = &params.filters;
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let filter = AuditFilter {
        event_type: q.event_type,
        actor: text(&q.actor),
        from: q.from,
        to: q.to,
        text: text(&q.q),
    };
    let page = audit::list(auth.db(), &filter, params.paging).await?;
    Ok(ok(&params.envelope(page, AuditEntry::from)))
}
