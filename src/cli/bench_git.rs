//! `netraven dev bench-git`: data and in-process timings for the git benchmark
//! (`scripts/bench-git.sh` adds the history page over HTTP against `netraven serve`).
//!
//! - The mirror: `--devices` devices (seeded when fewer exist) each with a latest version, a
//!   mirror repository on a local bare remote, its first run (every device's file in one
//!   commit), then `--changed` new versions and the run after a backup job that stored them:
//!   the time it adds after the job's last device, and how much the remote grew.
//! - The browser: a repository whose one file changed in each of `--history` commits (written
//!   with `git fast-import`), synced into a local copy, and the history service's first, middle
//!   and last page.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::CliError;
use super::bench_versions::{edited, insert_chunked, stats, synthetic_config, version_row};
use crate::config::Settings;
use crate::entity::{backups, devices, git_repositories};
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::git::browse::Reader;
use crate::services::git::copy::Copy;
use crate::services::git::repos::{self, RepoInput};
use crate::services::git::{GitHome, mirror, remote};
use crate::services::jobs::{self, NewJob, Target};
use crate::vocabulary::JobType;

#[derive(clap::Args, Debug)]
pub struct BenchGitArgs {
    #[arg(long, default_value_t = 1_000)]
    pub devices: usize,
    /// Devices whose configuration changes before the measured mirror run.
    #[arg(long, default_value_t = 100)]
    pub changed: usize,
    /// Commits of the history repository's file.
    #[arg(long, default_value_t = 10_000)]
    pub history: usize,
    #[arg(long, default_value_t = 9)]
    pub runs: usize,
}

fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<String, CliError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CliError::Usage(format!("cannot run git: {e}")))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // A refused stream ends git early: its complaint (below) says why.
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| CliError::Usage(format!("git: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn bare(path: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(path).map_err(|e| CliError::Usage(e.to_string()))?;
    git(path, &["init", "--quiet", "--bare", "-b", "main"], None).map(|_| ())
}

/// `size-pack` + `size` of `git count-objects -v`, in KiB.
fn repo_kib(path: &Path) -> Result<u64, CliError> {
    let out = git(path, &["count-objects", "-v"], None)?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| *k == "size" || *k == "size-pack")
        .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
        .sum())
}

async fn repository(
    db: &DatabaseConnection,
    name: &str,
    url: &Path,
    mirror: bool,
) -> Result<git_repositories::Model, CliError> {
    if let Some(r) = git_repositories::Entity::find()
        .filter(git_repositories::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Ok(r);
    }
    let mut input = RepoInput::for_new();
    input.name = name.into();
    input.url = url.display().to_string();
    input.is_mirror = mirror;
    Ok(repos::create(db, &Actor::system("bench"), &input).await?)
}

