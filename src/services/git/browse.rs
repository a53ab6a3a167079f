//! Reading a repository's local copy for the browser: a folder's entries, a file's content at a
//! commit, a file's history a page at a time (from a commit on, never the whole log), and a
//! file's content at two commits for a diff. Each is one short `git` process on the copy.

use super::GitHome;
use super::cli::{Env, GitError};
use super::copy;
use crate::error::Error;

/// Files larger than this are not shown in a page.
pub const MAX_SHOWN: u64 = 2 * 1024 * 1024;
/// Commits on one page of a file's history.
pub const HISTORY_PAGE: usize = 50;

/// One entry of a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub path: String,
    pub is_dir: bool,
    pub size: Option<u64>,
}

/// One commit of a file's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRow {
    pub commit: String,
    pub author: String,
    pub date: String,
    pub message: String,
}

impl CommitRow {
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(10)]
    }
}

/// A file's content at a commit.
pub enum Content {
    Text(String),
    Binary { size: u64 },
    TooLarge { size: u64 },
}

/// A commit as an address names it: `HEAD` or a (possibly abbreviated) hexadecimal id.
pub fn check_rev(rev: &str) -> Result<&str, Error> {
    let ok = rev == "HEAD"
        || ((4..=64).contains(&rev.len()) && rev.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(rev)
    } else {
        Err(Error::Refused(format!(
            "\"{}\" is not a commit id (use the hexadecimal id git shows)",
            rev.chars().take(80).collect::<String>()
        )))
    }
}

/// A path inside the repository as an address names it ("" is the root).
pub fn check_path(path: &str) -> Result<String, Error> {
    let path = path.trim_matches('/');
    let bad = path.chars().any(char::is_control)
        || path.starts_with('-')
        || path
            .split('/')
            .any(|s| s == ".." || s == "." || (s.is_empty() && !path.is_empty()));
    if bad {
        return Err(Error::Refused(
            "The path must be a path inside the repository, without . or .. parts.".into(),
        ));
    }
    Ok(path.to_string())
}

/// The local copy of repository `id`, ready for reading.
pub struct Reader<'a> {
    home: &'a GitHome,
    dir: std::path::PathBuf,
    env: Env,
}

fn missing(e: GitError) -> Error {
    match e {
        GitError::Failed(m) | GitError::NotFound(m)
            if m.contains("does not exist")
                || m.contains("not a tree")
                || m.contains("Not a valid object name")
                || m.contains("bad revision")
                || m.contains("unknown revision")
                || m.contains("invalid object name")
                || m.contains("exists on disk, but not in") =>
        {
            Error::NotFound
        }
        other => Error::Internal(other.to_string()),
    }
}

impl<'a> Reader<'a> {
    /// `None` when this process has no copy of the repository yet.
    pub fn open(home: &'a GitHome, id: i32) -> Option<Reader<'a>> {
        let dir = home.copy_dir(id);
        dir.join(".git").is_dir().then(|| Reader {
            home,
            dir,
            env: copy::reader(),
        })
    }

    async fn git(&self, args: &[&str]) -> Result<Vec<u8>, Error> {
        self.env
            .run(Some(&self.dir), self.home.root(), args, None)
            .await
            .map_err(missing)
    }

    /// Whether the copy has any commit.
    pub async fn has_commits(&self) -> bool {
        self.git(&["rev-parse", "--verify", "--quiet", "HEAD"])
            .await
            .is_ok()
    }

    /// The full id of a commit.
    pub async fn resolve(&self, rev: &str) -> Result<String, Error> {
        let spec = format!("{}^{{commit}}", check_rev(rev)?);
        let out = self
            .git(&["rev-parse", "--verify", "--quiet", &spec])
            .await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The entries of folder `path` at `rev`, folders first.
    pub async fn tree(&self, rev: &str, path: &str) -> Result<Vec<Entry>, Error> {
        let spec = if path.is_empty() {
            format!("{}^{{tree}}", check_rev(rev)?)
        } else {
            format!("{}:{path}", check_rev(rev)?)
        };
        let out = self.git(&["ls-tree", "-z", "--long", &spec]).await?;
        let mut entries: Vec<Entry> = String::from_utf8_lossy(&out)
            .split('\0')
            .filter(|l| !l.is_empty())
            .filter_map(|line| {
                let (meta, name) = line.split_once('\t')?;
                let mut m = meta.split_whitespace();
                let (_mode, kind, _id, size) = (m.next()?, m.next()?, m.next()?, m.next()?);
                Some(Entry {
                    path: if path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{path}/{name}")
                    },
                    name: name.to_string(),
                    is_dir: kind == "tree",
                    size: size.parse().ok(),
                })
            })
            .collect();
        entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then(a.name.cmp(&b.name)));
        Ok(entries)
    }

    /// Whether `path` at `rev` is a folder (else a file, or nothing: NotFound).
    pub async fn is_dir(&self, rev: &str, path: &str) -> Result<bool, Error> {
        if path.is_empty() {
            return Ok(true);
        }
        let spec = format!("{}:{path}", check_rev(rev)?);
        let out = self.git(&["cat-file", "-t", &spec]).await?;
        Ok(String::from_utf8_lossy(&out).trim() == "tree")
    }

    /// A file's content at `rev`; `None` when the file does not exist there.
    pub async fn content(&self, rev: &str, path: &str) -> Result<Option<Content>, Error> {
        let spec = format!("{}:{path}", check_rev(rev)?);
        let size = match self.git(&["cat-file", "-s", &spec]).await {
            Ok(out) => String::from_utf8_lossy(&out)
                .trim()
                .parse::<u64>()
                .unwrap_or(0),
            Err(Error::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        if size > MAX_SHOWN {
            return Ok(Some(Content::TooLarge { size }));
        }
        let bytes = self.git(&["cat-file", "blob", &spec]).await?;
        Ok(Some(match String::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => Content::Text(text),
            _ => Content::Binary { size },
        }))
    }

    /// Commits that changed `path`, newest first, from `from` (inclusive; `HEAD` for the first
    /// page) on; the second value is where the next page starts.
    pub async fn history(
        &self,
        path: &str,
        from: &str,
        limit: usize,
    ) -> Result<(Vec<CommitRow>, Option<String>), Error> {
        let count = format!("-n{}", limit + 1);
        let from = check_rev(from)?;
        let out = self
            .git(&[
                "log",
                &count,
                "--format=%H%x1f%an%x1f%aI%x1f%s%x1e",
                from,
                "--",
                path,
            ])
            .await?;
        let mut rows: Vec<CommitRow> = String::from_utf8_lossy(&out)
            .split('\x1e')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .filter_map(|r| {
                let mut p = r.split('\x1f');
                Some(CommitRow {
                    commit: p.next()?.to_string(),
                    author: p.next()?.to_string(),
                    date: p.next()?.replace('T', " "),
                    message: p.next().unwrap_or("").to_string(),
                })
            })
            .collect();
        let next = (rows.len() > limit).then(|| rows.remove(limit).commit);
        Ok((rows, next))
    }
}
