//! Device facts (model, serial number, OS version) read from the output of the profile's facts
//! commands.

use serde::Serialize;

use super::profile::FactsCommand;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os_version: Option<String>,
}

impl Facts {
    /// Fill the facts still unknown from one command's output; earlier commands and patterns win.
    pub fn absorb(&mut self, command: &FactsCommand, output: &str) {
        fill(&mut self.model, &command.model, output);
        fill(&mut self.serial, &command.serial, output);
        fill(&mut self.os_version, &command.os_version, output);
    }
}

fn fill(slot: &mut Option<String>, patterns: &[regex::Regex], output: &str) {
    if slot.is_some() {
        return;
    }
    *slot = patterns.iter().find_map(|p| {
        p.captures(output)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().trim().to_string())
            .filter(|v| !v.is_empty())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::profile;

    fn parse(platform: &str, outputs: &[&str]) -> Facts {
        let p = profile::find(platform).expect("platform");
        let mut f = Facts::default();
        for (cmd, out) in p.facts.iter().zip(outputs) {
            f.absorb(cmd, out);
        }
        f
    }

    #[test]
    fn cisco_ios_show_version() {
        let out = "Cisco IOS XE Software, Version 17.03.04a\nCisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4a, RELEASE SOFTWARE (fc3)\nsw1 uptime is 3 weeks, 2 days\ncisco C9300-24P (X86) processor with 1338934K/6147K bytes of memory.\nProcessor board ID FOC2231X0AB\nModel Number                       : C9300-24P\nSystem Serial Number               : FOC2231X0AB\n";
        let f = parse("cisco_ios", &[out]);
        assert_eq!(f.model.as_deref(), Some("C9300-24P"));
        assert_eq!(f.serial.as_deref(), Some("FOC2231X0AB"));
        assert_eq!(f.os_version.as_deref(), Some("17.03.04a"));
    }

    #[test]
    fn junos_two_commands() {
        let f = parse(
            "juniper_junos",
            &[
                "Hostname: mx1\nModel: mx204\nJunos: 21.4R3-S4.9\n",
                "Hardware inventory:\nItem             Version  Part number  Serial number     Description\nChassis                                JN1234ABCDEF      MX204\n",
            ],
        );
        assert_eq!(f.model.as_deref(), Some("mx204"));
        assert_eq!(f.serial.as_deref(), Some("JN1234ABCDEF"));
        assert_eq!(f.os_version.as_deref(), Some("21.4R3-S4.9"));
    }
}
