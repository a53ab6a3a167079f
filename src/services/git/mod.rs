//! Git repositories: registered remotes, their local copies, the configuration mirror and the
//! repository browser.
//!
//! Everything git is done by the `git` command-line program (`cli`), as Gitea and cargo do:
//! it is the only client that clones, fetches *and* pushes over every transport (HTTPS, SSH,
//! local paths) with the server quirks of twenty years handled, and it needs neither OpenSSL
//! nor libgit2 in this binary. gitoxide reads but cannot push yet, and one client for both keeps
//! one set of error texts and one credential path. Reading (tree, history, diffs) runs the same
//! program on the local copy with commit-graph files, so a page costs one short process.
//!
//! The database stays the source of truth: a local copy lives under the data folder and can be
//! thrown away and cloned again at any time; a lock row in the database lets one process at a
//! time change a repository's copy and push to its remote.

pub mod browse;
pub mod cli;
pub mod copy;
pub mod layout;
pub mod lock;
pub mod mirror;
pub mod remote;
pub mod repos;
pub mod sync;

use std::path::{Path, PathBuf};

pub use cli::GitError;

/// Where this process keeps its local copies: `<data folder>/git`.
#[derive(Clone, Debug)]
pub struct GitHome {
    root: PathBuf,
}

impl GitHome {
    pub fn new(data_dir: &Path) -> GitHome {
        GitHome {
            root: data_dir.join("git"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The local copy of repository `id`.
    pub fn copy_dir(&self, id: i32) -> PathBuf {
        self.root.join(format!("repo-{id}"))
    }

    /// Short-lived private files (SSH keys, known hosts) for one git command.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}
