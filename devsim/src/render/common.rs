//! Building blocks shared by the platform renderers: a device's addressing plan, port
//! descriptions and the secret formats vendors print.

use std::net::Ipv4Addr;

use crate::rng::Rng;

use super::Identity;

/// A VLAN with its /24 subnet `10.<site>.<id>.0/24`.
#[derive(Debug, Clone)]
pub(crate) struct Vlan {
    pub(crate) id: u16,
    pub(crate) name: &'static str,
    pub(crate) gateway: Ipv4Addr,
}

/// A routed point-to-point /30 link to a neighbour.
#[derive(Debug, Clone)]
pub(crate) struct Uplink {
    pub(crate) local: Ipv4Addr,
    pub(crate) peer: Ipv4Addr,
    pub(crate) peer_name: String,
    pub(crate) peer_asn: u32,
}

/// The addressing plan and the names of the services a device talks to, derived from its
/// identity so every platform's configuration tells the same kind of story.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) mgmt_ip: Ipv4Addr,
    pub(crate) mgmt_gateway: Ipv4Addr,
    pub(crate) loopback: Ipv4Addr,
    pub(crate) asn: u32,
    pub(crate) vlans: Vec<Vlan>,
    pub(crate) uplinks: Vec<Uplink>,
    pub(crate) domain: &'static str,
    pub(crate) location: String,
    pub(crate) ntp: [Ipv4Addr; 2],
    pub(crate) syslog: Ipv4Addr,
    pub(crate) aaa: [Ipv4Addr; 2],
    pub(crate) dns: [Ipv4Addr; 2],
}

const VLAN_NAMES: [&str; 10] = [
    "USERS",
    "VOICE",
    "SERVERS",
    "PRINTERS",
    "GUEST",
    "CAMERAS",
    "WIFI-CORP",
    "IOT",
    "BACKUP",
    "STORAGE",
];
const DOMAINS: [&str; 4] = [
    "corp.example.net",
    "example.com",
    "net.example.org",
    "dc1.example.net",
];
const CITIES: [&str; 6] = ["Berlin", "Chicago", "Lyon", "Osaka", "Sydney", "Toronto"];

impl Site {
    pub(crate) fn of(id: &Identity) -> Site {
        let mut rng = id.rng("site");
        let site = rng.range(1, 250) as u8;
        let host = rng.range(2, 250) as u8;
        let vlan_count = 4 + rng.below(4) as usize;
        let vlans = (0..vlan_count)
            .map(|i| {
                let id = 10 * (i as u16 + 1);
                Vlan {
                    id,
                    name: VLAN_NAMES[i % VLAN_NAMES.len()],
                    gateway: Ipv4Addr::new(10, site, id as u8, 1),
                }
            })
            .collect();
        let uplinks = (0..2u8)
            .map(|i| {
                // Two consecutive /30s per device inside 172.16.<site>.0/24.
                let net = 8 * (host % 32) + 4 * i;
                Uplink {
                    local: Ipv4Addr::new(172, 16, site, net + 1),
                    peer: Ipv4Addr::new(172, 16, site, net + 2),
                    peer_name: format!("core-{:02}", i + 1),
                    peer_asn: 65000 + u32::from(i),
                }
            })
            .collect();
        Site {
            mgmt_ip: Ipv4Addr::new(10, 250, site, host),
            mgmt_gateway: Ipv4Addr::new(10, 250, site, 1),
            loopback: Ipv4Addr::new(10, 255, site, host),
            asn: 65100 + u32::from(site),
            vlans,
            uplinks,
            domain: DOMAINS[rng.below(DOMAINS.len() as u64) as usize],
            location: format!(
                "{}, Building {}, Floor {}",
                *rng.pick(&CITIES),
                rng.range(1, 9),
                rng.range(1, 12)
            ),
            ntp: [Ipv4Addr::new(10, 0, 0, 123), Ipv4Addr::new(10, 0, 1, 123)],
            syslog: Ipv4Addr::new(10, 0, 0, 51),
            aaa: [Ipv4Addr::new(10, 0, 0, 49), Ipv4Addr::new(10, 0, 1, 49)],
            dns: [Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 1, 53)],
        }
    }
}

