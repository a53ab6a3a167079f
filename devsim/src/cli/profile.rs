//! How each platform presents itself: prompts, pager, error messages and `enable` behaviour.

use crate::platform::Platform;
use crate::render::mikrotik_colour as colour;

/// The CLI mode a session is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    User,
    Privileged,
    /// IOS-style configuration mode, also IOS-XR's, Huawei's system view and FRR's; `sub` names
    /// a sub-mode (`config-if`; Huawei: the view's suffix, `10GE1/0/1`).
    Config {
        sub: Option<String>,
    },
    /// Junos and PAN-OS configuration mode: `[edit]` above `user@host#`.
    Edit,
    /// FortiOS inside `config ...` blocks: the open blocks, outermost first.
    Forti(Vec<FortiFrame>),
    /// FRR's `vtysh` shell on Linux.
    Vtysh,
}

/// One open FortiOS block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FortiFrame {
    /// `config system interface`: the path.
    Config(String),
    /// `edit port1`: the entry's name.
    Edit(String),
}

impl FortiFrame {
    /// What the prompt shows for this block: the path's last word or the entry's name.
    fn name(&self) -> &str {
        match self {
            FortiFrame::Config(path) => path.rsplit(' ').next().unwrap_or(path),
            FortiFrame::Edit(name) => name,
        }
    }
}

/// How the pager text is removed once answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Erase {
    /// Backspaces over the text, spaces, backspaces again (IOS and friends).
    Backspaces,
    /// Carriage return, spaces, carriage return (Junos, FortiOS, PAN-OS).
    CarriageReturn,
    /// Cursor left by N columns, spaces, cursor left again (Huawei).
    CursorLeft(usize),
    /// Erase the line with VT100 codes (ProCurve, AOS-CX).
    ClearLine,
}

/// A platform's pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pager {
    pub(crate) text: &'static str,
    pub(crate) erase: Erase,
}

impl Pager {
    /// The prompt after lines `first..=last` have been shown (PAN-OS's `less` counts lines).
    pub(crate) fn prompt(&self, first: usize, last: usize) -> String {
        if self.text == "lines" {
            format!("lines {first}-{last} ")
        } else {
            self.text.to_string()
        }
    }

    /// What removes `shown` (the pager prompt) from the screen.
    pub(crate) fn erase(&self, shown: &str) -> String {
        let n = shown.chars().count();
        match self.erase {
            Erase::Backspaces => format!("{0}{1}{0}", "\x08".repeat(n), " ".repeat(n)),
            Erase::CarriageReturn => format!("\r{}\r", " ".repeat(n)),
            Erase::CursorLeft(left) => format!("\x1b[{left}D{}\x1b[{left}D", " ".repeat(left)),
            Erase::ClearLine => "\r\x1b[2K".to_string(),
        }
    }
}

/// What `enable` asks and answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EnableStyle {
    pub(crate) prompt: &'static str,
    /// Tries before giving up.
    pub(crate) attempts: u32,
    /// Printed after each wrong secret that is not the last (empty: just ask again).
    pub(crate) retry: &'static str,
    /// Printed after the last wrong secret.
    pub(crate) failure: &'static str,
}

/// How a platform reports a command it does not understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorStyle {
    /// A caret under the offending word, then the message.
    Caret(&'static str),
    /// Junos: caret, then `unknown command.` for a bad first word or
    /// `syntax error, expecting <command>.` later in the line.
    Junos,
    /// Arista: `% Invalid input` (no caret line on modern EOS).
    Eos,
    /// A message built around the offending word.
    Word(&'static str),
    /// RouterOS: `bad command name x (line 1 column 1)`.
    RouterOs,
    /// FortiOS: `Unknown action 0` / `command parse error before 'x'`.
    FortiOs,
    /// Bash: `bash: x: command not found`.
    Bash,
}

/// The presentation data of one platform.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub(crate) pager: Option<Pager>,
    pub(crate) errors: ErrorStyle,
    pub(crate) enable: Option<EnableStyle>,
    /// Accepts unique prefixes of keywords.
    pub(crate) abbreviations: bool,
    /// Prints an empty line before every prompt (Junos).
    pub(crate) blank_before_prompt: bool,
    /// The message when a user-mode session runs a privileged command (None: a normal error).
    pub(crate) privileged_required: Option<&'static str>,
    /// The message for a command missing words.
    pub(crate) incomplete: &'static str,
}

