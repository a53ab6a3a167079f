//! The three line filters of a platform profile, applied to a fetched configuration:
//! strip (volatile lines never stored), mask (secrets replaced by a marker), and ignore (lines, or
//! parts of lines, left out when deciding whether the configuration changed).

use std::borrow::Cow;

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};

use super::profile::{Filters, Section};

/// What replaces a secret in a masked configuration.
pub const MASK_MARKER: &str = "<masked>";

/// The configuration with volatile lines removed and blank lines trimmed at both ends.
pub fn strip(filters: &Filters, text: &str) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !filters.strip.iter().any(|r| r.is_match(line)))
        .collect();
    let start = kept.iter().position(|l| !l.trim().is_empty());
    let end = kept.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => {
            let mut out = kept[s..=e].join("\n");
            out.push('\n');
            out
        }
        _ => String::new(),
    }
}

/// Every secret replaced by [`MASK_MARKER`].
pub fn mask(filters: &Filters, text: &str) -> String {
    let mut out = Cow::Borrowed(text);
    for rule in &filters.mask {
        if !rule.pattern.is_match(&out) {
            continue;
        }
        out = Cow::Owned(match &rule.section {
            None => replace_group(&rule.pattern, &out, "secret", MASK_MARKER),
            Some(section) => mask_in_section(&rule.pattern, section, &out),
        });
    }
    out.into_owned()
}

fn mask_in_section(pattern: &Regex, section: &Section, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let closes = inside && section.end.is_match(bare);
        if closes || !inside {
            // The line that closes a section may open the next one (IOS `tacacs server B`
            // right after the lines of `tacacs server A`).
            inside = section.start.is_match(bare);
        } else if pattern.is_match(bare) {
            out.push_str(&replace_group(pattern, bare, "secret", MASK_MARKER));
            out.push_str(&line[bare.len()..]);
            continue;
        }
        out.push_str(line);
    }
    out
}

/// The configuration as change detection sees it: lines matching an ignore rule left out, or
/// only the rule's `value` group blanked.
pub fn for_change_detection(filters: &Filters, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if let Some(line) = change_relevant(filters, line) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn change_relevant<'a>(filters: &Filters, line: &'a str) -> Option<Cow<'a, str>> {
    let mut line = Cow::Borrowed(line);
    for rule in &filters.ignore {
        if !rule.is_match(&line) {
            continue;
        }
        if rule.capture_names().any(|n| n == Some("value")) {
            line = Cow::Owned(replace_group(rule, &line, "value", ""));
        } else {
            return None;
        }
    }
    Some(line)
}

/// SHA-256 of [`for_change_detection`]: two fetches with the same key are the same configuration.
pub fn change_key(filters: &Filters, text: &str) -> String {
    let mut hasher = Sha256::new();
    for line in text.lines() {
        if let Some(line) = change_relevant(filters, line) {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
    }
    hex(&hasher.finalize())
}

/// Lines that the ignore filter leaves out of change detection (shown to engineers checking a profile).
pub fn ignored_lines<'a>(filters: &Filters, text: &'a str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| filters.ignore.iter().any(|r| r.is_match(line)))
        .collect()
}

pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn replace_group(rule: &Regex, text: &str, group: &str, with: &str) -> String {
    rule.replace_all(text, |caps: &Captures<'_>| {
        let (Some(whole), Some(part)) = (caps.get(0), caps.name(group)) else {
            return caps
                .get(0)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
        };
        let mut s = String::with_capacity(whole.len());
        s.push_str(&text[whole.start()..part.start()]);
        s.push_str(with);
        s.push_str(&text[part.end()..whole.end()]);
        s
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::profile;

    fn ios() -> &'static Filters {
        &profile::find("cisco_ios").expect("cisco_ios").filters
    }

    #[test]
    fn strip_removes_volatile_lines_and_outer_blank_lines() {
        let raw = "Building configuration...\n\nCurrent configuration : 1234 bytes\n!\nhostname r1\nntp clock-period 17179860\n!\nend\n\n";
        assert_eq!(strip(ios(), raw), "!\nhostname r1\n!\nend\n");
    }

    #[test]
    fn mask_replaces_only_the_secret() {
        let raw = "enable secret 9 $9$abc\nusername admin privilege 15 secret 9 $9$def\nsnmp-server community Pub1ic RO\nhostname r1\n key 7 0822455D0A16\nkey chain KEYS\n";
        let masked = mask(ios(), raw);
        assert_eq!(
            masked,
            "enable secret 9 <masked>\nusername admin privilege 15 secret 9 <masked>\nsnmp-server community <masked> RO\nhostname r1\n key 7 <masked>\nkey chain KEYS\n"
        );
    }

    #[test]
    fn change_key_ignores_timestamps_and_resalted_values() {
        let a = "! Last configuration change at 10:00:00 UTC\nhostname r1\n";
        let b = "! Last configuration change at 11:11:11 UTC\nhostname r1\n";
        let c = "! Last configuration change at 11:11:11 UTC\nhostname r2\n";
        assert_eq!(change_key(ios(), a), change_key(ios(), b));
        assert_ne!(change_key(ios(), a), change_key(ios(), c));
        let forti = &profile::find("fortinet_fortios").expect("fortios").filters;
        let x = "set password ENC AAAA1111\nset hostname fw\n";
        let y = "set password ENC BBBB2222\nset hostname fw\n";
        assert_eq!(change_key(forti, x), change_key(forti, y));
        assert_eq!(ignored_lines(forti, x), vec!["set password ENC AAAA1111"]);
    }
}