/// A port description, the kind people write on access and trunk ports.
pub(crate) fn port_description(rng: &mut Rng, port: usize) -> String {
    match rng.below(8) {
        0 => format!("AP-{}F-{:02}", rng.range(1, 9), port),
        1 => format!("Printer PRN-{:03}", rng.range(100, 999)),
        2 => format!("Server esx-{:02} vmnic{}", rng.range(1, 40), rng.below(4)),
        3 => format!("Desk {}-{:03}", rng.range(1, 9), rng.range(1, 250)),
        4 => format!("Camera CAM-{:03}", rng.range(1, 300)),
        5 => format!("Phone ext {}", rng.range(2000, 7999)),
        6 => format!("Link to access-sw{:02}", rng.range(1, 48)),
        _ => format!("Badge reader door {}", rng.range(1, 40)),
    }
}

/// A dotted netmask for a prefix length.
pub(crate) fn netmask(prefix: u8) -> Ipv4Addr {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    Ipv4Addr::from(bits)
}

/// The address `n` steps after `ip`.
pub(crate) fn offset(ip: Ipv4Addr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip).wrapping_add(n))
}

/// A MAC address `aa:bb:cc:dd:ee:ff` (lowercase, colon separated).
pub(crate) fn mac(rng: &mut Rng) -> [u8; 6] {
    let b = rng.bytes(6);
    [0x00, 0x1c, b[2] & 0x7f, b[3], b[4], b[5]]
}

pub(crate) fn mac_colons(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Cisco's `aabb.ccdd.eeff` notation.
pub(crate) fn mac_dotted(m: [u8; 6]) -> String {
    format!(
        "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Cisco "type 7" reversible encoding: a real encoding of `plain`, so the masked values look
/// exactly like those on real devices.
pub(crate) fn cisco_type7(plain: &str, salt: u8) -> String {
    const XLAT: &[u8] = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87";
    let salt = usize::from(salt % 16);
    let mut out = format!("{salt:02}");
    for (i, b) in plain.bytes().enumerate() {
        out.push_str(&format!("{:02X}", b ^ XLAT[(salt + i) % XLAT.len()]));
    }
    out
}

/// A Cisco type 9 (scrypt) secret: `$9$<14 salt chars>$<43 hash chars>`.
pub(crate) fn cisco_type9(rng: &mut Rng) -> String {
    format!("$9${}${}", rng.crypt64(14), rng.crypt64(43))
}

/// A Cisco type 5 / md5-crypt hash: `$1$<4 salt chars>$<22 hash chars>`.
pub(crate) fn md5_crypt(rng: &mut Rng) -> String {
    format!("$1${}${}", rng.crypt64(4), rng.crypt64(22))
}

/// A sha512-crypt hash: `$6$<16 salt chars>$<86 hash chars>`.
pub(crate) fn sha512_crypt(rng: &mut Rng) -> String {
    format!("$6${}${}", rng.crypt64(16), rng.crypt64(86))
}

/// A sha256-crypt hash: `$5$<16 salt chars>$<43 hash chars>`.
pub(crate) fn sha256_crypt(rng: &mut Rng) -> String {
    format!("$5${}${}", rng.crypt64(16), rng.crypt64(43))
}

/// Adds interface blocks produced by `block` until the configuration reaches `target` lines
/// (at least `min` blocks), so the `config_lines` knob is honoured on every platform.
pub(crate) fn fill_to<F>(target: usize, already: usize, min: usize, mut block: F) -> Vec<String>
where
    F: FnMut(usize) -> Vec<String>,
{
    let mut lines = Vec::new();
    let mut n = 0;
    while n < min || already + lines.len() < target {
        lines.extend(block(n));
        n += 1;
        if n > 100_000 {
            break;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_matches_cisco() {
        // "cisco" with salt 8 is the well-known 0822455D0A16.
        assert_eq!(cisco_type7("cisco", 8), "0822455D0A16");
        assert_eq!(netmask(30).to_string(), "255.255.255.252");
        assert_eq!(netmask(24).to_string(), "255.255.255.0");
    }
}
