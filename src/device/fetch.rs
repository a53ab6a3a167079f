//! Fetching one device: try its credentials in order (moving on after an authentication or
//! enable failure), log in, enter enable mode, turn paging off, read the facts and the
//! configuration, and clean the configuration with the platform's filters.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::{DeviceError, ErrorClass};
use super::facts::Facts;
use super::profile::Profile;
use super::push::{PushPlan, PushReport};
use super::scrub;
use super::session::{CliSession, Event, render_transcript};
use super::transport::ssh::{self, HostKey, SshLogin};

/// Where the device is and what NetRaven already knows about it.
pub struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub profile: &'a Profile,
    /// The recorded host key (OpenSSH line); `None` trusts the key presented on first contact.
    pub known_host_key: Option<&'a str>,
}

/// A login to try. The secrets never leave this struct except towards the device.
#[derive(Clone)]
pub struct Credential {
    pub name: String,
    pub username: String,
    /// A user's private credential: messages other users may read (job logs, results) name it by
    /// `name` only and leave its username out.
    pub private: bool,
    pub password: Option<String>,
    pub enable_secret: Option<String>,
    pub private_key: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Longest wait for any single step: connecting, the next bytes of output, a prompt.
    pub step_timeout: Duration,
    /// Keep a transcript of the session (secrets masked).
    pub debug: bool,
    /// Replace the platform's configuration commands (the `linux` platform's are site-specific).
    pub config_commands: Option<Vec<String>>,
    /// What to read after logging in.
    pub collect: Collect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collect {
    /// Facts and the configuration: a backup.
    Configuration,
    /// Facts only: a connection test (login, enable, paging, facts commands).
    FactsOnly,
    /// These commands' outputs (no facts): a command run. A command the device rejects is
    /// recorded and the next one runs.
    Commands(Vec<String>),
    /// Push these lines, then read the configuration (no facts): a configuration push.
    Push(PushPlan),
}

/// One command of a command run and what the device answered.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutput {
    pub command: String,
    /// The output, or the device's rejection.
    pub output: Result<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            step_timeout: Duration::from_secs(30),
            debug: false,
            config_commands: None,
            collect: Collect::Configuration,
        }
    }
}

/// The configuration as fetched and cleaned.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// After the strip filter: what gets stored.
    pub text: String,
    /// `text` with every secret replaced by the marker.
    pub masked: String,
    /// SHA-256 of `text`.
    pub sha256: String,
    /// SHA-256 of `text` without the lines the ignore filter leaves out: equal keys, same config.
    pub change_key: String,
}

impl Config {
    pub fn from_output(profile: &Profile, output: &str) -> Config {
        let text = scrub::strip(&profile.filters, output);
        Config {
            masked: scrub::mask(&profile.filters, &text),
            sha256: scrub::sha256_hex(&text),
            change_key: scrub::change_key(&profile.filters, &text),
            text,
        }
    }
}

/// One credential tried, and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub credential: String,
    /// `None` when it worked, else the error class id.
    pub error_class: Option<&'static str>,
    pub message: Option<String>,
}

