//! The job queue: apalis storage on the application's own database (SQLite or PostgreSQL),
//! sharing SeaORM's sqlx pool. Tasks carry ids, never secrets.

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use futures_util::stream;
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};

/// Queue of per-device backup tasks: the unit of work several worker processes share.
pub const DEVICE_QUEUE: &str = "netraven.device";
/// Queue of whole-job tasks (retention).
pub const JOB_QUEUE: &str = "netraven.job";

/// Back up one device as part of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceTask {
    pub job_log_id: i32,
    pub device_id: i32,
}

/// Run a whole job in one task (retention).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobTask {
    pub job_log_id: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot hand the task to the queue: {0}")]
    Push(String),
    #[error("cannot prepare the queue tables: {0}")]
    Setup(String),
}

impl From<QueueError> for crate::error::Error {
    fn from(e: QueueError) -> Self {
        crate::error::Error::Internal(e.to_string())
    }
}

#[derive(Clone)]
pub enum Queue {
    Sqlite {
        devices: SqliteStorage<DeviceTask>,
        jobs: SqliteStorage<JobTask>,
    },
    Postgres {
        devices: PostgresStorage<DeviceTask>,
        jobs: PostgresStorage<JobTask>,
    },
}

/// Queue settings shared by pushers and workers.
pub fn sqlite_config(queue: &str) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default()
        .queue(queue)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

pub fn postgres_config(queue: &str) -> apalis_postgres::Config {
    apalis_postgres::Config::default()
        .queue(queue)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

/// A worker that stops sending heartbeats for HEARTBEAT × MISSED_HEARTBEATS is dead: the tasks
/// it held go back to the queue and another worker (or the restarted one) runs them.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);
pub const MISSED_HEARTBEATS: usize = 3;

/// PostgreSQL's answer to a second task with the same idempotency key.
fn already_queued(message: &str) -> bool {
    message.contains("duplicate key value violates unique constraint")
}

impl Queue {
    pub fn new(db: &DatabaseConnection) -> Queue {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                Queue::Postgres {
                    devices: PostgresStorage::new(pool).with_config(postgres_config(DEVICE_QUEUE)),
                    jobs: PostgresStorage::new(pool).with_config(postgres_config(JOB_QUEUE)),
                }
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                Queue::Sqlite {
                    devices: SqliteStorage::new(pool).with_config(sqlite_config(DEVICE_QUEUE)),
                    jobs: SqliteStorage::new(pool).with_config(sqlite_config(JOB_QUEUE)),
                }
            }
        }
    }

    /// Create apalis's tables (its own migrations, beside ours).
    pub async fn setup(db: &DatabaseConnection) -> Result<(), DbErr> {
        let result = match db.get_database_backend() {
            DatabaseBackend::Postgres => PostgresStorage::setup(db.get_postgres_connection_pool())
                .await
                .map_err(|e| e.to_string()),
            // Not `SqliteStorage::setup`: it would switch our pooled connections to
            // `synchronous = OFF`.
            _ => SqliteStorage::migrations()
                .run(db.get_sqlite_connection_pool())
                .await
                .map_err(|e| e.to_string()),
        };
        result.map_err(|e| DbErr::Migration(QueueError::Setup(e).to_string()))
    }

    /// Hand per-device tasks to the queue. The idempotency key makes a second hand-over of the
    /// same (job, device) a no-op on SQLite and an error on PostgreSQL, which `redispatch`
    /// expects.
    pub async fn push_devices(&self, tasks: Vec<DeviceTask>) -> Result<(), QueueError> {
        let built = tasks.into_iter().map(|t| {
            let key = format!("job:{}:device:{}", t.job_log_id, t.device_id);
            TaskBuilder::new(t)
                .idempotency_key(key)
                .max_attempts(3)
                .build()
        });
        let result = match self {
            Queue::Sqlite { devices, .. } => devices
                .clone()
                .push_all(stream::iter(built))
                .await
                .map_err(|e| e.to_string()),
            Queue::Postgres { devices, .. } => devices
                .clone()
                .push_all(stream::iter(built))
                .await
                .map_err(|e| e.to_string()),
        };
        result.map_err(QueueError::Push)?;
        super::wakeup::nudge(DEVICE_QUEUE);
        Ok(())
    }

    /// `push_devices` one task at a time, where a task whose key is taken is still waiting in
    /// the queue and stays as it is (SQLite ignores the second hand-over; PostgreSQL refuses it,
    /// which would otherwise refuse the whole batch with it).
    pub async fn push_devices_again(&self, tasks: Vec<DeviceTask>) -> Result<(), QueueError> {
        for task in tasks {
            match self.push_devices(vec![task]).await {
                Err(QueueError::Push(message)) if !already_queued(&message) => {
                    return Err(QueueError::Push(message));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub async fn push_job(&self, task: JobTask) -> Result<(), QueueError> {
        let key = format!("job:{}", task.job_log_id);
        let built = TaskBuilder::new(task)
            .idempotency_key(key)
            .max_attempts(3)
            .build();
        let result = match self {
            Queue::Sqlite { jobs, .. } => jobs
                .clone()
                .push_task(built)
                .await
                .map_err(|e| e.to_string()),
            Queue::Postgres { jobs, .. } => jobs
                .clone()
                .push_task(built)
                .await
                .map_err(|e| e.to_string()),
        };
        result.map_err(QueueError::Push)?;
        super::wakeup::nudge(JOB_QUEUE);
        Ok(())
    }
}
