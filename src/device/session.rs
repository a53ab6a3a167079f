//! The CLI state machine over any [`Transport`]: wait for the prompt (answering login questions
//! and pagers), enter enable mode, send a command and read its output up to the next prompt,
//! with the echoed command and the prompt removed. Every wait has the step timeout.

use std::time::Duration;

use super::error::{DeviceError, tail_text};
use super::profile::Profile;
use super::text;
use super::transport::Transport;

/// How long to stay silent at login before nudging the device with an empty line.
const NUDGE_AFTER: Duration = Duration::from_secs(2);

/// One step of the session, kept when a debug transcript was asked for.
#[derive(Debug, Clone)]
pub enum Event {
    Sent(String),
    Received(Vec<u8>),
    Note(String),
}

pub struct CliSession<'p, T: Transport> {
    transport: T,
    profile: &'p Profile,
    step: Duration,
    /// The prompt's stable part (host name), learnt at login; later prompts must start with it.
    prompt_base: String,
    prompt: String,
    /// The host name in the prompt, which configuration-mode prompts keep (`[~r1]` after `<r1>`).
    host: String,
    /// In configuration mode the prompt changes shape: any prompt naming the host ends a read.
    configuring: bool,
    transcript: Option<Vec<Event>>,
}

/// What stopped a read: the prompt, or the pattern at this index.
enum Stop {
    Prompt,
    Pattern(usize),
}

/// Questions one command may ask before the session gives up answering them.
const MAX_ANSWERS: usize = 4;

