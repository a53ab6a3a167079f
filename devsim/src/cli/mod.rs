//! Command interpretation: one [`Cli`] per shell or exec channel turns a typed line into output
//! and mode changes, in the platform's dialect. Terminal matters (echo, pager, latency) are the
//! session's job.
//!
//! Configuration modes live in their own files: `config.rs` (IOS style, IOS-XR, Huawei, FRR),
//! `edit.rs` (Junos, PAN-OS), `fortios.rs` and `routeros.rs`.

mod config;
mod edit;
mod fortios;
mod profile;
mod routeros;
mod table;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::clock::Stamp;
use crate::device::Device;
use crate::platform::Platform;
use crate::render::{self, ConfigView};
use crate::spec::Paging;

use profile::Profile;
pub(crate) use profile::{EnableStyle, Mode, Pager};
use profile::{ErrorStyle, FortiFrame, prompt, visible_width};
use table::{Action, IOS_SAVED, Level, Lookup, VTYSH, commands, lookup};

/// What the session does after printing a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Prompt,
    /// Ask for the enable secret (the session prints the password prompt, without echo).
    AskEnableSecret,
    /// Close the session.
    Close,
}

/// The outcome of one command line.
#[derive(Debug)]
pub(crate) struct Reply {
    /// Output with `\n` line endings.
    pub(crate) text: String,
    /// Whether the pager may split this output.
    pub(crate) pageable: bool,
    /// Whether the output is the configuration (where `DropMidOutput` strikes).
    pub(crate) config: bool,
    pub(crate) after: After,
    /// Exit status for exec channels.
    pub(crate) status: u32,
}

impl Reply {
    fn text(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            pageable: true,
            config: false,
            after: After::Prompt,
            status: 0,
        }
    }

    fn error(text: impl Into<String>) -> Reply {
        Reply {
            pageable: false,
            status: 1,
            ..Reply::text(text)
        }
    }

    fn then(mut self, after: After) -> Reply {
        self.after = after;
        self
    }
}

/// A question the device asks before it acts; the next typed line is the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Question {
    /// IOS `copy running-config startup-config`: the destination file.
    IosDestination,
    /// Dell OS6 `write memory`: y/n.
    Os6Save,
    /// Huawei `save`: Y/N.
    VrpSave,
    /// IOS-XR leaving configuration mode with uncommitted changes: yes/no/cancel.
    XrUncommitted,
    /// Huawei leaving the system view with uncommitted changes: Y/N/C.
    VrpUncommitted,
}

impl Question {
    /// What the device prints; it takes the prompt's place (the answer is typed after it).
    fn text(self) -> &'static str {
        match self {
            Question::IosDestination => "Destination filename [startup-config]? ",
            Question::Os6Save => {
                "This operation may take a few minutes.\n\
                 Management interfaces will not be available during this time.\n\
                 \n\
                 Are you sure you want to save? (y/n) "
            }
            Question::VrpSave => {
                "Warning: The current configuration will be written to the device. Continue? [Y/N]:"
            }
            Question::XrUncommitted => {
                "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:"
            }
            Question::VrpUncommitted => {
                "Warning: Uncommitted configurations found. Are you sure to commit them before \
                 exiting? [Y(yes)/N(no)/C(cancel)]:"
            }
        }
    }
}

/// A change to the device's added configuration lines, applied at once or kept in a candidate
/// until `commit`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Add(String),
    /// `no x` / `undo x`: removes the last added line that is `x` (indentation aside).
    Remove(String),
    /// Junos/PAN-OS `delete x`: removes every added line that is `x` or continues it.
    RemoveUnder(String),
}

impl Change {
    fn apply(&self, lines: &mut Vec<String>) {
        match self {
            Change::Add(line) => lines.push(line.clone()),
            Change::Remove(line) => {
                if let Some(pos) = lines.iter().rposition(|l| l.trim() == line.trim()) {
                    lines.remove(pos);
                }
            }
            Change::RemoveUnder(prefix) => {
                let longer = format!("{prefix} ");
                lines.retain(|l| l != prefix && !l.starts_with(&longer));
            }
        }
    }
}

