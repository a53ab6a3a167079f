//! One SSH session channel: an interactive shell (echo, line editing, pager, latency, faults)
//! or a single exec command. Runs as one tokio task per channel; it only wakes up for client
//! input and timers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use russh::server::Msg;
use russh::{Channel, ChannelMsg};

use crate::cli::{After, Cli, Pager};
use crate::device::Device;
use crate::platform::Platform;
use crate::server::ConnKill;
use crate::spec::Fault;

/// Lines per page: a 24-line terminal keeps one line for the pager prompt.
const PAGE_LINES: usize = 23;

/// How long the first half of a configuration gets to reach the client before a
/// `DropMidOutput` device pulls the plug.
const DROP_DELAY: Duration = Duration::from_millis(150);

/// What a session channel needs from its connection.
pub(crate) struct Context {
    pub(crate) device: Arc<Device>,
    /// The SSH username as typed.
    pub(crate) login: String,
    pub(crate) kill: Arc<ConnKill>,
}

/// Serves a session channel: waits for a shell or exec request and runs it.
pub(crate) async fn run(mut channel: Channel<Msg>, ctx: Context) {
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::RequestShell { .. } => {
                // A write error means the client went away: nothing more to do.
                let _ = Shell::new(channel, ctx).run().await;
                return;
            }
            ChannelMsg::Exec { command, .. } => {
                let _ = exec(channel, ctx, &String::from_utf8_lossy(&command)).await;
                return;
            }
            ChannelMsg::Eof | ChannelMsg::Close => return,
            _ => {}
        }
    }
}

/// Converts `\n` line endings to the `\r\n` a terminal expects.
fn crlf(text: &str, out: &mut Vec<u8>) {
    for (i, part) in text.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(part.as_bytes());
    }
}

/// Runs one exec request: the command's output, exit status, EOF, close.
async fn exec(channel: Channel<Msg>, ctx: Context, command: &str) -> Result<(), russh::Error> {
    let spec = &ctx.device.spec;
    if spec.fault == Some(Fault::NoPrompt) {
        // The device never answers; hold the channel until the client gives up.
        let mut channel = channel;
        while channel.wait().await.is_some() {}
        return Ok(());
    }
    tokio::time::sleep(spec.command_latency).await;
    let mut cli = Cli::new(Arc::clone(&ctx.device), &ctx.login, false);
    let reply = cli.execute(command);
    let mut out = Vec::with_capacity(reply.text.len() + reply.text.len() / 16);
    let text = if reply.config && spec.fault == Some(Fault::DropMidOutput) {
        first_half(&reply.text)
    } else {
        reply.text.clone()
    };
    if spec.platform == Platform::Linux {
        out.extend_from_slice(text.as_bytes());
    } else {
        crlf(&text, &mut out);
    }
    channel.data_bytes(out).await?;
    if reply.config && spec.fault == Some(Fault::DropMidOutput) {
        tokio::time::sleep(DROP_DELAY).await;
        ctx.kill.kill();
        return Ok(());
    }
    channel.exit_status(reply.status).await?;
    channel.eof().await?;
    channel.close().await
}

fn first_half(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut half: String = lines[..lines.len() / 2]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    // Cut the next line in the middle too, as a dropped connection would.
    if let Some(next) = lines.get(lines.len() / 2) {
        let mut cut = next.len() / 2;
        while !next.is_char_boundary(cut) {
            cut -= 1;
        }
        half.push_str(&next[..cut]);
    }
    half
}

/// What the shell is waiting for.
enum Input {
    /// A command line.
    Line,
    /// The enable secret (not echoed).
    Secret { typed: Vec<u8>, attempt: u32 },
    /// A key at the pager prompt.
    Pager {
        rest: VecDeque<String>,
        shown: usize,
        prompt: String,
        pager: Pager,
    },
    /// ProCurve's "Press any key to continue".
    AnyKey,
    /// A `NoPrompt` device: nothing is ever answered.
    Silent,
}

/// Whether the session goes on.
enum Flow {
    Continue,
    /// The CLI closed the session (`exit`).
    Close,
    /// The TCP connection was dropped on purpose.
    Dropped,
}

struct Shell {
    channel: Channel<Msg>,
    cli: Cli,
    device: Arc<Device>,
    kill: Arc<ConnKill>,
    /// Pending output, written in one packet at the next flush.
    out: Vec<u8>,
    line: Vec<u8>,
    input: Input,
    /// A `\r` was just seen: a following `\n` belongs to the same Enter key.
    after_cr: bool,
    /// Inside an escape sequence (arrow keys and such), which is ignored.
    in_escape: bool,
}

