//! Dell EMC OS10 (S5248F-ON, 10.5.4.0) and Dell Networking OS6 (N3048, 6.6.3.10) content.

use crate::clock::Stamp;

use super::common::{Site, fill_to, mac, port_description, sha512_crypt};
use super::{Fact, Identity, Template, Volatile};

pub(crate) fn os10_banner(_now: &Stamp) -> String {
    "Linux OS10 4.9.189 #1 SMP Debian 4.9.189-3+deb9u2 x86_64\n\
     \n\
     The programs included with the Debian GNU/Linux system are free software;\n\
     the exact distribution terms for each program are described in the\n\
     individual files in /usr/share/doc/*/copyright.\n\
     \n\
     Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\n\
     permitted by applicable law.\n\
     -*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-\n\
     -*         Dell EMC Network Operating System (OS10)                      *-\n\
     -*                                                                       *-\n\
     -* Copyright (c) 1999-2022 by Dell Inc. All Rights Reserved.             *-\n\
     -*                                                                       *-\n\
     -*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-\n\
     \n\
     This product is protected by U.S. and international copyright and\n\
     intellectual property laws. Dell EMC and the Dell EMC logo are trademarks\n\
     of Dell Inc. in the United States and/or other jurisdictions. All other\n\
     marks and names mentioned herein may be trademarks of their respective\n\
     companies.\n\
     \n"
    .to_string()
}

fn service_tag(id: &Identity) -> String {
    id.rng("serial").pattern("#@@@@@#")
}

pub(crate) fn os10_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head: Vec<String> = vec![
        "!".into(),
        "ip vrf default".into(),
        "!".into(),
        format!("hostname {}", id.hostname),
        format!("system-user linuxadmin password {}", sha512_crypt(&mut rng)),
        format!(
            "username admin password {} role sysadmin priv-lvl 15",
            sha512_crypt(&mut rng)
        ),
        format!(
            "username netops password {} role netoperator priv-lvl 1",
            sha512_crypt(&mut rng)
        ),
        "aaa authentication login default group tacacs+ local".into(),
    ];
    for server in site.aaa {
        head.push(format!("tacacs-server host {server} key 9 {}", rng.hex(64)));
    }
    head.push(format!(
        "radius-server host {} auth-port 1812 key 9 Os10RadK3y",
        site.aaa[1]
    ));
    head.extend([
        "iscsi target port 860".into(),
        "iscsi target port 3260".into(),
        "snmp-server community public ro".into(),
        "snmp-server community S3cr3tCommunity ro".into(),
        format!(
            "snmp-server host {} traps version 2c Tr4pC0mmO10 udp-port 162",
            site.syslog
        ),
        "snmp-server user netops-v3 netops-group 3 auth sha AuthPassV3x priv aes PrivPassV3x"
            .into(),
        "snmp-server contact \"noc@example.net\"".into(),
        format!("snmp-server location \"{}\"", site.location),
    ]);
    for server in site.ntp {
        head.push(format!("ntp server {server}"));
    }
    head.extend([
        "!".into(),
        "interface vlan1".into(),
        " no shutdown".into(),
        "!".into(),
    ]);
    for vlan in &site.vlans {
        head.push(format!("interface vlan{}", vlan.id));
        head.push(format!(" description {}", vlan.name));
        head.push(" no shutdown".into());
        head.push(format!(" ip address {}/24", vlan.gateway));
        head.push("!".into());
    }
    let mut tail: Vec<String> = vec![
        "interface mgmt1/1/1".into(),
        " no shutdown".into(),
        " no ip address dhcp".into(),
        format!(" ip address {}/24", site.mgmt_ip),
        " ipv6 address autoconfig".into(),
        "!".into(),
        format!("management route 0.0.0.0/0 {}", site.mgmt_gateway),
        "!".into(),
        format!("router bgp {}", site.asn),
        format!(" router-id {}", site.loopback),
        " !".into(),
    ];
    for link in &site.uplinks {
        tail.push(format!(" neighbor {}", link.peer));
        tail.push(format!("  description {}", link.peer_name));
        tail.push(format!("  password 9 {}", rng.hex(64)));
        tail.push(format!("  remote-as {}", link.peer_asn));
        tail.push("  no shutdown".into());
        tail.push("  !".into());
    }
    tail.extend(["!".into(), "line vty".into(), "!".into()]);
    let ports = fill_to(id.config_lines, head.len() + tail.len() + 3, 4, |n| {
        let vlan = &site.vlans[n % site.vlans.len()];
        vec![
            format!("interface ethernet1/1/{}", n + 1),
            format!(" description \"{}\"", port_description(&mut rng, n)),
            " no shutdown".into(),
            format!(" switchport access vlan {}", vlan.id),
            " flowcontrol receive on".into(),
            "!".into(),
        ]
    });
    let mut t = Template::new();
    t.line("! Version 10.5.4.0")
        .volatile(Volatile::Os10LastChange);
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("end");
    t
}

