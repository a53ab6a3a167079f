//! The one place that runs the `git` program: a clean environment (no user or system
//! configuration, no prompts, C locale), credentials passed through the environment only, a
//! deadline, and git's complaints turned into `GitError`s an engineer can act on.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The oldest git that takes configuration from the environment (`GIT_CONFIG_COUNT`, 2.31).
const MIN_VERSION: (u32, u32) = (2, 31);

/// What went wrong, in words; never holds a secret (messages are scrubbed before they get here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("{0}")]
    Missing(String),
    #[error("authentication failed: the remote refused the credential ({0})")]
    Authentication(String),
    #[error("repository not found: {0}")]
    NotFound(String),
    #[error(
        "TLS failed: {0} (check the server's certificate, or turn off TLS verification for this repository)"
    )]
    Tls(String),
    #[error("the remote is unreachable: {0}")]
    Unreachable(String),
    #[error(
        "unknown SSH host key: {0} (use \"Trust host key\" on the repository page after checking its fingerprint)"
    )]
    UnknownHostKey(String),
    #[error("the branch {0} does not exist on the remote")]
    BranchNotFound(String),
    #[error("the push was rejected: {0}")]
    Rejected(String),
    #[error("git took longer than {0} s and was stopped")]
    Timeout(u64),
    #[error("git failed: {0}")]
    Failed(String),
}

/// Where `git` is looked for: the process's PATH, or the usual places when it was started with
/// an empty environment.
fn search_path() -> std::ffi::OsString {
    std::env::var_os("PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into())
}

/// Whether git is here and new enough; checked once per process.
pub fn check_installed() -> Result<(), GitError> {
    static FOUND: OnceLock<Result<(), GitError>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let out = std::process::Command::new("git")
                .arg("--version")
                .env_clear()
                .env("PATH", search_path())
                .output()
                .map_err(|e| {
                    GitError::Missing(format!(
                        "the git program is not installed or not on the PATH ({e}): install git (Debian package `git`) {}.{} or newer",
                        MIN_VERSION.0, MIN_VERSION.1
                    ))
                })?;
            let text = String::from_utf8_lossy(&out.stdout);
            match parse_version(&text) {
                Some(v) if v >= MIN_VERSION => Ok(()),
                _ => Err(GitError::Missing(format!(
                    "git {}.{} or newer is needed; this machine has \"{}\"",
                    MIN_VERSION.0,
                    MIN_VERSION.1,
                    text.trim()
                ))),
            }
        })
        .clone()
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text.trim().strip_prefix("git version ")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((major, minor))
}

/// A file only this process reads (an SSH key, known hosts), removed when dropped.
pub struct PrivateFile(PathBuf);

impl PrivateFile {
    pub fn write(dir: &Path, contents: &str) -> std::io::Result<PrivateFile> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        crate::data_dir::ensure_private_dir(dir)?;
        let path = dir.join(format!("tmp-{}", ulid::Ulid::generate()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::data_dir::FILE_MODE)
            .open(&path)?;
        file.write_all(contents.as_bytes())?;
        if !contents.ends_with('\n') {
            file.write_all(b"\n")?;
        }
        Ok(PrivateFile(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn read(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// How git is run for one repository: its environment (credentials included) and the secrets
/// to scrub from anything git prints.
#[derive(Default)]
pub struct Env {
    vars: Vec<(String, String)>,
    config: Vec<(String, String)>,
    secrets: Vec<String>,
    /// Files the environment names; they live as long as it does.
    files: Vec<PrivateFile>,
    pub timeout: Duration,
}

impl Env {
    pub fn new(timeout: Duration) -> Env {
        Env {
            timeout,
            ..Env::default()
        }
    }

    /// A configuration value for every command (`git -c` without the process list).
    pub fn config(&mut self, key: &str, value: &str) {
        self.config.push((key.into(), value.into()));
    }

    pub fn var(&mut self, key: &str, value: &str) {
        self.vars.push((key.into(), value.into()));
    }

    /// A value never to be shown, should git ever print it.
    pub fn secret(&mut self, value: &str) {
        if !value.is_empty() {
            self.secrets.push(value.into());
        }
    }

    pub fn keep(&mut self, file: PrivateFile) -> &Path {
        self.files.push(file);
        self.files[self.files.len() - 1].path()
    }

    pub fn files(&self) -> &[PrivateFile] {
        &self.files
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "********");
        }
        out
    }

    fn command(&self, dir: Option<&Path>, home: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .env_clear()
            .env("PATH", search_path())
            // No user's or system's configuration, hooks or credential helpers apply.
            .env("HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_COUNT", self.config.len().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (i, (key, value)) in self.config.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), key)
                .env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        for (key, value) in &self.vars {
            cmd.env(key, value);
        }
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Run git in `dir` (none: where no repository is needed) and return its standard output.
    pub async fn run(
        &self,
        dir: Option<&Path>,
        home: &Path,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>, GitError> {
        check_installed()?;
        let mut cmd = self.command(dir, home, args);
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| GitError::Failed(format!("cannot start git: {e}")))?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            let input = input.to_vec();
            tokio::spawn(async move {
                let _ = stdin.write_all(&input).await;
            });
        }
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| GitError::Timeout(self.timeout.as_secs()))?
            .map_err(|e| GitError::Failed(format!("git stopped abnormally: {e}")))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let stderr = self.scrub(&String::from_utf8_lossy(&out.stderr));
            Err(classify(&stderr))
        }
    }

