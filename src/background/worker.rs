//! The workers of this process: one apalis worker for per-device backup tasks (as many devices
//! at a time as the `jobs.concurrency` setting says), one for whole-job tasks (retention), and
//! the scheduler tick. `serve` runs them beside the web server, `worker` alone.

use crate::vocabulary::{JobStatus, JobType};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{
    BackendExt, BoxDynError, Data, WorkerBuilder, WorkerBuilderExt, WorkerContext, WorkerError,
};
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::health::Health;
use super::queue::{self, DEVICE_QUEUE, DeviceTask, JOB_QUEUE, JobTask};
use super::{backup, scheduler, wakeup};
use crate::crypto::Vault;
use crate::error::Error;
use crate::services::git::{self, GitHome};
use crate::services::settings::registry::JOBS_CONCURRENCY;
use crate::services::{after_backup, checkmk, discovery, jobs, nautobot, retention, settings};

/// What the task handlers share.
pub struct Engine {
    pub db: DatabaseConnection,
    pub vault: Vault,
    /// Where this process keeps its git repositories' local copies.
    pub git: GitHome,
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
    run_job(&engine, task.job_log_id).await.map_err(|e| {
        tracing::error!(error = %e, "job task failed; the queue will retry it");
        Box::new(e) as BoxDynError
    })
}

/// Whole-job work: retention, a git sync, and the mirror run after a backup job.
async fn run_job(engine: &Engine, job_log_id: i32) -> Result<(), Error> {
    let db = &engine.db;
    let job = jobs::get(db, job_log_id).await?;
    if job.job_type == JobType::Backup {
        // A backup job's whole-job task comes after its last device.
        return after_backup::run(db, &engine.vault, &engine.git, job.id).await;
    }
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
    match job.job_type {
        JobType::GitSync => return git::sync::run_job(db, &engine.vault, &engine.git, &job).await,
        JobType::NautobotSync => return nautobot::sync::run_job(db, &engine.vault, &job).await,
        JobType::CheckmkCompare => {
            return checkmk::compare::run_job(db, &engine.vault, &job).await;
        }
        JobType::CheckmkApply => return checkmk::apply::run_job(db, &engine.vault, &job).await,
        JobType::Discovery => return discovery::run::run_job(db, &engine.vault, &job).await,
        JobType::Backup | JobType::Retention => {}
        // Its devices are tasks of their own; nothing runs for the whole job.
        JobType::CommandRun | JobType::ConfigPush => return Ok(()),
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
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    scheduler: scheduler::Handle,
    /// The runtime they run on when it is their own (`priority`); it ends after them.
    background: Option<super::priority::Background>,
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

/// A worker that has run this long since its last start without an error is working again.
const STEADY: Duration = Duration::from_secs(5);
/// The pause before a failed worker starts again doubles from the first to the longest.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

type WorkerRun = Pin<Box<dyn Future<Output = Result<(), WorkerError>> + Send>>;

impl Runner {
    pub async fn start(
        db: DatabaseConnection,
        vault: Vault,
        git: GitHome,
        health: Health,
    ) -> Result<Runner, Error> {
        // Within the setting's bounds (1 to 2,000), so the conversion cannot fail.
        let concurrency =
            usize::try_from(settings::int(&db, &JOBS_CONCURRENCY).await?).unwrap_or(1);
        let engine = Arc::new(Engine {
            db: db.clone(),
            vault,
            git,
        });
        let (stop, stopped) = watch::channel(false);
        let handles = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                let (p, e) = (pool.clone(), engine.clone());
                let devices = move |ctx: WorkerContext| -> WorkerRun {
                    let storage = PostgresStorage::<DeviceTask>::new(&p)
                        .with_config(queue::postgres_config(DEVICE_QUEUE).batch_size(concurrency));
                    let wake = apalis::prelude::Strategy::new()
                        .stream(Pubsub::new(p.clone(), DEVICE_QUEUE.into()))
                        .apply(wakeup::strategy(DEVICE_QUEUE, POLL));
                    let worker = WorkerBuilder::new(ctx)
                        .backend(storage.poll_with_strategy(wake))
                        .concurrency(concurrency)
                        .data(e.clone())
                        .build(device_task);
                    Box::pin(worker.run())
                };
                let (p, e) = (pool, engine.clone());
                let jobs = move |ctx: WorkerContext| -> WorkerRun {
                    let storage = PostgresStorage::<JobTask>::new(&p)
                        .with_config(queue::postgres_config(JOB_QUEUE).batch_size(1));
                    let wake = apalis::prelude::Strategy::new()
                        .stream(Pubsub::new(p.clone(), JOB_QUEUE.into()))
                        .apply(wakeup::strategy(JOB_QUEUE, POLL));
                    let worker = WorkerBuilder::new(ctx)
                        .backend(storage.poll_with_strategy(wake))
                        .concurrency(1)
                        .data(e.clone())
                        .build(job_task);
                    Box::pin(worker.run())
                };
                vec![
                    supervise("devices", health.clone(), stopped.clone(), devices),
                    supervise("jobs", health.clone(), stopped.clone(), jobs),
                ]
            }
            _ => {
                let pool = db.get_sqlite_connection_pool().clone();
                let (p, e) = (pool.clone(), engine.clone());
                let devices = move |ctx: WorkerContext| -> WorkerRun {
                    let storage = SqliteStorage::<DeviceTask>::new(&p)
                        .with_config(queue::sqlite_config(DEVICE_QUEUE).batch_size(concurrency));
                    let worker = WorkerBuilder::new(ctx)
                        .backend(storage.poll_with_strategy(wakeup::strategy(DEVICE_QUEUE, POLL)))
                        .concurrency(concurrency)
                        .data(e.clone())
                        .build(device_task);
                    Box::pin(worker.run())
                };
                let (p, e) = (pool, engine.clone());
                let jobs = move |ctx: WorkerContext| -> WorkerRun {
                    let storage = SqliteStorage::<JobTask>::new(&p)
                        .with_config(queue::sqlite_config(JOB_QUEUE).batch_size(1));
                    let worker = WorkerBuilder::new(ctx)
                        .backend(storage.poll_with_strategy(wakeup::strategy(JOB_QUEUE, POLL)))
                        .concurrency(1)
                        .data(e.clone())
                        .build(job_task);
                    Box::pin(worker.run())
                };
                vec![
                    supervise("devices", health.clone(), stopped.clone(), devices),
                    supervise("jobs", health.clone(), stopped.clone(), jobs),
                ]
            }
        };
        let scheduler = scheduler::start(db.clone(), health);
        tracing::info!(concurrency, "workers started");
        Ok(Runner {
            stop,
            handles,
            scheduler,
            background: None,
        })
    }

    /// The workers were started on `background`, which must live as long as they do.
    pub fn on(mut self, background: super::priority::Background) -> Runner {
        self.background = Some(background);
        self
    }

    /// Stop taking tasks; running devices finish (up to `grace`), then return.
    pub async fn shutdown(self, grace: Duration) {
        self.scheduler.stop().await;
        let _ = self.stop.send(true);
        for handle in self.handles {
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!("a worker did not stop within {} s", grace.as_secs());
            }
        }
        drop(self.background);
    }
}