impl<'p, T: Transport> CliSession<'p, T> {
    /// Wait for the first prompt after login, answering the profile's login questions.
    pub async fn start(
        transport: T,
        profile: &'p Profile,
        step: Duration,
        debug: bool,
    ) -> Result<CliSession<'p, T>, DeviceError> {
        let mut session = CliSession {
            transport,
            profile,
            step,
            prompt_base: String::new(),
            prompt: String::new(),
            host: String::new(),
            configuring: false,
            transcript: debug.then(Vec::new),
        };
        let output = session.read_login(&[profile]).await?;
        let prompt = text::last_line(&output);
        session.learn_prompt(&prompt);
        Ok(session)
    }

    /// Wait for the first prompt of a device of unknown platform (discovery): the login questions
    /// of every candidate are answered, and any candidate's prompt ends the wait. The session
    /// continues with the first candidate whose prompt matched; the others that matched follow.
    pub async fn start_any(
        transport: T,
        candidates: &[&'p Profile],
        step: Duration,
    ) -> Result<(CliSession<'p, T>, Vec<&'p Profile>), DeviceError> {
        let Some(first) = candidates.first() else {
            return Err(DeviceError::Configuration("no platform to expect".into()));
        };
        let mut session = CliSession {
            transport,
            profile: first,
            step,
            prompt_base: String::new(),
            prompt: String::new(),
            host: String::new(),
            configuring: false,
            transcript: None,
        };
        let output = session.read_login(candidates).await?;
        let prompt = text::last_line(&output);
        let matching: Vec<&'p Profile> = candidates
            .iter()
            .copied()
            .filter(|p| p.prompt.is_match(&prompt))
            .collect();
        if let Some(p) = matching.first() {
            session.profile = p;
        }
        session.learn_prompt(&prompt);
        Ok((session, matching))
    }

    /// Go on as a device of this platform (discovery tries candidates in turn).
    pub fn switch_profile(&mut self, profile: &'p Profile) {
        self.profile = profile;
    }

    /// The host name the prompt shows.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn profile(&self) -> &'p Profile {
        self.profile
    }

    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    pub fn transcript(&mut self) -> Option<Vec<Event>> {
        self.transcript.take()
    }

    fn note(&mut self, event: Event) {
        if let Some(t) = self.transcript.as_mut() {
            t.push(event);
        }
    }

    fn learn_prompt(&mut self, prompt: &str) {
        self.prompt = prompt.to_string();
        let end = prompt
            .char_indices()
            .skip(1)
            .find(|(_, c)| matches!(c, '(' | ' ' | '>' | '#' | '$' | '%'))
            .map(|(i, _)| i)
            .unwrap_or(prompt.len());
        self.prompt_base = prompt[..end].to_string();
        self.host = self
            .prompt_base
            .split(['@', ':', '<', '[', ']', '~', '/'])
            .rfind(|part| !part.is_empty())
            .unwrap_or_default()
            .to_string();
    }

    fn is_prompt(&self, line: &str) -> bool {
        if self.configuring {
            let config_prompt = self
                .profile
                .configure
                .as_ref()
                .and_then(|c| c.prompt.as_ref())
                .is_some_and(|p| p.is_match(line));
            return (config_prompt || self.profile.prompt.is_match(line))
                && line.contains(&self.host);
        }
        line.starts_with(&self.prompt_base) && self.profile.prompt.is_match(line)
    }

    /// Configuration mode on or off: prompts there may differ from the one learnt at login.
    pub fn set_configuring(&mut self, on: bool) {
        self.configuring = on;
    }

    async fn send_raw(&mut self, data: &str, shown: &str, stage: &str) -> Result<(), DeviceError> {
        self.note(Event::Sent(shown.to_string()));
        self.transport
            .send(data.as_bytes())
            .await
            .map_err(|_| DeviceError::ConnectionDropped {
                stage: stage.to_string(),
                bytes: 0,
            })
    }

    /// Types one line. Text with a line break is refused: the device would run what follows the
    /// break as a command of its own (a secret `pw\nusername backdoor ...`).
    async fn send_line(&mut self, line: &str, shown: &str, stage: &str) -> Result<(), DeviceError> {
        if has_line_break(line) {
            return Err(DeviceError::Configuration(format!(
                "refused to type {shown} while {stage}: it contains a line break, and the device would run what follows it as a command"
            )));
        }
        let data = format!("{line}{}", self.profile.newline);
        self.send_raw(&data, shown, stage).await
    }

    /// The login phase: until a prompt of one of `profiles`, answering their login steps, nudging
    /// once if the device is silent.
    async fn read_login(&mut self, profiles: &[&Profile]) -> Result<Vec<u8>, DeviceError> {
        let steps: Vec<&super::profile::LoginStep> =
            profiles.iter().flat_map(|p| p.login.iter()).collect();
        let mut buf = Vec::new();
        let mut answered = vec![false; steps.len()];
        let mut nudged = false;
        let started = tokio::time::Instant::now();
        loop {
            let elapsed = started.elapsed();
            if elapsed >= self.step {
                return Err(self.unrecognised("waiting for the first prompt", &buf));
            }
            let wait = if nudged {
                self.step - elapsed
            } else {
                NUDGE_AFTER
                    .min(self.step / 2)
                    .saturating_sub(elapsed)
                    .max(Duration::from_millis(1))
            };
            match tokio::time::timeout(wait, self.transport.recv()).await {
                Err(_) if !nudged => {
                    nudged = true;
                    let newline = self.profile.newline.clone();
                    self.send_raw(&newline, "<enter>", "waiting for the first prompt")
                        .await?;
                }
                Err(_) => {}
                Ok(None) => {
                    return Err(DeviceError::ConnectionDropped {
                        stage: "waiting for the first prompt".into(),
                        bytes: buf.len(),
                    });
                }
                Ok(Some(chunk)) => {
                    self.note(Event::Received(chunk.clone()));
                    buf.extend_from_slice(&chunk);
                    let last = text::last_line(&buf);
                    if profiles.iter().any(|p| p.prompt.is_match(&last)) {
                        return Ok(buf);
                    }
                    let step = steps
                        .iter()
                        .enumerate()
                        .find(|(i, s)| !answered[*i] && s.expect.is_match(&last));
                    if let Some((i, step)) = step {
                        answered[i] = true;
                        let send = step.send.clone();
                        self.send_raw(&send, &format!("{send:?}"), "logging in")
                            .await?;
                    }
                }
            }
        }
    }

    fn unrecognised(&self, stage: &'static str, buf: &[u8]) -> DeviceError {
        DeviceError::PromptNotRecognised {
            stage,
            after: self.step,
            tail: tail_text(text::clean(buf).as_bytes(), 200),
        }
    }

    /// Read until the prompt, or until `also` matches the last line; answers pagers on the way.
    async fn read_until(
        &mut self,
        stage: &str,
        also: &[&regex::Regex],
    ) -> Result<(Vec<u8>, Stop), DeviceError> {
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        loop {
            let chunk = match tokio::time::timeout(self.step, self.transport.recv()).await {
                Err(_) => {
                    return Err(DeviceError::PromptNotRecognised {
                        stage: "reading command output",
                        after: self.step,
                        tail: tail_text(text::clean(&buf).as_bytes(), 200),
                    });
                }
                Ok(None) => {
                    return Err(DeviceError::ConnectionDropped {
                        stage: stage.to_string(),
                        bytes: buf.len(),
                    });
                }
                Ok(Some(chunk)) => chunk,
            };
            self.note(Event::Received(chunk.clone()));
            buf.extend_from_slice(&chunk);
            let last = text::last_line(&buf);
            if self.is_prompt(&last) {
                return Ok((buf, Stop::Prompt));
            }
            if let Some(i) = also.iter().position(|r| r.is_match(&last)) {
                return Ok((buf, Stop::Pattern(i)));
            }
            if self
                .profile
                .pager
                .as_ref()
                .is_some_and(|p| p.is_match(&last))
            {
                // Drop the pager text so it never reaches the output, then ask for the next page.
                let line_start = buf
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                buf.truncate(line_start);
                let answer = self.profile.pager_answer.clone();
                self.send_raw(&answer, "<pager: next page>", stage).await?;
            }
        }
    }

    /// Send a command and return its output: plain lines without the echo and the prompt.
    /// A line matching the profile's error patterns makes it a [`DeviceError::CommandRejected`].
    pub async fn run(&mut self, command: &str) -> Result<String, DeviceError> {
        let output = self.exchange(command, &[]).await?;
        if let Some(line) = output
            .lines()
            .find(|l| self.profile.command_errors.iter().any(|r| r.is_match(l)))
        {
            return Err(DeviceError::CommandRejected {
                command: command.to_string(),
                message: line.trim().to_string(),
            });
        }
        Ok(output)
    }

    /// Send a command and return its output as [`run`](Self::run) does, answering the questions
    /// it asks (`Continue? [Y/N]`) from `answers`; the caller judges the output.
    pub async fn exchange(
        &mut self,
        command: &str,
        answers: &[super::profile::LoginStep],
    ) -> Result<String, DeviceError> {
        let stage = format!("reading the output of {command:?}");
        self.send_line(command, command, &stage).await?;
        let questions: Vec<&regex::Regex> = answers.iter().map(|a| &a.expect).collect();
        let mut raw = Vec::new();
        for _ in 0..=MAX_ANSWERS {
            let (part, stop) = self.read_until(&stage, &questions).await?;
            raw.extend_from_slice(&part);
            let Stop::Pattern(i) = stop else {
                self.prompt = text::last_line(&raw);
                return Ok(command_output(&raw, command));
            };
            let send = answers[i].send.clone();
            self.send_line(&send, &format!("{send:?}"), &stage).await?;
            raw.push(b'\n');
        }
        Err(DeviceError::PromptNotRecognised {
            stage: "answering the device's questions",
            after: self.step,
            tail: tail_text(text::clean(&raw).as_bytes(), 200),
        })
    }

    /// Whether the current prompt is privileged mode.
    pub fn is_privileged(&self) -> bool {
        self.profile.is_privileged(&self.prompt)
    }

    /// Enter privileged mode if the device is in user mode and the platform has enable.
    pub async fn enable(
        &mut self,
        secret: Option<&str>,
        credential: &str,
    ) -> Result<(), DeviceError> {
        let Some(enable) = self.profile.enable.as_ref() else {
            return Ok(());
        };
        if self.is_privileged() {
            return Ok(());
        }
        let refused = |detail: String| DeviceError::EnableRefused {
            credential: credential.to_string(),
            detail,
        };
        let stage = "entering enable mode";
        let command = enable.command.clone();
        self.send_line(&command, &command, stage).await?;
        let (raw, stop) = self.read_until(stage, &[&enable.password_prompt]).await?;
        if matches!(stop, Stop::Pattern(_)) {
            let Some(secret) = secret else {
                return Err(refused(
                    "the device asks for an enable secret and the credential has none".into(),
                ));
            };
            if has_line_break(secret) {
                return Err(refused(
                    "the enable secret contains a line break, so it was not typed (the device would run what follows it as a command)".into(),
                ));
            }
            self.send_line(secret, "<enable secret>", stage).await?;
            let (raw, stop) = self.read_until(stage, &[&enable.password_prompt]).await?;
            let said = text::clean(&raw);
            let reason = said
                .lines()
                .find(|l| enable.refused.is_match(l))
                .map(|l| format!("the device answered {:?}", l.trim()));
            if matches!(stop, Stop::Pattern(_)) {
                return Err(refused(reason.unwrap_or_else(|| {
                    "the device asked for the password again: the enable secret is wrong".into()
                })));
            }
            self.prompt = text::last_line(&raw);
            if let Some(reason) = reason {
                return Err(refused(reason));
            }
        } else {
            self.prompt = text::last_line(&raw);
        }
        if self.is_privileged() {
            Ok(())
        } else {
            Err(refused(format!(
                "still in user mode after enable (prompt {:?})",
                self.prompt
            )))
        }
    }

    /// Say goodbye and close the transport without waiting for an answer.
    pub async fn close(mut self) {
        let exit = format!("{}{}", self.profile.exit_command, self.profile.newline);
        let _ = self.transport.send(exit.as_bytes()).await;
        self.transport.close().await;
    }
}

