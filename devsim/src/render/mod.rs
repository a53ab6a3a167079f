//! Device content: generated configurations, `show version`-style facts and login banners,
//! in each platform's own syntax. Everything is derived from the device's [`Identity`], so it
//! is deterministic per device; only [`Volatile`] pieces change between reads.

mod arista;
mod brocade;
mod cisco;
mod common;
mod dell;
mod fortinet;
mod hp;
mod huawei;
mod juniper;
mod linux;
mod mikrotik;
mod paloalto;
mod template;

pub(crate) use mikrotik::colour as mikrotik_colour;
pub(crate) use mikrotik::colourize as mikrotik_colourize;
pub(crate) use template::{Template, Volatile};

use crate::clock::{Span, Stamp};
use crate::platform::Platform;
use crate::rng::Rng;

/// Which rendering of the configuration a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ConfigView {
    /// The platform's usual format (`show running-config`, Junos curly braces, `/export`).
    Native,
    /// Junos `show configuration | display set`.
    SetCommands,
    /// RouterOS `/export show-sensitive`.
    ShowSensitive,
}

impl ConfigView {
    pub(crate) const COUNT: usize = 3;

    pub(crate) fn index(self) -> usize {
        match self {
            ConfigView::Native => 0,
            ConfigView::SetCommands => 1,
            ConfigView::ShowSensitive => 2,
        }
    }
}

/// An informational command's output (not the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fact {
    /// `show version`, `display version`, `get system status`, `show system info`
    Version,
    /// `show inventory`, `show chassis hardware`, `display esn`, `show modules`,
    /// `/system routerboard print`
    Inventory,
    /// `show system` (ProCurve, AOS-CX), `/system resource print`
    System,
    /// `show clock`
    Clock,
    /// `/system identity print`
    Identity,
    /// Linux `uname -a`
    UnameAll,
    /// Linux `uname -sr`
    UnameSr,
    /// Linux `uname`
    Uname,
    /// Linux `cat /etc/hostname`, `hostname`
    Hostname,
    /// Linux `cat /etc/os-release`
    OsRelease,
    /// Linux `cat /etc/network/interfaces`
    NetworkInterfaces,
    /// Linux `whoami`
    Whoami,
}

/// The immutable identity of a device that all generated content derives from.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) platform: Platform,
    pub(crate) hostname: String,
    pub(crate) seed: u64,
    pub(crate) config_lines: usize,
    /// Unix time the simulated device "booted" (weeks before the simulator started).
    pub(crate) boot_unix: u64,
}

impl Identity {
    pub(crate) fn new(platform: Platform, hostname: &str, seed: u64, config_lines: usize) -> Self {
        let mut rng = Rng::from_parts(&[
            platform.as_str().as_bytes(),
            hostname.as_bytes(),
            &seed.to_le_bytes(),
            b"boot",
        ]);
        let uptime = rng.range(3 * 86_400, 400 * 86_400);
        Identity {
            platform,
            hostname: hostname.to_string(),
            seed,
            config_lines,
            boot_unix: Stamp::now().unix.saturating_sub(uptime),
        }
    }

    /// A generator for one purpose ("serial", "site", ...): the same purpose always yields the
    /// same values for the same device, whatever else was generated before.
    pub(crate) fn rng(&self, purpose: &str) -> Rng {
        Rng::from_parts(&[
            self.platform.as_str().as_bytes(),
            self.hostname.as_bytes(),
            &self.seed.to_le_bytes(),
            purpose.as_bytes(),
        ])
    }

    pub(crate) fn uptime(&self, now: &Stamp) -> Span {
        Span::of(now.unix.saturating_sub(self.boot_unix))
    }

    pub(crate) fn boot(&self) -> Stamp {
        Stamp::from_unix(self.boot_unix, 0)
    }
}

