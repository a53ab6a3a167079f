//! The configuration mirror: every device's latest stored configuration as one file in a
//! `configs` repository, committed and pushed after each backup job. What the mirror holds as of
//! its last push is recorded in `git_mirror_files`, so a run writes only the files whose version
//! or path changed (and removes those of deleted devices), and a run that failed (remote down,
//! push refused) leaves the record as it was: the next run writes the same files again.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::cli::GitError;
use super::copy::Copy;
use super::layout::{self, Fields};
use super::remote::{self, HostKeys};
use super::{GitHome, lock, repos, sync};
use crate::crypto::Vault;
use crate::entity::{
    backups, device_tags, devices, git_mirror_files as files, git_repositories as repo, tags,
};
use crate::error::Error;
use crate::services::jobs;
use crate::vocabulary::LogLevel;

/// How long a mirror run waits for another process's work on the same repository.
const PATIENCE: Duration = Duration::from_secs(120);
/// A push refused because the remote moved is tried again on top of it this many times.
const PUSH_TRIES: usize = 3;
/// The committer of every mirror commit; the author is the repository's.
const COMMITTER: (&str, &str) = ("NetRaven", "netraven@localhost");
/// Names listed in a commit message before "and N more".
const NAMES_IN_MESSAGE: usize = 100;

/// One device's file as the mirror should hold it.
struct Wanted {
    device_id: i32,
    hostname: String,
    path: String,
    backup_id: i32,
}

/// What a run changes.
#[derive(Default)]
struct Plan {
    write: Vec<Wanted>,
    /// (old path, hostname) of files that moved away.
    moved_from: Vec<(String, String)>,
    /// (device id, path) of files of devices that are gone.
    remove: Vec<(i32, String)>,
    warnings: Vec<String>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.write.is_empty() && self.remove.is_empty()
    }
}

/// The devices' latest versions and paths against what the mirror holds.
async fn plan(db: &impl ConnectionTrait, r: &repo::Model) -> Result<Plan, Error> {
    let latest: Vec<(Option<i32>, Option<i32>)> = backups::Entity::find()
        .select_only()
        .column(backups::Column::DeviceId)
        .column_as(backups::Column::Id.max(), "latest")
        .filter(backups::Column::DeviceId.is_not_null())
        .group_by(backups::Column::DeviceId)
        .into_tuple()
        .all(db)
        .await?;
    let latest: HashMap<i32, i32> = latest
        .into_iter()
        .filter_map(|(d, b)| Some((d?, b?)))
        .collect();
    let first_tags: Vec<(i32, Option<String>)> = device_tags::Entity::find()
        .select_only()
        .column(device_tags::Column::DeviceId)
        .column_as(tags::Column::Name.min(), "tag")
        .inner_join(tags::Entity)
        .group_by(device_tags::Column::DeviceId)
        .into_tuple()
        .all(db)
        .await?;
    let first_tags: HashMap<i32, String> = first_tags
        .into_iter()
        .filter_map(|(d, t)| Some((d, t?)))
        .collect();
    let all_devices = devices::Entity::find().all(db).await?;
    let recorded: HashMap<i32, files::Model> = files::Entity::find()
        .filter(files::Column::RepositoryId.eq(r.id))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.device_id, f))
        .collect();
    let mut out = Plan::default();
    let mut taken: HashSet<String> = HashSet::new();
    let mut present: HashSet<i32> = HashSet::new();
    for d in &all_devices {
        let Some(&backup_id) = latest.get(&d.id) else {
            continue;
        };
        let fields = Fields {
            id: d.id,
            hostname: d.hostname.clone(),
            platform: d.device_type.clone(),
            tag: first_tags
                .get(&d.id)
                .cloned()
                .unwrap_or_else(|| "untagged".into()),
            address: d.ip_address.clone(),
            port: d.port,
            model: d.model.clone().unwrap_or_default(),
            serial: d.serial_number.clone().unwrap_or_default(),
            os_version: d.os_version.clone().unwrap_or_default(),
        };
        let path = layout::path_of(&r.mirror_dir, &r.file_template, &fields);
        if !taken.insert(path.clone()) {
            out.warnings.push(format!(
                "{} is not mirrored: its file {path} is already another device's (add {{hostname}} or {{id}} to the file name template)",
                d.hostname
            ));
            continue;
        }
        present.insert(d.id);
        let old = recorded.get(&d.id);
        if let Some(old) = old
            && old.path != path
        {
            out.moved_from.push((old.path.clone(), d.hostname.clone()));
        }
        if old.is_none_or(|o| o.backup_id != backup_id || o.path != path) {
            out.write.push(Wanted {
                device_id: d.id,
                hostname: d.hostname.clone(),
                path,
                backup_id,
            });
        }
    }
    for (device_id, f) in &recorded {
        if !present.contains(device_id) && !taken.contains(&f.path) {
            out.remove.push((*device_id, f.path.clone()));
        } else if !present.contains(device_id) {
            out.remove.push((*device_id, String::new()));
        }
    }
    Ok(out)
}

