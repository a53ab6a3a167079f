//! The workers of this process: one apalis worker for per-device backup tasks (as many devices
//! at a time as the `jobs.concurrency` setting says), one for whole-job tasks (retention), and
//! the scheduler tick. `serve` runs them beside the web server, `worker` alone.

use crate::vocabulary::JobStatus;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{
    BackendExt, BoxDynError, Data, WorkerBuilder, WorkerBuilderExt, WorkerContext,
};
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::task::JoinHandle;

use super::queue::{self, DEVICE_QUEUE, DeviceTask, JOB_QUEUE, JobTask};
use super::{backup, scheduler, wakeup};
use crate::crypto::Vault;
use crate::error::Error;
use crate::services::settings::registry::JOBS_CONCURRENCY;
use crate::services::{jobs, retention, settings};

/// What the task handlers share.
pub struct Engine {
    pub db: DatabaseConnection,
    pub vault: Vault,
}

/// How often a worker looks for new tasks. Tasks this process adds wake its workers at once
/// (`wakeup`), PostgreSQL's NOTIFY wakes the other processes' workers; the poll covers the rest
/// (SQLite across processes, a slot freeing up in a long job).
const POLL: Duration = Duration::from_millis(250);

async fn device_task(task: DeviceTask, engine: Data<Arc<Engine>>) -> Result<(), BoxDynError> {
    let engine = Arc::clone(&engine);
    // A task of its own, so the device sessions of one worker spread over every core.
    tokio::spawn(async move { backup::run_device(&engine.db, &engine.vault, &task).await })
        .await
        .map_err(|e| Box::new(e) as BoxDynError)?
        .map_err(|e| {
            tracing::error!(error = %e, "device task failed; the queue will retry it");
            Box::new(e) as BoxDynError
        })
}

async fn job_task(task: JobTask, engine: Data<Arc<Engine>>) -> Result<(), BoxDynError> {
    run_job(&engine.db, task.job_log_id).await.map_err(|e| {
        tracing::error!(error = %e, "job task failed; the queue will retry it");
        Box::new(e) as BoxDynError
    })
}

/// Whole-job work: retention.
async fn run_job(db: &DatabaseConnection, job_log_id: i32) -> Result<(), Error> {
    let job = jobs::get(db, job_log_id).await?;
    if job.finished_at.is_some() {
        return Ok(());
    }
    if job.status == JobStatus::Cancelled {
        return jobs::settle(
            db,
            job.id,
            JobStatus::Cancelled,
            "cancelled before it started",
        )
        .await;
    }
    jobs::mark_running(db, job.id).await?;
    match retention::run(db).await {
        Ok(removed) => {
            let message = format!(
                "removed {} configuration versions and {} job logs",
                removed.versions, removed.job_logs
            );
            jobs::settle(db, job.id, JobStatus::Success, &message).await
        }
        Err(e) => jobs::settle(db, job.id, JobStatus::Failed, &e.to_string()).await,
    }
}

/// The running workers and scheduler of this process.
pub struct Runner {
    contexts: Vec<WorkerContext>,
    handles: Vec<JoinHandle<()>>,
    scheduler: scheduler::Handle,
}

/// A name unique among live processes (apalis refuses two live workers with one name).
fn worker_name(kind: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "node".into());
    format!(
        "{host}-{}-{kind}-{}",
        std::process::id(),
        ulid::Ulid::generate()
    )
}

impl Runner {
    pub async fn start(db: DatabaseConnection, vault: Vault) -> Result<Runner, Error> {
        // Within the setting's bounds (1 to 2,000), so the conversion cannot fail.
        let concurrency =
            usize::try_from(settings::int(&db, &JOBS_CONCURRENCY).await?).unwrap_or(1);
        let engine = Arc::new(Engine {
            db: db.clone(),
            vault,
        });
        let devices_ctx = WorkerContext::new(worker_name("devices").as_str());
        let jobs_ctx = WorkerContext::new(worker_name("jobs").as_str());
        let mut handles = Vec::new();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                let devices = PostgresStorage::<DeviceTask>::new(&pool)
                    .with_config(queue::postgres_config(DEVICE_QUEUE).batch_size(concurrency));
                let wake = apalis::prelude::Strategy::new()
                    .stream(Pubsub::new(pool.clone(), DEVICE_QUEUE.into()))
                    .apply(wakeup::strategy(DEVICE_QUEUE, POLL));
                let worker = WorkerBuilder::new(devices_ctx.clone())
                    .backend(devices.poll_with_strategy(wake))
                    .concurrency(concurrency)
                    .data(engine.clone())
                    .build(device_task);
                handles.push(spawn(worker.run(), "devices"));
                let job_storage = PostgresStorage::<JobTask>::new(&pool)
                    .with_config(queue::postgres_config(JOB_QUEUE).batch_size(1));
                let wake = apalis::prelude::Strategy::new()
                    .stream(Pubsub::new(pool.clone(), JOB_QUEUE.into()))
                    .apply(wakeup::strategy(JOB_QUEUE, POLL));
                let worker = WorkerBuilder::new(jobs_ctx.clone())
                    .backend(job_storage.poll_with_strategy(wake))
                    .concurrency(1)
                    .data(engine.clone())
                    .build(job_task);
                handles.push(spawn(worker.run(), "jobs"));
            }
            _ => {
                let pool = db.get_sqlite_connection_pool().clone();
                let devices = SqliteStorage::<DeviceTask>::new(&pool)
                    .with_config(queue::sqlite_config(DEVICE_QUEUE).batch_size(concurrency));
                let worker = WorkerBuilder::new(devices_ctx.clone())
                    .backend(devices.poll_with_strategy(wakeup::strategy(DEVICE_QUEUE, POLL)))
                    .concurrency(concurrency)
                    .data(engine.clone())
                    .build(device_task);
                handles.push(spawn(worker.run(), "devices"));
                let job_storage = SqliteStorage::<JobTask>::new(&pool)
                    .with_config(queue::sqlite_config(JOB_QUEUE).batch_size(1));
                let worker = WorkerBuilder::new(jobs_ctx.clone())
                    .backend(job_storage.poll_with_strategy(wakeup::strategy(JOB_QUEUE, POLL)))
                    .concurrency(1)
                    .data(engine.clone())
                    .build(job_task);
                handles.push(spawn(worker.run(), "jobs"));
            }
        }
        let scheduler = scheduler::start(db.clone());
        tracing::info!(concurrency, "workers started");
        Ok(Runner {
            contexts: vec![devices_ctx, jobs_ctx],
            handles,
            scheduler,
        })
    }

    /// Stop taking tasks; running devices finish (up to `grace`), then return.
    pub async fn shutdown(self, grace: Duration) {
        self.scheduler.stop().await;
        for ctx in &self.contexts {
            let _ = ctx.stop();
        }
        for handle in self.handles {
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!("a worker did not stop within {} s", grace.as_secs());
            }
        }
    }
}

fn spawn(
    run: impl std::future::Future<Output = Result<(), apalis::prelude::WorkerError>> + Send + 'static,
    kind: &'static str,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run.await {
            tracing::error!(worker = kind, error = %e, "worker stopped with an error");
        }
    })
}
