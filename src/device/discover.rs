//! Discovery of one address: connect over TCP, read the SSH identification string, log in with
//! each credential in turn (none twice), wait for any known platform's prompt, then confirm the
//! platform with the cheapest hints first (identification string, prompt, one probe command per
//! remaining candidate) and read the host name and the facts. Nothing is stored here.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::error::DeviceError;
use super::facts::Facts;
use super::fetch::Credential;
use super::profile::{self, Profile};
use super::session::CliSession;
use super::text;
use super::transport::ssh::{self, SshLogin};
use crate::vocabulary::DiscoveryOutcome;

/// The longest SSH identification line (RFC 4253 allows 255 bytes).
const MAX_BANNER: usize = 255;

/// What discovery learnt about one address.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub outcome: DiscoveryOutcome,
    /// Why it stopped, in words (or what it found).
    pub message: String,
    /// The SSH identification string (or the first bytes of whatever answered).
    pub banner: Option<String>,
    /// Index into the credentials passed in of the one that logged in.
    pub credential: Option<usize>,
    pub platform: Option<&'static str>,
    pub hostname: Option<String>,
    pub facts: Facts,
    /// Credentials tried.
    pub tried: usize,
}

impl Discovered {
    fn stopped(outcome: DiscoveryOutcome, message: String) -> Discovered {
        Discovered {
            outcome,
            message,
            banner: None,
            credential: None,
            platform: None,
            hostname: None,
            facts: Facts::default(),
            tried: 0,
        }
    }
}

/// Identify what listens at `host`:`port`. `connect` bounds the TCP connection, `step` every
/// later wait.
pub async fn discover(
    host: &str,
    port: u16,
    credentials: &[Credential],
    connect: Duration,
    step: Duration,
) -> Discovered {
    let banner = match read_banner(host, port, connect, step).await {
        Ok(b) => b,
        Err(stop) => return *stop,
    };
    let mut found = Discovered {
        banner: Some(banner.clone()),
        ..Discovered::stopped(DiscoveryOutcome::Failed, String::new())
    };
    // Every platform whose identification pattern matches; all of them when none does.
    let with_hints: Vec<&'static Profile> = profile::all()
        .iter()
        .filter(|p| p.detect.is_some())
        .collect();
    let by_banner: Vec<&'static Profile> = with_hints
        .iter()
        .copied()
        .filter(|p| p.detect.as_ref().is_some_and(|d| d.banner_matches(&banner)))
        .collect();
    let candidates = if by_banner.is_empty() {
        with_hints
    } else {
        by_banner
    };
    if credentials.is_empty() {
        found.outcome = DiscoveryOutcome::NoCredential;
        found.message = format!("SSH ({banner}), and no credential to try");
        return found;
    }
    // A login suffix (RouterOS's `+ct`) only when every candidate wants the same one.
    let suffix = match candidates.first() {
        Some(first)
            if candidates
                .iter()
                .all(|p| p.username_suffix == first.username_suffix) =>
        {
            first.username_suffix.clone()
        }
        _ => String::new(),
    };
    let mut last_error = String::new();
    for (index, credential) in credentials.iter().enumerate() {
        found.tried = index + 1;
        let mut connection = match ssh::connect(host, port, None, step).await {
            Ok(c) => c,
            Err(e) => {
                found.message = format!("SSH ({banner}), and the session failed: {e}");
                return found;
            }
        };
        let login = SshLogin {
            credential: &credential.name,
            username: format!("{}{suffix}", credential.username),
            username_shown: !credential.private,
            password: credential.password.as_deref(),
            private_key: credential.private_key.as_deref(),
        };
        if let Err(e) = connection.authenticate(&login, step).await {
            connection.disconnect().await;
            if e.is_credential_problem() {
                last_error = e.to_string();
                continue;
            }
            found.message = format!("SSH ({banner}), and the session failed: {e}");
            return found;
        }
        found.credential = Some(index);
        let shell = match connection.shell(step).await {
            Ok(s) => s,
            Err(e) => {
                found.message = format!("logged in, and the shell failed: {e}");
                return found;
            }
        };
        identify(shell, &candidates, credential, step, &mut found).await;
        return found;
    }
    found.outcome = DiscoveryOutcome::AuthFailed;
    found.message = format!(
        "SSH ({banner}), and authentication failed with every credential ({} tried; last: {last_error})",
        found.tried
    );
    found
}