/// Per-session command state.
#[derive(Debug)]
pub(crate) struct Cli {
    device: Arc<Device>,
    profile: Profile,
    /// The login name shown in prompts (MikroTik: without `+options`).
    user: String,
    /// MikroTik without `+c`: colour prompts and output.
    colour: bool,
    mode: Mode,
    paging: bool,
    /// Changes waiting for `commit` (Junos, PAN-OS, IOS-XR, Huawei) or for the end of the
    /// outermost FortiOS block (then the lines as shown).
    candidate: Vec<Change>,
    /// The question the next typed line answers.
    question: Option<Question>,
    /// FortiOS: paging setting chosen inside `config system console`, applied at `end`.
    forti_output_paged: Option<bool>,
}

impl Cli {
    /// `login` is the SSH username as typed; `interactive` is false for exec channels (never
    /// paged, always privileged as the device would run them).
    pub(crate) fn new(device: Arc<Device>, login: &str, interactive: bool) -> Cli {
        let platform = device.spec.platform;
        let (user, colour) = if platform == Platform::MikrotikRouteros {
            match login.split_once('+') {
                Some((name, options)) => (name.to_string(), !options.contains('c')),
                None => (login.to_string(), true),
            }
        } else {
            (login.to_string(), false)
        };
        let mode = if platform.has_enable() && device.enable_secret().is_some() && interactive {
            Mode::User
        } else {
            Mode::Privileged
        };
        let profile = profile::profile(platform);
        Cli {
            paging: interactive && profile.pager.is_some(),
            profile,
            device,
            user,
            colour: colour && interactive,
            mode,
            candidate: Vec::new(),
            question: None,
            forti_output_paged: None,
        }
    }

    fn platform(&self) -> Platform {
        self.device.spec.platform
    }

    /// The pager, while paging is on.
    pub(crate) fn pager(&self) -> Option<Pager> {
        self.profile.pager.filter(|_| self.paging)
    }

    pub(crate) fn prompt(&self) -> String {
        if let Some(question) = self.question {
            return question.text().to_string();
        }
        let p = prompt(
            self.platform(),
            &self.mode,
            &self.device.spec.hostname,
            &self.user,
            self.colour,
            !self.candidate.is_empty(),
        );
        if self.mode == Mode::Edit {
            format!("[edit]\n{p}")
        } else {
            p
        }
    }

    /// Login banner (before the first prompt).
    pub(crate) fn banner(&self) -> String {
        render::banner(
            &self.device.identity,
            &Stamp::now(),
            &self.user,
            self.colour,
        )
    }

    pub(crate) fn enable_style(&self) -> Option<EnableStyle> {
        self.profile.enable
    }

    /// Checks an enable secret; on success the session becomes privileged.
    pub(crate) fn try_enable(&mut self, secret: &str) -> bool {
        let ok = self.device.enable_secret().is_none_or(|s| s == secret);
        if ok {
            self.mode = Mode::Privileged;
        }
        ok
    }

    /// Runs one typed line.
    pub(crate) fn execute(&mut self, line: &str) -> Reply {
        let line = line.trim();
        if let Some(question) = self.question.take() {
            return self.answer(question, line);
        }
        match self.mode.clone() {
            Mode::Config { sub } => self.config_line(line, sub),
            Mode::Edit if self.platform() == Platform::JuniperJunos => self.junos_line(line),
            Mode::Edit => self.panos_line(line),
            Mode::Forti(frames) => self.forti_line(line, frames),
            Mode::User | Mode::Privileged | Mode::Vtysh => self.exec_line(line),
        }
    }

    /// Ctrl-C: a pending question is abandoned (nothing is saved or committed).
    pub(crate) fn interrupt(&mut self) {
        self.question = None;
    }

    /// Whether an empty line goes to [`Cli::execute`] (and costs the command latency):
    /// configuration modes and questions answer it; elsewhere the session just prompts again.
    pub(crate) fn takes_empty_lines(&self) -> bool {
        self.question.is_some()
            || matches!(self.mode, Mode::Config { .. } | Mode::Edit | Mode::Forti(_))
    }

    /// The mode configuration mode returns to: privileged exec, or FRR's vtysh on Linux.
    fn exec_mode(&self) -> Mode {
        if self.platform() == Platform::Linux {
            Mode::Vtysh
        } else {
            Mode::Privileged
        }
    }

    /// Whether the session is inside FRR's vtysh (which has its own commands and errors).
    fn in_vtysh(&self) -> bool {
        self.platform() == Platform::Linux && matches!(self.mode, Mode::Vtysh | Mode::Config { .. })
    }

