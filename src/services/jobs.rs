//! Jobs: one `job_logs` row per run, one `job_results` row per device, log entries. A job is
//! created with its devices in one transaction, then handed to the queue (one task per device,
//! so several worker processes share a big job); the last device to finish settles the job's
//! status. Cancelling stops devices that have not started; running ones finish.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::audit::{self, Actor, Event};
use super::query::is_unique_violation;
use crate::entity::{device_tags, devices, job_log_entries, job_logs, job_results};
use crate::error::AppError;
use crate::jobs::Queue;
use crate::jobs::queue::{DeviceTask, JobTask};
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};

/// Which devices a backup job covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Device(i32),
    Tag(i32),
    Devices(Vec<i32>),
    All,
}

impl Target {
    /// How a job stores it in its `parameters`.
    fn to_json(&self) -> serde_json::Value {
        match self {
            Target::Device(id) => json!({"target": "device", "id": id}),
            Target::Tag(id) => json!({"target": "tag", "id": id}),
            Target::Devices(ids) => json!({"target": "devices", "ids": ids}),
            Target::All => json!({"target": "all"}),
        }
    }

    /// The target a job was started for, from its `parameters` (None: a job type without one,
    /// or parameters this version cannot read).
    pub fn of_job(job: &job_logs::Model) -> Option<Target> {
        let p = job.parameters.as_ref()?;
        let id = || {
            p.get("id")
                .and_then(|v| v.as_i64())
                .and_then(|v| i32::try_from(v).ok())
        };
        match p.get("target")?.as_str()? {
            "device" => id().map(Target::Device),
            "tag" => id().map(Target::Tag),
            "devices" => Some(Target::Devices(
                p.get("ids")?
                    .as_array()?
                    .iter()
                    .filter_map(|v| v.as_i64().and_then(|v| i32::try_from(v).ok()))
                    .collect(),
            )),
            "all" => Some(Target::All),
            _ => None,
        }
    }
}

/// A job to start.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub job_type: JobType,
    /// Ignored by job types that do not work on devices.
    pub target: Target,
    pub created_by: Option<i32>,
    pub scheduled_job_id: Option<i32>,
    /// A job with a key already used is not created again (one job per schedule tick, whichever
    /// node's scheduler gets there first). `None`: a fresh key.
    pub idempotency_key: Option<String>,
    /// Capture a transcript of every device session into the job log (secrets masked).
    pub debug: bool,
}

fn new_id() -> String {
    ulid::Ulid::generate().to_string()
}