/// The configuration with `extra` lines (added through config mode or
/// [`crate::Sim::change_config`]) in the place the platform would show them.
pub(crate) fn config(id: &Identity, extra: &[String], view: ConfigView) -> Template {
    match id.platform {
        Platform::CiscoIos => cisco::ios_config(id, extra),
        Platform::CiscoNxos => cisco::nxos_config(id, extra),
        Platform::CiscoIosxr => cisco::iosxr_config(id, extra),
        Platform::CiscoAsa => cisco::asa_config(id, extra),
        Platform::AristaEos => arista::config(id, extra),
        Platform::JuniperJunos => juniper::config(id, extra, view),
        Platform::HpProcurve => hp::procurve_config(id, extra),
        Platform::ArubaAoscx => hp::aoscx_config(id, extra),
        Platform::MikrotikRouteros => mikrotik::config(id, extra, view),
        Platform::FortinetFortios => fortinet::config(id, extra),
        Platform::PaloaltoPanos => paloalto::config(id, extra),
        Platform::HuaweiVrp => huawei::config(id, extra),
        Platform::DellOs10 => dell::os10_config(id, extra),
        Platform::DellOs6 => dell::os6_config(id, extra),
        Platform::BrocadeFastiron => brocade::config(id, extra),
        Platform::Linux => linux::frr_config(id, extra),
    }
}

/// An informational command's output at `now`, as seen by `user`; `None` if the platform has no
/// such command.
pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp, user: &str) -> Option<String> {
    match id.platform {
        Platform::CiscoIos => cisco::ios_fact(id, fact, now),
        Platform::CiscoNxos => cisco::nxos_fact(id, fact, now),
        Platform::CiscoIosxr => cisco::iosxr_fact(id, fact, now),
        Platform::CiscoAsa => cisco::asa_fact(id, fact, now),
        Platform::AristaEos => arista::fact(id, fact, now),
        Platform::JuniperJunos => juniper::fact(id, fact, now),
        Platform::HpProcurve => hp::procurve_fact(id, fact, now),
        Platform::ArubaAoscx => hp::aoscx_fact(id, fact, now),
        Platform::MikrotikRouteros => mikrotik::fact(id, fact, now),
        Platform::FortinetFortios => fortinet::fact(id, fact, now),
        Platform::PaloaltoPanos => paloalto::fact(id, fact, now),
        Platform::HuaweiVrp => huawei::fact(id, fact, now),
        Platform::DellOs10 => dell::os10_fact(id, fact, now),
        Platform::DellOs6 => dell::os6_fact(id, fact, now),
        Platform::BrocadeFastiron => brocade::fact(id, fact, now),
        Platform::Linux => linux::fact(id, fact, now, user),
    }
}