    /// Runs an exec command from a configuration mode (`do`, `run`, Huawei's `display`) and
    /// stays in that mode.
    fn run_exec(&mut self, command: &str) -> Reply {
        let exec_mode = self.exec_mode();
        let mode = std::mem::replace(&mut self.mode, exec_mode);
        let reply = self.exec_line(command);
        if reply.after != After::Close {
            self.mode = mode;
        }
        reply
    }

    /// Applies the candidate to the device in one step.
    fn apply_candidate(&mut self) {
        let changes = std::mem::take(&mut self.candidate);
        if !changes.is_empty() {
            self.device.edit_config(|lines| {
                for change in &changes {
                    change.apply(lines);
                }
            });
        }
    }

    /// A counted save; prints `message` (ASA: `{checksum}` becomes the configuration's
    /// Cryptochecksum in four groups, as `write memory` prints it).
    fn save(&self, message: &str) -> Reply {
        self.device.count_save();
        let text = if message.contains("{checksum}") {
            let config = self.device.config(ConfigView::Native).render(&Stamp::now());
            let digits = config
                .lines()
                .find_map(|l| l.strip_prefix("Cryptochecksum:"))
                .unwrap_or_default();
            let groups: Vec<&str> = (0..digits.len())
                .step_by(8)
                .filter_map(|i| digits.get(i..(i + 8).min(digits.len())))
                .collect();
            message.replace("{checksum}", &groups.join(" "))
        } else {
            message.to_string()
        };
        Reply::text(with_newline(&text))
    }

    fn answer(&mut self, question: Question, answer: &str) -> Reply {
        let lower = answer.to_ascii_lowercase();
        let yes = !lower.is_empty() && "yes".starts_with(&lower);
        let no = !lower.is_empty() && "no".starts_with(&lower);
        match question {
            Question::IosDestination if lower.is_empty() || lower == "startup-config" => {
                self.save(IOS_SAVED)
            }
            Question::IosDestination => Reply::error(format!(
                "%Error opening nvram:/{answer} (Permission denied)\n"
            )),
            Question::Os6Save if lower == "y" => self.save("Configuration Saved!"),
            Question::Os6Save => Reply::text("Configuration Not Saved!\n"),
            Question::VrpSave if yes => self.save("Info: Save the configuration successfully."),
            Question::VrpSave => Reply::text(""),
            Question::XrUncommitted | Question::VrpUncommitted if yes || no => {
                self.close_config(yes)
            }
            // Cancel (or anything else): stay in configuration mode.
            Question::XrUncommitted | Question::VrpUncommitted => Reply::text(""),
        }
    }

