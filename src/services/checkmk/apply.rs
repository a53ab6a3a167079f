//! The `checkmk_apply` job: acting on a comparison's results. A missing host is added (its
//! folder path created level by level first; hosts go in CheckMK's bulk create, a failing batch
//! is retried host by host so each gets its own answer); a differing host is moved to its
//! folder, then its attributes replaced, both under the ETag the comparison read, so a host
//! changed in CheckMK since is not overwritten; an extra host is deleted when the mapping allows
//! it. Then, if asked, the pending changes are activated and the run waited for.
//!
//! Every row acted on keeps what was done and CheckMK's answer. When CheckMK stops answering,
//! the rows not reached say so and the job fails with the reason: nothing is left unreported.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use futures_util::{StreamExt, stream};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};

use super::client::{CheckmkError, Client};
use super::compare::{CONCURRENCY, refuse_if_busy, refuse_unless_configured};
use super::hosts::{self, Current, Folders};
use super::mapping::{self, Host, Mapper};
use crate::background::Queue;
use crate::crypto::Vault;
use crate::entity::{job_logs, nb2cmk_results as results};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::{CheckmkAction, CheckmkStatus, JobStatus, JobType, LogLevel};

/// Hosts per bulk request.
const BATCH: usize = 100;
/// How long an activation may run before the job stops waiting.
const ACTIVATION_WAIT: Duration = Duration::from_secs(600);

/// Starts acting on results `ids` of comparison `compare_job` (then activating when asked).
/// Deleting needs the mapping's permission; the caller checks the user's.
pub async fn start(
    db: &DatabaseConnection,
    vault: &Vault,
    queue: &Queue,
    actor: &Actor,
    compare_job: Option<i32>,
    ids: Vec<i32>,
    activate: bool,
) -> Result<job_logs::Model, Error> {
    let chosen = match compare_job {
        Some(id) => {
            if jobs::get(db, id).await?.job_type != JobType::CheckmkCompare {
                return Err(Error::NotFound);
            }
            chosen(db, id, &ids).await?
        }
        None => Vec::new(),
    };
    if chosen.is_empty() && !activate {
        return Err(Error::Refused(
            "nothing to do: choose missing, differing or extra hosts".into(),
        ));
    }
    if chosen.iter().any(|r| r.status == CheckmkStatus::Extra)
        && !mapping::load(db).await?.allow_delete
    {
        return Err(Error::Refused(
            "the CheckMK mapping does not allow deleting hosts: turn on \"Delete extra hosts\" first".into(),
        ));
    }
    refuse_unless_configured(db, vault).await?;
    refuse_if_busy(db).await?;
    let new = NewJob {
        job_type: JobType::CheckmkApply,
        target: Target::CheckmkResults {
            job: compare_job,
            ids: chosen.iter().map(|r| r.id).collect(),
            activate,
        },
        created_by: actor.id,
        scheduled_job_id: None,
        idempotency_key: None,
        debug: false,
    };
    jobs::start(db, queue, actor, new)
        .await?
        .ok_or_else(|| Error::Internal("a fresh job key was already used".into()))
}

/// The rows of `ids` in comparison `job` that an action applies to.
async fn chosen(
    db: &DatabaseConnection,
    job: i32,
    ids: &[i32],
) -> Result<Vec<results::Model>, Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            results::Entity::find()
                .filter(results::Column::JobLogId.eq(job))
                .filter(results::Column::Id.is_in(chunk.to_vec()))
                .order_by_asc(results::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .filter(|r| r.status.action().is_some()),
        );
    }
    Ok(out)
}

/// The `checkmk_apply` job, run by a worker.
pub async fn run_job(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
) -> Result<(), Error> {
    let Some(Target::CheckmkResults {
        job: compare_job,
        ids,
        activate,
    }) = Target::of_job(job)
    else {
        return jobs::settle(db, job.id, JobStatus::Failed, "the job names no results").await;
    };
    jobs::mark_running(db, job.id).await?;
    let (status, message) = match act(db, vault, job, compare_job, &ids, activate).await {
        Ok(s) => (s.status(), s.text),
        Err(Error::Refused(message)) => {
            jobs::entry(db, job.id, LogLevel::Error, "checkmk", &message, None).await?;
            (JobStatus::Failed, message)
        }
        Err(e) => return Err(e),
    };
    jobs::settle(db, job.id, status, &message).await
}

/// What happened to one row.
struct Outcome {
    id: i32,
    action: CheckmkAction,
    ok: bool,
    message: String,
}

