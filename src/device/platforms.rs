//! Platform ids, netmiko-style, as stored in `devices.device_type`.

pub struct Platform {
    pub id: &'static str,
    pub name: &'static str,
}

pub const PLATFORMS: [Platform; 16] = [
    Platform {
        id: "arista_eos",
        name: "Arista EOS",
    },
    Platform {
        id: "aruba_aoscx",
        name: "Aruba AOS-CX",
    },
    Platform {
        id: "brocade_fastiron",
        name: "Brocade / Ruckus FastIron",
    },
    Platform {
        id: "cisco_asa",
        name: "Cisco ASA",
    },
    Platform {
        id: "cisco_ios",
        name: "Cisco IOS / IOS-XE",
    },
    Platform {
        id: "cisco_iosxr",
        name: "Cisco IOS-XR",
    },
    Platform {
        id: "cisco_nxos",
        name: "Cisco NX-OS",
    },
    Platform {
        id: "dell_os10",
        name: "Dell OS10",
    },
    Platform {
        id: "dell_os6",
        name: "Dell OS6",
    },
    Platform {
        id: "fortinet_fortios",
        name: "Fortinet FortiOS",
    },
    Platform {
        id: "hp_procurve",
        name: "HP ProCurve / Aruba OS",
    },
    Platform {
        id: "huawei_vrp",
        name: "Huawei VRP",
    },
    Platform {
        id: "juniper_junos",
        name: "Juniper Junos",
    },
    Platform {
        id: "linux",
        name: "Linux (generic)",
    },
    Platform {
        id: "mikrotik_routeros",
        name: "MikroTik RouterOS",
    },
    Platform {
        id: "paloalto_panos",
        name: "Palo Alto PAN-OS",
    },
];

pub fn find(id: &str) -> Option<&'static Platform> {
    PLATFORMS.iter().find(|p| p.id == id)
}

/// The display name of a platform id, or the id itself if unknown.
pub fn name(id: &str) -> &str {
    find(id).map(|p| p.name).unwrap_or(id)
}