const MORE: Pager = Pager {
    text: " --More-- ",
    erase: Erase::Backspaces,
};
const IOS_CARET: ErrorStyle = ErrorStyle::Caret("% Invalid input detected at '^' marker.");
const IOS_ENABLE: EnableStyle = EnableStyle {
    prompt: "Password: ",
    attempts: 3,
    retry: "",
    failure: "% Bad secrets\n",
};

const fn base(pager: Option<Pager>, errors: ErrorStyle) -> Profile {
    Profile {
        pager,
        errors,
        enable: None,
        abbreviations: true,
        blank_before_prompt: false,
        privileged_required: None,
        incomplete: "% Incomplete command.",
    }
}

pub(crate) fn profile(platform: Platform) -> Profile {
    match platform {
        Platform::CiscoIos => Profile {
            enable: Some(IOS_ENABLE),
            ..base(Some(MORE), IOS_CARET)
        },
        Platform::CiscoNxos => Profile {
            ..base(
                Some(MORE),
                ErrorStyle::Caret("% Invalid command at '^' marker."),
            )
        },
        Platform::CiscoIosxr => base(Some(MORE), IOS_CARET),
        Platform::CiscoAsa => Profile {
            enable: Some(EnableStyle {
                prompt: "Password: ",
                attempts: 3,
                retry: "Invalid password\n",
                failure: "Access denied.\n",
            }),
            ..base(
                Some(Pager {
                    text: "<--- More --->",
                    erase: Erase::CarriageReturn,
                }),
                ErrorStyle::Caret("ERROR: % Invalid input detected at '^' marker."),
            )
        },
        Platform::AristaEos => Profile {
            enable: Some(EnableStyle {
                prompt: "Password: ",
                attempts: 1,
                retry: "",
                failure: "% Access denied\n",
            }),
            privileged_required: Some("% Invalid input (privileged mode required)"),
            ..base(Some(MORE), ErrorStyle::Eos)
        },
        Platform::JuniperJunos => Profile {
            blank_before_prompt: true,
            incomplete: "error: incomplete command.",
            ..base(
                Some(Pager {
                    text: "---(more)---",
                    erase: Erase::CarriageReturn,
                }),
                ErrorStyle::Junos,
            )
        },
        Platform::HpProcurve => Profile {
            enable: Some(EnableStyle {
                prompt: "Password: ",
                attempts: 1,
                retry: "",
                failure: "Invalid password\n",
            }),
            ..base(Some(PROCURVE_PAGER), ErrorStyle::Word("Invalid input: {}"))
        },
        Platform::ArubaAoscx => Profile {
            ..base(Some(PROCURVE_PAGER), ErrorStyle::Word("Invalid input: {}"))
        },
        Platform::MikrotikRouteros => base(None, ErrorStyle::RouterOs),
        Platform::FortinetFortios => base(
            Some(Pager {
                text: "--More-- ",
                erase: Erase::CarriageReturn,
            }),
            ErrorStyle::FortiOs,
        ),
        Platform::PaloaltoPanos => Profile {
            abbreviations: false,
            incomplete: "Invalid syntax.",
            ..base(
                Some(Pager {
                    text: "lines",
                    erase: Erase::CarriageReturn,
                }),
                ErrorStyle::Word("Unknown command: {}"),
            )
        },
        Platform::HuaweiVrp => Profile {
            incomplete: "Error: Incomplete command found at '^' position.",
            ..base(
                Some(Pager {
                    text: "  ---- More ----",
                    erase: Erase::CursorLeft(42),
                }),
                ErrorStyle::Caret("Error: Unrecognized command found at '^' position."),
            )
        },
        Platform::DellOs10 => Profile {
            ..base(
                Some(MORE),
                ErrorStyle::Word("% Error: Unrecognized command."),
            )
        },
        Platform::DellOs6 => Profile {
            enable: Some(EnableStyle {
                prompt: "Password:",
                attempts: 1,
                retry: "",
                failure: "% Access denied\n",
            }),
            ..base(Some(MORE), IOS_CARET)
        },
        Platform::BrocadeFastiron => Profile {
            enable: Some(EnableStyle {
                prompt: "Password:",
                attempts: 1,
                retry: "",
                failure: "Error - Incorrect username or password.\n",
            }),
            ..base(
                Some(Pager {
                    text: "--More--, next page: Space, next line: Return key, quit: Control-c",
                    erase: Erase::CarriageReturn,
                }),
                ErrorStyle::Word("Invalid input -> {}\nType ? for a list"),
            )
        },
        Platform::Linux => Profile {
            abbreviations: false,
            ..base(None, ErrorStyle::Bash)
        },
    }
}

const PROCURVE_PAGER: Pager = Pager {
    text: "-- MORE --, next page: Space, next line: Enter, quit: Control-C",
    erase: Erase::ClearLine,
};