#[derive(Debug)]
pub struct Fetched {
    /// `None` only when the options asked for facts only.
    pub config: Option<Config>,
    /// A command run's outputs, in order.
    pub outputs: Vec<CommandOutput>,
    /// How a push went (the configuration is the one read after it).
    pub push: Option<PushReport>,
    pub facts: Facts,
    /// Index into the credentials passed in, and its name.
    pub credential_index: usize,
    pub credential_name: String,
    pub host_key: HostKey,
    /// True when no host key was recorded before (trust on first use: the caller stores it).
    pub host_key_first_seen: bool,
    pub attempts: Vec<Attempt>,
    /// Non-fatal problems (a paging command or a facts command the device refused).
    pub warnings: Vec<String>,
    pub transcript: Option<String>,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct FetchError {
    pub error: DeviceError,
    pub attempts: Vec<Attempt>,
    /// The host key the device presented, when the connection got that far.
    pub host_key: Option<HostKey>,
    pub transcript: Option<String>,
}

impl FetchError {
    pub fn class(&self) -> ErrorClass {
        self.error.class()
    }
}

/// Fetch the configuration and facts of one device.
pub async fn fetch(
    target: &Target<'_>,
    credentials: &[Credential],
    options: &Options,
) -> Result<Fetched, FetchError> {
    let started = Instant::now();
    let mut attempts = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut host_key: Option<HostKey> = None;
    let secrets: Vec<&str> = credentials
        .iter()
        .flat_map(|c| [c.password.as_deref(), c.enable_secret.as_deref()])
        .flatten()
        .collect();
    let fail = |error: DeviceError,
                attempts: Vec<Attempt>,
                host_key: Option<HostKey>,
                events: &[Event]| FetchError {
        error,
        attempts,
        host_key,
        transcript: options
            .debug
            .then(|| render_transcript(events, target.profile, &secrets)),
    };
    let known = match target.known_host_key.map(HostKey::parse).transpose() {
        Ok(k) => k,
        Err(e) => return Err(fail(e, attempts, None, &events)),
    };
    if credentials.is_empty() {
        return Err(fail(
            DeviceError::Configuration(
                "no credential to try: attach a credential to one of the device's tags".into(),
            ),
            attempts,
            None,
            &events,
        ));
    }
    let mut last_error = None;
    for (index, credential) in credentials.iter().enumerate() {
        // After the first contact every attempt must see the same key.
        let expected = match (&known, &host_key) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(seen)) => HostKey::parse(&seen.openssh).ok(),
            (None, None) => None,
        };
        events.push(Event::Note(if credential.private {
            format!("credential {:?}", credential.name)
        } else {
            format!(
                "credential {:?} (user {:?})",
                credential.name, credential.username
            )
        }));
        let outcome = attempt(
            target,
            credential,
            expected.as_ref(),
            options,
            &mut host_key,
        )
        .await;
        match outcome {
            Ok((collected, session_events)) => {
                events.extend(session_events);
                attempts.push(Attempt {
                    credential: credential.name.clone(),
                    error_class: None,
                    message: None,
                });
                let Some(key) = host_key else {
                    return Err(fail(
                        DeviceError::Protocol {
                            addr: format!("{}:{}", target.host, target.port),
                            detail: "no host key was presented".into(),
                        },
                        attempts,
                        None,
                        &events,
                    ));
                };
                return Ok(Fetched {
                    config: collected.config,
                    outputs: collected.outputs,
                    push: collected.push,
                    facts: collected.facts,
                    credential_index: index,
                    credential_name: credential.name.clone(),
                    host_key_first_seen: known.is_none(),
                    host_key: key,
                    attempts,
                    warnings: collected.warnings,
                    transcript: options
                        .debug
                        .then(|| render_transcript(&events, target.profile, &secrets)),
                    duration: started.elapsed(),
                });
            }
            Err((error, session_events)) => {
                events.extend(session_events);
                events.push(Event::Note(format!("failed: {error}")));
                attempts.push(Attempt {
                    credential: credential.name.clone(),
                    error_class: Some(error.class().id()),
                    message: Some(error.to_string()),
                });
                if !error.is_credential_problem() {
                    return Err(fail(error, attempts, host_key, &events));
                }
                last_error = Some(error);
            }
        }
    }
    let error = last_error.unwrap_or_else(|| DeviceError::Configuration("no credential".into()));
    Err(fail(error, attempts, host_key, &events))
}

/// What one session read.
struct Collected {
    config: Option<Config>,
    outputs: Vec<CommandOutput>,
    push: Option<PushReport>,
    facts: Facts,
    warnings: Vec<String>,
}

type AttemptResult = Result<(Collected, Vec<Event>), (DeviceError, Vec<Event>)>;

