//! Command tables: which words each platform understands, what they do, and the matcher that
//! accepts unambiguous abbreviations (`sh run`, `term len 0`) the way network CLIs do.

use super::Question;
use crate::platform::Platform;
use crate::render::{ConfigView, Fact};

/// What a recognised command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Print the configuration.
    Config(ConfigView),
    /// Print an informational output.
    Fact(Fact),
    /// Switch paging off for the session and print the message.
    PagingOff(&'static str),
    /// Accept the command and print the message (often empty).
    Ack(&'static str),
    Enable,
    Disable,
    /// Enter IOS-style configuration mode, printing the message.
    Configure(&'static str),
    /// Enter Junos or PAN-OS configuration mode (`[edit]`).
    EditConfigure,
    /// Save the configuration (a counted save) and print the message.
    Save(&'static str),
    /// Ask a question; the answer decides (`copy running-config startup-config` on IOS).
    Ask(Question),
    /// Linux: start FRR's `vtysh`.
    Vtysh,
    /// End the session (in `vtysh`: back to the shell).
    Exit,
}

/// The privilege a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    User,
    Privileged,
}

/// One command: its keywords (`*` = any one argument) and effect.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Cmd {
    pub(crate) words: &'static [&'static str],
    pub(crate) action: Action,
    pub(crate) level: Level,
}

const fn user(words: &'static [&'static str], action: Action) -> Cmd {
    Cmd {
        words,
        action,
        level: Level::User,
    }
}

const fn privileged(words: &'static [&'static str], action: Action) -> Cmd {
    Cmd {
        words,
        action,
        level: Level::Privileged,
    }
}

use Action::*;
use ConfigView::*;

const IOS: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["terminal", "length", "0"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["terminal", "width", "*"], Ack("")),
    user(&["terminal", "no", "monitor"], Ack("")),
    user(&["enable"], Enable),
    privileged(&["disable"], Disable),
    privileged(
        &["configure", "terminal"],
        Configure("Enter configuration commands, one per line.  End with CNTL/Z."),
    ),
    privileged(&["write", "memory"], Save(IOS_SAVED)),
    privileged(&["write"], Save(IOS_SAVED)),
    privileged(
        &["copy", "running-config", "startup-config"],
        Ask(Question::IosDestination),
    ),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
    user(&["quit"], Exit),
];

pub(crate) const IOS_SAVED: &str = "Building configuration...\n[OK]";

const NXOS: &[Cmd] = &[
    user(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["terminal", "length", "0"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["terminal", "width", "*"], Ack("")),
    user(
        &["configure", "terminal"],
        Configure("Enter configuration commands, one per line. End with CNTL/Z."),
    ),
    user(
        &["copy", "running-config", "startup-config"],
        Save("[########################################] 100%\nCopy complete."),
    ),
    user(&["exit"], Exit),
];

const IOSXR: &[Cmd] = &[
    user(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["terminal", "length", "0"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["terminal", "width", "*"], Ack("")),
    user(&["configure", "terminal"], Configure("")),
    user(&["configure"], Configure("")),
    user(&["exit"], Exit),
];

const ASA: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    privileged(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    privileged(&["terminal", "pager", "0"], PagingOff("")),
    privileged(&["terminal", "pager", "lines", "0"], PagingOff("")),
    privileged(&["terminal", "width", "*"], Ack("")),
    user(&["enable"], Enable),
    privileged(&["disable"], Disable),
    privileged(&["configure", "terminal"], Configure("")),
    // `{checksum}` is replaced by the configuration's Cryptochecksum in four groups.
    privileged(
        &["write", "memory"],
        Save("Building configuration...\nCryptochecksum: {checksum}\n\n[OK]"),
    ),
    privileged(
        &["write"],
        Save("Building configuration...\nCryptochecksum: {checksum}\n\n[OK]"),
    ),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
    user(&["quit"], Exit),
];

const EOS: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(
        &["terminal", "length", "0"],
        PagingOff("Pagination disabled."),
    ),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["terminal", "width", "*"], Ack("")),
    user(&["enable"], Enable),
    privileged(&["disable"], Disable),
    privileged(&["configure", "terminal"], Configure("")),
    privileged(&["configure"], Configure("")),
    privileged(&["write", "memory"], Save("Copy completed successfully.")),
    privileged(&["write"], Save("Copy completed successfully.")),
    privileged(
        &["copy", "running-config", "startup-config"],
        Save("Copy completed successfully."),
    ),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
];

