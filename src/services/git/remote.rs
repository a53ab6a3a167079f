//! How git reaches a repository's remote: the credential from the vault turned into an
//! environment for `cli` (an `Authorization` header for HTTPS, a private key file and our own
//! known-hosts file for SSH), so that no secret is ever in a URL, an argument or a file git
//! keeps.

use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::GitHome;
use super::cli::{Env, PrivateFile};
use crate::crypto::Vault;
use crate::entity::{credentials, git_repositories};
use crate::error::Error;
use crate::vocabulary::CredentialKind;

/// Network operations (clone, fetch, push, ls-remote) end after this.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(120);

/// The username sent with a token that has none: HTTPS git servers read the token as the
/// password and accept any username with it.
const TOKEN_USER: &str = "git";

/// The transport a URL uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Https,
    Ssh,
    Local,
}

impl Transport {
    pub fn of(url: &str) -> Option<Transport> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            Some(Transport::Https)
        } else if lower.starts_with("ssh://") || lower.starts_with("git+ssh://") {
            Some(Transport::Ssh)
        } else if lower.starts_with("file://") || url.starts_with('/') {
            Some(Transport::Local)
        } else if scp_like(url) {
            Some(Transport::Ssh)
        } else {
            None
        }
    }
}

/// `user@host:path`, git's short form of an SSH address.
fn scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, path)) => {
            !host.is_empty()
                && !path.is_empty()
                && !host.contains('/')
                && !path.starts_with("//")
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@.-_[]".contains(c))
        }
        None => false,
    }
}

/// Quoted for the shell that runs `GIT_SSH_COMMAND`.
fn quoted(path: &std::path::Path) -> String {
    shell_word(&path.display().to_string())
}

fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// How an SSH host key unknown to us is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeys {
    /// Only the keys stored with the repository are accepted.
    Known,
    /// A first key is accepted and recorded (the "Trust host key" button).
    TrustNew,
}

/// The environment for git commands that talk to `repo`'s remote.
pub async fn env_for(
    db: &impl ConnectionTrait,
    vault: &Vault,
    home: &GitHome,
    repo: &git_repositories::Model,
    host_keys: HostKeys,
) -> Result<Env, Error> {
    let mut env = Env::new(NETWORK_TIMEOUT);
    // A stalled transfer ends instead of holding the repository's lock until the deadline.
    env.config("http.lowSpeedLimit", "1");
    env.config("http.lowSpeedTime", "60");
    if !repo.verify_ssl {
        env.config("http.sslVerify", "false");
    }
    let transport = Transport::of(&repo.url);
    let credential = match repo.credential_id {
        Some(id) => Some(
            credentials::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| {
                    Error::Refused("the repository's credential was deleted: choose another".into())
                })?,
        ),
        None => None,
    };
    if let Some(c) = &credential
        && c.valid_until.is_some_and(|t| t <= Utc::now())
    {
        return Err(Error::Refused(format!(
            "the credential {:?} has expired: renew it or choose another",
            c.name
        )));
    }
    match (transport, credential) {
        (Some(Transport::Https), Some(c)) => {
            let secret = c
                .secret
                .as_deref()
                .map(|s| vault.decrypt(s))
                .transpose()?
                .unwrap_or_default();
            let user = match (c.kind, c.username.trim()) {
                (CredentialKind::Token, "") => TOKEN_USER,
                (_, user) => user,
            };
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
            env.config("http.extraHeader", &format!("Authorization: Basic {basic}"));
            env.secret(&basic);
            env.secret(&secret);
        }
        (Some(Transport::Ssh), credential) => {
            let tmp = home.tmp_dir();
            let known = PrivateFile::write(&tmp, repo.known_hosts.as_deref().unwrap_or(""))
                .map_err(|e| Error::Internal(format!("cannot write the known hosts file: {e}")))?;
            let mut ssh = format!(
                "ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=15 -o UserKnownHostsFile={} -o StrictHostKeyChecking={}",
                quoted(known.path()),
                match host_keys {
                    HostKeys::Known => "yes",
                    HostKeys::TrustNew => "accept-new",
                }
            );
            env.keep(known);
            if let Some(c) = credential {
                let key = c
                    .private_key
                    .as_deref()
                    .map(|k| vault.decrypt(k))
                    .transpose()?
                    .ok_or_else(|| {
                        Error::Refused(format!(
                            "the credential {:?} has no private key: an SSH remote needs one",
                            c.name
                        ))
                    })?;
                let file = PrivateFile::write(&tmp, &key)
                    .map_err(|e| Error::Internal(format!("cannot write the SSH key file: {e}")))?;
                ssh.push_str(&format!(
                    " -o IdentitiesOnly=yes -i {}",
                    quoted(file.path())
                ));
                env.keep(file);
                if !c.username.trim().is_empty() && !repo.url.contains('@') {
                    ssh.push_str(&format!(" -l {}", shell_word(c.username.trim())));
                }
            }
            env.var("GIT_SSH_COMMAND", &ssh);
        }
        _ => {}
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports() {
        assert_eq!(
            Transport::of("https://git.example.com/net/configs.git"),
            Some(Transport::Https)
        );
        assert_eq!(
            Transport::of("ssh://git@git.example.com:2222/net/c.git"),
            Some(Transport::Ssh)
        );
        assert_eq!(
            Transport::of("git@git.example.com:net/c.git"),
            Some(Transport::Ssh)
        );
        assert_eq!(
            Transport::of("/srv/git/configs.git"),
            Some(Transport::Local)
        );
        assert_eq!(
            Transport::of("file:///srv/git/configs.git"),
            Some(Transport::Local)
        );
        assert_eq!(Transport::of("ftp://x/y"), None);
        assert_eq!(Transport::of("configs.git"), None);
    }
}