/// Tallies of a run, for its message and audit entries.
#[derive(Default)]
struct Tally {
    done: [Vec<String>; 3],
    failed: usize,
}

impl Tally {
    fn slot(action: CheckmkAction) -> usize {
        match action {
            CheckmkAction::Add => 0,
            CheckmkAction::Update => 1,
            CheckmkAction::Delete => 2,
        }
    }
}

async fn record(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    rows: &[results::Model],
    outcomes: Vec<Outcome>,
    tally: &mut Tally,
) -> Result<(), Error> {
    let now = Utc::now();
    for o in outcomes {
        let name = rows
            .iter()
            .find(|r| r.id == o.id)
            .map(|r| r.device_name.clone())
            .unwrap_or_default();
        if o.ok {
            tally.done[Tally::slot(o.action)].push(name);
        } else {
            tally.failed += 1;
            let line = format!("{} {name}: {}", o.action.as_str(), o.message);
            jobs::entry(db, job.id, LogLevel::Warning, "checkmk", &line, None).await?;
        }
        results::Entity::update_many()
            .col_expr(results::Column::Action, Expr::value(o.action))
            .col_expr(results::Column::ActionOk, Expr::value(o.ok))
            .col_expr(results::Column::ActionMessage, Expr::value(o.message))
            .col_expr(results::Column::ActedAt, Expr::value(now))
            .filter(results::Column::Id.eq(o.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The desired host a result row keeps.
fn wanted(r: &results::Model) -> Option<Host> {
    let v = r.nautobot_data.as_ref()?;
    Some(Host {
        name: r.device_name.clone(),
        folder: v.get("folder")?.as_str()?.to_string(),
        attributes: v.get("attributes")?.as_object()?.clone(),
    })
}

/// What a run did: in words, and how many rows were done and failed.
pub struct Summary {
    pub text: String,
    pub done: usize,
    pub failed: usize,
}

impl Summary {
    pub fn status(&self) -> JobStatus {
        match (self.done, self.failed) {
            (_, 0) => JobStatus::Success,
            (0, _) => JobStatus::Failed,
            _ => JobStatus::Partial,
        }
    }
}

/// Acts on results `ids` of comparison `compare_job` within `job`.
pub async fn act(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
    compare_job: Option<i32>,
    ids: &[i32],
    activate: bool,
) -> Result<Summary, Error> {
    let client = Client::from_settings(db, vault).await?;
    let m = mapping::load(db).await?;
    let mapper = Mapper::new(&m)?;
    let rows = match compare_job {
        Some(id) => chosen(db, id, ids).await?,
        None => Vec::new(),
    };
    let total = rows.len();
    jobs::progress(db, job.id, 0, Some(total)).await?;
    let by = |s: CheckmkStatus| {
        rows.iter()
            .filter(move |r| r.status == s)
            .collect::<Vec<_>>()
    };
    let mut tally = Tally::default();
    let mut pending: Vec<(i32, CheckmkAction)> = rows
        .iter()
        .filter_map(|r| r.status.action().map(|a| (r.id, a)))
        .collect();
    let steps = async {
        add(
            db,
            job,
            &client,
            &rows,
            &by(CheckmkStatus::Missing),
            &mut tally,
            &mut pending,
        )
        .await?;
        update(
            db,
            job,
            &client,
            &mapper,
            &rows,
            &by(CheckmkStatus::Diff),
            &mut tally,
            &mut pending,
        )
        .await?;
        delete(
            db,
            job,
            &client,
            m.allow_delete,
            &rows,
            &by(CheckmkStatus::Extra),
            &mut tally,
            &mut pending,
        )
        .await
    };
    if let Err(e) = steps.await {
        let Error::Refused(reason) = e else {
            return Err(e);
        };
        // CheckMK stopped answering: every row not reached says so.
        let outcomes = pending
            .iter()
            .map(|(id, action)| Outcome {
                id: *id,
                action: *action,
                ok: false,
                message: format!("not attempted: {reason}"),
            })
            .collect();
        record(db, job, &rows, outcomes, &mut tally).await?;
        audit_tally(db, job, &tally).await?;
        return Err(Error::Refused(format!(
            "{}; stopped: {reason}",
            words(&tally)
        )));
    }
    audit_tally(db, job, &tally).await?;
    let mut text = words(&tally);
    if activate {
        text = format!("{text}; {}", activate_pending(db, job, &client).await?);
    }
    Ok(Summary {
        text,
        done: tally.done.iter().map(Vec::len).sum(),
        failed: tally.failed,
    })
}

fn words(t: &Tally) -> String {
    let mut s = format!(
        "{} added, {} updated, {} deleted",
        t.done[0].len(),
        t.done[1].len(),
        t.done[2].len()
    );
    if t.failed > 0 {
        s.push_str(&format!(", {} failed", t.failed));
    }
    s
}

/// One audit entry per kind of action, naming the hosts.
async fn audit_tally(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    t: &Tally,
) -> Result<(), Error> {
    let actor = Actor {
        id: job.created_by,
        ..Actor::system(&format!("checkmk job {}", job.id))
    };
    for (names, event) in t.done.iter().zip([
        "checkmk.hosts.add",
        "checkmk.hosts.update",
        "checkmk.hosts.delete",
    ]) {
        if names.is_empty() {
            continue;
        }
        audit::record(
            db,
            &actor,
            Event::data(event)
                .target("job", job.id)
                .detail("count", names.len())
                .detail(
                    "hosts",
                    names.iter().take(1000).cloned().collect::<Vec<_>>(),
                ),
        )
        .await?;
    }
    Ok(())
}

fn settled(pending: &mut Vec<(i32, CheckmkAction)>, outcomes: &[Outcome]) {
    let done: BTreeSet<i32> = outcomes.iter().map(|o| o.id).collect();
    pending.retain(|(id, _)| !done.contains(id));
}

/// A failure that ends the job, or the row's own answer.
fn own(e: CheckmkError) -> Result<String, CheckmkError> {
    if e.concerns_one_request() {
        Ok(e.to_string())
    } else {
        Err(e)
    }
}

#[allow(clippy::too_many_arguments)]
async fn add(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    client: &Client,
    rows: &[results::Model],
    missing: &[&results::Model],
    tally: &mut Tally,
    pending: &mut Vec<(i32, CheckmkAction)>,
) -> Result<(), Error> {
    let mut folders = Folders::default();
    for batch in missing.chunks(BATCH) {
        let mut outcomes = Vec::new();
        let mut ready: Vec<(i32, Host)> = Vec::new();
        for r in batch {
            let fail = |message: String| Outcome {
                id: r.id,
                action: CheckmkAction::Add,
                ok: false,
                message,
            };
            let Some(host) = wanted(r) else {
                outcomes.push(fail(
                    "the result keeps no desired host: compare again".into(),
                ));
                continue;
            };
            match folders.ensure(client, &host.folder).await {
                Ok(()) => ready.push((r.id, host)),
                Err(e) => outcomes.push(fail(format!(
                    "creating folder {}: {}",
                    host.folder,
                    own(e)?
                ))),
            }
        }
        let hosts: Vec<&Host> = ready.iter().map(|(_, h)| h).collect();
        let together = if hosts.is_empty() {
            Ok(())
        } else {
            hosts::create_many(client, &hosts).await
        };
        match together {
            Ok(()) => outcomes.extend(ready.iter().map(|(id, h)| Outcome {
                id: *id,
                action: CheckmkAction::Add,
                ok: true,
                message: format!("added in {}", h.folder),
            })),
            // One host refused fails the batch: each then gets its own answer.
            Err(e) if e.concerns_one_request() => {
                for (id, h) in &ready {
                    let (ok, message) = match hosts::create(client, h).await {
                        Ok(()) => (true, format!("added in {}", h.folder)),
                        Err(e) => (false, own(e)?),
                    };
                    outcomes.push(Outcome {
                        id: *id,
                        action: CheckmkAction::Add,
                        ok,
                        message,
                    });
                }
            }
            Err(e) => return Err(e.into()),
        }
        settled(pending, &outcomes);
        record(db, job, rows, outcomes, tally).await?;
    }
    Ok(())
}

/// An update to make: the desired host, CheckMK's as compared, the attributes to write.
struct Change {
    want: Host,
    have: Current,
    attributes: Map<String, Value>,
}

impl Change {
    fn of(mapper: &Mapper, r: &results::Model) -> Result<Change, CheckmkError> {
        let (Some(want), Some(have)) = (
            wanted(r),
            r.checkmk_data.as_ref().and_then(Current::from_json),
        ) else {
            return Err(CheckmkError::Host(
                "the result keeps no hosts to compare: compare again".into(),
            ));
        };
        let attributes = mapper.update_attributes(&want, &have.attributes);
        Ok(Change {
            want,
            have,
            attributes,
        })
    }
}

/// Moves (when the folder differs) then replaces the attributes, under the compared ETag.
async fn update_one(
    client: &Client,
    change: Result<Change, CheckmkError>,
) -> Result<String, CheckmkError> {
    let Change {
        want,
        have,
        attributes,
    } = change?;
    let mut etag = have.etag.clone().unwrap_or_else(|| "*".into());
    let mut moved = String::new();
    if want.folder != have.folder {
        if let Some(new) = hosts::move_to(client, &want.name, &want.folder, &etag).await? {
            etag = new;
        }
        moved = format!("moved from {} to {}", have.folder, want.folder);
    }
    match hosts::replace_attributes(client, &want.name, &attributes, &etag).await {
        Ok(()) if moved.is_empty() => Ok("attributes replaced".into()),
        Ok(()) => Ok(format!("{moved}; attributes replaced")),
        // Half done: say which half.
        Err(e) if !moved.is_empty() => Err(CheckmkError::Host(format!(
            "{moved}, but the attributes were not replaced: {e}"
        ))),
        Err(e) => Err(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn update(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    client: &Client,
    mapper: &Mapper,
    rows: &[results::Model],
    differing: &[&results::Model],
    tally: &mut Tally,
    pending: &mut Vec<(i32, CheckmkAction)>,
) -> Result<(), Error> {
    for batch in differing.chunks(BATCH * 5) {
        let changes: Vec<_> = batch
            .iter()
            .map(|r| (r.id, Change::of(mapper, r)))
            .collect();
        let answers: Vec<(i32, Result<String, CheckmkError>)> = stream::iter(changes)
            .map(|(id, change)| {
                let client = client.clone();
                async move { (id, update_one(&client, change).await) }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut outcomes = Vec::new();
        let mut fatal = None;
        for (id, answer) in answers {
            let (ok, message) = match answer {
                Ok(m) => (true, m),
                Err(e) if e.concerns_one_request() => (false, e.to_string()),
                // Recorded with the rest of the run's unreached rows.
                Err(e) => {
                    fatal.get_or_insert(e);
                    continue;
                }
            };
            outcomes.push(Outcome {
                id,
                action: CheckmkAction::Update,
                ok,
                message,
            });
        }
        settled(pending, &outcomes);
        record(db, job, rows, outcomes, tally).await?;
        if let Some(e) = fatal {
            return Err(e.into());
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn delete(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    client: &Client,
    allowed: bool,
    rows: &[results::Model],
    extra: &[&results::Model],
    tally: &mut Tally,
    pending: &mut Vec<(i32, CheckmkAction)>,
) -> Result<(), Error> {
    for batch in extra.chunks(BATCH) {
        let names: Vec<&str> = batch.iter().map(|r| r.device_name.as_str()).collect();
        let outcome = |r: &results::Model, ok: bool, message: String| Outcome {
            id: r.id,
            action: CheckmkAction::Delete,
            ok,
            message,
        };
        let outcomes: Vec<Outcome> = if !allowed {
            batch
                .iter()
                .map(|r| outcome(r, false, "the mapping does not allow deleting hosts".into()))
                .collect()
        } else {
            match hosts::delete_many(client, &names).await {
                Ok(()) => batch
                    .iter()
                    .map(|r| outcome(r, true, "deleted".into()))
                    .collect(),
                Err(e) => {
                    let message = own(e)?;
                    batch
                        .iter()
                        .map(|r| outcome(r, false, message.clone()))
                        .collect()
                }
            }
        };
        settled(pending, &outcomes);
        record(db, job, rows, outcomes, tally).await?;
    }
    Ok(())
}

/// Activates what is pending and waits for the run; in words.
async fn activate_pending(
    db: &DatabaseConnection,
    job: &job_logs::Model,
    client: &Client,
) -> Result<String, Error> {
    let (changes, etag) = hosts::pending(client).await?;
    if changes.is_empty() {
        return Ok("nothing to activate".into());
    }
    let run = hosts::activate(client, etag.as_deref().unwrap_or("*"), ACTIVATION_WAIT).await?;
    let actor = Actor {
        id: job.created_by,
        ..Actor::system(&format!("checkmk job {}", job.id))
    };
    audit::record(
        db,
        &actor,
        Event::data("checkmk.activate")
            .target("job", job.id)
            .detail("activation", run.id.clone())
            .detail("changes", changes.len()),
    )
    .await?;
    let message = format!("activated {} changes ({})", changes.len(), run.title);
    jobs::entry(db, job.id, LogLevel::Info, "checkmk", &message, None).await?;
    Ok(message)
}
