//! RouterOS commands that change the configuration: `/<menu> add|set|remove ...`. RouterOS
//! applies and saves each at once; `/export` shows them at its end, under their menu's header
//! (`/ip address` then `add address=... interface=...`).

use super::{Cli, Reply};

/// Menus a change may be made in: the sections of the generated export and common others.
const MENUS: &[&str] = &[
    "certificate",
    "interface",
    "interface bonding",
    "interface bridge",
    "interface bridge port",
    "interface bridge vlan",
    "interface ethernet",
    "interface list",
    "interface list member",
    "interface vlan",
    "interface wireguard",
    "interface wireguard peers",
    "interface wireless security-profiles",
    "ip address",
    "ip dhcp-client",
    "ip dhcp-server",
    "ip dhcp-server network",
    "ip dns",
    "ip dns static",
    "ip firewall address-list",
    "ip firewall filter",
    "ip firewall mangle",
    "ip firewall nat",
    "ip ipsec identity",
    "ip ipsec peer",
    "ip ipsec policy",
    "ip ipsec profile",
    "ip ipsec proposal",
    "ip neighbor discovery-settings",
    "ip pool",
    "ip route",
    "ip service",
    "ipv6 address",
    "ipv6 firewall filter",
    "ipv6 route",
    "ppp secret",
    "queue simple",
    "radius",
    "routing bgp connection",
    "routing bgp template",
    "routing filter rule",
    "routing ospf area",
    "routing ospf instance",
    "routing ospf interface-template",
    "snmp",
    "snmp community",
    "system clock",
    "system identity",
    "system logging",
    "system logging action",
    "system note",
    "system ntp client",
    "system ntp client servers",
    "system scheduler",
    "system script",
    "user",
    "user aaa",
    "user group",
];

/// The words of `text` (quotes and `[ ... ]` kept whole) with their byte offsets.
fn arguments(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let (mut start, mut quoted, mut brackets) = (None, false, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => brackets += 1,
            ']' if !quoted => brackets = brackets.saturating_sub(1),
            c if c.is_whitespace() && !quoted && brackets == 0 => {
                if let Some(s) = start.take() {
                    words.push((s, &text[s..i]));
                }
                continue;
            }
            _ => {}
        }
        start.get_or_insert(i);
    }
    if let Some(s) = start {
        words.push((s, &text[s..]));
    }
    words
}

impl Cli {
    /// A change command, or None when `line` is not one (the command table handles it).
    pub(super) fn routeros_line(&mut self, line: &str) -> Option<Reply> {
        // The menu path's words are separated by `/` or spaces; the action word ends it.
        let mut path: Vec<(usize, &str)> = Vec::new();
        let mut pos = 0;
        let (action, action_at) = loop {
            let start = pos + line[pos..].find(|c: char| c != '/' && !c.is_whitespace())?;
            let len = line[start..]
                .find(|c: char| c == '/' || c.is_whitespace())
                .unwrap_or(line.len() - start);
            let word = &line[start..start + len];
            if word.contains(['=', '[', '"']) {
                return None;
            }
            pos = start + len;
            if matches!(word, "add" | "set" | "remove") {
                break (word, start);
            }
            path.push((start, word));
        };
        let bad = |word: &str, at: usize| {
            Some(Reply::error(format!(
                "bad command name {word} (line 1 column {})\n",
                at + 1
            )))
        };
        let mut menu = String::new();
        for (at, word) in path {
            let longer = if menu.is_empty() {
                word.to_string()
            } else {
                format!("{menu} {word}")
            };
            let prefix = format!("{longer} ");
            if !MENUS.iter().any(|m| *m == longer || m.starts_with(&prefix)) {
                return bad(word, at);
            }
            menu = longer;
        }
        if !MENUS.contains(&menu.as_str()) {
            return bad(action, action_at);
        }
        let args = line[pos..].trim();
        let args_at = line.len() - line[pos..].trim_start().len();
        if action == "add"
            && let Some((at, _)) = arguments(args).into_iter().find(|(_, w)| !w.contains('='))
        {
            return Some(Reply::error(format!(
                "expected end of command (line 1 column {})\n",
                args_at + at + 1
            )));
        }
        let header = format!("/{menu}");
        if action == "remove" {
            remove_items(self, &header, args);
        } else {
            let item = format!("{action} {args}").trim_end().to_string();
            self.device.edit_config(|lines| {
                // Consecutive changes in one menu share its header, as in an export.
                if lines.iter().rev().find(|l| l.starts_with('/')) != Some(&header) {
                    lines.push(header);
                }
                lines.push(item);
            });
        }
        self.device.count_save();
        Some(Reply::text(""))
    }
}

/// `remove [find address=10.9.9.1/24 ...]`: removes the added items of the menu that have every
/// `name=value` given. Item numbers refer to `print` output, which is not simulated.
fn remove_items(cli: &Cli, header: &str, args: &str) {
    let unquote = |s: &str| s.replace('"', "");
    let conditions: Vec<String> = args
        .trim_matches(|c| c == '[' || c == ']')
        .split_whitespace()
        .filter(|w| w.contains('='))
        .map(unquote)
        .collect();
    if conditions.is_empty() {
        return;
    }
    cli.device.edit_config(|lines| {
        let mut section = String::new();
        lines.retain(|l| {
            if l.starts_with('/') {
                section = l.clone();
                return true;
            }
            let matches = section == header
                && l.starts_with("add ")
                && conditions
                    .iter()
                    .all(|c| arguments(l).iter().any(|(_, w)| unquote(w) == *c));
            !matches
        });
        // A header left without items goes too.
        let mut i = 0;
        while i < lines.len() {
            let empty = lines[i] == header && lines.get(i + 1).is_none_or(|n| n.starts_with('/'));
            if empty {
                lines.remove(i);
            } else {
                i += 1;
            }
        }
    });
}