    fn tokens<'a>(&self, line: &'a str) -> Vec<&'a str> {
        if self.platform() == Platform::MikrotikRouteros {
            // `/system/resource/print`, `/system resource print` and `system resource print`
            // are the same command at the root menu.
            line.split(|c: char| c == '/' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .collect()
        } else {
            line.split_whitespace().collect()
        }
    }

    fn exec_line(&mut self, line: &str) -> Reply {
        if self.platform() == Platform::MikrotikRouteros
            && let Some(reply) = self.routeros_line(line)
        {
            return reply;
        }
        let tokens = self.tokens(line);
        if self.platform() == Platform::FortinetFortios && tokens.len() > 1 && tokens[0] == "config"
        {
            return self.forti_line(line, Vec::new());
        }
        if self.platform() == Platform::Linux
            && self.mode == Mode::Privileged
            && tokens.len() > 1
            && tokens[0] == "vtysh"
        {
            return self.vtysh_commands(line["vtysh".len()..].trim());
        }
        let (table, abbreviations) = if self.in_vtysh() {
            (VTYSH, true)
        } else {
            (commands(self.platform()), self.profile.abbreviations)
        };
        // The command is the longest prefix before a `|` that is a command (Junos's
        // `show configuration | display set` has a pipe of its own); the rest are filters.
        let split = (0..=tokens.len())
            .rev()
            .filter(|&end| end == tokens.len() || tokens[end] == "|")
            .find(|&end| {
                matches!(
                    lookup(table, &tokens[..end], abbreviations),
                    Lookup::Found(_)
                )
            })
            .or_else(|| tokens.iter().position(|t| *t == "|"))
            .unwrap_or(tokens.len());
        let (tokens, filters) = tokens.split_at(split);
        let cmd = match lookup(table, tokens, abbreviations) {
            Lookup::Found(cmd) => cmd,
            Lookup::Invalid(at) => return self.invalid(line, tokens, at),
            Lookup::Incomplete => return self.incomplete(line, tokens),
        };
        if cmd.level == Level::Privileged && self.mode == Mode::User {
            if let Some(message) = self.profile.privileged_required {
                return Reply::error(format!("{message}\n"));
            }
            return self.invalid(line, tokens, 1.min(tokens.len() - 1));
        }
        let mut reply = self.run(cmd.action);
        match apply_filters(&mut reply, filters) {
            Ok(()) => reply,
            Err(bad) => self.invalid(line, &self.tokens(line), split + bad),
        }
    }

    fn run(&mut self, action: Action) -> Reply {
        let now = Stamp::now();
        match action {
            Action::Config(view) => {
                let mut text = self.device.config(view).render(&now);
                if self.colour {
                    text = render::mikrotik_colourize(&text);
                }
                Reply {
                    config: true,
                    ..Reply::text(text)
                }
            }
            Action::Fact(fact) => {
                match render::fact(&self.device.identity, fact, &now, &self.user) {
                    Some(text) if self.colour => Reply::text(render::mikrotik_colourize(&text)),
                    Some(text) => Reply::text(text),
                    None => Reply::error(""),
                }
            }
            Action::PagingOff(message) => {
                if self.device.spec.paging == Paging::On {
                    self.paging = false;
                }
                Reply::text(with_newline(message))
            }
            Action::Ack(message) => Reply::text(with_newline(message)),
            Action::Enable => {
                if self.mode == Mode::User
                    && self.device.enable_secret().is_some()
                    && self.profile.enable.is_some()
                {
                    Reply::text("").then(After::AskEnableSecret)
                } else {
                    self.mode = Mode::Privileged;
                    Reply::text("")
                }
            }
            Action::Disable => {
                if self.device.enable_secret().is_some() {
                    self.mode = Mode::User;
                }
                Reply::text("")
            }
            Action::Configure(message) => {
                self.mode = Mode::Config { sub: None };
                Reply::text(with_newline(message))
            }
            Action::EditConfigure => {
                self.mode = Mode::Edit;
                Reply::text("Entering configuration mode\n")
            }
            Action::Save(message) => self.save(message),
            Action::Ask(question) => {
                self.question = Some(question);
                Reply::text("")
            }
            Action::Vtysh => {
                self.mode = Mode::Vtysh;
                Reply::text(
                    "\nHello, this is FRRouting (version 8.4.4).\n\
                     Copyright 1996-2005 Kunihiro Ishiguro, et al.\n\n",
                )
            }
            Action::Exit if self.mode == Mode::Vtysh => {
                self.mode = Mode::Privileged;
                Reply::text("")
            }
            Action::Exit => {
                let text = if self.platform() == Platform::Linux {
                    "logout\n"
                } else {
                    ""
                };
                Reply::text(text).then(After::Close)
            }
        }
    }

    /// A line with a caret under `tokens[at]` (or after the end of the line) as typed after
    /// the prompt.
    fn caret(&self, line: &str, tokens: &[&str], at: usize) -> String {
        let column = token_column(line, tokens, at);
        format!(
            "{}^\n",
            " ".repeat(visible_width(&self.prompt_line()) + column)
        )
    }

    /// The platform's complaint about `tokens[at]` (or the end of the line).
    fn invalid(&self, line: &str, tokens: &[&str], at: usize) -> Reply {
        if self.in_vtysh() {
            return Reply::error(format!("% Unknown command: {line}\n"));
        }
        let bad = tokens.get(at).copied().unwrap_or_default();
        let column = token_column(line, tokens, at);
        let caret = || self.caret(line, tokens, at);
        let text = match self.profile.errors {
            ErrorStyle::Caret(message) => format!("{}{message}\n", caret()),
            ErrorStyle::Junos if at == 0 => format!("{}unknown command.\n", caret()),
            ErrorStyle::Junos => format!("{}syntax error, expecting <command>.\n", caret()),
            ErrorStyle::Eos => format!("% Invalid input (at token {at}: '{bad}')\n"),
            ErrorStyle::Word(template) => format!("{}\n", template.replace("{}", bad)),
            ErrorStyle::RouterOs => {
                format!("bad command name {bad} (line 1 column {})\n", column + 1)
            }
            ErrorStyle::FortiOs if at == 0 => {
                "Unknown action 0\nCommand fail. Return code -1\n".to_string()
            }
            ErrorStyle::FortiOs => {
                format!("command parse error before '{bad}'\nCommand fail. Return code -61\n")
            }
            ErrorStyle::Bash => {
                let first = tokens.first().copied().unwrap_or_default();
                if first == "cat" && tokens.len() > 1 {
                    let file = tokens[1..].join(" ");
                    format!("cat: {file}: No such file or directory\n")
                } else {
                    return Reply {
                        status: 127,
                        ..Reply::error(format!("bash: {first}: command not found\n"))
                    };
                }
            }
        };
        Reply::error(text)
    }

    fn incomplete(&self, line: &str, tokens: &[&str]) -> Reply {
        if self.in_vtysh() {
            return Reply::error(format!("% Command incomplete: {line}\n"));
        }
        match self.profile.errors {
            ErrorStyle::Caret(_) | ErrorStyle::Eos | ErrorStyle::Junos | ErrorStyle::Word(_) => {
                Reply::error(format!("{}\n", self.profile.incomplete))
            }
            _ => self.invalid(line, tokens, tokens.len()),
        }
    }

    /// The last line of the prompt (where the typed command, and thus the caret, sits).
    fn prompt_line(&self) -> String {
        let prompt = self.prompt();
        prompt.rsplit('\n').next().unwrap_or_default().to_string()
    }

    /// Whether an empty line separates the previous output from the prompt (Junos prints one
    /// after command output, and always before `[edit]` in configuration mode).
    pub(crate) fn blank_line_before_prompt(&self, after_output: bool) -> bool {
        self.profile.blank_before_prompt && (after_output || self.mode == Mode::Edit)
    }

    /// Whether the session is in an IOS-style configuration mode, which Ctrl-Z leaves.
    pub(crate) fn in_config_mode(&self) -> bool {
        matches!(self.mode, Mode::Config { .. })
    }

    /// Which configuration view this CLI would print for its config command (for tests).
    #[cfg(test)]
    pub(crate) fn render_config(&self, view: ConfigView) -> String {
        self.device.config(view).render(&Stamp::now())
    }
}