async fn attempt(
    target: &Target<'_>,
    credential: &Credential,
    expected: Option<&russh::keys::PublicKey>,
    options: &Options,
    host_key: &mut Option<HostKey>,
) -> AttemptResult {
    let step = options.step_timeout;
    let profile = target.profile;
    let no_events = |e| (e, Vec::new());
    let mut connection = match ssh::connect(target.host, target.port, expected, step).await {
        Ok(c) => c,
        Err(e) => {
            if let DeviceError::HostKeyChanged {
                presented,
                presented_key,
                ..
            } = &e
            {
                *host_key = Some(HostKey {
                    openssh: presented_key.clone(),
                    fingerprint: presented.clone(),
                });
            }
            return Err((e, Vec::new()));
        }
    };
    *host_key = Some(connection.host_key.clone());
    let login = SshLogin {
        credential: &credential.name,
        username: format!("{}{}", credential.username, profile.username_suffix),
        username_shown: !credential.private,
        password: credential.password.as_deref(),
        private_key: credential.private_key.as_deref(),
    };
    if let Err(e) = connection.authenticate(&login, step).await {
        connection.disconnect().await;
        return Err((e, Vec::new()));
    }
    let shell = connection.shell(step).await.map_err(no_events)?;
    let mut session = CliSession::start(shell, profile, step, options.debug)
        .await
        .map_err(no_events)?;
    let result = converse(&mut session, credential, options).await;
    let events = session.transcript().unwrap_or_default();
    session.close().await;
    match result {
        Ok(collected) => Ok((collected, events)),
        Err(e) => Err((e, events)),
    }
}

async fn converse<T: super::transport::Transport>(
    session: &mut CliSession<'_, T>,
    credential: &Credential,
    options: &Options,
) -> Result<Collected, DeviceError> {
    let profile = session.profile();
    let mut warnings = Vec::new();
    let secret = credential.enable_secret.as_deref();
    if profile.enable_before_paging {
        session.enable(secret, &credential.name).await?;
    }
    for command in &profile.paging_off {
        match session.run(command).await {
            Ok(_) => {}
            Err(DeviceError::CommandRejected { message, .. }) => {
                warnings.push(format!(
                    "paging command {command:?} refused ({message}); answering the pager instead"
                ));
            }
            Err(e) => return Err(e),
        }
    }
    if !profile.enable_before_paging {
        session.enable(secret, &credential.name).await?;
    }
    let mut facts = Facts::default();
    if let Collect::Commands(commands) = &options.collect {
        let mut outputs = Vec::new();
        for command in commands {
            let output = match session.run(command).await {
                Ok(text) => Ok(text),
                Err(DeviceError::CommandRejected { message, .. }) => Err(message),
                Err(e) => return Err(e),
            };
            outputs.push(CommandOutput {
                command: command.clone(),
                output,
            });
        }
        return Ok(Collected {
            config: None,
            outputs,
            push: None,
            facts,
            warnings,
        });
    }
    // A push reads the configuration it made; the facts it did not change.
    let push = match &options.collect {
        Collect::Push(plan) => Some(super::push::push(session, plan).await?),
        _ => None,
    };
    let facts_commands = if push.is_some() {
        &[][..]
    } else {
        &profile.facts[..]
    };
    for command in facts_commands {
        match session.run(&command.command).await {
            Ok(output) => facts.absorb(command, &output),
            Err(DeviceError::CommandRejected { message, .. }) => warnings.push(format!(
                "facts command {:?} refused ({message})",
                command.command
            )),
            Err(e) => return Err(e),
        }
    }
    if options.collect == Collect::FactsOnly {
        return Ok(Collected {
            config: None,
            outputs: Vec::new(),
            push: None,
            facts,
            warnings,
        });
    }
    let commands = options
        .config_commands
        .as_ref()
        .filter(|c| !c.is_empty())
        .unwrap_or(&profile.config_commands);
    let mut output = String::new();
    for command in commands {
        let text = session.run(command).await?;
        if commands.len() > 1 {
            output.push_str(&format!("## {command}\n"));
        }
        output.push_str(&text);
    }
    Ok(Collected {
        config: Some(Config::from_output(profile, &output)),
        outputs: Vec::new(),
        push,
        facts,
        warnings,
    })
}
