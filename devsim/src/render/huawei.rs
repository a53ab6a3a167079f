//! Huawei VRP content (CloudEngine CE6850-48S4Q-EI, V200R005C10SPC800).

use crate::clock::Stamp;
use crate::rng::Rng;

use super::common::{Site, fill_to, port_description};
use super::{Fact, Identity, Template, Volatile};

/// A VRP `cipher` value: `%^%#` + printable noise + `%^%#`.
fn cipher(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&()*+,-./:;<=>@[]^_`{|}~";
    let body: String = (0..44).map(|_| char::from(*rng.pick(CHARS))).collect();
    format!("%^%#{body}%^%#")
}

pub(crate) fn banner(now: &Stamp) -> String {
    format!(
        "\nInfo: The max number of VTY users is 21, the number of current VTY users online is 1, and total number of terminal users online is 1.\n\
         \x20     The current login time is {}+00:00.\n\
         \x20     The last login time is {}+00:00 from 10.0.0.15 through SSH.\n",
        now.iso(),
        now.minus(6000).iso()
    )
}

pub(crate) fn config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let saved = id.boot();
    let ids: Vec<String> = site.vlans.iter().map(|v| v.id.to_string()).collect();
    let mut head: Vec<String> = vec![
        format!(
            "!Last configuration was saved at {}+00:00 by admin",
            saved.iso()
        ),
        "#".into(),
        format!("sysname {}", id.hostname),
        "#".into(),
        "device board 1 board-type CE6850-48S4Q-EI".into(),
        "#".into(),
        format!("info-center loghost {}", site.syslog),
        "#".into(),
        format!("vlan batch {}", ids.join(" ")),
        "#".into(),
        "telnet server disable".into(),
        "telnet ipv6 server disable".into(),
        "#".into(),
        "hwtacacs-server template TACACS".into(),
        format!(" hwtacacs-server authentication {}", site.aaa[0]),
        format!(" hwtacacs-server authorization {}", site.aaa[0]),
        format!(" hwtacacs-server shared-key cipher {}", cipher(&mut rng)),
        "#".into(),
        "ike peer HQ".into(),
        " pre-shared-key cipher %^%#HwIkePsk!R7w(q:Zb5KxT`{2mJ%^%#".into(),
        " remote-address 198.51.100.7".into(),
        "#".into(),
        "aaa".into(),
        format!(
            " local-user admin password irreversible-cipher $1c${}${}$",
            rng.crypt64(20),
            rng.crypt64(40)
        ),
        " local-user admin service-type ssh terminal".into(),
        " local-user admin level 3".into(),
        " #".into(),
        " authentication-scheme default".into(),
        "  authentication-mode hwtacacs local".into(),
        " #".into(),
        " authorization-scheme default".into(),
        " #".into(),
        " accounting-scheme default".into(),
        " #".into(),
        " domain default".into(),
        "  hwtacacs-server TACACS".into(),
        " #".into(),
        " domain default_admin".into(),
        "#".into(),
        "ntp server disable".into(),
        "ntp ipv6 server disable".into(),
    ];
    for server in site.ntp {
        head.push(format!("ntp unicast-server {server}"));
    }
    head.push("#".into());
    for vlan in &site.vlans {
        head.push(format!("interface Vlanif{}", vlan.id));
        head.push(format!(" description {} gateway", vlan.name));
        head.push(format!(" ip address {} 255.255.255.0", vlan.gateway));
        head.push("#".into());
    }
    head.push("interface MEth0/0/0".into());
    head.push(format!(" ip address {} 255.255.255.0", site.mgmt_ip));
    head.push("#".into());
    let mut tail: Vec<String> = vec![
        "interface LoopBack0".into(),
        format!(" ip address {} 255.255.255.255", site.loopback),
        "#".into(),
        format!("bgp {}", site.asn),
        format!(" router-id {}", site.loopback),
    ];
    for link in &site.uplinks {
        tail.push(format!(" peer {} as-number {}", link.peer, link.peer_asn));
        tail.push(format!(
            " peer {} description {}",
            link.peer, link.peer_name
        ));
        tail.push(format!(
            " peer {} password cipher {}",
            link.peer,
            cipher(&mut rng)
        ));
    }
    tail.push(" #".into());
    tail.push(" ipv4-family unicast".into());
    for link in &site.uplinks {
        tail.push(format!("  peer {} enable", link.peer));
    }
    tail.push("#".into());
    tail.push(format!(
        "ip route-static 0.0.0.0 0.0.0.0 {}",
        site.mgmt_gateway
    ));
    tail.extend([
        "#".into(),
        "snmp-agent".into(),
        format!("snmp-agent local-engineid 800007DB03{}", rng.hex_upper(12)),
        format!("snmp-agent community read cipher {}", cipher(&mut rng)),
        "snmp-agent usm-user v3 netops authentication-mode sha cipher %^%#AuthPassV3x=Qd8]kL%^%# privacy-mode aes128 cipher %^%#PrivPassV3x+Wm3}zP%^%#".into(),
        format!("snmp-agent sys-info location {}", site.location),
        "snmp-agent sys-info version v2c v3".into(),
        "#".into(),
        "stelnet server enable".into(),
        "ssh user admin".into(),
        "ssh user admin authentication-type password".into(),
        "ssh user admin service-type stelnet".into(),
        "#".into(),
        "user-interface con 0".into(),
        " authentication-mode aaa".into(),
        "#".into(),
        "user-interface vty 0 4".into(),
        " authentication-mode aaa".into(),
        " protocol inbound ssh".into(),
        "#".into(),
    ]);
    let ports = fill_to(id.config_lines, head.len() + tail.len() + 3, 4, |n| {
        let mut block = vec![format!("interface 10GE1/0/{}", n + 1)];
        if n < site.uplinks.len() {
            let link = &site.uplinks[n];
            block.push(format!(" description Uplink to {}", link.peer_name));
            block.push(" undo portswitch".into());
            block.push(format!(" ip address {} 255.255.255.252", link.local));
            if n == 0 {
                block.push(
                    " ospf authentication-mode simple cipher %^%#HwOspfSimple#Tq4@Lz9%^%#".into(),
                );
            }
        } else {
            let vlan = &site.vlans[n % site.vlans.len()];
            block.push(format!(" description {}", port_description(&mut rng, n)));
            block.push(format!(" port default vlan {}", vlan.id));
        }
        block.push("#".into());
        block
    });
    let mut t = Template::new();
    t.line("!Software Version V200R005C10SPC800")
        .volatile(Volatile::HuaweiUpdated);
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("return");
    t
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let up = id.uptime(now);
    let uptime = format!(
        "{} days, {} hours, {} minutes",
        up.total_days(),
        up.hours,
        up.minutes
    );
    match fact {
        Fact::Version => Some(format!(
            "Huawei Versatile Routing Platform Software\n\
             VRP (R) software, Version 8.180 (CE6850EI V200R005C10SPC800)\n\
             Copyright (C) 2012-2018 Huawei Technologies Co., Ltd.\n\
             HUAWEI CE6850-48S4Q-EI uptime is {uptime}\n\
             Patch Version: V200R005SPH007\n\
             \n\
             CE6850-48S4Q-EI(Master) 1 : uptime is  {uptime}\n\
             \x20       StartupTime {boot}\n\
             Memory    Size    : 2048 M bytes\n\
             Flash     Size    : 1024 M bytes\n\
             CE6850-48S4Q-EI version information\n\
             1. PCB    Version : CEM48S4QP04    VER B\n\
             2. MAB    Version : 1\n\
             3. Board  Type    : CE6850-48S4Q-EI\n\
             4. CPLD1  Version : 100\n\
             5. BIOS   Version : 205\n",
            boot = id.boot().iso().replace('-', "/"),
        )),
        Fact::Inventory => Some(format!(
            "ESN of slot 1: {}\n",
            id.rng("serial").pattern("2102350DLS10K3######")
        )),
        Fact::Clock => Some(format!(
            "{}+00:00\n{}\nTime Zone(UTC) : UTC\n",
            now.iso(),
            now.weekday_abbr()
        )),
        _ => None,
    }
}