const JUNOS: &[Cmd] = &[
    user(
        &["show", "configuration", "|", "display", "set"],
        Config(SetCommands),
    ),
    user(&["show", "configuration"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "chassis", "hardware"], Fact(Fact::Inventory)),
    user(&["show", "system", "uptime"], Fact(Fact::Clock)),
    user(
        &["set", "cli", "screen-length", "0"],
        PagingOff("Screen length set to 0"),
    ),
    user(
        &["set", "cli", "screen-width", "0"],
        Ack("Screen width set to 0"),
    ),
    user(
        &["set", "cli", "screen-width", "*"],
        Ack("Screen width set"),
    ),
    user(
        &["set", "cli", "complete-on-space", "off"],
        Ack("Disabling complete-on-space"),
    ),
    user(&["configure"], EditConfigure),
    user(&["exit"], Exit),
    user(&["quit"], Exit),
];

const PROCURVE: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "system"], Fact(Fact::System)),
    user(&["show", "modules"], Fact(Fact::Inventory)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["no", "page"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["terminal", "width", "*"], Ack("")),
    user(&["enable"], Enable),
    privileged(&["configure", "terminal"], Configure("")),
    privileged(&["configure"], Configure("")),
    privileged(&["write", "memory"], Save("")),
    privileged(&["write"], Save("")),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
];

const AOSCX: &[Cmd] = &[
    user(&["show", "running-config"], Config(Native)),
    user(&["show", "system"], Fact(Fact::System)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["no", "page"], PagingOff("")),
    user(&["page"], Ack("")),
    user(&["configure", "terminal"], Configure("")),
    user(&["write", "memory"], Save(AOSCX_SAVED)),
    user(&["write"], Save(AOSCX_SAVED)),
    user(
        &["copy", "running-config", "startup-config"],
        Save("Success"),
    ),
    user(&["exit"], Exit),
];

const AOSCX_SAVED: &str = "Configuration changes will take time to process, please be patient.";

const ROUTEROS: &[Cmd] = &[
    user(&["export", "show-sensitive"], Config(ShowSensitive)),
    user(&["export", "hide-sensitive"], Config(Native)),
    user(&["export", "terse"], Config(Native)),
    user(&["export"], Config(Native)),
    user(&["system", "resource", "print"], Fact(Fact::System)),
    user(&["system", "routerboard", "print"], Fact(Fact::Inventory)),
    user(&["system", "identity", "print"], Fact(Fact::Identity)),
    user(&["system", "clock", "print"], Fact(Fact::Clock)),
    user(&["quit"], Exit),
];

const FORTIOS: &[Cmd] = &[
    user(&["show", "full-configuration"], Config(Native)),
    user(&["show"], Config(Native)),
    user(&["get", "system", "status"], Fact(Fact::Version)),
    user(&["exit"], Exit),
];

const PANOS: &[Cmd] = &[
    user(&["show", "config", "running"], Config(Native)),
    user(&["show", "system", "info"], Fact(Fact::Version)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["set", "cli", "pager", "off"], PagingOff("")),
    user(&["set", "cli", "pager", "on"], Ack("")),
    user(&["set", "cli", "scripting-mode", "*"], Ack("")),
    user(&["set", "cli", "terminal", "width", "*"], Ack("")),
    user(&["set", "cli", "config-output-format", "*"], Ack("")),
    user(&["configure"], EditConfigure),
    user(&["exit"], Exit),
    user(&["quit"], Exit),
];

