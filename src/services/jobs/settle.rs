//! A job's final status: when its last device finishes, when a whole-job task ends, or when the
//! watchdog finds it stalled.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::entity::{job_logs, job_results};
use crate::error::Error;
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};

use super::{DeviceOutcome, dispatch_again, entry, finish_device, get, result_counts};
use crate::background::Queue;

/// When every device of a job has an outcome, give the job its final status (exactly once).
pub async fn settle_if_done(db: &DatabaseConnection, job_log_id: i32) -> Result<(), Error> {
    let job = get(db, job_log_id).await?;
    if job.finished_at.is_some() || job.progress_done < job.progress_total {
        return Ok(());
    }
    let counts = result_counts(db, job_log_id).await?;
    let count = |s: ResultStatus| counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
    let (ok, failed) = (count(ResultStatus::Success), count(ResultStatus::Failed));
    let status = if job.status == JobStatus::Cancelled {
        JobStatus::Cancelled
    } else if failed == 0 {
        JobStatus::Success
    } else if ok == 0 {
        JobStatus::Failed
    } else {
        JobStatus::Partial
    };
    settle(
        db,
        job_log_id,
        status,
        &format!("{ok} succeeded, {failed} failed"),
    )
    .await
}

/// A whole-job task (retention) is starting.
pub async fn mark_running(db: &DatabaseConnection, job_log_id: i32) -> Result<(), Error> {
    let now = Utc::now();
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::Status, Expr::value(JobStatus::Running))
        .col_expr(job_logs::Column::StartedAt, Expr::value(now))
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
        .filter(job_logs::Column::Id.eq(job_log_id))
        .filter(job_logs::Column::Status.eq(JobStatus::Queued))
        .exec(db)
        .await?;
    Ok(())
}

/// A whole-job task's progress: `done` items so far, and the total once it is known.
pub async fn progress(
    db: &DatabaseConnection,
    job_log_id: i32,
    done: usize,
    total: Option<usize>,
) -> Result<(), Error> {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let mut update = job_logs::Entity::update_many()
        .col_expr(job_logs::Column::ProgressDone, Expr::value(count(done)))
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job_logs::Column::Id.eq(job_log_id));
    if let Some(total) = total {
        update = update.col_expr(job_logs::Column::ProgressTotal, Expr::value(count(total)));
    }
    update.exec(db).await?;
    Ok(())
}

/// Give a job its final status and message, once.
pub async fn settle(
    db: &DatabaseConnection,
    job_log_id: i32,
    status: JobStatus,
    message: &str,
) -> Result<(), Error> {
    let now = Utc::now();
    let settled = job_logs::Entity::update_many()
        .col_expr(job_logs::Column::Status, Expr::value(status))
        .col_expr(job_logs::Column::Message, Expr::value(message))
        .col_expr(job_logs::Column::FinishedAt, Expr::value(now))
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
        .filter(job_logs::Column::Id.eq(job_log_id))
        .filter(job_logs::Column::FinishedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if settled > 0 {
        let level = match status {
            JobStatus::Success => LogLevel::Info,
            JobStatus::Partial | JobStatus::Cancelled => LogLevel::Warning,
            JobStatus::Failed | JobStatus::Queued | JobStatus::Running => LogLevel::Error,
        };
        entry(
            db,
            job_log_id,
            level,
            "job",
            &format!("job {status}: {message}"),
            None,
        )
        .await?;
        let job = get(db, job_log_id).await?;
        if job.job_type == JobType::ConfigPush {
            crate::services::push::audit_outcome(db, &job).await?;
        }
        crate::services::after_backup::queue(db, &job).await;
    }
    Ok(())
}

/// Jobs that stopped moving for `stalled_after`. Their devices are told apart: one a worker
/// had started and went silent on (its worker died and the queue did not bring it back) is marked
/// failed (interrupted); one no worker ever started (the workers were down, or busy with other
/// jobs) is handed to the queue again and the job gets another period, since nothing was tried.
/// A job with nothing open is settled from its results: it was only its final status that was
/// missed.
pub async fn end_stalled(
    db: &DatabaseConnection,
    queue: &Queue,
    stalled_after: Duration,
) -> Result<usize, Error> {
    let limit = Utc::now() - stalled_after;
    let stalled = job_logs::Entity::find()
        .filter(job_logs::Column::FinishedAt.is_null())
        .filter(job_logs::Column::DispatchedAt.is_not_null())
        .filter(
            Condition::any()
                .add(job_logs::Column::UpdatedAt.lt(limit))
                .add(
                    Condition::all()
                        .add(job_logs::Column::UpdatedAt.is_null())
                        .add(job_logs::Column::DispatchedAt.lt(limit)),
                ),
        )
        .all(db)
        .await?;
    let minutes = stalled_after.num_minutes();
    for job in &stalled {
        match job.job_type {
            t if t.on_devices() => end_stalled_backup(db, queue, job, minutes).await?,
            _ if job.status == JobStatus::Queued => {
                requeue(db, queue, job, "the job was never started by a worker").await?;
            }
            _ => {
                entry(
                    db,
                    job.id,
                    LogLevel::Error,
                    "job",
                    &format!("interrupted: its worker went silent {minutes} minutes ago"),
                    None,
                )
                .await?;
                settle(db, job.id, JobStatus::Failed, "interrupted").await?;
            }
        }
    }
    Ok(stalled.len())
}

async fn end_stalled_backup(
    db: &DatabaseConnection,
    queue: &Queue,
    job: &job_logs::Model,
    minutes: i64,
) -> Result<(), Error> {
    let open = job_results::Entity::find()
        .filter(job_results::Column::JobLogId.eq(job.id))
        .filter(job_results::Column::Status.is_in([ResultStatus::Queued, ResultStatus::Running]))
        .all(db)
        .await?;
    let (started, never_started): (Vec<_>, Vec<_>) =
        open.iter().partition(|r| r.status == ResultStatus::Running);
    for result in &started {
        if let Some(device_id) = result.device_id {
            finish_device(
                db,
                job.id,
                device_id,
                DeviceOutcome {
                    error_class: Some("interrupted"),
                    message: Some(
                        "interrupted: the worker running this device went silent and the device was not run again".into(),
                    ),
                    ..DeviceOutcome::new(ResultStatus::Failed)
                },
            )
            .await?;
        }
    }
    if !started.is_empty() {
        entry(
            db,
            job.id,
            LogLevel::Error,
            "job",
            &format!(
                "interrupted: {} devices a worker had started made no progress for {minutes} minutes and were marked failed",
                started.len()
            ),
            None,
        )
        .await?;
    }
    if never_started.is_empty() {
        // Every device has its outcome: settle from the results (a no-op if already settled).
        return settle_if_done(db, job.id).await;
    }
    let reason = format!(
        "{} devices were never started by a worker in {minutes} minutes (none was tried)",
        never_started.len()
    );
    requeue(db, queue, job, &reason).await
}

/// Hand a job's unstarted work to the queue again and restart its stall clock.
async fn requeue(
    db: &DatabaseConnection,
    queue: &Queue,
    job: &job_logs::Model,
    reason: &str,
) -> Result<(), Error> {
    dispatch_again(db, queue, job).await?;
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job_logs::Column::Id.eq(job.id))
        .exec(db)
        .await?;
    entry(
        db,
        job.id,
        LogLevel::Warning,
        "job",
        &format!("{reason}: handed to the queue again"),
        None,
    )
    .await?;
    Ok(())
}
