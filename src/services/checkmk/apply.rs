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
    let new = NewJob::by_hand(
        JobType::CheckmkApply,
        Target::CheckmkResults {
            job: compare_job,
            ids: chosen.iter().map(|r| r.id).collect(),
            activate,
        },
        actor.id,
    );
    jobs::start_fresh(db, queue, actor, new).await
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

impl Outcome {
    fn of(id: i32, action: CheckmkAction, answer: Result<String, String>) -> Outcome {
        let (ok, message) = match answer {
            Ok(m) => (true, m),
            Err(m) => (false, m),
        };
        Outcome {
            id,
            action,
            ok,
            message,
        }
    }
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

/// A failure that ends the run, or the row's own answer in words.
fn own(e: CheckmkError) -> Result<String, Error> {
    if e.concerns_one_request() {
        Ok(e.to_string())
    } else {
        Err(e.into())
    }
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

/// One run over chosen results: where it records, what it has done so far.
struct Run<'a> {
    db: &'a DatabaseConnection,
    job: &'a job_logs::Model,
    client: Client,
    rows: Vec<results::Model>,
    /// Host names done, by action (add, update, delete).
    done: [Vec<String>; 3],
    failed: usize,
    /// Rows not acted on yet: reported as not attempted if CheckMK stops answering.
    waiting: BTreeSet<i32>,
}

fn slot(action: CheckmkAction) -> usize {
    match action {
        CheckmkAction::Add => 0,
        CheckmkAction::Update => 1,
        CheckmkAction::Delete => 2,
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
    jobs::progress(db, job.id, 0, Some(rows.len())).await?;
    let mut run = Run {
        db,
        job,
        client,
        waiting: rows.iter().map(|r| r.id).collect(),
        rows,
        done: Default::default(),
        failed: 0,
    };
    let of = |run: &Run, s: CheckmkStatus| -> Vec<results::Model> {
        run.rows.iter().filter(|r| r.status == s).cloned().collect()
    };
    let (missing, differing, extra) = (
        of(&run, CheckmkStatus::Missing),
        of(&run, CheckmkStatus::Diff),
        of(&run, CheckmkStatus::Extra),
    );
    let steps = async {
        run.add(&missing).await?;
        run.update(&mapper, &differing, activate).await?;
        run.delete(m.allow_delete, &extra).await
    };
    if let Err(e) = steps.await {
        let Error::Refused(reason) = e else {
            return Err(e);
        };
        // CheckMK stopped answering: every row not reached says so.
        let outcomes = run
            .rows
            .iter()
            .filter(|r| run.waiting.contains(&r.id))
            .filter_map(|r| {
                let action = r.status.action()?;
                Some(Outcome::of(
                    r.id,
                    action,
                    Err(format!("not attempted: {reason}")),
                ))
            })
            .collect();
        run.record(outcomes).await?;
        run.audit().await?;
        return Err(Error::Refused(format!(
            "{}; stopped: {reason}",
            run.words()
        )));
    }
    run.audit().await?;
    let mut text = run.words();
    if activate {
        text = format!("{text}; {}", run.activate().await?);
    }
    Ok(Summary {
        text,
        done: run.done.iter().map(Vec::len).sum(),
        failed: run.failed,
    })
}

/// An update to make: the desired host, CheckMK's as compared, the attributes to write, and
/// the move made first.
struct Change {
    id: i32,
    want: Host,
    have: Current,
    attributes: Map<String, Value>,
    moved: Option<String>,
}

impl Change {
    fn of(mapper: &Mapper, r: &results::Model) -> Option<Change> {
        let want = wanted(r)?;
        let have = r.checkmk_data.as_ref().and_then(Current::from_json)?;
        let attributes = mapper.update_attributes(&want, &have.attributes);
        Some(Change {
            id: r.id,
            want,
            have,
            attributes,
            moved: None,
        })
    }

    fn etag(&self) -> String {
        self.have.etag.clone().unwrap_or_else(|| "*".into())
    }

    /// Replaces the attributes under the ETag the comparison (or the move) gave.
    async fn replace(self, client: Client) -> (i32, Result<String, CheckmkError>) {
        let answer =
            hosts::replace_attributes(&client, &self.want.name, &self.attributes, &self.etag())
                .await;
        let words = match (answer, self.moved) {
            (Ok(()), None) => Ok("attributes replaced".into()),
            (Ok(()), Some(moved)) => Ok(format!("{moved}; attributes replaced")),
            // Half done: say which half.
            (Err(e), Some(moved)) if e.concerns_one_request() => Err(CheckmkError::Host(format!(
                "{moved}, but the attributes were not replaced: {e}"
            ))),
            (Err(e), _) => Err(e),
        };
        (self.id, words)
    }
}

impl Run<'_> {
    /// Stores each row's outcome; failures also go to the job log.
    async fn record(&mut self, outcomes: Vec<Outcome>) -> Result<(), Error> {
        let now = Utc::now();
        for o in outcomes {
            self.waiting.remove(&o.id);
            let name = self
                .rows
                .iter()
                .find(|r| r.id == o.id)
                .map(|r| r.device_name.clone())
                .unwrap_or_default();
            if o.ok {
                self.done[slot(o.action)].push(name);
            } else {
                self.failed += 1;
                let line = format!("{} {name}: {}", o.action.as_str(), o.message);
                jobs::entry(
                    self.db,
                    self.job.id,
                    LogLevel::Warning,
                    "checkmk",
                    &line,
                    None,
                )
                .await?;
            }
            results::Entity::update_many()
                .col_expr(results::Column::Action, Expr::value(o.action))
                .col_expr(results::Column::ActionOk, Expr::value(o.ok))
                .col_expr(results::Column::ActionMessage, Expr::value(o.message))
                .col_expr(results::Column::ActedAt, Expr::value(now))
                .filter(results::Column::Id.eq(o.id))
                .exec(self.db)
                .await?;
        }
        let reached = self.rows.len() - self.waiting.len();
        jobs::progress(self.db, self.job.id, reached, None).await
    }

    fn words(&self) -> String {
        let mut s = format!(
            "{} added, {} updated, {} deleted",
            self.done[0].len(),
            self.done[1].len(),
            self.done[2].len()
        );
        if self.failed > 0 {
            s.push_str(&format!(", {} failed", self.failed));
        }
        s
    }

    fn actor(&self) -> Actor {
        Actor {
            id: self.job.created_by,
            ..Actor::system(&format!("checkmk job {}", self.job.id))
        }
    }

    /// One audit entry per kind of action, naming the hosts.
    async fn audit(&self) -> Result<(), Error> {
        let events = [
            "checkmk.hosts.add",
            "checkmk.hosts.update",
            "checkmk.hosts.delete",
        ];
        for (names, event) in self.done.iter().zip(events) {
            if names.is_empty() {
                continue;
            }
            audit::record(
                self.db,
                &self.actor(),
                Event::data(event)
                    .target("job", self.job.id)
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

    /// Missing hosts: folders first, then the hosts in bulk; a refused batch host by host.
    async fn add(&mut self, missing: &[results::Model]) -> Result<(), Error> {
        let mut folders = Folders::default();
        for batch in missing.chunks(BATCH) {
            let mut outcomes = Vec::new();
            let mut ready: Vec<(i32, Host)> = Vec::new();
            for r in batch {
                let Some(host) = wanted(r) else {
                    let why = "the result keeps no desired host: compare again".to_string();
                    outcomes.push(Outcome::of(r.id, CheckmkAction::Add, Err(why)));
                    continue;
                };
                match folders.ensure(&self.client, &host.folder).await {
                    Ok(()) => ready.push((r.id, host)),
                    Err(e) => {
                        let why = format!("creating folder {}: {}", host.folder, own(e)?);
                        outcomes.push(Outcome::of(r.id, CheckmkAction::Add, Err(why)));
                    }
                }
            }
            let hosts: Vec<&Host> = ready.iter().map(|(_, h)| h).collect();
            let together = if hosts.is_empty() {
                Ok(())
            } else {
                hosts::create_many(&self.client, &hosts).await
            };
            let added = |h: &Host| format!("added in {}", h.folder);
            match together {
                Ok(()) => outcomes.extend(
                    ready
                        .iter()
                        .map(|(id, h)| Outcome::of(*id, CheckmkAction::Add, Ok(added(h)))),
                ),
                // One host refused fails the batch: each then gets its own answer.
                Err(e) if e.concerns_one_request() => {
                    for (id, h) in &ready {
                        let answer = match hosts::create(&self.client, h).await {
                            Ok(()) => Ok(added(h)),
                            Err(e) => Err(own(e)?),
                        };
                        outcomes.push(Outcome::of(*id, CheckmkAction::Add, answer));
                    }
                }
                Err(e) => return Err(e.into()),
            }
            self.record(outcomes).await?;
        }
        Ok(())
    }

    /// Differing hosts: the moves first, one at a time (CheckMK refuses a move while changes
    /// are pending, so none of this run's other changes may come before one; when the run
    /// activates anyway, pending changes are activated and the move tried again); then the
    /// attributes, a bounded number of hosts at a time.
    async fn update(
        &mut self,
        mapper: &Mapper,
        differing: &[results::Model],
        activate: bool,
    ) -> Result<(), Error> {
        let mut ready = Vec::new();
        let mut outcomes = Vec::new();
        for r in differing {
            match Change::of(mapper, r) {
                Some(c) => ready.push(c),
                None => outcomes.push(Outcome::of(
                    r.id,
                    CheckmkAction::Update,
                    Err("the result keeps no hosts to compare: compare again".into()),
                )),
            }
        }
        self.record(outcomes).await?;
        let mut moved = Vec::new();
        for mut c in ready {
            if c.want.folder != c.have.folder {
                let mut answer = self.move_host(&c).await;
                if activate && matches!(answer, Err(CheckmkError::PendingChanges)) {
                    self.activate().await?;
                    answer = self.move_host(&c).await;
                }
                match answer {
                    Ok(etag) => {
                        c.have.etag = etag.or(c.have.etag);
                        c.moved =
                            Some(format!("moved from {} to {}", c.have.folder, c.want.folder));
                    }
                    Err(e) => {
                        let why = own(e)?;
                        self.record(vec![Outcome::of(c.id, CheckmkAction::Update, Err(why))])
                            .await?;
                        continue;
                    }
                }
            }
            moved.push(c);
        }
        let mut rest = moved.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<Change> = rest.by_ref().take(BATCH * 5).collect();
            let answers: Vec<(i32, Result<String, CheckmkError>)> = stream::iter(batch)
                .map(|c| c.replace(self.client.clone()))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            let mut outcomes = Vec::new();
            let mut fatal = None;
            for (id, answer) in answers {
                match answer {
                    Ok(m) => outcomes.push(Outcome::of(id, CheckmkAction::Update, Ok(m))),
                    Err(e) if e.concerns_one_request() => {
                        outcomes.push(Outcome::of(id, CheckmkAction::Update, Err(e.to_string())));
                    }
                    // Reported with the run's other unreached rows.
                    Err(e) => {
                        fatal.get_or_insert(e);
                    }
                }
            }
            self.record(outcomes).await?;
            if let Some(e) = fatal {
                return Err(e.into());
            }
        }
        Ok(())
    }

    async fn move_host(&self, c: &Change) -> Result<Option<String>, CheckmkError> {
        hosts::move_to(&self.client, &c.want.name, &c.want.folder, &c.etag()).await
    }

    /// Extra hosts, in bulk, when the mapping allows it.
    async fn delete(&mut self, allowed: bool, extra: &[results::Model]) -> Result<(), Error> {
        for batch in extra.chunks(BATCH) {
            let names: Vec<&str> = batch.iter().map(|r| r.device_name.as_str()).collect();
            let answer: Result<String, String> = if !allowed {
                Err("the mapping does not allow deleting hosts".into())
            } else {
                match hosts::delete_many(&self.client, &names).await {
                    Ok(()) => Ok("deleted".into()),
                    Err(e) => Err(own(e)?),
                }
            };
            let outcomes = batch
                .iter()
                .map(|r| Outcome::of(r.id, CheckmkAction::Delete, answer.clone()))
                .collect();
            self.record(outcomes).await?;
        }
        Ok(())
    }

    /// Activates what is pending and waits for the run; in words.
    async fn activate(&self) -> Result<String, Error> {
        let (changes, etag) = hosts::pending(&self.client).await?;
        if changes.is_empty() {
            return Ok("nothing to activate".into());
        }
        let etag = etag.as_deref().unwrap_or("*");
        let run = hosts::activate(&self.client, etag, ACTIVATION_WAIT).await?;
        audit::record(
            self.db,
            &self.actor(),
            Event::data("checkmk.activate")
                .target("job", self.job.id)
                .detail("activation", run.id.clone())
                .detail("changes", changes.len()),
        )
        .await?;
        let message = format!("activated {} changes ({})", changes.len(), run.title);
        jobs::entry(
            self.db,
            self.job.id,
            LogLevel::Info,
            "checkmk",
            &message,
            None,
        )
        .await?;
        Ok(message)
    }
}
