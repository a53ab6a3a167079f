//! Starting jobs: what a target covers, the job and its per-device results created in one
//! transaction, handing the tasks to the queue, and cancelling.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::background::Queue;
use crate::background::queue::{DeviceTask, JobTask};
use crate::entity::{device_tags, devices, job_logs, job_results};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::query::is_unique_violation;
use crate::vocabulary::{JobStatus, JobType, LogLevel, ResultStatus};

use super::{entry, get, settle_if_done};

/// What a job works on: the devices a backup covers, or the repository a git sync updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Device(i32),
    Tag(i32),
    Devices(Vec<i32>),
    All,
    /// A git repository; `fresh` throws its local copy away and clones it again.
    Repository {
        id: i32,
        fresh: bool,
    },
    /// A Nautobot source; `apply` writes the plan, otherwise it is only previewed.
    NautobotSource {
        id: i32,
        apply: bool,
    },
    /// Results of CheckMK comparison `job` to act on (none: only activate), then activation.
    CheckmkResults {
        job: Option<i32>,
        ids: Vec<i32>,
        activate: bool,
    },
    /// The addresses, ports and credentials of a discovery scan.
    Scan(Box<crate::services::discovery::scan::ScanSpec>),
}

impl Target {
    /// How a job stores it in its `parameters`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Target::Device(id) => json!({"target": "device", "id": id}),
            Target::Tag(id) => json!({"target": "tag", "id": id}),
            Target::Devices(ids) => json!({"target": "devices", "ids": ids}),
            Target::All => json!({"target": "all"}),
            Target::Repository { id, fresh } => {
                json!({"target": "repository", "id": id, "fresh": fresh})
            }
            Target::NautobotSource { id, apply } => {
                json!({"target": "nautobot_source", "id": id, "apply": apply})
            }
            Target::CheckmkResults { job, ids, activate } => {
                json!({"target": "checkmk_results", "job": job, "ids": ids, "activate": activate})
            }
            Target::Scan(spec) => json!({"target": "scan", "scan": spec}),
        }
    }

    /// The target a job was started for, from its `parameters` (None: a job type without one,
    /// or parameters this version cannot read).
    pub fn of_job(job: &job_logs::Model) -> Option<Target> {
        let p = job.parameters.as_ref()?;
        let int = |v: &serde_json::Value| v.as_i64().and_then(|v| i32::try_from(v).ok());
        let id = || p.get("id").and_then(int);
        match p.get("target")?.as_str()? {
            "device" => id().map(Target::Device),
            "tag" => id().map(Target::Tag),
            "devices" => Some(Target::Devices(
                p.get("ids")?.as_array()?.iter().filter_map(int).collect(),
            )),
            "all" => Some(Target::All),
            "repository" => id().map(|id| Target::Repository {
                id,
                fresh: p.get("fresh").and_then(|v| v.as_bool()).unwrap_or(false),
            }),
            "nautobot_source" => id().map(|id| Target::NautobotSource {
                id,
                apply: p.get("apply").and_then(|v| v.as_bool()).unwrap_or(false),
            }),
            "scan" => serde_json::from_value(p.get("scan")?.clone())
                .ok()
                .map(|s| Target::Scan(Box::new(s))),
            "checkmk_results" => Some(Target::CheckmkResults {
                job: p.get("job").and_then(int),
                ids: p.get("ids")?.as_array()?.iter().filter_map(int).collect(),
                activate: p.get("activate").and_then(|v| v.as_bool()).unwrap_or(false),
            }),
            _ => None,
        }
    }
}

/// The target and the commands (a command run) as a job keeps them.
fn parameters(new: &NewJob) -> serde_json::Value {
    let mut p = new.target.to_json();
    if !new.commands.is_empty() {
        p["commands"] = json!(new.commands);
    }
    p
}