/// The enabled devices a target covers, as (id, hostname).
async fn resolve(
    db: &impl ConnectionTrait,
    target: &Target,
) -> Result<Vec<(i32, String)>, AppError> {
    let mut q = devices::Entity::find()
        .select_only()
        .column(devices::Column::Id)
        .column(devices::Column::Hostname)
        .filter(devices::Column::Enabled.eq(true))
        .order_by_asc(devices::Column::Hostname);
    match target {
        Target::Device(id) => {
            let device = devices::Entity::find_by_id(*id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?;
            if !device.enabled {
                return Err(AppError::BadRequest(format!(
                    "{} is disabled: enable it to back it up",
                    device.hostname
                )));
            }
            q = q.filter(devices::Column::Id.eq(*id));
        }
        Target::Tag(tag) => {
            q = q.filter(
                devices::Column::Id.in_subquery(
                    Query::select()
                        .column(device_tags::Column::DeviceId)
                        .from(device_tags::Entity)
                        .and_where(device_tags::Column::TagId.eq(*tag))
                        .to_owned(),
                ),
            );
        }
        Target::Devices(ids) => q = q.filter(devices::Column::Id.is_in(ids.clone())),
        Target::All => {}
    }
    Ok(q.into_tuple::<(i32, String)>().all(db).await?)
}

/// Create the job and its per-device results in one transaction. `None` when the idempotency
/// key was already used.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewJob,
) -> Result<Option<job_logs::Model>, AppError> {
    let targets = match new.job_type {
        JobType::Backup => resolve(db, &new.target).await?,
        JobType::Retention => Vec::new(),
    };
    if new.job_type == JobType::Backup && targets.is_empty() {
        return Err(AppError::BadRequest(
            "no enabled device matches: nothing to back up".into(),
        ));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let inserted = job_logs::ActiveModel {
        session_id: Set(new_id()),
        job_type: Set(new.job_type),
        status: Set(JobStatus::Queued),
        device_id: Set(match new.target {
            Target::Device(id) if new.job_type == JobType::Backup => Some(id),
            _ => None,
        }),
        scheduled_job_id: Set(new.scheduled_job_id),
        created_by: Set(new.created_by),
        parameters: Set(Some(new.target.to_json())),
        idempotency_key: Set(new.idempotency_key.clone().unwrap_or_else(new_id)),
        progress_done: Set(0),
        progress_total: Set(i32::try_from(targets.len()).unwrap_or(i32::MAX)),
        debug: Set(new.debug),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let job = match inserted {
        Ok(job) => job,
        Err(e) if new.idempotency_key.is_some() && is_unique_violation(&e) => {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    for chunk in targets.chunks(500) {
        job_results::Entity::insert_many(chunk.iter().map(|(id, hostname)| {
            job_results::ActiveModel {
                job_log_id: Set(job.id),
                device_id: Set(Some(*id)),
                hostname: Set(hostname.clone()),
                status: Set(ResultStatus::Queued),
                changed: Set(false),
                ..Default::default()
            }
        }))
        .exec(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        Event::job("job.start")
            .target("job", job.id)
            .detail("job_type", new.job_type.as_str())
            .detail("target", new.target.to_json())
            .detail("devices", targets.len())
            .detail("scheduled_job_id", new.scheduled_job_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(job))
}

/// Hand a created job's tasks to the queue and mark it dispatched.
pub async fn dispatch(
    db: &DatabaseConnection,
    queue: &Queue,
    job: &job_logs::Model,
) -> Result<(), AppError> {
    match job.job_type {
        JobType::Backup => {
            let device_ids: Vec<Option<i32>> = job_results::Entity::find()
                .select_only()
                .column(job_results::Column::DeviceId)
                .filter(job_results::Column::JobLogId.eq(job.id))
                .filter(job_results::Column::Status.eq(ResultStatus::Queued))
                .into_tuple()
                .all(db)
                .await?;
            let tasks: Vec<DeviceTask> = device_ids
                .into_iter()
                .flatten()
                .map(|device_id| DeviceTask {
                    job_log_id: job.id,
                    device_id,
                })
                .collect();
            queue.push_devices(tasks).await?;
        }
        JobType::Retention => queue.push_job(JobTask { job_log_id: job.id }).await?,
    }
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::DispatchedAt, Expr::value(Utc::now()))
        .filter(job_logs::Column::Id.eq(job.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Create and dispatch a job. `None` when its idempotency key was already used.
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    new: NewJob,
) -> Result<Option<job_logs::Model>, AppError> {
    let Some(job) = create(db, actor, new).await? else {
        return Ok(None);
    };
    dispatch(db, queue, &job).await?;
    Ok(Some(job))
}

/// Jobs created but never handed to the queue (the process stopped in between): dispatch them
/// now. Handing a device over twice is harmless (the queue keys tasks by job and device).
pub async fn redispatch_stranded(
    db: &DatabaseConnection,
    queue: &Queue,
    older_than: Duration,
) -> Result<usize, AppError> {
    let stranded = job_logs::Entity::find()
        .filter(job_logs::Column::DispatchedAt.is_null())
        .filter(job_logs::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .filter(job_logs::Column::CreatedAt.lt(Utc::now() - older_than))
        .all(db)
        .await?;
    for job in &stranded {
        if let Err(e) = dispatch(db, queue, job).await {
            tracing::warn!(job = job.id, error = %e, "cannot dispatch a stranded job");
        } else {
            entry(
                db,
                job.id,
                LogLevel::Warning,
                "job",
                "handed to the queue again after an interruption",
                None,
            )
            .await?;
        }
    }
    Ok(stranded.len())
}

/// Write one log entry.
pub async fn entry(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    level: LogLevel,
    category: &str,
    message: &str,
    device_id: Option<i32>,
) -> Result<(), DbErr> {
    job_log_entries::ActiveModel {
        job_log_id: Set(job_log_id),
        level: Set(level),
        category: Set(category.into()),
        message: Set(message.into()),
        device_id: Set(device_id),
        timestamp: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Cancel a queued or running job: devices not yet started are not started.
pub async fn cancel(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<(), AppError> {
    let job = get(db, id).await?;
    if !job.status.is_open() {
        return Err(AppError::Conflict(format!(
            "job {id} is {} and cannot be cancelled",
            job.status
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::Status, Expr::value(JobStatus::Cancelled))
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
        .filter(job_logs::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let skipped = job_results::Entity::update_many()
        .col_expr(
            job_results::Column::Status,
            Expr::value(ResultStatus::Cancelled),
        )
        .col_expr(
            job_results::Column::Message,
            Expr::value("cancelled before it started"),
        )
        .filter(job_results::Column::JobLogId.eq(id))
        .filter(job_results::Column::Status.eq(ResultStatus::Queued))
        .exec(&txn)
        .await?
        .rows_affected;
    job_logs::Entity::update_many()
        .col_expr(
            job_logs::Column::ProgressDone,
            Expr::col(job_logs::Column::ProgressDone).add(skipped as i64),
        )
        .filter(job_logs::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    entry(
        &txn,
        id,
        LogLevel::Warning,
        "job",
        &format!(
            "cancelled by {}: {skipped} devices will not be started; running ones finish",
            actor.name.as_deref().unwrap_or("someone")
        ),
        None,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        Event::job("job.cancel")
            .target("job", id)
            .detail("not_started", skipped),
    )
    .await?;
    txn.commit().await?;
    settle_if_done(db, id).await?;
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<job_logs::Model, AppError> {
    job_logs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A device of the job is starting: mark it and the job running. Returns false when the device
/// must not run (the job was cancelled, or the device already finished in an earlier delivery).
/// `Some(true)` in the second value: an earlier attempt was interrupted.
pub async fn begin_device(
    db: &DatabaseConnection,
    job_log_id: i32,
    device_id: i32,
) -> Result<DeviceStart, AppError> {
    let now = Utc::now();
    // The device's result and its job's state in one read.
    let Some((result_id, result_status, job_status, debug, updated_at, created_by)) =
        job_results::Entity::find()
            .select_only()
            .column(job_results::Column::Id)
            .column(job_results::Column::Status)
            .column_as(job_logs::Column::Status, "job_status")
            .column(job_logs::Column::Debug)
            .column(job_logs::Column::UpdatedAt)
            .column(job_logs::Column::CreatedBy)
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
        | ResultStatus::Cancelled => return Ok(DeviceStart::Skip),
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
    Ok(DeviceStart::Run {
        debug,
        interrupted,
        on_behalf_of: created_by,
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
) -> Result<(), AppError> {
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
) -> Result<Recorded, AppError> {
    let now = Utc::now();
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
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .filter(job_results::Column::DeviceId.eq(device_id))
        .filter(job_results::Column::Status.is_in([ResultStatus::Queued, ResultStatus::Running]))
        .exec(txn)
        .await?
        .rows_affected;
    if updated == 0 {
        return Ok(Recorded::AlreadyFinished);
    }
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
    let progress: Option<(i32, i32)> = job_logs::Entity::update_many()
        .col_expr(
            job_logs::Column::ProgressDone,
            Expr::col(job_logs::Column::ProgressDone).add(1),
        )
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(now))
        .filter(job_logs::Column::Id.eq(job_log_id))
        .exec_with_returning(txn)
        .await?
        .first()
        .map(|job| (job.progress_done, job.progress_total));
    Ok(Recorded::Counted {
        last: progress.is_some_and(|(done, total)| done >= total),
    })
}

/// Commit what `record_outcome` wrote (or roll back a second delivery's work) and settle the job
/// after its last device.
pub async fn commit_outcome(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    job_log_id: i32,
    recorded: Recorded,
) -> Result<(), AppError> {
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

/// When every device of a job has an outcome, give the job its final status (exactly once).
pub async fn settle_if_done(db: &DatabaseConnection, job_log_id: i32) -> Result<(), AppError> {
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
pub async fn mark_running(db: &DatabaseConnection, job_log_id: i32) -> Result<(), AppError> {
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

/// Give a job its final status and message, once.
pub async fn settle(
    db: &DatabaseConnection,
    job_log_id: i32,
    status: JobStatus,
    message: &str,
) -> Result<(), AppError> {
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
    }
    Ok(())
}

/// Jobs that stopped moving (their worker died and the queue did not bring their devices back
/// within `stalled_after`): the devices still open are marked failed (interrupted) and the job
/// settled, so nothing stays running forever.
pub async fn end_stalled(
    db: &DatabaseConnection,
    stalled_after: Duration,
) -> Result<usize, AppError> {
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
    for job in &stalled {
        let open = job_results::Entity::find()
            .filter(job_results::Column::JobLogId.eq(job.id))
            .filter(
                job_results::Column::Status.is_in([ResultStatus::Queued, ResultStatus::Running]),
            )
            .all(db)
            .await?;
        for result in &open {
            if let Some(device_id) = result.device_id {
                finish_device(
                    db,
                    job.id,
                    device_id,
                    DeviceOutcome {
                        error_class: Some("interrupted"),
                        message: Some(
                            "interrupted: the worker running this job stopped and the device was not run again".into(),
                        ),
                        ..DeviceOutcome::new(ResultStatus::Failed)
                    },
                )
                .await?;
            }
        }
        entry(
            db,
            job.id,
            LogLevel::Error,
            "job",
            &format!(
                "interrupted: no progress for {} minutes; {} devices marked failed",
                stalled_after.num_minutes(),
                open.len()
            ),
            None,
        )
        .await?;
        if job.job_type != JobType::Backup || open.is_empty() {
            settle(db, job.id, JobStatus::Failed, "interrupted").await?;
        } else {
            settle_if_done(db, job.id).await?;
        }
    }
    Ok(stalled.len())
}

/// Started time of a job for display, or its creation time while queued.
pub fn started_or_created(job: &job_logs::Model) -> DateTime<Utc> {
    job.started_at.unwrap_or(job.created_at)
}

/// Filters of the job list.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub job_type: Option<JobType>,
    pub status: Option<JobStatus>,
    pub created_by: Option<i32>,
    pub scheduled_job_id: Option<i32>,
    pub device_id: Option<i32>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

fn start_of(day: chrono::NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Jobs, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &JobFilter,
    paging: super::query::Paging,
) -> Result<super::query::Page<job_logs::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(t) = filter.job_type {
        cond = cond.add(job_logs::Column::JobType.eq(t));
    }
    if let Some(s) = filter.status {
        cond = cond.add(job_logs::Column::Status.eq(s));
    }
    if let Some(u) = filter.created_by {
        cond = cond.add(job_logs::Column::CreatedBy.eq(u));
    }
    if let Some(s) = filter.scheduled_job_id {
        cond = cond.add(job_logs::Column::ScheduledJobId.eq(s));
    }
    if let Some(d) = filter.device_id {
        cond = cond.add(
            job_logs::Column::Id.in_subquery(
                Query::select()
                    .column(job_results::Column::JobLogId)
                    .from(job_results::Entity)
                    .and_where(job_results::Column::DeviceId.eq(d))
                    .to_owned(),
            ),
        );
    }
    if let Some(from) = filter.from {
        cond = cond.add(job_logs::Column::CreatedAt.gte(start_of(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        cond = cond.add(job_logs::Column::CreatedAt.lt(start_of(to)));
    }
    let select = job_logs::Entity::find()
        .filter(cond)
        .order_by_desc(job_logs::Column::Id);
    super::query::fetch_page(db, select, paging).await
}

/// The per-device results of a job: failures first, then by host name.
pub async fn results(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    status: Option<ResultStatus>,
) -> Result<Vec<job_results::Model>, DbErr> {
    let mut q = job_results::Entity::find().filter(job_results::Column::JobLogId.eq(job_log_id));
    if let Some(s) = status {
        q = q.filter(job_results::Column::Status.eq(s));
    }
    let mut rows = q
        .order_by_asc(job_results::Column::Hostname)
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.status.list_rank());
    Ok(rows)
}

/// Result counts of a job by status.
pub async fn result_counts(
    db: &impl ConnectionTrait,
    job_log_id: i32,
) -> Result<Vec<(ResultStatus, i64)>, DbErr> {
    job_results::Entity::find()
        .select_only()
        .column(job_results::Column::Status)
        .column_as(job_results::Column::Id.count(), "n")
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .group_by(job_results::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// Log entries of a job, oldest first, optionally at one level or above.
pub async fn entries(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    min_level: Option<LogLevel>,
    limit: u64,
) -> Result<Vec<job_log_entries::Model>, DbErr> {
    let mut q =
        job_log_entries::Entity::find().filter(job_log_entries::Column::JobLogId.eq(job_log_id));
    if let Some(level) = min_level {
        let from = LogLevel::ALL.iter().position(|l| *l == level).unwrap_or(0);
        q = q.filter(job_log_entries::Column::Level.is_in(LogLevel::ALL[from..].to_vec()));
    }
    q.order_by_asc(job_log_entries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The recent jobs a device took part in, newest first, with its result in each.
pub async fn for_device(
    db: &impl ConnectionTrait,
    device_id: i32,
    limit: u64,
) -> Result<Vec<(job_results::Model, Option<job_logs::Model>)>, DbErr> {
    job_results::Entity::find()
        .filter(job_results::Column::DeviceId.eq(device_id))
        .find_also_related(job_logs::Entity)
        .order_by_desc(job_results::Column::JobLogId)
        .limit(limit)
        .all(db)
        .await
}
