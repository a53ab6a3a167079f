//! HPE ProCurve / ArubaOS-Switch (2920-48G, WB.16.10) and ArubaOS-CX (6300F, FL.10.10) content.

use crate::clock::Stamp;
use crate::rng::Rng;

use super::common::{Site, fill_to, mac, port_description};
use super::{Fact, Identity, Template};

fn procurve_serial(id: &Identity) -> String {
    id.rng("serial").pattern("SG##???@@@")
}

pub(crate) fn procurve_banner() -> String {
    "HP J9728A 2920-48G Switch\n\
     Software revision WB.16.10.0012\n\
     \n\
     (C) Copyright 2020 Hewlett Packard Enterprise Development LP\n\
     \n\
     \x20                  RESTRICTED RIGHTS LEGEND\n\
     \x20Confidential computer software. Valid license from HPE required for possession,\n\
     \x20use or copying. Consistent with FAR 12.211 and 12.212, Commercial Computer\n\
     \x20Software, Computer Software Documentation, and Technical Data for Commercial\n\
     \x20Items are licensed to the U.S. Government under vendor's standard commercial\n\
     \x20license.\n\
     \n\
     We'd like to keep you up to date about:\n\
     \x20 * Software feature updates\n\
     \x20 * New product announcements\n\
     \x20 * Special events\n\
     \n\
     Please register your products now at:  www.hpe.com/networking/register\n\
     \n\
     \n"
    .to_string()
}

pub(crate) fn procurve_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head: Vec<String> = vec![
        String::new(),
        "Running configuration:".into(),
        String::new(),
        "; J9728A Configuration Editor; Created on release #WB.16.10.0012".into(),
        "; Ver #14:01.4f.f8.1d.9b.3f.bf.bb.ef.7c.59.fc.6b.fb.9f.fc.ff.ff.37.ef:04".into(),
        format!("hostname \"{}\"", id.hostname),
        "module 1 type j9728a".into(),
        "trunk 49-50 trk1 lacp".into(),
        "timesync sntp".into(),
        "sntp unicast".into(),
    ];
    for (i, server) in site.ntp.iter().enumerate() {
        head.push(format!("sntp server priority {} {server}", i + 1));
    }
    head.push(format!("ip default-gateway {}", site.mgmt_gateway));
    head.push(format!("ip dns server-address priority 1 {}", site.dns[0]));
    head.push(format!("ip dns domain-name \"{}\"", site.domain));
    let mut tail: Vec<String> = vec![
        "snmp-server community \"public\" operator".into(),
        "snmp-server community \"S3cr3tCommunity\" manager unrestricted".into(),
        format!(
            "snmp-server host {} community \"Tr4pC0mmHp\" trap-level all",
            site.syslog
        ),
        format!("snmp-server location \"{}\"", site.location),
        "snmp-server contact \"noc@example.net\"".into(),
        format!("radius-server host {} key \"secret\"", site.aaa[0]),
        format!("tacacs-server host {} key \"T4cacsK3y\"", site.aaa[1]),
        "snmpv3 enable".into(),
        "snmpv3 user \"netops\" auth sha \"AuthPassV3x\" priv aes \"PrivPassV3x\"".into(),
        "sntp authentication key-id 1 authentication-mode md5 key-value \"SntpK3yHp\"".into(),
        "aaa authentication ssh login tacacs local".into(),
        "aaa authentication ssh enable tacacs local".into(),
        "vlan 1".into(),
        "   name \"DEFAULT_VLAN\"".into(),
        "   no untagged 1-48".into(),
        "   untagged Trk1".into(),
        format!("   ip address {} 255.255.255.0", site.mgmt_ip),
        "   exit".into(),
    ];
    for vlan in &site.vlans {
        tail.push(format!("vlan {}", vlan.id));
        tail.push(format!("   name \"{}\"", vlan.name));
        tail.push("   tagged Trk1".into());
        tail.push(format!(
            "   ip address {} 255.255.255.0",
            super::common::offset(vlan.gateway, 1)
        ));
        tail.push("   exit".into());
    }
    tail.extend(
        [
            "spanning-tree",
            "spanning-tree Trk1 priority 4",
            "no tftp server",
            "no autorun",
            "no dhcp config-file-update",
            "no dhcp image-file-update",
        ]
        .map(String::from),
    );
    tail.push(format!(
        "password manager user-name \"admin\" sha1 \"{}\"",
        rng.hex(40)
    ));
    tail.push(format!(
        "password operator user-name \"operator\" sha1 \"{}\"",
        rng.hex(40)
    ));
    let ports = fill_to(
        id.config_lines,
        head.len() + tail.len() + extra.len(),
        4,
        |n| {
            vec![
                format!("interface {}", n + 1),
                format!("   name \"{}\"", port_description(&mut rng, n)),
                "   exit".into(),
            ]
        },
    );
    let mut t = Template::new();
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t
}