/// Every device without a version gets one; returns the devices.
async fn devices_with_versions(
    db: &DatabaseConnection,
    n: usize,
) -> Result<Vec<devices::Model>, CliError> {
    let have = devices::Entity::find().count(db).await? as usize;
    if have < n {
        crate::services::seed::seed(db, n - have, 10).await?;
    }
    let all = devices::Entity::find()
        .order_by_asc(devices::Column::Id)
        .all(db)
        .await?;
    let versioned: Vec<Option<i32>> = backups::Entity::find()
        .select_only()
        .column(backups::Column::DeviceId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let versioned: std::collections::HashSet<i32> = versioned.into_iter().flatten().collect();
    let rows = all.iter().filter(|d| !versioned.contains(&d.id)).map(|d| {
        version_row(
            d,
            1,
            synthetic_config(&d.hostname, 300, d.id as u64),
            0,
            true,
        )
    });
    insert_chunked(db, rows).await?;
    Ok(all)
}

/// A `git fast-import` stream: `commits` commits on main, each changing one line of `r1.cfg`,
/// and every thousandth also `rare.cfg` (whose history is mostly commits that did not touch it).
fn history_stream(commits: usize) -> Vec<u8> {
    let base = synthetic_config("r1", 200, 7);
    let lines: Vec<&str> = base.lines().collect();
    let mut out = Vec::with_capacity(commits * 4_000);
    for i in 1..=commits {
        let mut text = String::with_capacity(base.len() + 32);
        for (n, line) in lines.iter().enumerate() {
            if n == i % lines.len() {
                text.push_str(&format!("{line} ! change {i}\n"));
            } else {
                text.push_str(line);
                text.push('\n');
            }
        }
        let message = format!("change {i}\n");
        let _ = write!(
            out,
            "commit refs/heads/main\ncommitter Bench <bench@localhost> {} +0000\ndata {}\n{}",
            1_700_000_000 + i,
            message.len(),
            message
        );
        // Without `from`, each commit follows the branch's previous one in this stream.
        let _ = write!(
            out,
            "M 100644 inline r1.cfg\ndata {}\n{}\n",
            text.len(),
            text
        );
        if i % 1000 == 1 {
            let rare = format!("hostname rare\n! revision {i}\n");
            let _ = write!(
                out,
                "M 100644 inline rare.cfg\ndata {}\n{}\n",
                rare.len(),
                rare
            );
        }
    }
    out
}

pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    args: BenchGitArgs,
) -> Result<(), CliError> {
    let vault = crate::bootstrap::open_vault(db, settings).await?;
    let home = GitHome::new(&settings.data_dir);
    let root: PathBuf = settings.data_dir.join("bench-git");
    let mirror_remote = root.join("mirror.git");
    if !mirror_remote.exists() {
        bare(&mirror_remote)?;
    }
    let started = Instant::now();
    let all = devices_with_versions(db, args.devices).await?;
    println!(
        "{} devices with a latest version ({:.1} s)",
        all.len(),
        started.elapsed().as_secs_f64()
    );
    repository(db, "bench-mirror", &mirror_remote, true).await?;
    let job = jobs::create(
        db,
        &Actor::system("bench"),
        NewJob {
            job_type: JobType::Retention,
            target: Target::All,
            created_by: None,
            scheduled_job_id: None,
            idempotency_key: None,
            debug: false,
            commands: Vec::new(),
        },
    )
    .await?
    .ok_or_else(|| Error::Internal("no job".into()))?;

    let t = Instant::now();
    mirror::after_backup(db, &vault, &home, job.id).await?;
    println!(
        "first mirror run ({} files in one commit): {:.2} s; remote {} KiB",
        all.len(),
        t.elapsed().as_secs_f64(),
        repo_kib(&mirror_remote)?
    );

    // New versions of `changed` devices, as a backup job stores them.
    let mut changed_bytes = 0usize;
    let mut rows = Vec::new();
    for d in all.iter().take(args.changed) {
        let latest = backups::Entity::find()
            .filter(backups::Column::DeviceId.eq(d.id))
            .order_by_desc(backups::Column::Version)
            .one(db)
            .await?
            .ok_or_else(|| Error::Internal("no version".into()))?;
        let text = edited(&latest.content, latest.version as u64 + 11);
        changed_bytes += text.len();
        rows.push(version_row(d, latest.version + 1, text, 1, true));
    }
    insert_chunked(db, rows.into_iter()).await?;
    let before = repo_kib(&mirror_remote)?;
    let t = Instant::now();
    mirror::after_backup(db, &vault, &home, job.id).await?;
    let added = t.elapsed();
    let after = repo_kib(&mirror_remote)?;
    let log = git(&mirror_remote, &["log", "-1", "--format=%s", "main"], None)?;
    println!(
        "mirror after a job that changed {} configurations: {:.2} s added after the job's last device (commit \"{}\")",
        args.changed,
        added.as_secs_f64(),
        log.trim()
    );
    println!(
        "remote grew by {} KiB for {} changed files of {} KiB in all (uncompressed)",
        after.saturating_sub(before),
        args.changed,
        changed_bytes / 1024
    );

    // The history of a file changed in every one of `history` commits.
    let history_remote = root.join("history.git");
    if !history_remote.exists() {
        bare(&history_remote)?;
        let t = Instant::now();
        git(
            &history_remote,
            &["fast-import", "--quiet"],
            Some(&history_stream(args.history)),
        )?;
        println!(
            "history repository: {} commits written in {:.1} s",
            args.history,
            t.elapsed().as_secs_f64()
        );
    }
    let h = repository(db, "bench-history", &history_remote, false).await?;
    let env = remote::env_for(db, &vault, &home, &h, remote::HostKeys::Known).await?;
    let copy = Copy::new(&home, h.id, &env, &h.branch);
    let t = Instant::now();
    copy.sync(&h.url, false)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    println!(
        "history repository synced into the local copy in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let reader = Reader::open(&home, h.id).ok_or_else(|| Error::Internal("no copy".into()))?;
    let middle = git(
        &history_remote,
        &["rev-parse", &format!("main~{}", args.history / 2)],
        None,
    )?;
    let last = git(
        &history_remote,
        &[
            "rev-parse",
            &format!("main~{}", args.history.saturating_sub(30)),
        ],
        None,
    )?;
    for (label, from) in [
        ("first", "HEAD".to_string()),
        ("middle", middle.trim().to_string()),
        ("last", last.trim().to_string()),
    ] {
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..args.runs {
            let t = Instant::now();
            let (rows, _) = reader.history("r1.cfg", &from, 50).await?;
            times.push(t.elapsed());
            if rows.is_empty() {
                return Err(CliError::Usage(format!("the {label} page is empty")));
            }
        }
        println!("history service, {label} page of 50: {}", stats(times));
    }
    // A file changed in 10 of 10,000 commits: with and without the commit graph's changed-path
    // filters (which sync and the mirror write), alternating.
    let graph = copy.dir.join(".git/objects/info");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        let t = Instant::now();
        reader.history("rare.cfg", "HEAD", 50).await?;
        with.push(t.elapsed());
        for name in ["commit-graph", "commit-graphs"] {
            let p = graph.join(name);
            let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
        }
        let t = Instant::now();
        reader.history("rare.cfg", "HEAD", 50).await?;
        without.push(t.elapsed());
        copy.index_history().await;
    }
    let median = |t: &[Duration]| {
        let mut t = t.to_vec();
        t.sort();
        t[t.len() / 2].as_secs_f64()
    };
    let ratio = median(&without) / median(&with).max(1e-9);
    println!(
        "history service, a file changed in 10 of {} commits, with the commit graph: {}",
        args.history,
        stats(with)
    );
    println!(
        "  the same without the commit graph: {} ({ratio:.1}x slower)",
        stats(without)
    );
    println!("history page: /git/{}/history?path=r1.cfg", h.id);
    println!(
        "middle page: /git/{}/history?path=r1.cfg&from={}",
        h.id,
        middle.trim()
    );
    Ok(())
}
