//! Command interpretation: one [`Cli`] per shell or exec channel turns a typed line into output
//! and mode changes, in the platform's dialect. Terminal matters (echo, pager, latency) are the
//! session's job.

mod profile;
mod table;

use std::sync::Arc;

use crate::clock::Stamp;
use crate::device::Device;
use crate::platform::Platform;
use crate::render;
#[cfg(test)]
use crate::render::ConfigView;
use crate::spec::Paging;

use profile::Profile;
pub(crate) use profile::{EnableStyle, Mode, Pager};
use profile::{ErrorStyle, prompt, visible_width};
use table::{Action, Level, Lookup, commands, lookup};

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
    /// Junos: `set` lines not yet committed.
    candidate: Vec<String>,
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
        let p = prompt(
            self.platform(),
            &self.mode,
            &self.device.spec.hostname,
            &self.user,
            self.colour,
        );
        if self.mode == Mode::JunosConfig {
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
        match self.mode.clone() {
            Mode::Config { sub } => self.config_line(line, sub),
            Mode::JunosConfig => self.junos_config_line(line),
            Mode::FortiConfig(_) => self.forti_config_line(line),
            Mode::User | Mode::Privileged => self.exec_line(line),
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
        let tokens = self.tokens(line);
        let table = commands(self.platform());
        let abbreviations = self.profile.abbreviations;
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
            Action::JunosConfigure => {
                self.mode = Mode::JunosConfig;
                Reply::text("Entering configuration mode\n")
            }
            Action::FortiConsole => {
                self.mode = Mode::FortiConfig("console".into());
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

    /// IOS-style configuration mode: every line is part of the configuration.
    fn config_line(&mut self, line: &str, sub: Option<&'static str>) -> Reply {
        let first = line.split_whitespace().next().unwrap_or_default();
        if line == "end" || line == "\x1a" {
            self.mode = Mode::Privileged;
            return Reply::text("");
        }
        if line == "exit" {
            self.mode = match sub {
                Some(_) => Mode::Config { sub: None },
                None => Mode::Privileged,
            };
            return Reply::text("");
        }
        if let Some(command) = line.strip_prefix("do ") {
            let mode = self.mode.clone();
            self.mode = Mode::Privileged;
            let reply = self.exec_line(command.trim());
            self.mode = mode;
            return reply;
        }
        if line.is_empty() {
            return Reply::text("");
        }
        let entering = match first {
            "interface" => Some("config-if"),
            "router" => Some("config-router"),
            "line" => Some("config-line"),
            "vlan" => Some("config-vlan"),
            "ip" if line.starts_with("ip access-list") => Some("config-acl"),
            _ => None,
        };
        if let Some(removed) = line.strip_prefix("no ") {
            self.device.remove_config_line(removed);
            return Reply::text("");
        }
        let indent = match (entering, sub) {
            (None, Some(_)) => self.sub_indent(),
            _ => "",
        };
        self.device.add_config_line(&format!("{indent}{line}"));
        if entering.is_some() {
            self.mode = Mode::Config { sub: entering };
        }
        Reply::text("")
    }

    /// How the platform indents statements inside a block in its running configuration.
    fn sub_indent(&self) -> &'static str {
        match self.platform() {
            Platform::CiscoNxos => "  ",
            Platform::AristaEos | Platform::HpProcurve => "   ",
            Platform::ArubaAoscx => "    ",
            Platform::DellOs6 => "",
            _ => " ",
        }
    }

    fn junos_config_line(&mut self, line: &str) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => Reply::text(""),
            ["set", ..] => {
                self.candidate.push(line.to_string());
                Reply::text("")
            }
            ["commit", rest @ ..] => {
                for l in self.candidate.drain(..) {
                    self.device.add_config_line(&l);
                }
                if rest.first().is_some_and(|w| "and-quit".starts_with(w)) {
                    self.mode = Mode::Privileged;
                    Reply::text("commit complete\nExiting configuration mode\n")
                } else {
                    Reply::text("commit complete\n")
                }
            }
            ["rollback", ..] => {
                self.candidate.clear();
                Reply::text("load complete\n")
            }
            ["exit" | "quit", ..] => {
                let discarded = !self.candidate.is_empty();
                self.candidate.clear();
                self.mode = Mode::Privileged;
                if discarded {
                    Reply::text(
                        "The configuration has been changed but not committed\nExiting configuration mode\n",
                    )
                } else {
                    Reply::text("Exiting configuration mode\n")
                }
            }
            ["run", ..] => {
                let command = line.trim_start_matches("run").trim();
                self.mode = Mode::Privileged;
                let reply = self.exec_line(command);
                if reply.after != After::Close {
                    self.mode = Mode::JunosConfig;
                }
                reply
            }
            ["top" | "up" | "edit" | "delete", ..] => Reply::text(""),
            _ => self.invalid(line, &words, 0),
        }
    }

    fn forti_config_line(&mut self, line: &str) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => Reply::text(""),
            ["set", "output", "standard"] => {
                self.forti_output_paged = Some(false);
                Reply::text("")
            }
            ["set", "output", "more"] => {
                self.forti_output_paged = Some(true);
                Reply::text("")
            }
            ["end"] => {
                if let Some(paged) = self.forti_output_paged.take()
                    && (paged || self.device.spec.paging == Paging::On)
                {
                    self.paging = paged;
                }
                self.mode = Mode::Privileged;
                Reply::text("")
            }
            ["abort"] => {
                self.forti_output_paged = None;
                self.mode = Mode::Privileged;
                Reply::text("")
            }
            [_, bad, ..] => Reply::error(format!(
                "command parse error before '{bad}'\nCommand fail. Return code -61\n"
            )),
            [bad] => Reply::error(format!(
                "command parse error before '{bad}'\nCommand fail. Return code -61\n"
            )),
        }
    }

    /// The platform's complaint about `tokens[at]` (or the end of the line).
    fn invalid(&self, line: &str, tokens: &[&str], at: usize) -> Reply {
        let bad = tokens.get(at).copied().unwrap_or_default();
        let column = token_column(line, tokens, at);
        let caret = || {
            format!(
                "{}^\n",
                " ".repeat(visible_width(&self.prompt_line()) + column)
            )
        };
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

    /// Whether a typed line is in a configuration mode that Ctrl-Z leaves.
    /// Whether an empty line separates the previous output from the prompt (Junos prints one
    /// after command output, and always before `[edit]` in configuration mode).
    pub(crate) fn blank_line_before_prompt(&self, after_output: bool) -> bool {
        self.profile.blank_before_prompt && (after_output || self.mode == Mode::JunosConfig)
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;
    use crate::spec::DeviceSpec;

    fn cli(platform: Platform, secret: Option<&str>) -> Cli {
        let mut spec = DeviceSpec::new(platform, "r1", "admin", "pw");
        spec.enable_secret = secret.map(str::to_string);
        spec.config_lines = 60;
        let device = Arc::new(Device::new(spec).expect("device"));
        Cli::new(device, "admin", true)
    }

    #[test]
    fn ios_errors_and_modes() {
        let mut c = cli(Platform::CiscoIos, Some("s3"));
        assert_eq!(c.prompt(), "r1>");
        let r = c.execute("show foo");
        assert_eq!(
            r.text,
            "        ^\n% Invalid input detected at '^' marker.\n"
        );
        let r = c.execute("show running-config");
        assert!(r.text.contains('^'));
        assert_eq!(c.execute("enable").after, After::AskEnableSecret);
        assert!(!c.try_enable("nope"));
        assert!(c.try_enable("s3"));
        assert_eq!(c.prompt(), "r1#");
        c.execute("conf t");
        assert_eq!(c.prompt(), "r1(config)#");
        c.execute("interface Loopback99");
        assert_eq!(c.prompt(), "r1(config-if)#");
        c.execute("description added-by-test");
        c.execute("end");
        assert_eq!(c.prompt(), "r1#");
        let config = c.execute("sh run | include added-by-test").text;
        assert_eq!(config, " description added-by-test\n");
    }

    #[test]
    fn other_dialects() {
        let mut j = cli(Platform::JuniperJunos, None);
        assert_eq!(j.prompt(), "admin@r1> ");
        assert!(j.execute("foo").text.ends_with("^\nunknown command.\n"));
        assert!(
            j.execute("show foo")
                .text
                .ends_with("syntax error, expecting <command>.\n")
        );
        assert_eq!(
            j.execute("set cli screen-length 0").text,
            "Screen length set to 0\n"
        );
        assert!(j.pager().is_none());
        let mut m = cli(Platform::MikrotikRouteros, None);
        assert_eq!(
            m.execute("/foo").text,
            "bad command name foo (line 1 column 2)\n"
        );
        assert!(
            m.execute("/system/resource/print")
                .text
                .contains("board-name: CCR2004")
        );
        let mut f = cli(Platform::FortinetFortios, None);
        f.execute("config system console");
        assert_eq!(f.prompt(), "r1 (console) # ");
        f.execute("set output standard");
        f.execute("end");
        assert!(f.pager().is_none());
        let mut l = cli(Platform::Linux, None);
        assert_eq!(l.execute("foo").text, "bash: foo: command not found\n");
        assert_eq!(l.execute("exit").after, After::Close);
        let mut h = cli(Platform::HuaweiVrp, None);
        assert!(
            h.execute("dis foo")
                .text
                .ends_with("^\nError: Unrecognized command found at '^' position.\n")
        );
        assert!(h.execute("dis cur").config);
        let _ = h.render_config(ConfigView::Native);
    }
}
