//! Talking to a repository's remote: the connection test, trusting an SSH host key, and the
//! `git_sync` job that brings the local copy up to date and records where it stands.

use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::cli::GitError;
use super::copy::{Copy, Head};
use super::remote::{self, HostKeys};
use super::{GitHome, lock, repos};
use crate::background::Queue;
use crate::crypto::Vault;
use crate::entity::{git_repositories as repo, job_logs};
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::{JobStatus, JobType, LogLevel, SyncStatus};

/// How long a sync waits for another process's work on the same repository.
const PATIENCE: Duration = Duration::from_secs(120);

/// What the connection test found.
pub enum Connection {
    Reached {
        branches: Vec<String>,
        /// The configured branch is among them.
        has_branch: bool,
    },
    Failed(GitError),
}

pub async fn test_connection(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    r: &repo::Model,
) -> Result<Connection, Error> {
    let env = remote::env_for(db, vault, home, r, HostKeys::Known).await?;
    Ok(match Copy::remote_branches(&env, home, &r.url).await {
        Ok(mut branches) => {
            branches.sort();
            let has_branch = branches.contains(&r.branch);
            Connection::Reached {
                branches,
                has_branch,
            }
        }
        Err(e) => Connection::Failed(e),
    })
}

/// `SHA256:...` of one `known_hosts` line's key, as `ssh-keygen -l` shows it.
pub fn fingerprint(line: &str) -> Option<String> {
    let mut parts = line.split_whitespace();
    let _host = parts.next()?;
    let kind = parts.next()?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(parts.next()?)
        .ok()?;
    let digest = Sha256::digest(&blob);
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest);
    Some(format!("{kind} SHA256:{b64}"))
}

/// Connect once accepting the host key the SSH server offers, and keep it with the
/// repository; returns the keys' fingerprints.
pub async fn trust_host_key(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    actor: &Actor,
    r: &repo::Model,
) -> Result<Vec<String>, Error> {
    if remote::Transport::of(&r.url) != Some(remote::Transport::Ssh) {
        return Err(Error::Refused("only an SSH remote has a host key".into()));
    }
    let mut trusting = r.clone();
    trusting.known_hosts = None;
    let env = remote::env_for(db, vault, home, &trusting, HostKeys::TrustNew).await?;
    let reached = Copy::remote_branches(&env, home, &r.url).await;
    let known = env.files().first().map(|f| f.read()).unwrap_or_default();
    let lines: Vec<&str> = known
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return Err(Error::Refused(match reached {
            Err(e) => format!("no host key was received: {e}"),
            Ok(_) => "no host key was received".into(),
        }));
    }
    let fingerprints: Vec<String> = lines.iter().filter_map(|l| fingerprint(l)).collect();
    repos::trust_host_keys(db, actor, r.id, &lines.join("\n"), &fingerprints).await?;
    Ok(fingerprints)
}

/// Start a sync of repository `id` (`fresh`: clone again from scratch) as a job.
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    id: i32,
    fresh: bool,
    user_id: Option<i32>,
) -> Result<job_logs::Model, Error> {
    let r = repos::get(db, id).await?;
    if !r.is_active {
        return Err(Error::Refused(format!(
            "{} is inactive: make it active to sync it",
            r.name
        )));
    }
    super::cli::check_installed().map_err(|e| Error::Refused(e.to_string()))?;
    let new = NewJob::by_hand(JobType::GitSync, Target::Repository { id, fresh }, user_id);
    jobs::start_fresh(db, queue, actor, new).await
}

