//! One device of a job: it starts (once), and its outcome and log entries are recorded in the
//! caller's transaction (once, however often its task is delivered).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect,
};

use crate::entity::{job_log_entries, job_logs, job_results};
use crate::error::Error;
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};

use super::settle_if_done;

/// A device of the job is starting: mark it and the job running. Returns false when the device
/// must not run (the job was cancelled, or the device already finished in an earlier delivery).
/// `Some(true)` in the second value: an earlier attempt was interrupted.
pub async fn begin_device(
    db: &DatabaseConnection,
    job_log_id: i32,
    device_id: i32,
) -> Result<DeviceStart, Error> {
    let now = Utc::now();
    // The device's result and its job's state in one read.
    let Some((result_id, result_status, job_status, debug, updated_at, created_by, job_type)) =
        job_results::Entity::find()
            .select_only()
            .column(job_results::Column::Id)
            .column(job_results::Column::Status)
            .column_as(job_logs::Column::Status, "job_status")
            .column(job_logs::Column::Debug)
            .column(job_logs::Column::UpdatedAt)
            .column(job_logs::Column::CreatedBy)
            .column(job_logs::Column::JobType)
            .inner_join(job_logs::Entity)
            .filter(job_results::Column::JobLogId.eq(job_log_id))
            .filter(job_results::Column::DeviceId.eq(device_id))
            .into_tuple::<(
                i32,
                ResultStatus,
                JobStatus,
                bool,
                Option<DateTime<Utc>>,
                Option<i32>,
                JobType,
            )>()
            .one(db)
            .await?
    else {
        return Ok(DeviceStart::Skip);
    };
    let interrupted = match result_status {
        ResultStatus::Queued => false,
        ResultStatus::Running => true,
        ResultStatus::Success
        | ResultStatus::Failed
        | ResultStatus::Skipped
        | ResultStatus::Cancelled => {
            // A second delivery: the process that ran it may have died before the job's final
            // status was written, which is then settled from the results here.
            settle_if_done(db, job_log_id).await?;
            return Ok(DeviceStart::Skip);
        }
    };
    if job_status == JobStatus::Cancelled {
        finish_device(
            db,
            job_log_id,
            device_id,
            DeviceOutcome {
                message: Some("cancelled before it started".into()),
                ..DeviceOutcome::new(ResultStatus::Cancelled)
            },
        )
        .await?;
        return Ok(DeviceStart::Skip);
    }
    // The first device to start moves the job to running; starts count as progress for the
    // stalled-job watchdog, but a second is fine enough: a thousand devices starting at once
    // would otherwise each update the job's row (one hot row on PostgreSQL).
    let recently_touched =
        updated_at.is_some_and(|at| now.signed_duration_since(at) < chrono::Duration::seconds(1));
    if !(job_status == JobStatus::Running && recently_touched) {
        let mut touch = job_logs::Entity::update_many()
            .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
            .filter(job_logs::Column::Id.eq(job_log_id));
        if job_status == JobStatus::Queued {
            touch = touch
                .col_expr(
                    job_logs::Column::Status,
                    Expr::case(
                        Expr::col(job_logs::Column::Status).eq(JobStatus::Queued),
                        Expr::value(JobStatus::Running),
                    )
                    .finally(Expr::col(job_logs::Column::Status))
                    .into(),
                )
                .col_expr(
                    job_logs::Column::StartedAt,
                    Expr::col(job_logs::Column::StartedAt).if_null(now),
                );
        }
        touch.exec(db).await?;
    }
    job_results::Entity::update_many()
        .col_expr(
            job_results::Column::Status,
            Expr::value(ResultStatus::Running),
        )
        .col_expr(job_results::Column::StartedAt, Expr::value(now))
        .filter(job_results::Column::Id.eq(result_id))
        .exec(db)
        .await?;
    // A command run's commands travel with its job.
    let commands = if job_type == JobType::CommandRun {
        super::commands_of(&super::get(db, job_log_id).await?)
    } else {
        Vec::new()
    };
    Ok(DeviceStart::Run {
        debug,
        interrupted,
        on_behalf_of: created_by,
        job_type,
        commands,
    })
}

pub enum DeviceStart {
    Skip,
    Run {
        debug: bool,
        interrupted: bool,
        /// The user who started the job (or its schedule): their private credentials are tried
        /// too.
        on_behalf_of: Option<i32>,
        job_type: JobType,
        /// A command run's commands.
        commands: Vec<String>,
    },
}

/// How one device of a job ended.
#[derive(Debug)]
pub struct DeviceOutcome {
    pub status: ResultStatus,
    pub message: Option<String>,
    pub error_class: Option<&'static str>,
    pub backup_id: Option<i32>,
    pub changed: bool,
    pub credential_id: Option<i32>,
    pub credential_name: Option<String>,
    pub duration_ms: Option<i32>,
    /// Log entries (level, message) of the device, written with the outcome.
    pub entries: Vec<(LogLevel, String)>,
}

