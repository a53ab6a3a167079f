//! The default schedules of a first start (a nightly backup and a nightly retention run),
//! created once per database.

use chrono::{NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use serde_json::json;

use super::recurrence::next_run;
use super::spec::Spec;
use crate::entity::{admin_settings, scheduled_jobs};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::query::is_unique_violation;
use crate::vocabulary::{JobType, TargetKind};

/// The `admin_settings` row that records that the default schedules were created (so a user who
/// deletes them does not get them back). Its category is not one of the settings page's, so it
/// is never shown or edited there; only its existence counts.
pub const DEFAULTS_MARKER: &str = "schedules.defaults_created";
const MARKER_CATEGORY: &str = "internal";

/// On the first start, create the default schedules: a daily backup of all devices at 02:00 UTC
/// and a daily retention run at 03:30 UTC. Exactly once per database: the marker row
/// `DEFAULTS_MARKER` is inserted in the same transaction, so deleted defaults stay deleted and
/// two nodes starting together create them once. True when they were created now.
pub async fn ensure_defaults(db: &DatabaseConnection) -> Result<bool, Error> {
    let exists = admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.eq(DEFAULTS_MARKER))
        .count(db)
        .await?
        > 0;
    if exists {
        return Ok(false);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let marker = admin_settings::ActiveModel {
        key: Set(DEFAULTS_MARKER.into()),
        value: Set(json!(now.to_rfc3339())),
        value_type: Set("internal".into()),
        category: Set(MARKER_CATEGORY.into()),
        description: Set(
            "When the default schedules were created (bookkeeping, not a setting).".into(),
        ),
        is_sensitive: Set(false),
        updated_by: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match marker {
        Ok(_) => {}
        // Another node is creating them (its transaction committed first).
        Err(e) if is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let actor = Actor::system("first start");
    let two = NaiveTime::from_hms_opt(2, 0, 0);
    let half_past_three = NaiveTime::from_hms_opt(3, 30, 0);
    let defaults = [
        ("Daily backup of all devices", JobType::Backup, two),
        (
            "Daily cleanup (retention)",
            JobType::Retention,
            half_past_three,
        ),
    ];
    for (name, job_type, time) in defaults {
        let Some(time) = time else { continue };
        let taken = scheduled_jobs::Entity::find()
            .filter(scheduled_jobs::Column::Name.eq(name))
            .count(&txn)
            .await?
            > 0;
        if taken {
            continue;
        }
        let spec = Spec::Daily { time };
        let schedule = scheduled_jobs::ActiveModel {
            name: Set(name.into()),
            job_type: Set(job_type),
            target_type: Set(TargetKind::All),
            target_id: Set(None),
            schedule_type: Set(spec.kind()),
            parameters: Set(spec.to_params(false)),
            timezone: Set("UTC".into()),
            enabled: Set(true),
            next_run_at: Set(next_run(&spec, Tz::UTC, now)),
            last_run_at: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &actor,
            Event::data("schedule.create")
                .target("schedule", schedule.id)
                .detail("name", name)
                .detail("job_type", job_type.as_str())
                .detail("schedule", spec.describe(Tz::UTC)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}