/// What the device prints when the shell opens, before the first prompt.
pub(crate) fn banner(id: &Identity, now: &Stamp, user: &str, colour: bool) -> String {
    match id.platform {
        Platform::CiscoIos | Platform::CiscoIosxr | Platform::CiscoAsa | Platform::DellOs6 => {
            cisco::motd(id)
        }
        Platform::CiscoNxos => cisco::nxos_banner(),
        Platform::AristaEos => arista::banner(now),
        Platform::JuniperJunos => juniper::banner(id, now),
        Platform::HpProcurve => hp::procurve_banner(),
        Platform::ArubaAoscx => hp::aoscx_banner(now),
        Platform::MikrotikRouteros => mikrotik::banner(colour),
        Platform::FortinetFortios => String::new(),
        Platform::PaloaltoPanos => paloalto::banner(now),
        Platform::HuaweiVrp => huawei::banner(now),
        Platform::DellOs10 => dell::os10_banner(now),
        Platform::BrocadeFastiron => String::new(),
        Platform::Linux => linux::banner(id, now, user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_sizes_follow_the_knob() {
        let now = Stamp::now();
        for platform in Platform::ALL {
            for target in [300, 1000] {
                let id = Identity::new(platform, "r1", 3, target);
                let view = if platform == Platform::JuniperJunos {
                    ConfigView::SetCommands
                } else {
                    ConfigView::Native
                };
                let lines = config(&id, &[], view).render(&now).lines().count();
                assert!(
                    lines.abs_diff(target) <= target / 10,
                    "{platform}: {lines} lines for a target of {target}"
                );
            }
        }
    }

    /// The secret forms each platform writes, those whose value follows a second keyword above
    /// all: NetRaven's mask filters are tested against them through a real session.
    fn secret_forms(platform: Platform) -> &'static [&'static str] {
        match platform {
            Platform::CiscoIos => &[
                "\n  pre-shared-key address 198.51.100.7 key Br4nchPsk\n",
                "\n  pre-shared-key hostname branch2.example.net key Br4nchHostPsk\n",
                "\n  pre-shared-key local Ik2LocalPsk\n",
                "\n  pre-shared-key remote Ik2RemotePsk\n",
                "\n authentication remote pre-share key Ik2ProfPsk\n",
                "\nsnmp-server user netops-v3 NETOPS-V3 v3 auth sha AuthPassV3x priv aes 128 PrivPassV3x\n",
                " version 2c Tr4pC0mmV2\n",
                "\nntp authentication-key 1 md5 NtpMd5K3y 7\n",
                " key 7 T4cHostK3y\n",
                " auth-port 1812 acct-port 1813 key R4dHostK3y\n",
                "\n ip ospf message-digest-key 1 md5 7 OspfMd5Ios\n",
                "\ncrypto isakmp key MyPreSharedKey address",
            ],
            Platform::CiscoNxos => &[
                "\nsnmp-server user netops-v3 network-operator auth sha AuthPassV3x priv aes-128 PrivPassV3x\n",
                " key 7 \"R4dHostNx\" authentication accounting\n",
                " traps version 2c Tr4pC0mmNx\n",
                "\nntp authentication-key 1 md5 NtpMd5Nx 7\n",
                "\n  ip ospf message-digest-key 1 md5 3 OspfMd5Nx\n",
            ],
            Platform::CiscoIosxr => &[
                "\n  password encrypted XrBgpPeer0\n",
                "\n  key-string password XrKeyStrPw\n",
                "\nsnmp-server user netops-v3 NETOPS-V3 v3 auth sha encrypted AuthPassV3x priv aes 128 encrypted PrivPassV3x\n",
                "\ntacacs-server key 7 XrTacGlob\n",
                "\n authentication-key 1 md5 encrypted NtpMd5Xr\n",
                "\n   message-digest-key 1 md5 encrypted OspfMd5Xr\n",
                "\n  pre-shared-key password XrIkePsk\n",
                " traps version 2c Tr4pC0mmXr\n",
            ],
            Platform::CiscoAsa => &[
                "\n ikev1 pre-shared-key AsaIk1Psk\n",
                "\n ikev2 remote-authentication pre-shared-key AsaIk2Remote\n",
                "\n ikev2 local-authentication pre-shared-key AsaIk2Local\n",
                "\nsnmp-server user netops-v3 NETOPS-V3 v3 auth sha AuthPassV3x priv aes 256 PrivPassV3x\n",
            ],
            Platform::AristaEos => &[
                " role network-operator secret sha512 $6$",
                "\naaa root secret sha512 $6$",
                "\nsnmp-server user monitor monitor-group v3 auth sha AuthPassV3x priv aes PrivPassV3x\n",
                " vrf MGMT version 2c Tr4pC0mmEos\n",
                "\nntp authentication-key 1 md5 7 NtpMd5Eos\n",
                "\n   ip ospf message-digest-key 1 md5 7 OspfMd5Eos\n",
                "\n      shared-key 7 EosSharedK3y\n",
                " password 7 ",
            ],
            Platform::JuniperJunos => &[
                "\nset security ike policy IKE-HQ pre-shared-key ascii-text \"$9$",
                " authentication-sha authentication-key \"$9$",
                " privacy-aes128 privacy-key \"$9$",
                "\nset system ntp authentication-key 1 type md5 value \"$9$",
                " authentication md5 1 key \"$9$",
                "\nset system tacplus-server ",
            ],
            Platform::HpProcurve => &[
                "\nsnmpv3 user \"netops\" auth sha \"AuthPassV3x\" priv aes \"PrivPassV3x\"\n",
                " community \"Tr4pC0mmHp\" trap-level all\n",
                " key-value \"SntpK3yHp\"\n",
                "\npassword manager user-name \"admin\" sha1 \"",
            ],
            Platform::ArubaAoscx => &[
                " auth-pass ciphertext AQBapAuthPassV3xCx priv aes priv-pass ciphertext AQBapPrivPassV3xCx\n",
                "\nntp authentication-key 1 md5 ciphertext AQBapNtpK3yCx",
                " trap version v2c community Tr4pC0mmCx\n",
            ],
            Platform::BrocadeFastiron => &[
                " default key 2 $BrcdRadK3y dot1x\n",
                " v3 encrypted auth md5 AuthPassV3x priv encrypted des PrivPassV3x\n",
                " version v2c 2 $Tr4pC0mmBr\n",
                "\n ip ospf md5-authentication key-id 1 key 2 $OspfMd5Br\n",
            ],
            Platform::DellOs10 => &[
                " auth-port 1812 key 9 Os10RadK3y\n",
                " 3 auth sha AuthPassV3x priv aes PrivPassV3x\n",
                " traps version 2c Tr4pC0mmO10 udp-port 162\n",
                "\nusername admin password $6$",
            ],
            Platform::DellOs6 => &[
                "\nradius-server key 7 \"Os6RadK3y\"\n",
                " auth-sha-key AuthPassV3x priv-des-key PrivPassV3x\n",
            ],
            Platform::FortinetFortios => &[
                "\n        set auth-pwd ENC AuthPassV3x",
                "\n        set priv-pwd ENC PrivPassV3x",
                "\n        set passwd ENC FgtLocalPasswdX",
                "\n        set psksecret ENC FgtBranchPskX",
            ],
            Platform::PaloaltoPanos => &[
                " authpwd -AQ==AuthPassV3x",
                " privpwd -AQ==PrivPassV3x",
                " bind-password -AQ==PanBindPw",
                " key -AQ==PanIkePsk",
                " phash $5$",
            ],
            Platform::HuaweiVrp => &[
                "\n pre-shared-key cipher %^%#HwIkePsk",
                " authentication-mode sha cipher %^%#AuthPassV3x",
                " privacy-mode aes128 cipher %^%#PrivPassV3x",
                "\n ospf authentication-mode simple cipher %^%#HwOspfSimple",
                " password irreversible-cipher $1c$",
            ],
            Platform::Linux => &["\n  key-string FrrKeyStr\n", " md5 OspfMd5Key\n"],
            Platform::MikrotikRouteros => &[
                " password=PppS3cretMt ",
                " authentication-password=AuthPassV3x ",
                " encryption-password=PrivPassV3x ",
                " wpa2-pre-shared-key=Wpa2PskMt",
                " preshared-key=\"WgPskMt",
                " tcp-md5-key=BgpMd5Mt",
            ],
        }
    }

    #[test]
    fn secret_forms_are_written() {
        let now = Stamp::now();
        for platform in Platform::ALL {
            let id = Identity::new(platform, "r1", 3, 300);
            let view = match platform {
                Platform::JuniperJunos => ConfigView::SetCommands,
                Platform::MikrotikRouteros => ConfigView::ShowSensitive,
                _ => ConfigView::Native,
            };
            // RouterOS continues long lines: join them back for the search.
            let text = config(&id, &[], view)
                .render(&now)
                .replace(" \\\n    ", " ");
            for form in secret_forms(platform) {
                assert!(
                    text.contains(form),
                    "{platform}: {form:?} missing in:\n{text}"
                );
            }
        }
    }
}
