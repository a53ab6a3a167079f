//! The scheduler tick, run by every process that runs workers: start the jobs of schedules that
//! are due (one job per schedule and due time, whichever node gets there first), hand stranded
//! jobs to the queue again, and end jobs that stopped moving.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Queue;
use super::health::Health;
use crate::error::Error;
use crate::services::device_access;
use crate::services::{jobs, schedules};

pub const TICK: Duration = Duration::from_secs(5);
/// Its name in the health report.
const PART: &str = "scheduler";

pub struct Handle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Handle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub fn start(db: DatabaseConnection, health: Health) -> Handle {
    let (stop, mut stopped) = watch::channel(false);
    let queue = Queue::new(&db);
    health.ok(PART);
    let task = tokio::spawn(async move {
        // Jobs this node created but did not hand to the queue before it stopped: at once, not
        // after the usual minute (a job another node is creating right now may be handed over
        // twice, which is harmless).
        if let Err(e) = jobs::redispatch_stranded(&db, &queue, chrono::Duration::zero()).await {
            health.degraded(PART, &e.to_string());
        }
        loop {
            match tick(&db, &queue).await {
                Ok(()) => health.ok(PART),
                Err(e) => health.degraded(PART, &e.to_string()),
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = stopped.changed() => break,
            }
        }
    });
    Handle { stop, task }
}

/// One tick; also called directly by tests.
pub async fn tick(db: &DatabaseConnection, queue: &Queue) -> Result<(), Error> {
    schedules::run_due(db, queue, chrono::Utc::now()).await?;
    jobs::redispatch_stranded(db, queue, chrono::Duration::minutes(1)).await?;
    let step = device_access::step_timeout(db).await?;
    let stalled_after = super::backup::device_deadline(step) + Duration::from_secs(300);
    jobs::end_stalled(
        db,
        queue,
        chrono::Duration::from_std(stalled_after).unwrap_or(chrono::Duration::hours(1)),
    )
    .await?;
    Ok(())
}