pub(crate) fn procurve_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let serial = procurve_serial(id);
    let site = Site::of(id);
    let m = mac(&mut id.rng("mac"));
    let up = id.uptime(now);
    let days = format!("{} days", up.total_days());
    let procurve_mac = format!(
        "{:02x}{:02x}{:02x}-{:02x}{:02x}{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    match fact {
        Fact::System => Some(format!(
            "\n Status and Counters - General System Information\n\
             \n\
             \x20 System Name        : {host}\n\
             \x20 System Contact     : noc@example.net\n\
             \x20 System Location    : {location}\n\
             \n\
             \x20 MAC Age Time (sec) : 300\n\
             \n\
             \x20 Time Zone          : 0\n\
             \x20 Daylight Time Rule : None\n\
             \n\
             \x20 Software revision  : WB.16.10.0012        Base MAC Addr      : {mac}\n\
             \x20 ROM Version        : WB.16.03             Serial Number      : {serial}\n\
             \n\
             \x20 Up Time            : {days:<21}Memory   - Total   : 337,969,152\n\
             \x20 CPU Util (%)       : 3                               Free    : 180,373,504\n\
             \n\
             \x20 IP Mgmt  - Pkts Rx : 1,234,567            Packet   - Total   : 6600\n\
             \x20            Pkts Tx : 1,123,456            Buffers    Free    : 4321\n\
             \x20                                                      Lowest  : 4200\n\
             \x20                                                      Missed  : 0\n\
             \n",
            host = id.hostname,
            location = site.location,
            mac = procurve_mac,
            days = days,
        )),
        Fact::Inventory => Some(format!(
            "\n Status and Counters - Module Information\n\
             \n\
             \x20 Chassis: 2920-48G J9728A  Serial Number: {serial}\n\
             \n\
             \x20 Slot  Module Description                  Serial Number    Status\n\
             \x20 ----- ----------------------------------- ---------------- -------\n\
             \x20 STK   HP J9733A 2-Port Stacking Module    {stk:<17}Up\n\
             \n",
            stk = id.rng("stack").pattern("SG#??####Z"),
        )),
        Fact::Version => Some(
            "Image stamp:    /ws/swbuildm/rel_venice_qaoff/code/build/tam(swbuildm_rel_venice_qaoff_rel_venice)\n\
             \x20               Mar 26 2020 09:31:41\n\
             \x20               WB.16.10.0012\n\
             \x20               1223\n\
             Boot Image:     Primary\n"
                .to_string(),
        ),
        _ => None,
    }
}

fn aoscx_serial(id: &Identity) -> String {
    id.rng("serial").pattern("SG#???##??")
}

/// An AOS-CX `ciphertext` value (base64 of an encrypted blob, always starting `AQBap`).
fn ciphertext(rng: &mut Rng) -> String {
    let tail = rng.base64(60);
    format!("AQBap{}", tail.trim_end_matches('='))
}

pub(crate) fn aoscx_banner(now: &Stamp) -> String {
    format!(
        "\nLast login: {} from 10.0.0.15\nUser \"admin\" has logged in 3 times in the past 30 days\n\n",
        now.minus(7200).iso()
    )
}

