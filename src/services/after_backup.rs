//! What follows a backup job, as one whole-job task after its last device: the git mirror's
//! commit of the new versions and the Nautobot write-back of the backup times.

use sea_orm::DatabaseConnection;

use crate::background::Queue;
use crate::background::queue::JobTask;
use crate::crypto::Vault;
use crate::entity::job_logs;
use crate::error::Error;
use crate::services::git::{self, GitHome};
use crate::services::nautobot;
use crate::vocabulary::JobType;

/// Hands the task to the queue when a finished backup job has follow-up work, so it runs once
/// (the queue keys it by job) on whichever worker takes it, and the job's last device does not
/// wait for git or Nautobot. A failure is logged: the next job's run catches up.
pub async fn queue(db: &DatabaseConnection, job: &job_logs::Model) {
    // A push ends with a backup of each device too.
    if !matches!(job.job_type, JobType::Backup | JobType::ConfigPush) {
        return;
    }
    let handed = async {
        let wanted = !git::repos::mirrors(db).await?.is_empty()
            || !nautobot::write_back::sources(db).await?.is_empty();
        if wanted {
            Queue::new(db)
                .push_job(JobTask { job_log_id: job.id })
                .await?;
        }
        Ok::<(), Error>(())
    }
    .await;
    if let Err(e) = handed {
        tracing::warn!(job = job.id, error = %e, "cannot hand the after-backup work to the queue; the next job's run will catch up");
    }
}

pub async fn run(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    job_id: i32,
) -> Result<(), Error> {
    git::mirror::after_backup(db, vault, home, job_id).await?;
    nautobot::write_back::after_backup(db, vault, job_id).await
}