fn names(list: &[&str]) -> String {
    let shown: Vec<&str> = list.iter().take(NAMES_IN_MESSAGE).copied().collect();
    let more = list.len().saturating_sub(NAMES_IN_MESSAGE);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The commit message: what changed, which devices, which job.
fn message(plan: &Plan, context: &str) -> String {
    let changed: Vec<&str> = plan.write.iter().map(|w| w.hostname.as_str()).collect();
    let removed = plan.remove.iter().filter(|(_, p)| !p.is_empty()).count();
    let mut m = format!(
        "{}: {} configuration{} changed{}\n\n",
        context,
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        if removed > 0 {
            format!(", {removed} removed")
        } else {
            String::new()
        }
    );
    if !changed.is_empty() {
        m.push_str(&format!("Changed: {}\n", names(&changed)));
    }
    if !plan.moved_from.is_empty() {
        let moved: Vec<String> = plan
            .moved_from
            .iter()
            .map(|(p, h)| format!("{h} (was {p})"))
            .collect();
        let moved: Vec<&str> = moved.iter().map(String::as_str).collect();
        m.push_str(&format!("Moved: {}\n", names(&moved)));
    }
    if removed > 0 {
        let gone: Vec<&str> = plan
            .remove
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(_, p)| p.as_str())
            .collect();
        m.push_str(&format!("Removed: {}\n", names(&gone)));
    }
    m
}