pub(crate) fn os10_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let up = id.uptime(now);
    let mut rng = id.rng("inventory");
    match fact {
        Fact::Version => Some(format!(
            "Dell EMC Networking OS10 Enterprise\n\
             Copyright (c) 1999-2022 by Dell Inc. All Rights Reserved.\n\
             OS Version: 10.5.4.0\n\
             Build Version: 10.5.4.0.98\n\
             Build Time: 2022-05-20T21:07:46+0000\n\
             System Type: S5248F-ON\n\
             Architecture: x86_64\n\
             Up Time: {} weeks {} days {:02}:{:02}:{:02}\n",
            up.weeks, up.days, up.hours, up.minutes, up.seconds
        )),
        Fact::Inventory => Some(format!(
            "Product               : S5248F-ON\n\
             Description           : S5248F-ON 48x25GbE SFP28, 4x100GbE QSFP28, 2x200GbE QSFP28-DD Interface Module\n\
             Software version      : 10.5.4.0\n\
             Product Base          : \n\
             Product Serial Number : \n\
             Product Part Number   : \n\
             Service Tag           : {tag}\n\
             \n\
             Unit Type                 Part Number Rev  Piece Part ID                 Svc Tag  Exprs Svc Code\n\
             -------------------------------------------------------------------------------------------------\n\
             * 1  S5248F-ON            0J8HDJ      A00  TW-0J8HDJ-28298-{ppid}      {tag}  209 573 826 46\n\
             \x20 1  S5248F-ON-PWR-1-AC   0W3JFT      A00  CN-0W3JFT-28298-{psu}                       \n\
             \x20 1  S5248F-ON-FANTRAY-1  0N7MH8      A00  CN-0N7MH8-28298-{fan}                       \n",
            tag = service_tag(id),
            ppid = rng.pattern("###-####"),
            psu = rng.pattern("###-####"),
            fan = rng.pattern("###-####"),
        )),
        Fact::Clock => Some(format!(
            "{}.{:03}+00:00\n",
            now.iso().replace(' ', "T"),
            now.millis
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// OS6 (N3048)

fn os6_serial(id: &Identity) -> String {
    id.rng("serial").pattern("CN0@@@###")
}

/// OS6's `Key........ value` layout (keys padded with dots to 47 columns).
fn dotted(key: &str, value: &str) -> String {
    format!("{key:.<47} {value}\n")
}

pub(crate) fn os6_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let ids: Vec<String> = site.vlans.iter().map(|v| v.id.to_string()).collect();
    let mut head: Vec<String> = vec![
        "!Current Configuration:".into(),
        "!System Description \"Dell Networking N3048, 6.6.3.10, Linux 4.14.138\"".into(),
        "!System Software Version 6.6.3.10".into(),
        "!Cut-through mode is configured as disabled".into(),
        "!".into(),
        "configure".into(),
        format!("vlan {}", ids.join(",")),
        "exit".into(),
    ];
    for vlan in &site.vlans {
        head.push(format!("vlan {}", vlan.id));
        head.push(format!("name \"{}\"", vlan.name));
        head.push("exit".into());
    }
    head.extend([
        format!("hostname \"{}\"", id.hostname),
        "slot 1/0 5    ! Dell Networking N3048".into(),
        "stack".into(),
        "member 1 4    ! N3048".into(),
        "exit".into(),
        "interface out-of-band".into(),
        format!(
            "ip address {} 255.255.255.0 {}",
            site.mgmt_ip, site.mgmt_gateway
        ),
        "exit".into(),
    ]);
    for server in site.ntp {
        head.push(format!("sntp server {server}"));
    }
    head.push(format!("logging {}", site.syslog));
    head.push("exit".into());
    head.push(format!(
        "username \"admin\" password {} privilege 15 encrypted",
        rng.hex(32)
    ));
    head.push(format!(
        "username \"netops\" password {} privilege 1 encrypted",
        rng.hex(32)
    ));
    for server in site.aaa {
        head.push(format!("tacacs-server host {server}"));
        head.push(format!("key 7 \"{}\"", rng.hex(32)));
        head.push("exit".into());
    }
    head.extend([
        "aaa authentication login \"tacacs\" tacacs local".into(),
        "radius-server key 7 \"Os6RadK3y\"".into(),
        "snmp-server community \"S3cr3tCommunity\" ro".into(),
        "snmp-server user \"netops\" \"netops-group\" auth-sha-key AuthPassV3x priv-des-key PrivPassV3x"
            .into(),
        format!("snmp-server location \"{}\"", site.location),
        "snmp-server contact \"noc@example.net\"".into(),
        "!".into(),
    ]);
    let mut tail: Vec<String> = Vec::new();
    for vlan in &site.vlans {
        tail.push(format!("interface vlan {}", vlan.id));
        tail.push(format!("ip address {} 255.255.255.0", vlan.gateway));
        tail.push("exit".into());
    }
    tail.extend([
        format!("enable password {} encrypted", rng.hex(32)),
        "line ssh".into(),
        "login authentication tacacs".into(),
        "exit".into(),
        "router ospf".into(),
        format!("router-id {}", site.loopback),
        "network 10.0.0.0 0.255.255.255 area 0.0.0.0".into(),
        "exit".into(),
        "exit".into(),
    ]);
    let ports = fill_to(id.config_lines, head.len() + tail.len(), 4, |n| {
        let vlan = &site.vlans[n % site.vlans.len()];
        vec![
            "!".into(),
            format!("interface Gi1/0/{}", n + 1),
            format!("description \"{}\"", port_description(&mut rng, n)),
            format!("switchport access vlan {}", vlan.id),
            "exit".into(),
        ]
    });
    let mut t = Template::new();
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t
}

pub(crate) fn os6_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let site = Site::of(id);
    let up = id.uptime(now);
    let m = mac(&mut id.rng("mac"));
    match fact {
        Fact::Version => {
            let mut out = String::from("\n");
            out.push_str(&dotted(
                "System Description",
                "Dell Networking N3048, 6.6.3.10, Linux 4.14.138",
            ));
            out.push_str(&dotted(
                "System Up Time",
                &format!(
                    "{} days, {:02}h:{:02}m:{:02}s",
                    up.total_days(),
                    up.hours,
                    up.minutes,
                    up.seconds
                ),
            ));
            out.push_str(&dotted("System Contact", "noc@example.net"));
            out.push_str(&dotted("System Name", &id.hostname));
            out.push_str(&dotted("System Location", &site.location));
            out.push_str(&dotted(
                "Burned In MAC Address",
                &format!(
                    "{:02X}{:02X}.{:02X}{:02X}.{:02X}{:02X}",
                    m[0], m[1], m[2], m[3], m[4], m[5]
                ),
            ));
            out.push_str(&dotted("System Object ID", "1.3.6.1.4.1.674.10895.3063"));
            out.push_str(&dotted("System Model ID", "N3048"));
            out.push_str(&dotted("Machine Type", "Dell Networking N3048"));
            out.push_str(&dotted("Serial Number", &os6_serial(id)));
            out.push_str(&format!(
                "\n\
                 unit active      backup      current-active next-active\n\
                 ---- ----------- ----------- -------------- --------------\n\
                 1     6.6.3.10    6.5.4.3     6.6.3.10       6.6.3.10\n\
                 \n\
                 Boot Time: {}\n",
                id.boot().ctime()
            ));
            Some(out)
        }
        Fact::Clock => Some(format!(
            "{} UTC(+00:00) {} {} {}\n\nTime source is SNTP\n",
            now.hms(),
            now.month_abbr(),
            now.day,
            now.year
        )),
        _ => None,
    }
}
