//! The `checkmk_compare` job: every device of the mapping's source against the host CheckMK
//! has, one result row each (equal, diff, missing, error), plus the extra hosts in the mapped
//! folders that no source device produces. CheckMK's host list is read once (one request); the
//! hosts that exist are then read concurrently, a bounded number at a time, for their
//! attributes and ETag. A scheduled run then applies what the mapping allows and activates.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;

use super::client::{CheckmkError, Client};
use super::hosts::{self, Current};
use super::mapping::{self, Host, Mapper};
use super::rules::SourceDevice;
use super::{apply, source};
use crate::background::Queue;
use crate::crypto::Vault;
use crate::entity::{job_logs, nb2cmk_results as results};
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::{CheckmkStatus, JobStatus, JobType, LogLevel};

/// Host reads in flight at once.
pub const CONCURRENCY: usize = 16;
/// Devices compared, and rows written, per step.
const CHUNK: usize = 500;

/// Refuses a second CheckMK job while one is queued or running: two would act on the same
/// hosts and pending changes.
pub async fn refuse_if_busy(db: &DatabaseConnection) -> Result<(), Error> {
    let open = job_logs::Entity::find()
        .filter(job_logs::Column::JobType.is_in([JobType::CheckmkCompare, JobType::CheckmkApply]))
        .filter(job_logs::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .order_by_asc(job_logs::Column::Id)
        .one(db)
        .await?;
    match open {
        Some(j) => Err(Error::Refused(format!(
            "CheckMK job #{} is still {}: wait for it to end",
            j.id,
            j.status.as_str()
        ))),
        None => Ok(()),
    }
}

/// Refuses to start a job CheckMK's settings cannot serve.
pub async fn refuse_unless_configured(db: &DatabaseConnection, vault: &Vault) -> Result<(), Error> {
    Client::from_settings(db, vault).await.map(drop)
}

/// Starts a comparison.
pub async fn start(
    db: &DatabaseConnection,
    vault: &Vault,
    queue: &Queue,
    actor: &Actor,
) -> Result<job_logs::Model, Error> {
    refuse_unless_configured(db, vault).await?;
    if !mapping::is_saved(db).await? {
        return Err(Error::Refused(
            "save the CheckMK mapping first: it says which devices become which hosts".into(),
        ));
    }
    refuse_if_busy(db).await?;
    let new = NewJob::by_hand(JobType::CheckmkCompare, Target::All, actor.id);
    jobs::start_fresh(db, queue, actor, new).await
}

/// Results by status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub equal: usize,
    pub diff: usize,
    pub missing: usize,
    pub error: usize,
    pub extra: usize,
}

impl Counts {
    fn add(&mut self, s: CheckmkStatus, n: usize) {
        match s {
            CheckmkStatus::Equal => self.equal += n,
            CheckmkStatus::Diff => self.diff += n,
            CheckmkStatus::Missing => self.missing += n,
            CheckmkStatus::Error => self.error += n,
            CheckmkStatus::Extra => self.extra += n,
        }
    }

    fn count(&mut self, s: CheckmkStatus) {
        self.add(s, 1);
    }

    pub fn summary(&self) -> String {
        format!(
            "{} devices compared: {} equal, {} differ, {} missing, {} errors; {} extra hosts in CheckMK",
            self.equal + self.diff + self.missing + self.error,
            self.equal,
            self.diff,
            self.missing,
            self.error,
            self.extra
        )
    }
}