/// The VT100 codes ProCurve writes before its prompt (cursor to the last line, clear it, show
/// the cursor).
const PROCURVE_PREFIX: &str = "\x1b[24;1H\x1b[2K\x1b[24;1H\x1b[?25h\x1b[24;1H";

/// The prompt for `mode`; `user` is the login name (MikroTik without its `+` options); `dirty`:
/// an uncommitted candidate exists (Huawei shows `*` instead of `~`).
pub(crate) fn prompt(
    platform: Platform,
    mode: &Mode,
    host: &str,
    user: &str,
    colour: bool,
    dirty: bool,
) -> String {
    let sub = |suffix: &str| match mode {
        Mode::Config { sub: Some(s) } => format!("({s}){suffix}"),
        Mode::Config { sub: None } => format!("(config){suffix}"),
        _ => suffix.to_string(),
    };
    let mark = match mode {
        Mode::User => ">",
        _ => "#",
    };
    match platform {
        Platform::CiscoIos | Platform::AristaEos | Platform::DellOs6 => {
            format!("{host}{}", sub(mark))
        }
        Platform::CiscoNxos | Platform::CiscoAsa | Platform::ArubaAoscx | Platform::DellOs10 => {
            format!("{host}{} ", sub(mark))
        }
        Platform::CiscoIosxr => format!("RP/0/RSP0/CPU0:{host}{}", sub("#")),
        Platform::HpProcurve => format!("{PROCURVE_PREFIX}{host}{} ", sub(mark)),
        Platform::BrocadeFastiron => format!("SSH@{host}{}", sub(mark)),
        Platform::JuniperJunos | Platform::PaloaltoPanos => match mode {
            Mode::Edit => format!("{user}@{host}# "),
            _ => format!("{user}@{host}> "),
        },
        Platform::MikrotikRouteros => {
            if colour {
                format!("{}[{user}@{host}] > {}", colour::BOLD, colour::RESET)
            } else {
                format!("[{user}@{host}] > ")
            }
        }
        Platform::FortinetFortios => match mode {
            Mode::Forti(frames) => match frames.last() {
                Some(frame) => format!("{host} ({}) # ", frame.name()),
                None => format!("{host} # "),
            },
            _ => format!("{host} # "),
        },
        Platform::HuaweiVrp => match mode {
            Mode::Config { sub } => {
                let state = if dirty { '*' } else { '~' };
                let view = sub.as_ref().map(|s| format!("-{s}")).unwrap_or_default();
                format!("[{state}{host}{view}]")
            }
            _ => format!("<{host}>"),
        },
        // FRR's vtysh names the host only.
        Platform::Linux if matches!(mode, Mode::Vtysh | Mode::Config { .. }) => {
            format!("{host}{} ", sub("#"))
        }
        Platform::Linux => {
            if user == "root" {
                format!("{user}@{host}:~# ")
            } else {
                format!("{user}@{host}:~$ ")
            }
        }
    }
}

/// The visible width of a prompt (escape codes do not take columns), to place error carets.
pub(crate) fn visible_width(prompt: &str) -> usize {
    let mut width = 0;
    let mut chars = prompt.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI sequences end with a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c != '\r' && c != '\n' {
            width += 1;
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts() {
        assert_eq!(
            prompt(Platform::CiscoIos, &Mode::User, "r1", "admin", false, false),
            "r1>"
        );
        assert_eq!(
            prompt(
                Platform::CiscoIos,
                &Mode::Config {
                    sub: Some("config-if".into())
                },
                "r1",
                "a",
                false,
                false
            ),
            "r1(config-if)#"
        );
        assert_eq!(
            prompt(
                Platform::JuniperJunos,
                &Mode::Privileged,
                "r1",
                "bob",
                false,
                false
            ),
            "bob@r1> "
        );
        assert_eq!(
            prompt(
                Platform::BrocadeFastiron,
                &Mode::User,
                "r1",
                "a",
                false,
                false
            ),
            "SSH@r1>"
        );
        assert_eq!(
            prompt(
                Platform::FortinetFortios,
                &Mode::Forti(vec![FortiFrame::Config("system console".into())]),
                "fw",
                "a",
                false,
                false
            ),
            "fw (console) # "
        );
        assert_eq!(
            visible_width(&prompt(
                Platform::HpProcurve,
                &Mode::Privileged,
                "sw",
                "a",
                false,
                false
            )),
            4
        );
        let p = MORE;
        assert_eq!(p.erase(" --More-- ").len(), 30);
    }
}