    /// `run` with the output as text.
    pub async fn text(
        &self,
        dir: Option<&Path>,
        home: &Path,
        args: &[&str],
    ) -> Result<String, GitError> {
        let out = self.run(dir, home, args, None).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// The lines of git's complaint that say what happened (not its hints).
fn gist(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:") && !l.starts_with("Cloning into"))
        .collect();
    let text = lines.join("; ");
    let text = text.replace("fatal: ", "").replace("error: ", "");
    if text.chars().count() > 500 {
        text.chars().take(500).collect::<String>() + "…"
    } else if text.is_empty() {
        "git gave no reason".into()
    } else {
        text
    }
}

/// git's words, as one of our errors. The texts are those of git 2.3x–2.4x in the C locale.
pub fn classify(stderr: &str) -> GitError {
    let g = gist(stderr);
    let has = |needle: &str| stderr.contains(needle);
    if has("Authentication failed")
        || has("could not read Username")
        || has("could not read Password")
        || has("Permission denied (publickey")
        || has("HTTP Basic: Access denied")
        || has("The requested URL returned error: 401")
        || has("The requested URL returned error: 403")
    {
        GitError::Authentication(g)
    } else if has("Host key verification failed")
        || has("host key is known")
        || has("No RSA host key")
    {
        GitError::UnknownHostKey(g)
    } else if has("SSL certificate problem")
        || has("server certificate verification failed")
        || has("SSL routines")
        || has("gnutls_handshake")
        || has("TLS connection")
    {
        GitError::Tls(g)
    } else if has("Remote branch") && has("not found in upstream")
        || has("couldn't find remote ref")
    {
        let branch = stderr
            .split_whitespace()
            .skip_while(|w| *w != "branch" && *w != "ref")
            .nth(1)
            .unwrap_or("")
            .to_string();
        GitError::BranchNotFound(branch)
    } else if has("[rejected]")
        || has("non-fast-forward")
        || has("fetch first")
        || has("[remote rejected]")
    {
        GitError::Rejected(g)
    } else if has("Could not resolve host")
        || has("Couldn't connect to server")
        || has("Connection refused")
        || has("Connection timed out")
        || has("Failed to connect")
        || has("No route to host")
        || has("Network is unreachable")
        || has("Could not resolve hostname")
        || has("Operation timed out")
    {
        GitError::Unreachable(g)
    } else if has("not found")
        || has("does not appear to be a git repository")
        || has("does not exist")
        || has("returned error: 404")
    {
        GitError::NotFound(g)
    } else {
        GitError::Failed(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(parse_version("git version 2.39.5.dirty"), Some((2, 39)));
        assert_eq!(parse_version("nonsense"), None);
    }

    #[test]
    fn complaints_in_words() {
        let c = |s: &str| classify(s);
        assert!(matches!(
            c("fatal: could not read Username for 'http://127.0.0.1:1': terminal prompts disabled"),
            GitError::Authentication(_)
        ));
        assert!(matches!(
            c(
                "remote: Authentication required\nfatal: Authentication failed for 'http://h/r.git/'"
            ),
            GitError::Authentication(_)
        ));
        assert!(matches!(
            c("fatal: repository 'http://127.0.0.1:9/missing.git/' not found"),
            GitError::NotFound(_)
        ));
        assert!(matches!(
            c(
                "fatal: unable to access 'http://127.0.0.1:9/r.git/': Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server"
            ),
            GitError::Unreachable(_)
        ));
        assert!(matches!(
            c(
                "fatal: '/x/nope.git' does not appear to be a git repository\nfatal: Could not read from remote repository."
            ),
            GitError::NotFound(_)
        ));
        assert_eq!(
            c("Cloning into 'x'...\nfatal: Remote branch nosuch not found in upstream origin"),
            GitError::BranchNotFound("nosuch".into())
        );
        assert_eq!(
            c("fatal: couldn't find remote ref nosuch"),
            GitError::BranchNotFound("nosuch".into())
        );
        assert!(matches!(
            c(
                "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed."
            ),
            GitError::UnknownHostKey(_)
        ));
        assert!(matches!(
            c(" ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs"),
            GitError::Rejected(_)
        ));
        assert!(matches!(
            c(
                "fatal: unable to access 'https://h/r.git/': SSL certificate problem: self-signed certificate"
            ),
            GitError::Tls(_)
        ));
    }

    #[test]
    fn secrets_are_scrubbed() {
        let mut env = Env::new(Duration::from_secs(1));
        env.secret("s3cret");
        assert_eq!(env.scrub("a s3cret b"), "a ******** b");
    }
}