impl Shell {
    fn new(channel: Channel<Msg>, ctx: Context) -> Shell {
        Shell {
            cli: Cli::new(Arc::clone(&ctx.device), &ctx.login, true),
            channel,
            device: ctx.device,
            kill: ctx.kill,
            out: Vec::new(),
            line: Vec::new(),
            input: Input::Line,
            after_cr: false,
            in_escape: false,
        }
    }

    async fn flush(&mut self) -> Result<(), russh::Error> {
        if !self.out.is_empty() {
            let data = std::mem::take(&mut self.out);
            self.channel.data_bytes(data).await?;
        }
        Ok(())
    }

    fn write(&mut self, text: &str) {
        crlf(text, &mut self.out);
    }

    /// Writes the prompt; `after_output` adds the blank line some platforms print after a
    /// command's output.
    fn prompt(&mut self, after_output: bool) {
        if self.cli.blank_line_before_prompt(after_output) {
            self.out.extend_from_slice(b"\r\n");
        }
        let prompt = self.cli.prompt();
        self.write(&prompt);
    }

    async fn run(mut self) -> Result<(), russh::Error> {
        let spec = self.device.spec.clone();
        let banner = self.cli.banner();
        self.write(&banner);
        self.flush().await?;
        if spec.fault == Some(Fault::NoPrompt) {
            self.input = Input::Silent;
        } else {
            tokio::time::sleep(spec.login_latency).await;
            if spec.platform == Platform::HpProcurve {
                self.write("Press any key to continue");
                self.input = Input::AnyKey;
            } else {
                self.prompt(false);
            }
            self.flush().await?;
        }
        while let Some(msg) = self.channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => match self.feed(&data).await? {
                    Flow::Continue => self.flush().await?,
                    Flow::Close => {
                        self.flush().await?;
                        self.channel.eof().await?;
                        return self.channel.close().await;
                    }
                    Flow::Dropped => return Ok(()),
                },
                ChannelMsg::Eof | ChannelMsg::Close => return Ok(()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Processes typed bytes (several lines may arrive in one packet).
    async fn feed(&mut self, data: &[u8]) -> Result<Flow, russh::Error> {
        for &b in data {
            let enter = b == b'\r' || b == b'\n';
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            let flow = match &mut self.input {
                Input::Silent => Flow::Continue,
                Input::AnyKey => {
                    self.input = Input::Line;
                    // ProCurve clears the screen before its first prompt.
                    self.out
                        .extend_from_slice(b"\x1b[2J\x1b[?7l\x1b[3;23r\x1b[?6l\x1b[1;1H");
                    self.prompt(false);
                    Flow::Continue
                }
                Input::Pager { .. } => {
                    self.pager_key(b);
                    Flow::Continue
                }
                Input::Secret { typed, attempt } => {
                    if enter {
                        let secret = String::from_utf8_lossy(typed).into_owned();
                        let attempt = *attempt;
                        self.check_secret(&secret, attempt);
                    } else if b == 0x7f || b == 0x08 {
                        typed.pop();
                    } else if b >= 0x20 {
                        typed.push(b);
                    }
                    Flow::Continue
                }
                Input::Line => self.line_byte(b, enter).await?,
            };
            if !matches!(flow, Flow::Continue) {
                return Ok(flow);
            }
        }
        Ok(Flow::Continue)
    }

    async fn line_byte(&mut self, b: u8, enter: bool) -> Result<Flow, russh::Error> {
        if self.in_escape {
            self.in_escape = !(b.is_ascii_alphabetic() || b == b'~');
            return Ok(Flow::Continue);
        }
        match b {
            _ if enter => {
                self.write("\n");
                let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
                return self.submit(&line).await;
            }
            0x7f | 0x08 if self.line.pop().is_some() => {
                self.out.extend_from_slice(b"\x08 \x08");
            }
            // Ctrl-C: abandon the line.
            0x03 => {
                self.line.clear();
                self.cli.interrupt();
                self.write("^C\n");
                self.prompt(false);
            }
            // Ctrl-U: erase the line.
            0x15 => {
                for _ in 0..self.line.len() {
                    self.out.extend_from_slice(b"\x08 \x08");
                }
                self.line.clear();
            }
            // Ctrl-Z leaves configuration mode (the CLI takes it as a line of its own).
            0x1a if self.cli.in_config_mode() => {
                self.line.clear();
                self.write("^Z\n");
                return self.submit("\x1a").await;
            }
            0x1b => self.in_escape = true,
            0x20.. => {
                self.line.push(b);
                self.out.push(b);
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Runs a complete line and writes its outcome. Every line the CLI runs, configuration
    /// lines and answers included, costs the command latency once.
    async fn submit(&mut self, line: &str) -> Result<Flow, russh::Error> {
        if line.trim().is_empty() && !self.cli.takes_empty_lines() {
            self.prompt(false);
            return Ok(Flow::Continue);
        }
        // The echo reaches the client before the device "thinks".
        self.flush().await?;
        tokio::time::sleep(self.device.spec.command_latency).await;
        let reply = self.cli.execute(line);
        if reply.config && self.device.spec.fault == Some(Fault::DropMidOutput) {
            let half = first_half(&reply.text);
            self.write(&half);
            self.flush().await?;
            tokio::time::sleep(DROP_DELAY).await;
            self.kill.kill();
            return Ok(Flow::Dropped);
        }
        match reply.after {
            After::Close => {
                self.write(&reply.text);
                Ok(Flow::Close)
            }
            After::AskEnableSecret => {
                self.write(&reply.text);
                if let Some(style) = self.cli.enable_style() {
                    self.write(style.prompt);
                }
                self.input = Input::Secret {
                    typed: Vec::new(),
                    attempt: 1,
                };
                Ok(Flow::Continue)
            }
            After::Prompt => {
                let paged = reply.pageable;
                self.output(reply.text, paged);
                Ok(Flow::Continue)
            }
        }
    }

    /// Writes command output, through the pager when it is longer than a page.
    fn output(&mut self, text: String, pageable: bool) {
        let had_output = !text.is_empty();
        let pager = self.cli.pager().filter(|_| pageable);
        let line_count = text.lines().count();
        match pager {
            Some(pager) if line_count > PAGE_LINES => {
                let mut rest: VecDeque<String> = text.lines().map(str::to_string).collect();
                self.show_lines(&mut rest, PAGE_LINES);
                let prompt = pager.prompt(1, PAGE_LINES);
                self.write(&prompt);
                self.input = Input::Pager {
                    rest,
                    shown: PAGE_LINES,
                    prompt,
                    pager,
                };
            }
            _ => {
                self.write(&text);
                if had_output && !text.ends_with('\n') {
                    self.write("\n");
                }
                self.prompt(had_output);
            }
        }
    }

    fn show_lines(&mut self, rest: &mut VecDeque<String>, n: usize) {
        for line in rest.drain(..n.min(rest.len())) {
            self.write(&line);
            self.write("\n");
        }
    }

    /// Space: next page; Enter: next line; anything else (q, Ctrl-C): stop.
    fn pager_key(&mut self, key: u8) {
        let Input::Pager {
            mut rest,
            shown,
            prompt,
            pager,
        } = std::mem::replace(&mut self.input, Input::Line)
        else {
            return;
        };
        let erase = pager.erase(&prompt);
        self.out.extend_from_slice(erase.as_bytes());
        let more = match key {
            b' ' => PAGE_LINES,
            b'\r' | b'\n' => 1,
            _ => 0,
        };
        if more == 0 {
            rest.clear();
        }
        let before = rest.len();
        self.show_lines(&mut rest, more);
        let shown = shown + (before - rest.len());
        if rest.is_empty() {
            self.prompt(true);
        } else {
            // PAN-OS's `less` names the lines on screen.
            let prompt = pager.prompt(shown.saturating_sub(PAGE_LINES) + 1, shown);
            self.write(&prompt);
            self.input = Input::Pager {
                rest,
                shown,
                prompt,
                pager,
            };
        }
    }

    fn check_secret(&mut self, secret: &str, attempt: u32) {
        self.write("\n");
        self.input = Input::Line;
        if self.cli.try_enable(secret) {
            self.prompt(false);
            return;
        }
        let Some(style) = self.cli.enable_style() else {
            self.prompt(false);
            return;
        };
        if attempt < style.attempts {
            self.write(style.retry);
            self.write(style.prompt);
            self.input = Input::Secret {
                typed: Vec::new(),
                attempt: attempt + 1,
            };
        } else {
            self.write(style.failure);
            self.write("\n");
            self.prompt(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_halves() {
        let mut out = Vec::new();
        crlf("a\nb\n", &mut out);
        assert_eq!(out, b"a\r\nb\r\n");
        assert_eq!(first_half("1\n2\n3\n4\n"), "1\n2\n");
        assert_eq!(first_half("11\n22\n333333\n"), "11\n2");
    }
}