const VRP: &[Cmd] = &[
    user(&["display", "current-configuration"], Config(Native)),
    user(&["display", "version"], Fact(Fact::Version)),
    user(&["display", "esn"], Fact(Fact::Inventory)),
    user(&["display", "clock"], Fact(Fact::Clock)),
    user(
        &["screen-length", "0", "temporary"],
        PagingOff(
            "Info: The configuration takes effect on the current user terminal interface only.",
        ),
    ),
    user(&["screen-width", "*"], Ack("")),
    user(
        &["system-view"],
        Configure("Enter system view, return user view with return command."),
    ),
    user(&["save"], Ask(Question::VrpSave)),
    user(&["quit"], Exit),
];

const OS10: &[Cmd] = &[
    user(&["show", "running-configuration"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "inventory"], Fact(Fact::Inventory)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["terminal", "length", "0"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["configure", "terminal"], Configure("")),
    user(&["write", "memory"], Save("")),
    user(&["write"], Save("")),
    user(
        &["copy", "running-configuration", "startup-configuration"],
        Save(""),
    ),
    user(&["exit"], Exit),
];

const OS6: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(&["terminal", "length", "0"], PagingOff("")),
    user(&["terminal", "length", "*"], Ack("")),
    user(&["enable"], Enable),
    privileged(&["disable"], Disable),
    privileged(&["configure"], Configure("")),
    privileged(&["write", "memory"], Ask(Question::Os6Save)),
    privileged(&["write"], Ask(Question::Os6Save)),
    privileged(
        &["copy", "running-config", "startup-config"],
        Ask(Question::Os6Save),
    ),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
    user(&["quit"], Exit),
];

const FASTIRON: &[Cmd] = &[
    privileged(&["show", "running-config"], Config(Native)),
    user(&["show", "version"], Fact(Fact::Version)),
    user(&["show", "clock"], Fact(Fact::Clock)),
    user(
        &["skip-page-display"],
        PagingOff("Disable page display mode"),
    ),
    user(&["page-display"], Ack("Enable page display mode")),
    user(&["enable"], Enable),
    privileged(&["configure", "terminal"], Configure("")),
    privileged(&["write", "memory"], Save("Write startup-config done.")),
    privileged(&["write"], Save("Write startup-config done.")),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
];

const LINUX: &[Cmd] = &[
    user(&["cat", "/etc/frr/frr.conf"], Config(Native)),
    user(&["cat", "/etc/hostname"], Fact(Fact::Hostname)),
    user(&["cat", "/etc/os-release"], Fact(Fact::OsRelease)),
    user(
        &["cat", "/etc/network/interfaces"],
        Fact(Fact::NetworkInterfaces),
    ),
    user(&["uname", "-a"], Fact(Fact::UnameAll)),
    user(&["uname", "-sr"], Fact(Fact::UnameSr)),
    user(&["uname", "-rs"], Fact(Fact::UnameSr)),
    user(&["uname"], Fact(Fact::Uname)),
    user(&["hostname"], Fact(Fact::Hostname)),
    user(&["whoami"], Fact(Fact::Whoami)),
    user(&["vtysh"], Vtysh),
    user(&["exit"], Exit),
    user(&["logout"], Exit),
];

/// FRR's `vtysh` on Linux (it accepts abbreviations, unlike bash).
pub(crate) const VTYSH: &[Cmd] = &[
    user(&["show", "running-config"], Config(Native)),
    user(&["configure", "terminal"], Configure("")),
    user(&["configure"], Configure("")),
    user(&["write", "memory"], Save(FRR_SAVED)),
    user(&["write"], Save(FRR_SAVED)),
    user(&["end"], Ack("")),
    user(&["exit"], Exit),
    user(&["quit"], Exit),
];

