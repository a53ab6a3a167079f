//! One schedule read, created, changed, switched on or off, or deleted; each change audited in
//! the transaction that makes it.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel,
};

use super::input::ScheduleInput;
use super::recurrence::next_run;
use super::spec::{debug_of, stored_spec};
use super::validate::validate;
use crate::auth::permissions::{ADMIN, Permissions};
use crate::entity::scheduled_jobs;
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::query::is_unique_violation;
use crate::services::validation::FieldErrors;
use crate::vocabulary::JobType;

fn name_taken_error() -> Error {
    FieldErrors::single("name", "A schedule with this name already exists.")
}

/// A Nautobot sync rewrites the inventory, which only administrators may start: creating,
/// changing, switching, deleting or running such a schedule needs `admin` as well.
pub(super) async fn may_schedule(
    db: &impl ConnectionTrait,
    actor: &Actor,
    job_types: &[JobType],
) -> Result<(), Error> {
    if !job_types.contains(&JobType::NautobotSync) {
        return Ok(());
    }
    let permissions = match actor.id {
        Some(id) => crate::entity::users::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|u| u.permissions),
        None => None,
    };
    if permissions.is_some_and(|p| Permissions(p).has(ADMIN)) {
        Ok(())
    } else {
        Err(Error::NotPermitted {
            missing: vec!["admin"],
        })
    }
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<scheduled_jobs::Model, Error> {
    scheduled_jobs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ScheduleInput,
) -> Result<scheduled_jobs::Model, Error> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    may_schedule(
        &txn,
        actor,
        &JobType::parse(&input.job_type)
            .into_iter()
            .collect::<Vec<_>>(),
    )
    .await?;
    let v = validate(&txn, input, None, now).await?;
    let next = if v.enabled {
        next_run(&v.spec, v.tz, now)
    } else {
        None
    };
    let inserted = scheduled_jobs::ActiveModel {
        name: Set(v.name.clone()),
        job_type: Set(v.job_type),
        target_type: Set(v.target_type),
        target_id: Set(v.target_id),
        schedule_type: Set(v.spec.kind()),
        parameters: Set(v.params()),
        timezone: Set(v.tz.name().into()),
        enabled: Set(v.enabled),
        next_run_at: Set(next),
        last_run_at: Set(None),
        created_by: Set(actor.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let schedule = match inserted {
        Ok(s) => s,
        // Another request took the name between the check and the insert.
        Err(e) if is_unique_violation(&e) => return Err(name_taken_error()),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        Event::data("schedule.create")
            .target("schedule", schedule.id)
            .detail("name", schedule.name.clone())
            .detail("job_type", schedule.job_type.as_str())
            .detail("schedule", v.spec.describe(v.tz)),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &ScheduleInput,
) -> Result<scheduled_jobs::Model, Error> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let old = get(&txn, id).await?;
    let mut involved = vec![old.job_type];
    involved.extend(JobType::parse(&input.job_type));
    may_schedule(&txn, actor, &involved).await?;
    let v = validate(&txn, input, Some(&old), now).await?;
    let params = v.params();
    let timing_changed = v.spec.kind() != old.schedule_type
        || stored_spec(&old).ok().map(|(s, _)| s) != Some(v.spec.clone())
        || v.tz.name() != old.timezone;
    let fields = audit::changed_fields(&[
        ("name", v.name != old.name),
        ("job_type", v.job_type != old.job_type),
        (
            "target",
            v.target_type != old.target_type || v.target_id != old.target_id,
        ),
        ("schedule", timing_changed),
        ("enabled", v.enabled != old.enabled),
        ("debug", v.debug != debug_of(&old)),
    ]);
    // An unchanged schedule keeps its next run (an interval keeps its phase); a changed one, or
    // one switched on, counts from now.
    let next = match (v.enabled, old.enabled && !timing_changed) {
        (false, _) => None,
        (true, true) if old.next_run_at.is_some() => old.next_run_at,
        (true, _) => next_run(&v.spec, v.tz, now),
    };
    let mut active = old.clone().into_active_model();
    active.name = Set(v.name.clone());
    active.job_type = Set(v.job_type);
    active.target_type = Set(v.target_type);
    active.target_id = Set(v.target_id);
    active.schedule_type = Set(v.spec.kind());
    active.parameters = Set(params);
    active.timezone = Set(v.tz.name().into());
    active.enabled = Set(v.enabled);
    active.next_run_at = Set(next);
    active.updated_at = Set(now);
    let schedule = match active.update(&txn).await {
        Ok(s) => s,
        Err(e) if is_unique_violation(&e) => return Err(name_taken_error()),
        Err(e) => return Err(e.into()),
    };
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("schedule.update")
                .target("schedule", id)
                .detail("name", schedule.name.clone())
                .detail("fields", fields)
                .detail("schedule", v.spec.describe(v.tz)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(schedule)
}

/// Switch a schedule on (its next run counted from now, so a long pause does not make it due at
/// once) or off.
pub async fn set_enabled(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    enabled: bool,
) -> Result<scheduled_jobs::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let old = get(&txn, id).await?;
    may_schedule(&txn, actor, &[old.job_type]).await?;
    if old.enabled == enabled {
        return Ok(old);
    }
    let next = if enabled {
        let (spec, tz) = stored_spec(&old).map_err(|m| {
            Error::Conflict(format!(
                "This schedule's settings cannot be read ({m}); edit it to fix them."
            ))
        })?;
        Some(next_run(&spec, tz, Utc::now()).ok_or_else(|| {
            Error::Conflict(
                "This one-time schedule's time has passed: edit it to choose a new time.".into(),
            )
        })?)
    } else {
        None
    };
    let mut active = old.into_active_model();
    active.enabled = Set(enabled);
    active.next_run_at = Set(next);
    active.updated_at = Set(Utc::now());
    let schedule = active.update(&txn).await?;
    let event = if enabled {
        "schedule.enable"
    } else {
        "schedule.disable"
    };
    audit::record(
        &txn,
        actor,
        Event::data(event)
            .target("schedule", id)
            .detail("name", schedule.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}

/// Delete a schedule; its past jobs stay (their link to it becomes empty).
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> Result<scheduled_jobs::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let schedule = get(&txn, id).await?;
    may_schedule(&txn, actor, &[schedule.job_type]).await?;
    scheduled_jobs::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("schedule.delete")
            .target("schedule", id)
            .detail("name", schedule.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}