pub(crate) fn aoscx_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head: Vec<String> = vec![
        "Current configuration:".into(),
        "!".into(),
        "!Version ArubaOS-CX FL.10.10.1040".into(),
        "!export-password: default".into(),
        format!("hostname {}", id.hostname),
        format!(
            "user admin group administrators password ciphertext {}",
            ciphertext(&mut rng)
        ),
        format!(
            "user netops group operators password ciphertext {}",
            ciphertext(&mut rng)
        ),
        "clock timezone utc".into(),
    ];
    for server in site.ntp {
        head.push(format!("ntp server {server} iburst"));
    }
    head.extend([
        "ntp authentication-key 1 md5 ciphertext AQBapNtpK3yCxV6wq".into(),
        "ntp authentication".into(),
        "ntp enable".into(),
        "!".into(),
        "!".into(),
        "!".into(),
    ]);
    head.push("ssh server vrf mgmt".into());
    head.push(format!(
        "radius-server host {} key ciphertext {} vrf mgmt",
        site.aaa[0],
        ciphertext(&mut rng)
    ));
    for server in site.aaa {
        head.push(format!(
            "tacacs-server host {server} key ciphertext {} vrf mgmt",
            ciphertext(&mut rng)
        ));
    }
    head.push("aaa group server tacacs TACACS".into());
    for server in site.aaa {
        head.push(format!("    server {server} vrf mgmt"));
    }
    head.push("aaa authentication login ssh group TACACS local".into());
    head.push("snmp-server vrf mgmt".into());
    head.push(format!("snmp-server system-location {}", site.location));
    head.push("snmp-server community S3cr3tCommunity".into());
    head.push(format!(
        "snmp-server host {} trap version v2c community Tr4pC0mmCx",
        site.syslog
    ));
    head.push(
        "snmpv3 user netops auth sha auth-pass ciphertext AQBapAuthPassV3xCx priv aes priv-pass ciphertext AQBapPrivPassV3xCx"
            .into(),
    );
    let ids: Vec<String> = site.vlans.iter().map(|v| v.id.to_string()).collect();
    head.push(format!("vlan 1,{}", ids.join(",")));
    for vlan in &site.vlans {
        head.push(format!("vlan {}", vlan.id));
        head.push(format!("    name {}", vlan.name));
    }
    head.push("spanning-tree".into());
    head.push("interface mgmt".into());
    head.push("    no shutdown".into());
    head.push(format!("    ip static {}/24", site.mgmt_ip));
    head.push(format!("    default-gateway {}", site.mgmt_gateway));
    let mut tail = Vec::new();
    for vlan in &site.vlans {
        tail.push(format!("interface vlan{}", vlan.id));
        tail.push(format!("    ip address {}/24", vlan.gateway));
    }
    tail.push(format!("ip route 0.0.0.0/0 {}", site.uplinks[0].peer));
    tail.push("!".into());
    tail.push("https-server vrf mgmt".into());
    let ports = fill_to(
        id.config_lines,
        head.len() + tail.len() + extra.len(),
        4,
        |n| {
            let vlan = &site.vlans[n % site.vlans.len()];
            vec![
                format!("interface 1/1/{}", n + 1),
                "    no shutdown".into(),
                format!("    description {}", port_description(&mut rng, n)),
                "    no routing".into(),
                format!("    vlan access {}", vlan.id),
            ]
        },
    );
    let mut t = Template::new();
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t
}

pub(crate) fn aoscx_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let site = Site::of(id);
    let up = id.uptime(now);
    let m = mac(&mut id.rng("mac"));
    match fact {
        Fact::System => Some(format!(
            "Hostname              : {host}\n\
             System Description    : FL.10.10.1040\n\
             System Contact        : noc@example.net\n\
             System Location       : {location}\n\
             \n\
             Vendor                : Aruba\n\
             Product Name          : JL668A 6300F 24G 4SFP56 Swch\n\
             Chassis Serial Nbr    : {serial}\n\
             Base MAC Address      : {mac}\n\
             ArubaOS-CX Version    : FL.10.10.1040\n\
             \n\
             Time Zone             : UTC\n\
             \n\
             Up Time               : {w} weeks {d} days {h} hours {mi} minutes\n\
             CPU Util (%)          : 4\n\
             CPU Util (%) [1 min]  : 4\n\
             CPU Util (%) [5 min]  : 4\n\
             Memory Usage (%)      : 31\n",
            host = id.hostname,
            location = site.location,
            serial = aoscx_serial(id),
            mac = super::common::mac_colons(m),
            w = up.weeks,
            d = up.days,
            h = up.hours,
            mi = up.minutes,
        )),
        Fact::Version => Some(
            "-----------------------------------------------------------------------------\n\
             ArubaOS-CX\n\
             (c) Copyright 2017-2022 Hewlett Packard Enterprise Development LP\n\
             -----------------------------------------------------------------------------\n\
             Version      : FL.10.10.1040\n\
             Build Date   : 2022-09-13 21:40:32 UTC\n\
             Build ID     : ArubaOS-CX:FL.10.10.1040:5f4a4a0c6b1d:202209132112\n\
             Build SHA    : 5f4a4a0c6b1d3d2a8e6e7c0f0c7d4b3f6c0a1e22\n\
             Active Image : primary\n\
             \n\
             Service OS Version : FL.01.09.0003\n\
             BIOS Version       : FL.01.0002\n"
                .to_string(),
        ),
        Fact::Inventory => Some(format!(
            "Management Modules\n\
             ==================\n\
             \n\
             \x20   Product  Serial\n\
             Name Number   Number     Description\n\
             ---- -------  ---------- ----------------------------------------\n\
             1/1  JL668A   {serial} 6300F 24G 4SFP56 Swch\n",
            serial = aoscx_serial(id)
        )),
        _ => None,
    }
}
