//! IOS-style configuration mode, shared by the IOS family, IOS-XR and Huawei (whose lines wait
//! in a candidate until `commit`) and FRR's vtysh. A line's first word must be a known
//! configuration keyword, so a typo is rejected with the platform's error instead of silently
//! becoming part of the configuration.

use super::{Change, Cli, Mode, Question, Reply};
use crate::platform::Platform;

/// First words of configuration lines, top level and sub-modes, all platforms together: what
/// engineers really type, not a grammar (the rest of a line is not checked). Sorted, so the
/// list is easy to extend; `frobnicate` must never be here (NetRaven's tests use it as the
/// rejected line).
const KEYWORDS: &[&str] = &[
    "aaa",
    "aaa-server",
    "access-class",
    "access-group",
    "access-list",
    "access-session",
    "acl",
    "activate",
    "address",
    "address-family",
    "agent",
    "agentx",
    "alias",
    "allowed",
    "application",
    "apply",
    "archive",
    "area",
    "arp",
    "as-path",
    "asdm",
    "authentication",
    "authentication-mode",
    "auto-cost",
    "auto-summary",
    "bandwidth",
    "banner",
    "bfd",
    "bgp",
    "boot",
    "bridge",
    "bridge-group",
    "broadcast-limit",
    "ca",
    "call",
    "call-home",
    "cdp",
    "channel-group",
    "class",
    "class-map",
    "clock",
    "community-list",
    "console",
    "continue",
    "control-plane",
    "crypto",
    "daemon",
    "debug",
    "default",
    "default-information",
    "delay",
    "deny",
    "description",
    "destination",
    "dhcp",
    "dhcp-relay",
    "dhcp-snooping",
    "dhcpd",
    "distance",
    "distribute-list",
    "dns",
    "domain",
    "dot1x",
    "duplex",
    "enable",
    "encapsulation",
    "errdisable",
    "eth-trunk",
    "ethernet",
    "event-handler",
    "evpn",
    "exec",
    "exec-timeout",
    "exit-address-family",
    "failover",
    "feature",
    "flow",
    "flowcontrol",
    "fqdn",
    "frr",
    "ftp",
    "graceful-restart",
    "group-object",
    "group-policy",
    "hardware",
    "header",
    "helper-address",
    "hold-queue",
    "hold-time",
    "host",
    "hostname",
    "hsrp",
    "http",
    "https-server",
    "icmp",
    "igmp",
    "include-credentials",
    "info-center",
    "inspect",
    "interface",
    "ip",
    "ip-helper",
    "ipv4",
    "ipv6",
    "isis",
    "keepalive",
    "key",
    "key-string",
    "kron",
    "lacp",
    "lag",
    "led",
    "line",
    "link-type",
    "lldp",
    "load-interval",
    "local-user",
    "location",
    "lockout",
    "log",
    "logging",
    "login",
    "loop-protect",
    "loopback",
    "mab",
    "mac",
    "macro",
    "management",
    "match",
    "max-vlans",
    "maximum-paths",
    "maximum-prefix",
    "media-type",
    "member",
    "metric",
    "mirror",
    "mls",
    "mode",
    "module",
    "monitor",
    "mpls",
    "mpls-te",
    "mst",
    "mtu",
    "name",
    "nameif",
    "nat",
    "native",
    "negotiation",
    "neighbor",
    "network",
    "network-object",
    "next-hop-self",
    "ntp",
    "ntp-service",
    "nv",
    "nve",
    "object",
    "object-group",
    "oobm",
    "ospf",
    "pager",
    "passive-interface",
    "password",
    "peer",
    "peer-group",
    "permit",
    "permit-list",
    "platform",
    "police",
    "policy",
    "policy-map",
    "port",
    "port-channel",
    "port-object",
    "port-security",
    "port-type",
    "portfilter",
    "portswitch",
    "power",
    "power-over-ethernet",
    "prefix-list",
    "primary-vlan",
    "priority",
    "privilege",
    "profile",
    "protocol",
    "ptp",
    "qos",
    "queue-monitor",
    "radius",
    "radius-server",
    "range",
    "rate-limit",
    "redistribute",
    "redundancy",
    "remark",
    "remote-as",
    "rmon",
    "route",
    "route-map",
    "router",
    "router-id",
    "router-interface",
    "routing",
    "rule",
    "same-security-traffic",
    "security-level",
    "send-community",
    "seq",
    "service",
    "service-object",
    "service-policy",
    "set",
    "sflow",
    "shape",
    "shutdown",
    "snmp",
    "snmp-agent",
    "snmp-server",
    "snmpv3",
    "sntp",
    "soft-reconfiguration",
    "source",
    "spanning-tree",
    "speed",
    "ssh",
    "ssl",
    "stack",
    "standby",
    "stelnet",
    "storm-control",
    "stp",
    "subnet",
    "summary-address",
    "switchport",
    "sysname",
    "system",
    "tacacs",
    "tacacs-server",
    "tagged",
    "telnet",
    "time",
    "time-range",
    "timers",
    "timesync",
    "track",
    "traffic-policy",
    "transport",
    "trunk",
    "trunkport",
    "tunnel",
    "tunnel-group",
    "udld",
    "untagged",
    "update-source",
    "user",
    "user-group",
    "user-interface",
    "username",
    "version",
    "virtual-network",
    "vlan",
    "vlan-id",
    "vlt-domain",
    "vpc",
    "vpn",
    "vrf",
    "vrrp",
    "vsf",
    "vstack",
    "vsx",
    "vtp",
    "vxlan",
    "web-management",
    "webvpn",
    "xconnect",
];

