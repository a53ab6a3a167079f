//! Network discovery: scans of address ranges (`scan`: what a scan covers, within the admin's
//! bounds), the scan job (`run`), its results (`results`) and onboarding what it found into the
//! inventory (`onboard`).

pub mod onboard;
pub mod results;
pub mod run;
pub mod scan;

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::background::Queue;
use crate::entity::job_logs;
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::JobType;

/// Starts a scan checked by `scan::validate` (audited with what it covers).
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    user_id: i32,
    spec: scan::ScanSpec,
) -> Result<job_logs::Model, Error> {
    let detail = json!(spec);
    let new = NewJob::by_hand(
        JobType::Discovery,
        Target::Scan(Box::new(spec)),
        Some(user_id),
    );
    let job = jobs::start_fresh(db, queue, actor, new).await?;
    audit::record(
        db,
        actor,
        Event::data("discovery.scan")
            .target("job", job.id)
            .detail("scan", detail),
    )
    .await?;
    Ok(job)
}
