//! The scheduler's pass: the schedules that are due, the job each starts (with its idempotency
//! key), and the compare-and-set that moves a schedule past its due time on one node only.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::recurrence::next_after_due;
use super::spec::{debug_of, stored_spec};
use crate::entity::scheduled_jobs;
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::{JobType, TargetKind};

/// Enabled schedules whose next run is at or before `now`, the longest-waiting first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<scheduled_jobs::Model>, DbErr> {
    scheduled_jobs::Entity::find()
        .filter(scheduled_jobs::Column::Enabled.eq(true))
        .filter(scheduled_jobs::Column::NextRunAt.is_not_null())
        .filter(scheduled_jobs::Column::NextRunAt.lte(now))
        .order_by_asc(scheduled_jobs::Column::NextRunAt)
        .order_by_asc(scheduled_jobs::Column::Id)
        .all(db)
        .await
}

/// Moves a due schedule (as read by `due`) past `now`: `next_run_at` becomes its next run
/// strictly after `now` and `last_run_at` the due time, in one
/// `UPDATE … WHERE id = ? AND next_run_at = <the value read>`. True for the one caller whose
/// update took effect; false when another node (or an edit) got there first. A schedule that
/// missed many periods moves once, to its next future time. A `once` schedule ends disabled,
/// without a next run.
pub async fn advance(
    db: &impl ConnectionTrait,
    schedule: &scheduled_jobs::Model,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(due_at) = schedule.next_run_at else {
        return Ok(false);
    };
    let next = match stored_spec(schedule) {
        Ok((spec, tz)) => next_after_due(&spec, tz, due_at, now),
        Err(message) => {
            // Only a hand-edited row gets here. Stopping it beats failing on every tick.
            tracing::warn!(schedule = schedule.id, %message, "schedule parameters unreadable; disabling it after this run");
            None
        }
    };
    let mut update = scheduled_jobs::Entity::update_many()
        .col_expr(scheduled_jobs::Column::NextRunAt, Expr::value(next))
        .col_expr(scheduled_jobs::Column::LastRunAt, Expr::value(Some(due_at)));
    if next.is_none() {
        update = update.col_expr(scheduled_jobs::Column::Enabled, Expr::value(false));
    }
    let result = update
        .filter(scheduled_jobs::Column::Id.eq(schedule.id))
        .filter(scheduled_jobs::Column::NextRunAt.eq(due_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// One scheduler pass: start the job of every due schedule, then advance it. A second node doing
/// the same pass starts nothing (the job's idempotency key is taken) and loses the advance.
/// A schedule whose job cannot start (no enabled device matches, the device was deleted) is
/// still advanced, so it is not retried on every tick; any other failure leaves it due and is
/// retried on the next pass. Returns the number of jobs this pass started.
pub async fn run_due(
    db: &DatabaseConnection,
    queue: &crate::background::Queue,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let actor = Actor::system("scheduler");
    let mut started = 0;
    for schedule in due(db, now).await? {
        // Start before advancing: a stop in between repeats the start on the next pass, which
        // the key turns into a no-op, instead of losing the run.
        let outcome = match new_job(&schedule) {
            Ok(job) => jobs::start(db, queue, &actor, job).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Some(_)) => started += 1,
            Ok(None) => {}
            Err(Error::Refused(reason)) => {
                tracing::warn!(schedule = schedule.id, name = %schedule.name, %reason, "scheduled job not started");
            }
            Err(Error::NotFound) => {
                tracing::warn!(schedule = schedule.id, name = %schedule.name, "scheduled job not started: its target no longer exists");
            }
            Err(e) => {
                tracing::error!(schedule = schedule.id, error = %e, "scheduled job failed to start; retrying on the next pass");
                continue;
            }
        }
        advance(db, &schedule, now).await?;
    }
    Ok(started)
}

/// Starts a schedule's job now, outside its times, for `user_id`. A job it cannot start (its
/// target gone or empty) is refused in words.
pub async fn start_now(
    db: &DatabaseConnection,
    queue: &crate::background::Queue,
    actor: &Actor,
    id: i32,
    user_id: i32,
) -> Result<crate::entity::job_logs::Model, Error> {
    let schedule = super::get(db, id).await?;
    super::store::may_schedule(db, actor, &[schedule.job_type]).await?;
    let mut job = new_job(&schedule)?;
    job.idempotency_key = None;
    job.created_by = Some(user_id);
    match jobs::start(db, queue, actor, job).await {
        Ok(Some(job)) => Ok(job),
        Ok(None) => Err(Error::Conflict("a job with the same key exists".into())),
        Err(Error::NotFound) => Err(Error::Refused("its target device no longer exists".into())),
        Err(e) => Err(e),
    }
}

/// The idempotency key of the job for the schedule's current due time: one job per tick, however
/// many nodes try.
pub fn idempotency_key(schedule: &scheduled_jobs::Model) -> String {
    format!(
        "schedule:{}:{}",
        schedule.id,
        schedule.next_run_at.map_or(0, |t| t.timestamp())
    )
}

/// The job a schedule starts, with the tick's idempotency key (set it to `None` for "run now").
pub fn new_job(schedule: &scheduled_jobs::Model) -> Result<NewJob, Error> {
    let job_type = schedule.job_type;
    let target = match (job_type, schedule.target_type, schedule.target_id) {
        (JobType::NautobotSync, TargetKind::NautobotSource, Some(id)) => {
            Target::NautobotSource { id, apply: true }
        }
        (JobType::Discovery, TargetKind::Scan, _) => schedule
            .parameters
            .get("scan")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .map(|s| Target::Scan(Box::new(s)))
            .ok_or_else(|| {
                Error::Internal(format!("schedule {} keeps no readable scan", schedule.id))
            })?,
        // The mapping says what a CheckMK sync covers and may do.
        (JobType::Retention | JobType::CheckmkCompare, _, _) | (_, TargetKind::All, _) => {
            Target::All
        }
        (_, TargetKind::Device, Some(id)) => Target::Device(id),
        (_, TargetKind::Tag, Some(id)) => Target::Tag(id),
        (_, other, id) => {
            return Err(Error::Internal(format!(
                "schedule {} has an unusable target {other:?} {id:?}",
                schedule.id
            )));
        }
    };
    Ok(NewJob {
        job_type,
        target,
        created_by: schedule.created_by,
        scheduled_job_id: Some(schedule.id),
        idempotency_key: Some(idempotency_key(schedule)),
        debug: debug_of(schedule),
        commands: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use serde_json::{Value, json};

    use super::*;
    use crate::services::schedules::get;
    use crate::vocabulary::ScheduleKind;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    async fn memory_db() -> DatabaseConnection {
        use migration::MigratorTrait;
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    async fn insert(
        db: &DatabaseConnection,
        kind: ScheduleKind,
        parameters: Value,
        next: DateTime<Utc>,
    ) -> scheduled_jobs::Model {
        scheduled_jobs::ActiveModel {
            name: Set(format!("s-{}", next.timestamp())),
            job_type: Set(JobType::Backup),
            target_type: Set(TargetKind::All),
            schedule_type: Set(kind),
            parameters: Set(parameters),
            timezone: Set("UTC".into()),
            enabled: Set(true),
            next_run_at: Set(Some(next)),
            created_at: Set(next),
            updated_at: Set(next),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn advance_is_compare_and_set() {
        let db = memory_db().await;
        let now = utc("2026-06-15T12:00:30Z");
        // Ten days overdue: runs once, then next at tomorrow's 02:00.
        let s = insert(
            &db,
            ScheduleKind::Daily,
            json!({"time": "02:00", "debug": false}),
            utc("2026-06-05T02:00:00Z"),
        )
        .await;
        assert_eq!(due(&db, now).await.unwrap().len(), 1);
        assert!(advance(&db, &s, now).await.unwrap());
        assert!(
            !advance(&db, &s, now).await.unwrap(),
            "same read: second loses"
        );
        let after = get(&db, s.id).await.unwrap();
        assert_eq!(after.next_run_at, Some(utc("2026-06-16T02:00:00Z")));
        assert_eq!(after.last_run_at, Some(utc("2026-06-05T02:00:00Z")));
        assert!(due(&db, now).await.unwrap().is_empty());
        // 1780624800 is 2026-06-05T02:00:00Z in Unix seconds.
        assert_eq!(idempotency_key(&s), format!("schedule:{}:1780624800", s.id));

        let o = insert(
            &db,
            ScheduleKind::Once,
            json!({"at": "2026-06-15T11:00", "debug": false}),
            utc("2026-06-15T11:00:00Z"),
        )
        .await;
        assert!(advance(&db, &o, now).await.unwrap());
        let o = get(&db, o.id).await.unwrap();
        assert_eq!((o.next_run_at, o.enabled), (None, false));
    }

    #[tokio::test]
    async fn a_schedule_starts_the_job_of_its_target() {
        let db = memory_db().await;
        let mut s = insert(
            &db,
            ScheduleKind::Interval,
            json!({"minutes": 5, "debug": true}),
            utc("2026-06-15T11:00:00Z"),
        )
        .await;
        let job = new_job(&s).unwrap();
        assert_eq!(
            (job.job_type, job.scheduled_job_id, job.debug),
            (JobType::Backup, Some(s.id), true)
        );
        assert_eq!(job.target, Target::All);
        // 1781521200 is 2026-06-15T11:00:00Z in Unix seconds.
        assert_eq!(
            job.idempotency_key,
            Some(format!("schedule:{}:1781521200", s.id))
        );
        s.target_type = TargetKind::Tag;
        s.target_id = Some(4);
        assert_eq!(new_job(&s).unwrap().target, Target::Tag(4));
        s.job_type = JobType::Retention;
        assert_eq!(new_job(&s).unwrap().target, Target::All);
        s.job_type = JobType::Backup;
        s.target_id = None;
        assert!(matches!(new_job(&s), Err(Error::Internal(_))));
    }
}