/// The output of one command from what the terminal showed: the echoed command line and the
/// trailing prompt removed.
pub fn command_output(raw: &[u8], command: &str) -> String {
    let cleaned = text::clean(raw);
    let mut lines: Vec<&str> = cleaned.split('\n').collect();
    // The last line is the prompt (no newline follows it).
    lines.pop();
    let command = command.trim();
    if lines
        .first()
        .is_some_and(|first| !command.is_empty() && first.trim_end().ends_with(command))
    {
        lines.remove(0);
    }
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Render a transcript for a job log: typed secrets never appear (they are recorded by name
/// only), received text has the platform's secrets masked, and known secret values are
/// replaced wherever they occur.
pub fn render_transcript(events: &[Event], profile: &Profile, secrets: &[&str]) -> String {
    let mut out = String::new();
    let mut received = Vec::new();
    let flush = |received: &mut Vec<u8>, out: &mut String| {
        if received.is_empty() {
            return;
        }
        let text = super::scrub::mask(&profile.filters, &text::clean(received));
        for line in text.lines() {
            out.push_str("< ");
            out.push_str(line);
            out.push('\n');
        }
        received.clear();
    };
    for event in events {
        match event {
            Event::Received(bytes) => received.extend_from_slice(bytes),
            Event::Sent(shown) => {
                flush(&mut received, &mut out);
                out.push_str("> ");
                // A pushed line may carry a secret (`snmp-server community ...`).
                out.push_str(&super::scrub::mask(&profile.filters, shown));
                out.push('\n');
            }
            Event::Note(note) => {
                flush(&mut received, &mut out);
                out.push_str("# ");
                out.push_str(note);
                out.push('\n');
            }
        }
    }
    flush(&mut received, &mut out);
    let mut masked = out;
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        masked = masked.replace(secret, super::scrub::MASK_MARKER);
    }
    masked
}

/// Carriage return, line feed, or any other character a terminal takes as the end of a line.
pub fn has_line_break(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(
            c,
            '\r' | '\n' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_prompt_removed() {
        let raw = b"show version\r\nCisco IOS XE Software\r\nuptime\r\nsw1#";
        assert_eq!(
            command_output(raw, "show version"),
            "Cisco IOS XE Software\nuptime\n"
        );
        assert_eq!(
            command_output(b"terminal length 0\r\nsw1#", "terminal length 0"),
            ""
        );
    }
}
