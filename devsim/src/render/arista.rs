//! Arista EOS content (DCS-7050TX-64, EOS 4.28.3M).

use crate::clock::Stamp;

use super::common::{Site, cisco_type7, fill_to, mac, mac_dotted, port_description, sha512_crypt};
use super::{Fact, Identity, Template, Volatile};

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("JPE#####@@@")
}

pub(crate) fn banner(now: &Stamp) -> String {
    let last = now.minus(3 * 3600 + 17 * 60);
    format!("Last login: {} from 10.0.0.15\n", last.ctime())
}

pub(crate) fn config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head: Vec<String> = Vec::new();
    let s = |v: &mut Vec<String>, l: &[&str]| v.extend(l.iter().map(|x| x.to_string()));
    s(
        &mut head,
        &[
            "!",
            "! boot system flash:/EOS-4.28.3M.swi",
            "!",
            "no aaa root",
            "!",
            "aaa authentication login default group tacacs+ local",
            "aaa authorization exec default group tacacs+ local",
            "aaa authorization commands all default local",
            "aaa accounting commands all default start-stop group tacacs+",
            "!",
        ],
    );
    head.push(format!(
        "username admin privilege 15 role network-admin secret sha512 {}",
        sha512_crypt(&mut rng)
    ));
    head.push(format!(
        "username netops privilege 15 role network-operator secret sha512 {}",
        sha512_crypt(&mut rng)
    ));
    // Values added later come from their own generator so the rest of the output stays as it was.
    let mut more = id.rng("secrets");
    head.push(format!(
        "aaa root secret sha512 {}",
        sha512_crypt(&mut more)
    ));
    s(
        &mut head,
        &[
            "!",
            "transceiver qsfp default-mode 4x10G",
            "!",
            "service routing protocols model multi-agent",
            "!",
        ],
    );
    head.push(format!("hostname {}", id.hostname));
    head.push(format!("ip name-server vrf MGMT {}", site.dns[0]));
    head.push(format!("dns domain {}", site.domain));
    head.push("!".into());
    head.push("ntp authentication-key 1 md5 7 NtpMd5Eos".into());
    head.push("ntp trusted-key 1".into());
    for server in site.ntp {
        head.push(format!("ntp server vrf MGMT {server}"));
    }
    head.push("!".into());
    head.push(format!(
        "radius-server host {} vrf MGMT key 7 {}",
        site.aaa[0],
        cisco_type7("R4diusK3y", 2)
    ));
    for server in site.aaa {
        head.push(format!(
            "tacacs-server host {server} vrf MGMT key 7 {}",
            cisco_type7("T4cacsK3y", rng.below(16) as u8)
        ));
    }
    head.push("!".into());
    head.push("snmp-server community S3cr3tCommunity ro".into());
    head.push(format!("snmp-server location {}", site.location));
    head.push(format!(
        "snmp-server user netops netops-group v3 localized {} auth sha {} priv aes {}",
        rng.hex(24),
        rng.hex(40),
        rng.hex(32)
    ));
    head.push(
        "snmp-server user monitor monitor-group v3 auth sha AuthPassV3x priv aes PrivPassV3x"
            .into(),
    );
    head.push(format!(
        "snmp-server host {} vrf MGMT version 2c Tr4pC0mmEos",
        site.syslog
    ));
    s(
        &mut head,
        &[
            "!",
            "ip security",
            "   profile HQ",
            "      shared-key 7 EosSharedK3y",
            "!",
            "spanning-tree mode mstp",
            "!",
        ],
    );
    for vlan in &site.vlans {
        head.push(format!("vlan {}", vlan.id));
        head.push(format!("   name {}", vlan.name));
        head.push("!".into());
    }
    s(&mut head, &["vrf instance MGMT", "!"]);

    let mut tail: Vec<String> = vec!["interface Management1".into(), "   vrf MGMT".into()];
    tail.push(format!("   ip address {}/24", site.mgmt_ip));
    tail.push("!".into());
    for vlan in &site.vlans {
        tail.push(format!("interface Vlan{}", vlan.id));
        tail.push(format!("   description {} gateway", vlan.name));
        tail.push(format!("   ip address {}/24", vlan.gateway));
        tail.push("!".into());
    }
    s(&mut tail, &["ip routing", "no ip routing vrf MGMT", "!"]);
    tail.push(format!("ip route vrf MGMT 0.0.0.0/0 {}", site.mgmt_gateway));
    tail.push("!".into());
    tail.push(format!("router bgp {}", site.asn));
    tail.push(format!("   router-id {}", site.loopback));
    tail.push("   maximum-paths 4 ecmp 4".into());
    for link in &site.uplinks {
        tail.push(format!(
            "   neighbor {} remote-as {}",
            link.peer, link.peer_asn
        ));
        tail.push(format!(
            "   neighbor {} description {}",
            link.peer, link.peer_name
        ));
        tail.push(format!(
            "   neighbor {} password 7 {}",
            link.peer,
            rng.base64(18)
        ));
    }
    tail.push(format!("   network {}/32", site.loopback));
    s(
        &mut tail,
        &[
            "!",
            "management api http-commands",
            "   no shutdown",
            "   !",
            "   vrf MGMT",
            "      no shutdown",
            "!",
            "management ssh",
            "   idle-timeout 60",
            "!",
        ],
    );
    let ports = fill_to(id.config_lines, head.len() + tail.len() + 5, 4, |n| {
        let mut block = vec![format!("interface Ethernet{}", n + 1)];
        if n < site.uplinks.len() {
            let link = &site.uplinks[n];
            block.push(format!("   description Uplink to {}", link.peer_name));
            block.push("   no switchport".into());
            block.push(format!("   ip address {}/30", link.local));
            if n == 0 {
                block.push("   ip ospf message-digest-key 1 md5 7 OspfMd5Eos".into());
            }
        } else {
            let vlan = &site.vlans[n % site.vlans.len()];
            block.push(format!("   description {}", port_description(&mut rng, n)));
            block.push(format!("   switchport access vlan {}", vlan.id));
            block.push("   spanning-tree portfast".into());
        }
        block.push("!".into());
        block
    });

    let mut t = Template::new();
    t.line("! Command: show running-config")
        .line(format!(
            "! device: {} (DCS-7050TX-64, EOS-4.28.3M)",
            id.hostname
        ))
        .volatile(Volatile::EosTime);
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("end");
    t
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let mut rng = id.rng("version");
    let m = mac_dotted(mac(&mut rng));
    let up = id.uptime(now);
    match fact {
        Fact::Version => Some(format!(
            "Arista DCS-7050TX-64-R\n\
             Hardware version:    01.11\n\
             Serial number:       {serial}\n\
             Hardware MAC address:  {m}\n\
             System MAC address:  {m}\n\
             \n\
             Software image version: 4.28.3M\n\
             Architecture:           x86_64\n\
             Internal build version: 4.28.3M-28980034.4283M\n\
             Internal build ID:      2e1a0c4b-6d32-4b4b-a7f4-0f7e3c2b1a90\n\
             Image format version:   1.0\n\
             Image optimization:     Default\n\
             \n\
             Uptime:                 {w} weeks, {d} days, {h} hours and {mi} minutes\n\
             Total memory:           3818468 kB\n\
             Free memory:            {free} kB\n\
             \n",
            serial = serial(id),
            w = up.weeks,
            d = up.days,
            h = up.hours,
            mi = up.minutes,
            free = 2_200_000 + now.unix % 90_000,
        )),
        Fact::Inventory => Some(format!(
            "System information\n\
             \x20 Model                    Description\n\
             \x20 ------------------------ ----------------------------------------------------\n\
             \x20 DCS-7050TX-64-R          48 x 10GBASE-T + 4 QSFP+ 1RU (1 + 1 PS)\n\
             \n\
             \x20 HW Version  Serial Number  Mfg Date   Epoch\n\
             \x20 ----------- -------------- ---------- -----\n\
             \x20 01.11       {serial}    2015-08-01 01.00\n\
             \n\
             System has 2 power supply slots\n\
             \x20 Slot Model            Serial Number\n\
             \x20 ---- ---------------- ----------------\n\
             \x20 1    PWR-500AC-R      {p1}\n\
             \x20 2    PWR-500AC-R      {p2}\n\
             \n",
            serial = serial(id),
            p1 = rng.pattern("EEWT#######"),
            p2 = rng.pattern("EEWT#######"),
        )),
        Fact::Clock => Some(format!(
            "{}\nTimezone: UTC\nClock source: NTP server ({})\n",
            now.ctime(),
            "10.0.0.123"
        )),
        _ => None,
    }
}