/// Runs a worker, and starts a new one whenever it stops with an error: apalis ends a worker
/// whose poll fails (SQLite locked by another process or out of disk, PostgreSQL connections
/// terminated by a restart or a proxy), and a process must not live on with dead workers. The
/// pause between starts doubles up to half a minute; the health report says why meanwhile.
fn supervise(
    kind: &'static str,
    health: Health,
    mut stopped: watch::Receiver<bool>,
    make: impl Fn(WorkerContext) -> WorkerRun + Send + 'static,
) -> JoinHandle<()> {
    health.ok(kind);
    tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        loop {
            let ctx = WorkerContext::new(worker_name(kind).as_str());
            // A task of its own, so a panic in the worker ends up here as an error to restart
            // after, like a failed poll, instead of ending the supervision with it.
            let mut run = tokio::spawn(make(ctx.clone()));
            let mut steady = Box::pin(tokio::time::sleep(STEADY));
            let mut working = false;
            let result = loop {
                tokio::select! {
                    result = &mut run => break result,
                    _ = &mut steady, if !working => {
                        working = true;
                        pause = FIRST_PAUSE;
                        health.ok(kind);
                    }
                    _ = stopped.changed() => {
                        // Running devices finish; the caller bounds how long that may take.
                        let _ = ctx.stop();
                        match run.await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::warn!(worker = kind, error = %e, "worker stopped with an error"),
                            Err(e) => tracing::warn!(worker = kind, error = %e, "worker ended abnormally"),
                        }
                        return;
                    }
                }
            };
            let reason = match result {
                Ok(Ok(())) => "the worker stopped".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("the worker ended abnormally: {e}"),
            };
            health.degraded(kind, &reason);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => return,
            }
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    })
}