/// The keyword `word` stands for: itself, or the one keyword it abbreviates (`int`, `desc`). An
/// ambiguous abbreviation is accepted as it is: the list is not the device's, so calling it
/// ambiguous would often be wrong. None for an unknown word.
fn keyword(word: &str) -> Option<String> {
    let word = word.to_ascii_lowercase();
    if KEYWORDS.binary_search(&word.as_str()).is_ok() {
        return Some(word);
    }
    let mut matches = KEYWORDS.iter().filter(|k| k.starts_with(&word));
    match (matches.next(), matches.next()) {
        (Some(only), None) => Some(only.to_string()),
        (Some(_), Some(_)) => Some(word),
        _ => None,
    }
}

/// The sub-mode a configuration line enters, if any (`words` has the keyword spelled out).
fn sub_mode(platform: Platform, words: &[&str]) -> Option<String> {
    if platform == Platform::HuaweiVrp {
        // Huawei names the view in the prompt: `[~host-10GE1/0/1]`, `[~host-vlan10]`.
        return match words {
            ["interface", name, ..] => Some(name.to_string()),
            ["vlan", id] if *id != "batch" => Some(format!("vlan{id}")),
            ["bgp", ..] => Some("bgp".into()),
            ["ospf", id, ..] => Some(format!("ospf-{id}")),
            ["ospf"] => Some("ospf-1".into()),
            ["aaa"] => Some("aaa".into()),
            _ => None,
        };
    }
    let name = match words {
        ["interface", ..] => "config-if",
        // IOS-XR names router modes after the protocol: `(config-bgp)`, `(config-ospf)`.
        ["router", protocol, ..] if platform == Platform::CiscoIosxr => {
            return Some(format!("config-{protocol}"));
        }
        ["router", ..] => "config-router",
        ["line", ..] => "config-line",
        ["vlan", ..] => "config-vlan",
        ["ip", "access-list", ..] => "config-acl",
        ["route-map", ..] => "config-route-map",
        ["class-map", ..] => "config-cmap",
        ["policy-map", ..] => "config-pmap",
        // ASA objects: `(config-network-object)`, `(config-service-object-group)`.
        ["object", kind, ..] => return Some(format!("config-{kind}-object")),
        ["object-group", kind, ..] => return Some(format!("config-{kind}-object-group")),
        _ => return None,
    };
    Some(name.into())
}

/// The commands of vtysh's `-c 'show running-config' -c "write memory"` (an unquoted command is
/// one word, as the shell splits it); None for anything else.
fn vtysh_arguments(mut args: &str) -> Option<Vec<&str>> {
    let mut commands = Vec::new();
    while !args.is_empty() {
        args = args.strip_prefix("-c")?.trim_start();
        let (command, rest) = match args.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                let end = 1 + args[1..].find(quote)?;
                (&args[1..end], &args[end + 1..])
            }
            _ => args.split_once(char::is_whitespace).unwrap_or((args, "")),
        };
        commands.push(command.trim());
        args = rest.trim_start();
    }
    Some(commands)
}

impl Cli {
    /// Bash `vtysh -c '...' [-c '...']`: runs the commands in FRR's shell (configuration
    /// commands included) and comes back to bash.
    pub(super) fn vtysh_commands(&mut self, args: &str) -> Reply {
        let Some(commands) = vtysh_arguments(args) else {
            return Reply::error("Usage : vtysh [OPTION...]\n");
        };
        let mut out = Reply::text("");
        self.mode = Mode::Vtysh;
        for command in commands {
            let reply = self.execute(command);
            out.text.push_str(&reply.text);
            out.status = out.status.max(reply.status);
        }
        // Whatever the commands left open ends with the vtysh process.
        self.question = None;
        self.candidate.clear();
        self.mode = Mode::Privileged;
        out
    }