/// Write where a repository stands after a sync or a mirror push.
pub async fn record_status(
    db: &DatabaseConnection,
    id: i32,
    outcome: Result<Option<&Head>, &str>,
) -> Result<(), Error> {
    let now = Utc::now();
    let mut update = repo::Entity::update_many()
        .col_expr(repo::Column::LastSyncAt, Expr::value(now))
        .filter(repo::Column::Id.eq(id));
    update = match outcome {
        Ok(head) => {
            let h = head.cloned().unwrap_or_default();
            let some = |s: String| if s.is_empty() { None } else { Some(s) };
            update
                .col_expr(repo::Column::SyncStatus, Expr::value(SyncStatus::Synced))
                .col_expr(
                    repo::Column::SyncMessage,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(repo::Column::HeadCommit, Expr::value(some(h.commit)))
                .col_expr(repo::Column::HeadAuthor, Expr::value(some(h.author)))
                .col_expr(repo::Column::HeadMessage, Expr::value(some(h.message)))
                .col_expr(repo::Column::HeadDate, Expr::value(h.date))
                .col_expr(repo::Column::Ahead, Expr::value(head.map(|h| h.ahead)))
                .col_expr(repo::Column::Behind, Expr::value(head.map(|h| h.behind)))
        }
        Err(message) => update
            .col_expr(repo::Column::SyncStatus, Expr::value(SyncStatus::Error))
            .col_expr(repo::Column::SyncMessage, Expr::value(message)),
    };
    update.exec(db).await?;
    Ok(())
}

async fn mark_syncing(db: &DatabaseConnection, id: i32) -> Result<(), Error> {
    repo::Entity::update_many()
        .col_expr(repo::Column::SyncStatus, Expr::value(SyncStatus::Syncing))
        .filter(repo::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The `git_sync` job.
pub async fn run_job(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    job: &job_logs::Model,
) -> Result<(), Error> {
    let Some(Target::Repository { id, fresh }) = Target::of_job(job) else {
        return jobs::settle(db, job.id, JobStatus::Failed, "the job names no repository").await;
    };
    let log = |level, message: String| async move {
        jobs::entry(db, job.id, level, "git", &message, None).await
    };
    let r = match repos::get(db, id).await {
        Ok(r) => r,
        Err(Error::NotFound) => {
            return jobs::settle(db, job.id, JobStatus::Failed, "the repository was deleted").await;
        }
        Err(e) => return Err(e),
    };
    jobs::mark_running(db, job.id).await?;
    if !lock::take(db, id, "sync", PATIENCE).await? {
        let r = repos::get(db, id).await?;
        let message = format!(
            "another process kept the repository busy for {} s ({}); try again later",
            PATIENCE.as_secs(),
            lock::held_by(&r)
        );
        log(LogLevel::Error, message.clone()).await?;
        return jobs::settle(db, job.id, JobStatus::Failed, &message).await;
    }
    let result = sync_locked(db, vault, home, &r, fresh, job.id).await;
    lock::give_back(db, id).await?;
    match result {
        Ok(summary) => jobs::settle(db, job.id, JobStatus::Success, &summary).await,
        Err(message) => {
            log(LogLevel::Error, message.clone()).await?;
            jobs::settle(db, job.id, JobStatus::Failed, &message).await
        }
    }
}

/// Sync with the lock held: the summary, or what went wrong in words (also the repository's
/// status message).
async fn sync_locked(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    r: &repo::Model,
    fresh: bool,
    job_id: i32,
) -> Result<String, String> {
    let log = |level, message: String| async move {
        jobs::entry(db, job_id, level, "git", &message, None)
            .await
            .map_err(|e| e.to_string())
    };
    mark_syncing(db, r.id).await.map_err(|e| e.to_string())?;
    log(
        LogLevel::Info,
        format!(
            "{} {} ({}, branch {})",
            if fresh {
                "cloning again from scratch:"
            } else {
                "syncing"
            },
            r.name,
            r.url,
            r.branch
        ),
    )
    .await?;
    let env = match remote::env_for(db, vault, home, r, HostKeys::Known).await {
        Ok(env) => env,
        Err(e) => {
            let message = e.to_string();
            let _ = record_status(db, r.id, Err(&message)).await;
            return Err(message);
        }
    };
    let copy = Copy::new(home, r.id, &env, &r.branch);
    let outcome = copy.sync(&r.url, fresh).await.map_err(|e| e.to_string());
    let summary = match outcome {
        Ok(synced) => {
            for w in &synced.warnings {
                log(LogLevel::Warning, w.clone()).await?;
            }
            let summary = match (&synced.head, synced.empty) {
                (_, true) => format!("the remote has no commits on {} yet", r.branch),
                (Some(h), false) => format!(
                    "{} at {} \"{}\" by {}",
                    if synced.cloned {
                        "cloned"
                    } else {
                        "up to date"
                    },
                    &h.commit[..h.commit.len().min(12)],
                    h.message,
                    h.author
                ),
                (None, false) => "synced".into(),
            };
            log(LogLevel::Info, summary.clone()).await?;
            record_status(db, r.id, Ok(synced.head.as_ref()))
                .await
                .map_err(|e| e.to_string())?;
            summary
        }
        Err(message) => {
            let _ = record_status(db, r.id, Err(&message)).await;
            return Err(message);
        }
    };
    if r.category == crate::vocabulary::RepoCategory::Templates {
        let notes = crate::services::templates::git_source::refresh_repository(db, vault, home, r)
            .await
            .map_err(|e| e.to_string())?;
        for note in notes {
            log(LogLevel::Info, note).await?;
        }
    }
    if !(r.is_mirror && r.is_active) {
        return Ok(summary);
    }
    // A mirror also catches up: versions a failed run left behind, a rebuild.
    let context = format!("Sync job #{job_id}");
    match super::mirror::run_locked(db, &copy, r, &context).await {
        Ok((words, warnings)) => {
            for w in warnings {
                log(LogLevel::Warning, w).await?;
            }
            log(LogLevel::Info, words.clone()).await?;
            Ok(format!("{summary}; {words}"))
        }
        Err(message) => Err(format!("synced, but the mirror was not updated: {message}")),
    }
}

/// How long a page waits for this server's copy to catch up before showing what it has.
const CATCH_UP: Duration = Duration::from_secs(20);

/// Before a page reads this server's copy: when a sync or mirror run on another machine
/// recorded a commit this copy lacks (or this server has no copy yet), fetch it first. Copies
/// are disposable caches of the remote, so filling one on a read is safe; a failure leaves the
/// copy as it was and the page shows what it has.
pub async fn catch_up(db: &DatabaseConnection, vault: &Vault, home: &GitHome, r: &repo::Model) {
    let Some(recorded) = r.head_commit.as_deref() else {
        return;
    };
    if let Some(reader) = super::browse::Reader::open(home, r.id)
        && reader.resolve("HEAD").await.ok().as_deref() == Some(recorded)
    {
        return;
    }
    let result = async {
        if !lock::take(db, r.id, "catch up", Duration::from_secs(5)).await? {
            return Ok::<_, Error>(());
        }
        let synced = async {
            let env = remote::env_for(db, vault, home, r, HostKeys::Known).await?;
            let copy = Copy::new(home, r.id, &env, &r.branch);
            match tokio::time::timeout(CATCH_UP, copy.sync(&r.url, false)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(Error::Refused(e.to_string())),
                Err(_) => Err(Error::Refused(format!(
                    "the copy did not catch up within {} s",
                    CATCH_UP.as_secs()
                ))),
            }
        }
        .await;
        lock::give_back(db, r.id).await?;
        synced
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(repository = r.id, error = %e, "this server's copy could not catch up with the recorded commit");
    }
}
