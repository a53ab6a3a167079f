//! The platform ids devsim can simulate, spelled exactly as NetRaven's device types.

use std::fmt;
use std::str::FromStr;

use crate::error::UnknownPlatform;

/// One simulated network operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    CiscoIos,
    CiscoNxos,
    CiscoIosxr,
    CiscoAsa,
    AristaEos,
    JuniperJunos,
    HpProcurve,
    ArubaAoscx,
    MikrotikRouteros,
    FortinetFortios,
    PaloaltoPanos,
    HuaweiVrp,
    DellOs10,
    DellOs6,
    BrocadeFastiron,
    Linux,
}

impl Platform {
    /// Every platform, in a stable order.
    pub const ALL: [Platform; 16] = [
        Platform::CiscoIos,
        Platform::CiscoNxos,
        Platform::CiscoIosxr,
        Platform::CiscoAsa,
        Platform::AristaEos,
        Platform::JuniperJunos,
        Platform::HpProcurve,
        Platform::ArubaAoscx,
        Platform::MikrotikRouteros,
        Platform::FortinetFortios,
        Platform::PaloaltoPanos,
        Platform::HuaweiVrp,
        Platform::DellOs10,
        Platform::DellOs6,
        Platform::BrocadeFastiron,
        Platform::Linux,
    ];

    /// The platform id (`cisco_ios`, `juniper_junos`, ...), as used in NetRaven's inventory.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::CiscoIos => "cisco_ios",
            Platform::CiscoNxos => "cisco_nxos",
            Platform::CiscoIosxr => "cisco_iosxr",
            Platform::CiscoAsa => "cisco_asa",
            Platform::AristaEos => "arista_eos",
            Platform::JuniperJunos => "juniper_junos",
            Platform::HpProcurve => "hp_procurve",
            Platform::ArubaAoscx => "aruba_aoscx",
            Platform::MikrotikRouteros => "mikrotik_routeros",
            Platform::FortinetFortios => "fortinet_fortios",
            Platform::PaloaltoPanos => "paloalto_panos",
            Platform::HuaweiVrp => "huawei_vrp",
            Platform::DellOs10 => "dell_os10",
            Platform::DellOs6 => "dell_os6",
            Platform::BrocadeFastiron => "brocade_fastiron",
            Platform::Linux => "linux",
        }
    }

    /// Whether the platform has a user mode and an `enable` command guarded by a secret.
    pub fn has_enable(self) -> bool {
        matches!(
            self,
            Platform::CiscoIos
                | Platform::CiscoAsa
                | Platform::AristaEos
                | Platform::HpProcurve
                | Platform::DellOs6
                | Platform::BrocadeFastiron
        )
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPlatform(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>(), Ok(p));
        }
        assert!("cisco".parse::<Platform>().is_err());
    }
}
