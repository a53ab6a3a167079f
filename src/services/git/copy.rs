//! A repository's local copy under the data folder: brought up to date with the remote (cloned
//! when missing, fetched and moved to the remote's branch otherwise), and what it says about
//! itself (current commit, ahead/behind). Disposable: `fresh` throws it away first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::GitHome;
use super::cli::{Env, GitError};

/// Commands on the local copy alone end after this.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(60);

/// The copy of one repository, and the environment that reaches its remote.
pub struct Copy<'a> {
    pub dir: PathBuf,
    pub home: &'a GitHome,
    pub env: &'a Env,
    pub branch: &'a str,
}

/// What the last commit of the copy's branch says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Head {
    pub commit: String,
    pub author: String,
    pub date: Option<DateTime<Utc>>,
    pub message: String,
    pub ahead: i32,
    pub behind: i32,
}

/// What a sync found and did, for the job log.
#[derive(Debug, Default)]
pub struct Synced {
    pub cloned: bool,
    /// The remote has no commit on the branch yet (a new, empty repository).
    pub empty: bool,
    pub warnings: Vec<String>,
    pub head: Option<Head>,
}

impl<'a> Copy<'a> {
    pub fn new(home: &'a GitHome, id: i32, env: &'a Env, branch: &'a str) -> Copy<'a> {
        Copy {
            dir: home.copy_dir(id),
            home,
            env,
            branch,
        }
    }

    pub async fn git(&self, args: &[&str]) -> Result<String, GitError> {
        self.env.text(Some(&self.dir), self.home.root(), args).await
    }

    pub async fn git_bytes(
        &self,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>, GitError> {
        self.env
            .run(Some(&self.dir), self.home.root(), args, input)
            .await
    }

    fn remote_ref(&self) -> String {
        format!("refs/remotes/origin/{}", self.branch)
    }

    pub fn exists(&self) -> bool {
        self.dir.join(".git").is_dir()
    }

    /// Throw the copy away (a re-clone, a deleted repository).
    pub fn remove(&self) -> std::io::Result<()> {
        remove_dir(&self.dir)
    }

    /// Clone when there is no copy, else fetch; then the working tree is exactly the remote's
    /// branch (local commits and changes are discarded, with a warning).
    pub async fn sync(&self, url: &str, fresh: bool) -> Result<Synced, GitError> {
        let mut out = Synced::default();
        if fresh || !self.exists() {
            self.remove()
                .map_err(|e| GitError::Failed(format!("cannot remove the old local copy: {e}")))?;
            crate::data_dir::ensure_private_dir(&self.dir).map_err(|e| {
                GitError::Failed(format!("cannot create the local copy's folder: {e}"))
            })?;
            self.git(&["init", "--quiet", "-b", self.branch]).await?;
            self.git(&["remote", "add", "origin", url]).await?;
            out.cloned = true;
        } else {
            // The URL may have been edited since the copy was made.
            self.git(&["remote", "set-url", "origin", url]).await?;
        }
        let refspec = format!("+refs/heads/{}:{}", self.branch, self.remote_ref());
        match self
            .git(&["fetch", "--quiet", "--no-tags", "origin", &refspec])
            .await
        {
            Ok(_) => {}
            Err(GitError::BranchNotFound(_)) => {
                // An empty repository has no branch at all; any other is missing ours.
                let heads = self.git(&["ls-remote", "--heads", "origin"]).await?;
                if heads.trim().is_empty() {
                    out.empty = true;
                    return Ok(out);
                }
                return Err(GitError::BranchNotFound(self.branch.to_string()));
            }
            Err(e) => return Err(e),
        }
        if !out.cloned {
            self.note_local_changes(&mut out.warnings).await?;
        }
        self.git(&[
            "checkout",
            "--quiet",
            "-f",
            "-B",
            self.branch,
            &self.remote_ref(),
        ])
        .await?;
        self.git(&["clean", "-q", "-f", "-d", "-x"]).await?;
        self.index_history().await;
        out.head = self.head().await?;
        Ok(out)
    }

    /// Commits that are not on the remote and edits in the working tree, about to be discarded.
    async fn note_local_changes(&self, warnings: &mut Vec<String>) -> Result<(), GitError> {
        if self
            .git(&["rev-parse", "--verify", "--quiet", "HEAD"])
            .await
            .is_err()
        {
            return Ok(());
        }
        let status = self.git(&["status", "--porcelain"]).await?;
        if !status.trim().is_empty() {
            warnings.push(format!(
                "the local copy had {} uncommitted changes; they were discarded and the copy reset to the remote",
                status.lines().count()
            ));
        }
        let range = format!("{}..HEAD", self.remote_ref());
        let ahead = self.git(&["rev-list", "--count", &range]).await?;
        let ahead: usize = ahead.trim().parse().unwrap_or(0);
        if ahead > 0 {
            warnings.push(format!(
                "the local copy had diverged from the remote ({ahead} local commits not on the remote); it was reset to the remote's {}",
                self.branch
            ));
        }
        Ok(())
    }

    /// Commit-graph files with changed-path filters: a file's history reads them instead of
    /// every commit's tree. Only an optimisation, so a failure is logged and ignored.
    pub async fn index_history(&self) {
        if let Err(e) = self
            .git(&[
                "commit-graph",
                "write",
                "--reachable",
                "--changed-paths",
                "--split",
            ])
            .await
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the commit graph");
        }
    }

    /// The copy's current commit and how it stands against the remote's branch.
    pub async fn head(&self) -> Result<Option<Head>, GitError> {
        let Ok(log) = self
            .git(&["log", "-1", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s", "HEAD"])
            .await
        else {
            return Ok(None);
        };
        let mut parts = log.trim_end().split('\x1f');
        let mut next = || parts.next().unwrap_or("").to_string();
        let (commit, author, date, message) = (next(), next(), next(), next());
        let mut head = Head {
            commit,
            author,
            date: DateTime::parse_from_rfc3339(&date)
                .ok()
                .map(|d| d.with_timezone(&Utc)),
            message,
            ahead: 0,
            behind: 0,
        };
        let range = format!("HEAD...{}", self.remote_ref());
        if let Ok(counts) = self
            .git(&["rev-list", "--left-right", "--count", &range])
            .await
        {
            let mut n = counts.split_whitespace().map(|n| n.parse().unwrap_or(0));
            head.ahead = n.next().unwrap_or(0);
            head.behind = n.next().unwrap_or(0);
        }
        Ok(Some(head))
    }

    /// The branches on the remote, without a local copy (the connection test).
    pub async fn remote_branches(
        env: &Env,
        home: &GitHome,
        url: &str,
    ) -> Result<Vec<String>, GitError> {
        let out = env
            .text(None, home.root(), &["ls-remote", "--heads", url])
            .await?;
        Ok(out
            .lines()
            .filter_map(|l| l.split('\t').nth(1))
            .filter_map(|r| r.strip_prefix("refs/heads/"))
            .map(str::to_string)
            .collect())
    }
}

pub fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// An environment for reading a copy (no remote involved).
pub fn reader() -> Env {
    Env::new(LOCAL_TIMEOUT)
}