/// A command run's commands, from its parameters.
pub fn commands_of(job: &job_logs::Model) -> Vec<String> {
    job.parameters
        .as_ref()
        .and_then(|p| p.get("commands"))
        .and_then(|c| c.as_array())
        .map(|c| {
            c.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
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
    /// A command run's commands (empty for the other types).
    pub commands: Vec<String>,
}

impl NewJob {
    /// A job started by hand: no schedule, a fresh key, no transcript, no commands.
    pub fn by_hand(job_type: JobType, target: Target, created_by: Option<i32>) -> NewJob {
        NewJob {
            job_type,
            target,
            created_by,
            scheduled_job_id: None,
            idempotency_key: None,
            debug: false,
            commands: Vec::new(),
        }
    }
}

fn new_id() -> String {
    ulid::Ulid::generate().to_string()
}

/// The enabled devices a target covers, as (id, hostname).
pub async fn resolve(
    db: &impl ConnectionTrait,
    target: &Target,
) -> Result<Vec<(i32, String)>, Error> {
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
                .ok_or(Error::NotFound)?;
            if !device.enabled {
                return Err(Error::Refused(format!(
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
        Target::Repository { .. }
        | Target::NautobotSource { .. }
        | Target::CheckmkResults { .. }
        | Target::Scan(_) => {
            return Err(Error::Internal(format!(
                "a backup job cannot target {target:?}"
            )));
        }
    }
    Ok(q.into_tuple::<(i32, String)>().all(db).await?)
}

/// Create the job and its per-device results in one transaction. `None` when the idempotency
/// key was already used.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewJob,
) -> Result<Option<job_logs::Model>, Error> {
    let targets = match new.job_type {
        t if t.on_devices() => resolve(db, &new.target).await?,
        // The other types work on what their target names, not on devices.
        _ => Vec::new(),
    };
    if new.job_type.on_devices() && targets.is_empty() {
        return Err(Error::Refused(
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
            Target::Device(id) if new.job_type.on_devices() => Some(id),
            _ => None,
        }),
        scheduled_job_id: Set(new.scheduled_job_id),
        created_by: Set(new.created_by),
        parameters: Set(Some(parameters(&new))),
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
) -> Result<(), Error> {
    hand_over(db, queue, job, false).await
}

/// `dispatch` for a job that may have been handed over before (a restart, the watchdog): tasks
/// still waiting in the queue stay as they are, missing ones are added.
pub async fn dispatch_again(
    db: &DatabaseConnection,
    queue: &Queue,
    job: &job_logs::Model,
) -> Result<(), Error> {
    hand_over(db, queue, job, true).await
}

async fn hand_over(
    db: &DatabaseConnection,
    queue: &Queue,
    job: &job_logs::Model,
    again: bool,
) -> Result<(), Error> {
    match job.job_type {
        t if t.on_devices() => {
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
            if again {
                queue.push_devices_again(tasks).await?;
            } else {
                queue.push_devices(tasks).await?;
            }
        }
        _ => queue.push_job(JobTask { job_log_id: job.id }).await?,
    }
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::DispatchedAt, Expr::value(Utc::now()))
        .filter(job_logs::Column::Id.eq(job.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Create and dispatch a job with a fresh key (one started by hand), which is always created.
pub async fn start_fresh(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    new: NewJob,
) -> Result<job_logs::Model, Error> {
    start(db, queue, actor, new)
        .await?
        .ok_or_else(|| Error::Internal("a fresh job key was already used".into()))
}

/// Create and dispatch a job. `None` when its idempotency key was already used.
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    new: NewJob,
) -> Result<Option<job_logs::Model>, Error> {
    let Some(job) = create(db, actor, new).await? else {
        return Ok(None);
    };
    dispatch(db, queue, &job).await?;
    Ok(Some(job))
}

/// Start a backup of `target` asked for by a user now (a button, the API, an Oxidized client):
/// a fresh key, so it always starts.
pub async fn start_backup(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    target: Target,
    user_id: i32,
    debug: bool,
) -> Result<job_logs::Model, Error> {
    let new = NewJob {
        debug,
        ..NewJob::by_hand(JobType::Backup, target, Some(user_id))
    };
    start_fresh(db, queue, actor, new).await
}

/// Jobs created but never handed to the queue (the process stopped in between): dispatch them
/// now. A device already in the queue stays there once (the queue keys tasks by job and device).
pub async fn redispatch_stranded(
    db: &DatabaseConnection,
    queue: &Queue,
    older_than: Duration,
) -> Result<usize, Error> {
    let stranded = job_logs::Entity::find()
        .filter(job_logs::Column::DispatchedAt.is_null())
        .filter(job_logs::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .filter(job_logs::Column::CreatedAt.lt(Utc::now() - older_than))
        .all(db)
        .await?;
    for job in &stranded {
        if let Err(e) = dispatch_again(db, queue, job).await {
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

/// Cancel a queued or running job: devices not yet started are not started.
pub async fn cancel(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<(), Error> {
    let job = get(db, id).await?;
    if !job.status.is_open() {
        return Err(Error::Conflict(format!(
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