    /// One line in configuration mode; `sub` is the current sub-mode.
    pub(super) fn config_line(&mut self, line: &str, sub: Option<String>) -> Reply {
        let platform = self.platform();
        let vrp = platform == Platform::HuaweiVrp;
        let xr = platform == Platform::CiscoIosxr;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => return Reply::text(""),
            // Ctrl-Z arrives as a line of its own; Huawei's `end` is `return`.
            ["\x1a"] => return self.leave_config(),
            ["end"] if !vrp => return self.leave_config(),
            ["return"] if vrp => return self.leave_config(),
            ["exit"] => return self.exit_level(sub),
            ["quit"] if vrp => return self.exit_level(sub),
            ["commit"] if self.uses_candidate() => return self.commit(),
            ["abort"] if xr => {
                self.candidate.clear();
                self.mode = self.exec_mode();
                return Reply::text("");
            }
            ["clear", "configuration", "candidate"] if vrp => {
                self.candidate.clear();
                return Reply::text("");
            }
            ["show", "configuration"] if xr => return self.xr_candidate(),
            ["do", ..] => return self.run_exec(line[2..].trim()),
            // Huawei runs `display` and `save` in any view.
            [first, ..]
                if vrp
                    && (*first == "save" || (first.len() >= 2 && "display".starts_with(first))) =>
            {
                return self.run_exec(line);
            }
            _ => {}
        }
        let negation = if vrp { "undo" } else { "no" };
        let at = usize::from(words[0] == negation);
        let Some(word) = words.get(at) else {
            return self.incomplete(line, &words);
        };
        let Some(keyword) = keyword(word) else {
            return self.invalid(line, &words, at);
        };
        if at == 1 {
            self.stage(Change::Remove(words[1..].join(" ")));
            return Reply::text("");
        }
        // The line is kept as typed (what was pushed is what is read back); the spelled-out
        // keyword only decides whether it opens a sub-mode.
        let mut spelled = words.clone();
        spelled[0] = &keyword;
        let entering = sub_mode(platform, &spelled);
        let indent = match (&entering, &sub) {
            (None, Some(_)) => self.sub_indent(),
            _ => "",
        };
        self.stage(Change::Add(format!("{indent}{}", words.join(" "))));
        if entering.is_some() {
            self.mode = Mode::Config { sub: entering };
        }
        Reply::text("")
    }

    /// Whether configuration lines wait for `commit` (IOS-XR, Huawei) instead of taking effect
    /// at once.
    fn uses_candidate(&self) -> bool {
        matches!(self.platform(), Platform::CiscoIosxr | Platform::HuaweiVrp)
    }

    fn stage(&mut self, change: Change) {
        self.candidate.push(change);
        if !self.uses_candidate() {
            self.apply_candidate();
        }
    }

    fn commit(&mut self) -> Reply {
        let xr = self.platform() == Platform::CiscoIosxr;
        if xr && self.candidate.is_empty() {
            return Reply::text("% No configuration changes to commit.\n");
        }
        self.apply_candidate();
        // An IOS-XR commit is persistent; Huawei saves with `save`.
        if xr {
            self.device.count_save();
        }
        Reply::text("")
    }

    /// `end`, Ctrl-Z, `exit` at the top: back to exec mode, unless uncommitted changes make the
    /// device ask first.
    fn leave_config(&mut self) -> Reply {
        if !self.candidate.is_empty() {
            self.question = Some(if self.platform() == Platform::HuaweiVrp {
                Question::VrpUncommitted
            } else {
                Question::XrUncommitted
            });
            return Reply::text("");
        }
        self.mode = self.exec_mode();
        Reply::text("")
    }

    /// `exit`: up from a sub-mode, or out of configuration mode at the top.
    fn exit_level(&mut self, sub: Option<String>) -> Reply {
        if sub.is_none() {
            return self.leave_config();
        }
        self.mode = Mode::Config { sub: None };
        Reply::text("")
    }

    /// Leaves configuration mode after the uncommitted-changes question.
    pub(super) fn close_config(&mut self, commit: bool) -> Reply {
        if commit {
            self.commit();
        }
        self.candidate.clear();
        self.mode = self.exec_mode();
        Reply::text("")
    }

    /// IOS-XR `show configuration` in configuration mode: the uncommitted changes.
    fn xr_candidate(&self) -> Reply {
        let mut text = String::from("Building configuration...\n!! IOS XR Configuration 7.3.2\n");
        for change in &self.candidate {
            match change {
                Change::Add(line) => text.push_str(&format!("{line}\n")),
                Change::Remove(line) => text.push_str(&format!("no {}\n", line.trim())),
                Change::RemoveUnder(_) => {}
            }
        }
        text.push_str("end\n");
        Reply::text(text)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_and_abbreviate() {
        assert!(
            KEYWORDS.windows(2).all(|w| w[0] < w[1]),
            "KEYWORDS unsorted"
        );
        assert_eq!(keyword("int").as_deref(), Some("interface"));
        assert_eq!(keyword("Hostname").as_deref(), Some("hostname"));
        assert_eq!(keyword("ho").as_deref(), Some("ho"));
        assert_eq!(keyword("frobnicate"), None);
    }
}