/// Write the plan's files into the working tree (contents read in chunks) and stage them.
async fn apply(db: &impl ConnectionTrait, copy: &Copy<'_>, plan: &Plan) -> Result<(), String> {
    let root = copy.dir.clone();
    let remove_file = |path: &str| -> Result<(), String> {
        match std::fs::remove_file(root.join(path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {path} from the local copy: {e}"))
            }
            _ => Ok(()),
        }
    };
    for (old, _) in &plan.moved_from {
        remove_file(old)?;
    }
    for (_, path) in &plan.remove {
        if !path.is_empty() {
            remove_file(path)?;
        }
    }
    for chunk in plan.write.chunks(200) {
        let ids: Vec<i32> = chunk.iter().map(|w| w.backup_id).collect();
        let contents: HashMap<i32, String> = backups::Entity::find()
            .select_only()
            .column(backups::Column::Id)
            .column(backups::Column::Content)
            .filter(backups::Column::Id.is_in(ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        for w in chunk {
            let Some(content) = contents.get(&w.backup_id) else {
                continue;
            };
            let file = root.join(&w.path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create the folder of {}: {e}", w.path))?;
            }
            std::fs::write(&file, content).map_err(|e| format!("cannot write {}: {e}", w.path))?;
        }
    }
    copy.git(&["add", "-A", "--", "."])
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The outcome of one mirror run, for the job log.
pub enum Mirrored {
    /// The files already held these contents: nothing to commit.
    Unchanged,
    Pushed {
        commit: String,
        files: usize,
        tries: usize,
    },
}

/// Commit and push the plan; on a refused push, start again from the remote's new branch.
async fn commit_and_push(
    db: &DatabaseConnection,
    r: &repo::Model,
    copy: &Copy<'_>,
    plan: &Plan,
    context: &str,
) -> Result<Mirrored, String> {
    let message = message(plan, context);
    let author = (
        r.author_name.clone().unwrap_or_else(|| COMMITTER.0.into()),
        r.author_email.clone().unwrap_or_else(|| COMMITTER.1.into()),
    );
    for attempt in 1..=PUSH_TRIES {
        apply(db, copy, plan).await?;
        let staged = copy
            .git(&["diff", "--cached", "--name-only"])
            .await
            .map_err(|e| e.to_string())?;
        if staged.trim().is_empty() {
            return Ok(Mirrored::Unchanged);
        }
        let files = staged.lines().count();
        copy.git_bytes(
            &[
                "-c",
                &format!("user.name={}", COMMITTER.0),
                "-c",
                &format!("user.email={}", COMMITTER.1),
                "commit",
                "--quiet",
                "--no-verify",
                &format!("--author={} <{}>", author.0, author.1),
                "-F",
                "-",
            ],
            Some(message.as_bytes()),
        )
        .await
        .map_err(|e| e.to_string())?;
        let target = format!("HEAD:refs/heads/{}", r.branch);
        match copy.git(&["push", "--quiet", "origin", &target]).await {
            Ok(_) => {
                let commit = copy
                    .git(&["rev-parse", "HEAD"])
                    .await
                    .map_err(|e| e.to_string())?;
                // The remote-tracking branch follows the push, so ahead/behind read 0/0.
                let tracking = format!("refs/remotes/origin/{}", r.branch);
                let _ = copy.git(&["update-ref", &tracking, "HEAD"]).await;
                return Ok(Mirrored::Pushed {
                    commit: commit.trim().to_string(),
                    files,
                    tries: attempt,
                });
            }
            Err(GitError::Rejected(_)) if attempt < PUSH_TRIES => {
                // The remote moved: take it as it is now and put our files on top again.
                copy.sync(&r.url, false).await.map_err(|e| e.to_string())?;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "the push was refused {PUSH_TRIES} times: the remote keeps moving"
    ))
}

/// Record what the mirror holds after a push.
async fn record(db: &DatabaseConnection, r: &repo::Model, plan: &Plan) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let gone: Vec<i32> = plan.remove.iter().map(|(d, _)| *d).collect();
    let rewritten: Vec<i32> = plan.write.iter().map(|w| w.device_id).collect();
    for ids in [gone, rewritten] {
        for chunk in ids.chunks(500) {
            files::Entity::delete_many()
                .filter(files::Column::RepositoryId.eq(r.id))
                .filter(files::Column::DeviceId.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?;
        }
    }
    let now = Utc::now();
    for chunk in plan.write.chunks(500) {
        files::Entity::insert_many(chunk.iter().map(|w| files::ActiveModel {
            repository_id: Set(r.id),
            device_id: Set(w.device_id),
            path: Set(w.path.clone()),
            backup_id: Set(w.backup_id),
            updated_at: Set(now),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn note_mirror(db: &DatabaseConnection, id: i32, message: &str) -> Result<(), Error> {
    repo::Entity::update_many()
        .col_expr(repo::Column::LastMirrorAt, Expr::value(Utc::now()))
        .col_expr(repo::Column::MirrorMessage, Expr::value(message))
        .filter(repo::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Bring the mirror up to date with the lock held; `context` starts the commit message.
/// Returns what happened in words, or what went wrong.
pub async fn run_locked(
    db: &DatabaseConnection,
    copy: &Copy<'_>,
    r: &repo::Model,
    context: &str,
) -> Result<(String, Vec<String>), String> {
    let plan = plan(db, r).await.map_err(|e| e.to_string())?;
    let warnings = plan.warnings.clone();
    if plan.is_empty() {
        return Ok((
            "the mirror already holds every latest configuration".into(),
            warnings,
        ));
    }
    let synced = copy.sync(&r.url, false).await.map_err(|e| e.to_string())?;
    let mut warnings = warnings;
    warnings.extend(synced.warnings);
    let outcome = commit_and_push(db, r, copy, &plan, context).await?;
    record(db, r, &plan).await.map_err(|e| e.to_string())?;
    copy.index_history().await;
    let head = copy.head().await.map_err(|e| e.to_string())?;
    sync::record_status(db, r.id, Ok(head.as_ref()))
        .await
        .map_err(|e| e.to_string())?;
    let words = match outcome {
        Mirrored::Unchanged => {
            "the mirror's files already had these contents: nothing to commit".into()
        }
        Mirrored::Pushed {
            commit,
            files,
            tries,
        } => format!(
            "mirror {}: commit {} pushed to {} ({files} file{} changed{})",
            r.name,
            &commit[..commit.len().min(12)],
            r.branch,
            if files == 1 { "" } else { "s" },
            if tries > 1 {
                format!(
                    "; the remote had moved, pushed on top of it after {} tries",
                    tries
                )
            } else {
                String::new()
            }
        ),
    };
    let _ = note_mirror(db, r.id, &words).await;
    Ok((words, warnings))
}

/// After a backup job: every active mirror gets the job's new versions (and any a failed run
/// left behind). A failure is a warning in the job's log, never a worse job status.
pub async fn after_backup(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    job_id: i32,
) -> Result<(), Error> {
    for r in repos::mirrors(db).await? {
        let log = |level, message: String| async move {
            jobs::entry(db, job_id, level, "git", &message, None).await
        };
        // Cheap without git: most jobs of a few devices change nothing in most mirrors.
        if plan(db, &r).await?.is_empty() {
            log(
                LogLevel::Info,
                format!("mirror {}: no new configuration version to commit", r.name),
            )
            .await?;
            continue;
        }
        if !lock::take(db, r.id, "mirror", PATIENCE).await? {
            let r = repos::get(db, r.id).await?;
            log(
                LogLevel::Warning,
                format!(
                    "mirror {}: another process kept the repository busy ({}); the next job will mirror these changes",
                    r.name,
                    lock::held_by(&r)
                ),
            )
            .await?;
            continue;
        }
        let context = format!("Backup job #{job_id}");
        let result = async {
            let env = remote::env_for(db, vault, home, &r, HostKeys::Known)
                .await
                .map_err(|e| e.to_string())?;
            let copy = Copy::new(home, r.id, &env, &r.branch);
            run_locked(db, &copy, &r, &context).await
        }
        .await;
        lock::give_back(db, r.id).await?;
        match result {
            Ok((words, warnings)) => {
                for w in warnings {
                    log(LogLevel::Warning, format!("mirror {}: {w}", r.name)).await?;
                }
                log(LogLevel::Info, words).await?;
            }
            Err(message) => {
                let words = format!(
                    "mirror {}: not updated: {message}; the backups are stored and the next job will try again",
                    r.name
                );
                let _ = note_mirror(db, r.id, &words).await;
                log(LogLevel::Warning, words).await?;
            }
        }
    }
    Ok(())
}

/// Forget what the mirror holds, so that its next run writes every device's latest version
/// (in one commit), and start that run as a sync job.
pub async fn rebuild(
    db: &DatabaseConnection,
    queue: &crate::background::Queue,
    actor: &crate::services::audit::Actor,
    id: i32,
    user_id: Option<i32>,
) -> Result<crate::entity::job_logs::Model, Error> {
    let r = repos::get(db, id).await?;
    if !r.is_mirror {
        return Err(Error::Refused(format!(
            "{} is not a mirror: mark it as the configuration mirror first",
            r.name
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    files::Entity::delete_many()
        .filter(files::Column::RepositoryId.eq(id))
        .exec(&txn)
        .await?;
    crate::services::audit::record(
        &txn,
        actor,
        crate::services::audit::Event::data("git_repository.rebuild_mirror")
            .target("git_repository", id)
            .detail("name", r.name.clone()),
    )
    .await?;
    txn.commit().await?;
    sync::start(db, queue, actor, id, false, user_id).await
}

/// How many devices' files the mirror holds (as of its last push).
pub async fn recorded_count(db: &impl ConnectionTrait, id: i32) -> Result<u64, Error> {
    use sea_orm::PaginatorTrait;
    Ok(files::Entity::find()
        .filter(files::Column::RepositoryId.eq(id))
        .count(db)
        .await?)
}

/// The platform of the device whose mirrored file is `path`, so a page can mask it as that
/// platform's configurations are masked.
pub async fn platform_of(
    db: &impl ConnectionTrait,
    id: i32,
    path: &str,
) -> Result<Option<String>, Error> {
    let Some(f) = files::Entity::find()
        .filter(files::Column::RepositoryId.eq(id))
        .filter(files::Column::Path.eq(path))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(devices::Entity::find_by_id(f.device_id)
        .select_only()
        .column(devices::Column::DeviceType)
        .into_tuple::<String>()
        .one(db)
        .await?)
}