/// Applies `| include x`-style filters (`filters` starts with a `|`); on a bad filter returns
/// the index of the offending token within `filters`.
fn apply_filters(reply: &mut Reply, filters: &[&str]) -> Result<(), usize> {
    let mut start = 0;
    while start < filters.len() {
        let end = filters[start + 1..]
            .iter()
            .position(|t| *t == "|")
            .map_or(filters.len(), |p| start + 1 + p);
        let segment = &filters[start + 1..end];
        let Some((&verb, args)) = segment.split_first() else {
            return Err(start);
        };
        let pattern = args.join(" ");
        let pattern = pattern.trim_matches('"');
        let lines = reply.text.lines();
        let kept: Vec<&str> = match verb {
            "include" | "inc" | "i" | "match" | "grep" => {
                lines.filter(|l| l.contains(pattern)).collect()
            }
            "exclude" | "exc" | "e" | "except" => lines.filter(|l| !l.contains(pattern)).collect(),
            "begin" | "beg" | "b" | "find" => lines.skip_while(|l| !l.contains(pattern)).collect(),
            "no-more" | "nomore" => {
                reply.pageable = false;
                start = end;
                continue;
            }
            _ => return Err(start + 1),
        };
        reply.text = kept.iter().map(|l| format!("{l}\n")).collect();
        start = end;
    }
    Ok(())
}

fn with_newline(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!("{message}\n")
    }
}

/// The column where token `at` starts in `line` (or the end of the line).
fn token_column(line: &str, tokens: &[&str], at: usize) -> usize {
    let mut pos = 0;
    for (i, token) in tokens.iter().enumerate() {
        match line[pos..].find(token) {
            Some(found) => {
                if i == at {
                    return pos + found;
                }
                pos += found + token.len();
            }
            None => break,
        }
    }
    line.len() + 1
}
