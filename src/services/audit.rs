//! The audit trail: one call, `record`, used by every change. Details never hold secrets: callers
//! pass field names and counts, not values of secret fields.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Map, Value};

use super::query::{Page, Paging, contains_ci, fetch_page};
use crate::entity::audit_logs;
use crate::vocabulary::{AuditKind, Outcome};

/// Who did it, and from where.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub id: Option<i32>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// The command line or a background task.
    pub fn system(name: &str) -> Self {
        Self {
            name: Some(name.to_string()),
            ..Self::default()
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    event_type: AuditKind,
    name: String,
    target: Option<(String, String)>,
    outcome: Outcome,
    details: Map<String, Value>,
}

impl Event {
    fn new(event_type: AuditKind, name: &str) -> Self {
        Self {
            event_type,
            name: name.to_string(),
            target: None,
            outcome: Outcome::Success,
            details: Map::new(),
        }
    }
    pub fn auth(name: &str) -> Self {
        Self::new(AuditKind::Auth, name)
    }
    pub fn data(name: &str) -> Self {
        Self::new(AuditKind::Data, name)
    }
    pub fn admin(name: &str) -> Self {
        Self::new(AuditKind::Admin, name)
    }
    pub fn security(name: &str) -> Self {
        Self::new(AuditKind::Security, name)
    }
    pub fn job(name: &str) -> Self {
        Self::new(AuditKind::Job, name)
    }
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target = Some((kind.to_string(), id.to_string()));
        self
    }
    pub fn failure(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// The names of the fields whose flag is true, for "which fields changed" details (names only,
/// never values).
pub fn changed_fields(flags: &[(&'static str, bool)]) -> Vec<&'static str> {
    flags
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| *name)
        .collect()
}

pub async fn record(db: &impl ConnectionTrait, actor: &Actor, event: Event) -> Result<(), DbErr> {
    let (target_type, target_id) = match event.target {
        Some((kind, id)) => (Some(kind), Some(id.chars().take(64).collect())),
        None => (None, None),
    };
    audit_logs::Entity::insert(audit_logs::ActiveModel {
        timestamp: Set(Utc::now()),
        event_type: Set(event.event_type),
        event_name: Set(event.name),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.clone()),
        target_type: Set(target_type),
        target_id: Set(target_id),
        ip: Set(actor.ip.clone()),
        user_agent: Set(actor.user_agent.clone()),
        outcome: Set(event.outcome),
        details: Set((!event.details.is_empty()).then_some(Value::Object(event.details))),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// For places that cannot return an error to anyone (middleware): a failure is logged.
pub async fn record_or_log(db: &impl ConnectionTrait, actor: &Actor, event: Event) {
    if let Err(e) = record(db, actor, event).await {
        tracing::error!(error = %e, "cannot write audit entry");
    }
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub event_type: Option<AuditKind>,
    pub actor: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub text: Option<String>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    paging: Paging,
) -> Result<Page<audit_logs::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(t) = filter.event_type {
        cond = cond.add(audit_logs::Column::EventType.eq(t));
    }
    if let Some(a) = &filter.actor {
        cond = cond.add(contains_ci(Expr::col(audit_logs::Column::ActorName), a));
    }
    if let Some(from) = filter.from {
        cond = cond.add(audit_logs::Column::Timestamp.gte(start_of(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        cond = cond.add(audit_logs::Column::Timestamp.lt(start_of(to)));
    }
    if let Some(text) = &filter.text {
        cond = cond.add(
            Condition::any()
                .add(contains_ci(Expr::col(audit_logs::Column::EventName), text))
                .add(contains_ci(Expr::col(audit_logs::Column::TargetType), text))
                .add(contains_ci(Expr::col(audit_logs::Column::TargetId), text))
                .add(contains_ci(Expr::col(audit_logs::Column::Ip), text))
                .add(contains_ci(
                    Expr::col(audit_logs::Column::Details).cast_as("text"),
                    text,
                )),
        );
    }
    let select = audit_logs::Entity::find()
        .filter(cond)
        .order_by_desc(audit_logs::Column::Timestamp)
        .order_by_desc(audit_logs::Column::Id);
    fetch_page(db, select, paging).await
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}