const FRR_SAVED: &str = "Note: this version of vtysh never writes vtysh.conf\n\
                         Building Configuration...\n\
                         Integrated configuration saved to /etc/frr/frr.conf\n\
                         [OK]";

pub(crate) fn commands(platform: Platform) -> &'static [Cmd] {
    match platform {
        Platform::CiscoIos => IOS,
        Platform::CiscoNxos => NXOS,
        Platform::CiscoIosxr => IOSXR,
        Platform::CiscoAsa => ASA,
        Platform::AristaEos => EOS,
        Platform::JuniperJunos => JUNOS,
        Platform::HpProcurve => PROCURVE,
        Platform::ArubaAoscx => AOSCX,
        Platform::MikrotikRouteros => ROUTEROS,
        Platform::FortinetFortios => FORTIOS,
        Platform::PaloaltoPanos => PANOS,
        Platform::HuaweiVrp => VRP,
        Platform::DellOs10 => OS10,
        Platform::DellOs6 => OS6,
        Platform::BrocadeFastiron => FASTIRON,
        Platform::Linux => LINUX,
    }
}

/// The result of looking a command line up in a table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup<'t> {
    Found(&'t Cmd),
    /// The words up to (not including) this token index were understood; this one was not.
    Invalid(usize),
    /// All words were understood but the command needs more.
    Incomplete,
}

/// Finds the command `tokens` spell. `abbreviations` lets a token be any prefix of a keyword.
/// An exact spelling wins over an abbreviation; otherwise the first match in table order does.
pub(crate) fn lookup<'t>(table: &'t [Cmd], tokens: &[&str], abbreviations: bool) -> Lookup<'t> {
    let mut best_depth = 0;
    let mut incomplete = false;
    let mut found: Option<(&Cmd, bool)> = None;
    for cmd in table {
        let mut exact = true;
        let mut depth = 0;
        for (word, token) in cmd.words.iter().zip(tokens) {
            let ok = if *word == "*" || word == token {
                true
            } else if abbreviations && word.starts_with(token) {
                exact = false;
                true
            } else {
                false
            };
            if !ok {
                break;
            }
            depth += 1;
        }
        if depth == tokens.len() && depth == cmd.words.len() {
            match found {
                Some((_, true)) => {}
                Some((_, false)) if !exact => {}
                _ => found = Some((cmd, exact)),
            }
        } else if depth == tokens.len() && depth < cmd.words.len() {
            incomplete = true;
        }
        best_depth = best_depth.max(depth.min(tokens.len()));
    }
    match found {
        Some((cmd, _)) => Lookup::Found(cmd),
        None if incomplete => Lookup::Incomplete,
        None => Lookup::Invalid(best_depth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_and_errors() {
        let t = commands(Platform::CiscoIos);
        let found = |line: &str| match lookup(t, &line.split_whitespace().collect::<Vec<_>>(), true)
        {
            Lookup::Found(c) => Some(c.action),
            _ => None,
        };
        assert_eq!(found("sh run"), Some(Action::Config(ConfigView::Native)));
        assert_eq!(found("term len 0"), Some(Action::PagingOff("")));
        assert_eq!(found("terminal length 24"), Some(Action::Ack("")));
        assert!(matches!(found("conf t"), Some(Action::Configure(_))));
        assert_eq!(lookup(t, &["show", "foo"], true), Lookup::Invalid(1));
        assert_eq!(lookup(t, &["foo"], true), Lookup::Invalid(0));
        assert_eq!(lookup(t, &["show"], true), Lookup::Incomplete);
        let j = commands(Platform::JuniperJunos);
        let line: Vec<&str> = "show configuration | display set"
            .split_whitespace()
            .collect();
        assert!(
            matches!(lookup(j, &line, true), Lookup::Found(c) if c.action == Action::Config(ConfigView::SetCommands))
        );
    }
}