impl DeviceOutcome {
    /// An outcome with this status and nothing else yet.
    pub fn new(status: ResultStatus) -> Self {
        Self {
            status,
            message: None,
            error_class: None,
            backup_id: None,
            changed: false,
            credential_id: None,
            credential_name: None,
            duration_ms: None,
            entries: Vec::new(),
        }
    }
}

/// Record a device's outcome and its log entries (once: a second delivery of the same device
/// changes nothing), count it in the job's progress and settle the job when it was the last one.
pub async fn finish_device(
    db: &DatabaseConnection,
    job_log_id: i32,
    device_id: i32,
    outcome: DeviceOutcome,
) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let recorded = record_outcome(&txn, job_log_id, device_id, outcome).await?;
    commit_outcome(db, txn, job_log_id, recorded).await
}

/// What `record_outcome` wrote.
#[must_use]
pub enum Recorded {
    /// The device already had an outcome (a second delivery of its task): nothing was written.
    AlreadyFinished,
    /// Counted; `last`: it was the job's last open device.
    Counted { last: bool },
}

/// The writes of `finish_device`, in the caller's transaction (a backup adds its version and
/// the device's status to it); end it with `commit_outcome`.
pub async fn record_outcome(
    txn: &DatabaseTransaction,
    job_log_id: i32,
    device_id: i32,
    outcome: DeviceOutcome,
) -> Result<Recorded, Error> {
    let now = Utc::now();
    // The count first: its row lock orders the finishes of one job (until the commit), so the
    // count this finish made numbers it in commit order (`finish_seq`, what a watching page asks
    // from), on PostgreSQL as on SQLite.
    let Some((done, total)) = job_logs::Entity::update_many()
        .col_expr(
            job_logs::Column::ProgressDone,
            Expr::col(job_logs::Column::ProgressDone).add(1),
        )
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
        .filter(job_logs::Column::Id.eq(job_log_id))
        .exec_with_returning(txn)
        .await?
        .first()
        .map(|job| (job.progress_done, job.progress_total))
    else {
        return Ok(Recorded::AlreadyFinished);
    };
    let updated = job_results::Entity::update_many()
        .col_expr(job_results::Column::Status, Expr::value(outcome.status))
        .col_expr(job_results::Column::Message, Expr::value(outcome.message))
        .col_expr(
            job_results::Column::ErrorClass,
            Expr::value(outcome.error_class),
        )
        .col_expr(
            job_results::Column::BackupId,
            Expr::value(outcome.backup_id),
        )
        .col_expr(job_results::Column::Changed, Expr::value(outcome.changed))
        .col_expr(
            job_results::Column::CredentialId,
            Expr::value(outcome.credential_id),
        )
        .col_expr(
            job_results::Column::CredentialName,
            Expr::value(outcome.credential_name),
        )
        .col_expr(
            job_results::Column::DurationMs,
            Expr::value(outcome.duration_ms),
        )
        .col_expr(job_results::Column::FinishedAt, Expr::value(now))
        .col_expr(job_results::Column::FinishSeq, Expr::value(done))
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .filter(job_results::Column::DeviceId.eq(device_id))
        .filter(job_results::Column::Status.is_in([ResultStatus::Queued, ResultStatus::Running]))
        .exec(txn)
        .await?
        .rows_affected;
    if updated == 0 {
        // A second delivery: the caller rolls the count back.
        return Ok(Recorded::AlreadyFinished);
    }
    // Under the job row's lock too, so entry ids follow commit order like `finish_seq`.
    if !outcome.entries.is_empty() {
        let rows =
            outcome
                .entries
                .into_iter()
                .map(|(level, message)| job_log_entries::ActiveModel {
                    job_log_id: Set(job_log_id),
                    level: Set(level),
                    category: Set("device".into()),
                    message: Set(message),
                    device_id: Set(Some(device_id)),
                    timestamp: Set(now),
                    ..Default::default()
                });
        job_log_entries::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(Recorded::Counted {
        last: done >= total,
    })
}

/// Commit what `record_outcome` wrote (or roll back a second delivery's work) and settle the job
/// after its last device.
pub async fn commit_outcome(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    job_log_id: i32,
    recorded: Recorded,
) -> Result<(), Error> {
    match recorded {
        Recorded::AlreadyFinished => Ok(txn.rollback().await?),
        Recorded::Counted { last } => {
            txn.commit().await?;
            if last {
                settle_if_done(db, job_log_id).await?;
            }
            Ok(())
        }
    }
}