/// Connects and reads the server's first line: an SSH identification string, or the reason
/// there is none.
async fn read_banner(
    host: &str,
    port: u16,
    connect: Duration,
    step: Duration,
) -> Result<String, Box<Discovered>> {
    let stop = |outcome, message: String| Err(Box::new(Discovered::stopped(outcome, message)));
    let mut stream = match timeout(connect, TcpStream::connect((host, port))).await {
        Err(_) => {
            return stop(
                DiscoveryOutcome::Timeout,
                format!(
                    "no answer within {} ms (filtered or no host)",
                    connect.as_millis()
                ),
            );
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return stop(
                DiscoveryOutcome::Closed,
                "closed (connection refused)".into(),
            );
        }
        Ok(Err(e)) => return stop(DiscoveryOutcome::Timeout, format!("unreachable: {e}")),
        Ok(Ok(s)) => s,
    };
    let mut buf = Vec::with_capacity(MAX_BANNER);
    let mut chunk = [0u8; MAX_BANNER];
    let read = timeout(step, async {
        // Servers may send other lines before the identification (RFC 4253 4.2).
        while !buf.ends_with(b"\n") && buf.len() < MAX_BANNER {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&buf);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if buf.is_empty() {
        return stop(
            DiscoveryOutcome::Silent,
            if read.is_err() {
                format!(
                    "open, and silent for {} s (no SSH identification)",
                    step.as_secs()
                )
            } else {
                "open, and closed without a word".to_string()
            },
        );
    }
    if let Some(id) = text.lines().find(|l| l.starts_with("SSH-")) {
        return Ok(id.trim().to_string());
    }
    let shown: String = first.chars().filter(|c| !c.is_control()).take(80).collect();
    let mut found = Discovered::stopped(DiscoveryOutcome::NotSsh, format!("not SSH: {shown:?}"));
    found.banner = Some(shown);
    Err(Box::new(found))
}

/// After logging in: the prompt narrows the candidates, their probes confirm one, and its facts
/// are read.
async fn identify<T: super::transport::Transport>(
    shell: T,
    candidates: &[&'static Profile],
    credential: &Credential,
    step: Duration,
    found: &mut Discovered,
) {
    let banner = found.banner.clone().unwrap_or_default();
    let (mut session, matching) = match CliSession::start_any(shell, candidates, step).await {
        Ok(s) => s,
        Err(DeviceError::PromptNotRecognised { tail, .. }) => {
            found.outcome = DiscoveryOutcome::Unrecognised;
            found.message = format!(
                "unknown, SSH banner: {banner}; no known prompt; it printed: {}",
                last_lines(&tail)
            );
            return;
        }
        Err(e) => {
            found.message = format!("logged in, and the session failed: {e}");
            return;
        }
    };
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut platform = None;
    for candidate in &matching {
        let Some(detect) = candidate.detect.as_ref() else {
            continue;
        };
        session.switch_profile(candidate);
        // One probe command answers for every candidate that sends it.
        let output = match outputs.iter().find(|(c, _)| *c == detect.probe) {
            Some((_, o)) => o.clone(),
            None => {
                let o = match session.run(&detect.probe).await {
                    Ok(o) => o,
                    Err(DeviceError::CommandRejected { message, .. }) => message,
                    Err(e) => {
                        found.message = format!("logged in, and the session failed: {e}");
                        session.close().await;
                        return;
                    }
                };
                outputs.push((detect.probe.clone(), o.clone()));
                o
            }
        };
        if detect.confirms(&output) {
            platform = Some(*candidate);
            break;
        }
    }
    let Some(profile) = platform else {
        let said = outputs
            .last()
            .map(|(_, o)| o.as_str())
            .unwrap_or(session.prompt());
        found.outcome = DiscoveryOutcome::Unrecognised;
        found.message = format!(
            "unknown, SSH banner: {banner}; prompt {:?}; it printed: {}",
            session.prompt(),
            last_lines(said)
        );
        session.close().await;
        return;
    };
    found.platform = Some(profile.id.as_str());
    found.hostname = Some(session.host().to_string()).filter(|h| !h.is_empty());
    match facts(&mut session, profile, credential).await {
        Ok(facts) => {
            found.facts = facts;
            found.outcome = DiscoveryOutcome::Identified;
            found.message = format!("{} ({})", profile.name, profile.id);
        }
        Err(e) => {
            found.outcome = DiscoveryOutcome::Identified;
            found.message = format!("{} ({}); facts not read: {e}", profile.name, profile.id);
        }
    }
    session.close().await;
}

/// The platform's facts, with paging off and enable mode as a backup would have them.
async fn facts<T: super::transport::Transport>(
    session: &mut CliSession<'_, T>,
    profile: &Profile,
    credential: &Credential,
) -> Result<Facts, DeviceError> {
    for command in &profile.paging_off {
        match session.run(command).await {
            Ok(_) | Err(DeviceError::CommandRejected { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    session
        .enable(credential.enable_secret.as_deref(), &credential.name)
        .await?;
    let mut facts = Facts::default();
    for command in &profile.facts {
        match session.run(&command.command).await {
            Ok(output) => facts.absorb(command, &output),
            Err(DeviceError::CommandRejected { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(facts)
}

/// The last three non-empty lines, cleaned, for a message.
fn last_lines(text: &str) -> String {
    let cleaned = text::clean(text.as_bytes());
    let lines: Vec<&str> = cleaned.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}
