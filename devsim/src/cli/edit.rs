//! Junos and PAN-OS configuration mode (`[edit]`): `set` and `delete` lines wait in a candidate
//! until `commit`, which is also the save.

use super::{Change, Cli, Mode, Reply};

/// The top-level Junos hierarchies a `set`/`delete` may start with.
const JUNOS_HIERARCHIES: &[&str] = &[
    "access",
    "apply-groups",
    "bridge-domains",
    "chassis",
    "class-of-service",
    "event-options",
    "firewall",
    "forwarding-options",
    "groups",
    "interfaces",
    "policy-options",
    "protocols",
    "routing-instances",
    "routing-options",
    "security",
    "services",
    "snmp",
    "system",
    "vlans",
];

/// The PAN-OS configuration nodes a `set`/`delete` may start with (single-vsys view).
const PANOS_NODES: &[&str] = &[
    "address",
    "address-group",
    "deviceconfig",
    "import",
    "mgt-config",
    "network",
    "rulebase",
    "service",
    "shared",
    "tag",
    "vsys",
    "zone",
];

const PANOS_COMMIT: &str = "Commit job 42 is in progress. Use Ctrl+C to return to command prompt\n\
                            ..........55%....98%.......100%\n\
                            Configuration committed successfully\n";

impl Cli {
    pub(super) fn junos_line(&mut self, line: &str) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => Reply::text(""),
            [verb @ ("set" | "delete"), rest @ ..] => {
                if !rest.first().is_some_and(|w| JUNOS_HIERARCHIES.contains(w)) {
                    let caret = self.caret(line, &words, 1);
                    return Reply::error(format!("{caret}syntax error.\n"));
                }
                // Committed `set` lines are what a `delete` removes: those under its path.
                let statement = format!("set {}", rest.join(" "));
                self.candidate.push(if *verb == "set" {
                    Change::Add(statement)
                } else {
                    Change::RemoveUnder(statement)
                });
                Reply::text("")
            }
            ["commit", "check"] => Reply::text("configuration check succeeds\n"),
            ["commit", rest @ ..] => {
                self.apply_candidate();
                self.device.count_save();
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
            ["show", "|", "compare"] => Reply::text(self.junos_compare()),
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
            ["run", ..] => self.run_exec(line["run".len()..].trim()),
            ["top" | "up" | "edit", ..] => Reply::text(""),
            _ => self.invalid(line, &words, 0),
        }
    }

    /// `show | compare`: the candidate, `+` for each `set` and `-` for each `delete`.
    fn junos_compare(&self) -> String {
        if self.candidate.is_empty() {
            return String::new();
        }
        let mut text = String::from("[edit]\n");
        for change in &self.candidate {
            match change {
                Change::Add(line) => text.push_str(&format!("+ {line}\n")),
                Change::RemoveUnder(line) => text.push_str(&format!("- {line}\n")),
                Change::Remove(_) => {}
            }
        }
        text
    }

    pub(super) fn panos_line(&mut self, line: &str) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => Reply::text(""),
            [verb @ ("set" | "delete"), rest @ ..] => {
                if !rest.first().is_some_and(|w| PANOS_NODES.contains(w)) {
                    return Reply::error("Invalid syntax.\n");
                }
                // Stored without `set`: the configuration shows it as a statement of its own.
                let statement = rest.join(" ");
                self.candidate.push(if *verb == "set" {
                    Change::Add(statement)
                } else {
                    Change::RemoveUnder(statement)
                });
                Reply::text("")
            }
            ["commit", ..] => {
                self.apply_candidate();
                self.device.count_save();
                Reply::text(PANOS_COMMIT)
            }
            ["revert", "config"] => {
                self.candidate.clear();
                Reply::text("Candidate configuration reverted\n")
            }
            // PAN-OS keeps the candidate when configuration mode is left.
            ["exit" | "quit"] => {
                self.mode = Mode::Privileged;
                Reply::text("Exiting configuration mode\n")
            }
            ["run", ..] => self.run_exec(line["run".len()..].trim()),
            _ => self.invalid(line, &words, 0),
        }
    }
}