/// Result counts of a comparison job, by status.
pub async fn counts(db: &DatabaseConnection, job_id: i32) -> Result<Counts, Error> {
    let rows: Vec<(CheckmkStatus, i64)> = results::Entity::find()
        .select_only()
        .column(results::Column::Status)
        .column_as(results::Column::Id.count(), "n")
        .filter(results::Column::JobLogId.eq(job_id))
        .group_by(results::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut c = Counts::default();
    for (s, n) in rows {
        c.add(s, usize::try_from(n).unwrap_or(0));
    }
    Ok(c)
}

/// One page of a comparison's results, of one status or all.
pub async fn results_page(
    db: &DatabaseConnection,
    job_id: i32,
    status: Option<CheckmkStatus>,
    paging: crate::services::query::Paging,
) -> Result<crate::services::query::Page<results::Model>, Error> {
    let mut q = results::Entity::find()
        .filter(results::Column::JobLogId.eq(job_id))
        .order_by_asc(results::Column::Id);
    if let Some(s) = status {
        q = q.filter(results::Column::Status.eq(s));
    }
    Ok(crate::services::query::fetch_page(db, q, paging).await?)
}

/// The ids of a comparison's results of one status (a bulk action's rows).
pub async fn ids_of(
    db: &DatabaseConnection,
    job_id: i32,
    status: CheckmkStatus,
) -> Result<Vec<i32>, Error> {
    Ok(results::Entity::find()
        .select_only()
        .column(results::Column::Id)
        .filter(results::Column::JobLogId.eq(job_id))
        .filter(results::Column::Status.eq(status))
        .order_by_asc(results::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The `checkmk_compare` job, run by a worker.
pub async fn run_job(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
) -> Result<(), Error> {
    jobs::mark_running(db, job.id).await?;
    let outcome = match compare(db, vault, job).await {
        Ok(counts) if job.scheduled_job_id.is_some() => {
            match scheduled_steps(db, vault, job, counts).await {
                Ok(Some(s)) => Ok((s.status(), format!("{}; then {}", counts.summary(), s.text))),
                Ok(None) => Ok((JobStatus::Success, counts.summary())),
                Err(e) => Err(e),
            }
        }
        Ok(counts) => Ok((JobStatus::Success, counts.summary())),
        Err(e) => Err(e),
    };
    let (status, message) = match outcome {
        Ok(done) => done,
        // CheckMK's, Nautobot's or the network's words; the database's go to the queue to retry.
        Err(Error::Refused(message)) => {
            jobs::entry(db, job.id, LogLevel::Error, "checkmk", &message, None).await?;
            (JobStatus::Failed, message)
        }
        Err(e) => return Err(e),
    };
    jobs::settle(db, job.id, status, &message).await
}

/// What a scheduled run may do after comparing, as the mapping says.
async fn scheduled_steps(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
    counts: Counts,
) -> Result<Option<apply::Summary>, Error> {
    let m = mapping::load(db).await?;
    let mut statuses = Vec::new();
    if m.scheduled_add && counts.missing > 0 {
        statuses.push(CheckmkStatus::Missing);
    }
    if m.scheduled_update && counts.diff > 0 {
        statuses.push(CheckmkStatus::Diff);
    }
    if statuses.is_empty() && !m.scheduled_activate {
        return Ok(None);
    }
    let mut ids = Vec::new();
    for s in statuses {
        ids.extend(ids_of(db, job.id, s).await?);
    }
    Ok(Some(
        apply::act(db, vault, job, Some(job.id), &ids, m.scheduled_activate).await?,
    ))
}

/// One result row.
fn row(
    job_id: i32,
    name: &str,
    status: CheckmkStatus,
    want: Option<Value>,
    have: Option<&Current>,
    diff: Option<String>,
    message: Option<String>,
) -> results::ActiveModel {
    results::ActiveModel {
        job_log_id: Set(job_id),
        device_name: Set(name.to_string()),
        status: Set(status),
        diff: Set(diff),
        nautobot_data: Set(want),
        checkmk_data: Set(have.map(Current::to_json)),
        message: Set(message),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// The desired host and the source device, as a result row keeps them.
pub fn desired_json(host: &Host, d: &SourceDevice) -> Value {
    let mut v = host.to_json();
    v["source"] = d.to_json();
    v
}

async fn write(db: &DatabaseConnection, rows: Vec<results::ActiveModel>) -> Result<(), Error> {
    for chunk in rows.chunks(CHUNK) {
        results::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn compare(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
) -> Result<Counts, Error> {
    let m = mapping::load(db).await?;
    let mapper = Mapper::new(&m)?;
    let client = Client::from_settings(db, vault).await?;
    // A retried job compares again from the start.
    results::Entity::delete_many()
        .filter(results::Column::JobLogId.eq(job.id))
        .exec(db)
        .await?;
    let (devices, unnamed) = source::read(db, vault, &m, None).await?;
    if unnamed > 0 {
        let message = format!("{unnamed} devices of the source have no name and cannot be hosts");
        jobs::entry(db, job.id, LogLevel::Warning, "checkmk", &message, None).await?;
    }
    let total = devices.len();
    jobs::progress(db, job.id, 0, Some(total)).await?;
    let in_checkmk: HashMap<String, String> = hosts::list(&client).await?.into_iter().collect();
    let mut counts = Counts::default();
    let mut produced: HashSet<String> = HashSet::new();
    let mut done = 0;
    for chunk in devices.chunks(CHUNK) {
        let mut rows = Vec::new();
        let mut to_read: Vec<(usize, Host)> = Vec::new();
        for (i, d) in chunk.iter().enumerate() {
            let first = produced.insert(d.name.clone());
            let problem = if !first {
                Some("another device of the source has this name".to_string())
            } else if !hosts::valid_host_name(&d.name) {
                Some("not a valid CheckMK host name (letters, digits, dots, - and _)".to_string())
            } else {
                None
            };
            let host = match problem.map_or_else(|| mapper.host(d), Err) {
                Ok(h) => h,
                Err(message) => {
                    rows.push(row(
                        job.id,
                        &d.name,
                        CheckmkStatus::Error,
                        Some(d.to_json()),
                        None,
                        None,
                        Some(message),
                    ));
                    continue;
                }
            };
            if in_checkmk.contains_key(&d.name) {
                to_read.push((i, host));
            } else {
                rows.push(row(
                    job.id,
                    &d.name,
                    CheckmkStatus::Missing,
                    Some(desired_json(&host, d)),
                    None,
                    None,
                    None,
                ));
            }
        }
        let read: Vec<_> = stream::iter(to_read)
            .map(|(i, host)| {
                let client = client.clone();
                async move {
                    let current = hosts::get(&client, &host.name).await;
                    (i, host, current)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (i, host, current) in read {
            let d = &chunk[i];
            let want = Some(desired_json(&host, d));
            rows.push(match current {
                Ok(Some(have)) => {
                    let diff = mapper.differences(&host, &have.folder, &have.attributes);
                    if diff.is_empty() {
                        row(
                            job.id,
                            &d.name,
                            CheckmkStatus::Equal,
                            want,
                            Some(&have),
                            None,
                            None,
                        )
                    } else {
                        row(
                            job.id,
                            &d.name,
                            CheckmkStatus::Diff,
                            want,
                            Some(&have),
                            Some(diff.join("\n")),
                            None,
                        )
                    }
                }
                // Deleted in CheckMK since the list was read.
                Ok(None) => row(
                    job.id,
                    &d.name,
                    CheckmkStatus::Missing,
                    want,
                    None,
                    None,
                    None,
                ),
                Err(e) if e.concerns_one_request() => row(
                    job.id,
                    &d.name,
                    CheckmkStatus::Error,
                    want,
                    None,
                    None,
                    Some(e.to_string()),
                ),
                Err(e) => return Err(stopped(db, rows, &mut counts, e).await?),
            });
        }
        for r in &rows {
            if let Set(s) = r.status {
                counts.count(s);
            }
        }
        write(db, rows).await?;
        done += chunk.len();
        jobs::progress(db, job.id, done, Some(total)).await?;
    }
    let mut extra: Vec<(&String, &String)> = in_checkmk
        .iter()
        .filter(|(name, folder)| !produced.contains(*name) && mapper.covers(folder))
        .collect();
    extra.sort();
    let rows: Vec<_> = extra
        .into_iter()
        .map(|(name, folder)| {
            let have = Current {
                folder: folder.clone(),
                attributes: Default::default(),
                etag: None,
            };
            counts.count(CheckmkStatus::Extra);
            row(
                job.id,
                name,
                CheckmkStatus::Extra,
                None,
                Some(&have),
                None,
                Some(format!(
                    "in {folder}, a mapped folder, but no source device produces it"
                )),
            )
        })
        .collect();
    write(db, rows).await?;
    jobs::entry(
        db,
        job.id,
        LogLevel::Info,
        "checkmk",
        &counts.summary(),
        None,
    )
    .await?;
    Ok(counts)
}

/// CheckMK stopped answering: the rows compared so far are kept, and the job ends with why.
async fn stopped(
    db: &DatabaseConnection,
    rows: Vec<results::ActiveModel>,
    counts: &mut Counts,
    e: CheckmkError,
) -> Result<Error, Error> {
    for r in &rows {
        if let Set(s) = r.status {
            counts.count(s);
        }
    }
    write(db, rows).await?;
    Ok(Error::Refused(format!(
        "stopped after {} devices: {e}",
        counts.equal + counts.diff + counts.missing + counts.error
    )))
}
