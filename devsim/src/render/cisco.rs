//! Cisco IOS-XE, NX-OS, IOS-XR and ASA content.

use crate::clock::Stamp;

use super::common::{
    Site, cisco_type7, cisco_type9, fill_to, mac, mac_dotted, netmask, port_description,
    sha256_crypt, sha512_crypt,
};
use super::{Fact, Identity, Template, Volatile};

fn push(v: &mut Vec<String>, lines: &[&str]) {
    v.extend(lines.iter().map(|l| l.to_string()));
}

/// The MOTD banner IOS-like devices print at login.
pub(crate) fn motd(id: &Identity) -> String {
    format!(
        "\n\
         ******************************************************************\n\
         * {:<62} *\n\
         * Authorized access only. Disconnect IMMEDIATELY if you are not  *\n\
         * an authorized user. All activity is logged.                    *\n\
         ******************************************************************\n\n",
        id.hostname
    )
}

fn ios_serial(id: &Identity) -> String {
    id.rng("serial").pattern("FOC####X@@@")
}

// ---------------------------------------------------------------------------------------------
// IOS-XE (Catalyst 9300)

pub(crate) fn ios_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head = Vec::new();
    push(
        &mut head,
        &[
            "!",
            "version 17.3",
            "service timestamps debug datetime msec",
            "service timestamps log datetime msec",
            "service password-encryption",
            "service call-home",
            "no platform punt-keepalive disable-kernel-core",
            "!",
        ],
    );
    head.push(format!("hostname {}", id.hostname));
    push(
        &mut head,
        &[
            "!",
            "!",
            "vrf definition Mgmt-vrf",
            " !",
            " address-family ipv4",
            " exit-address-family",
            " !",
            " address-family ipv6",
            " exit-address-family",
            "!",
            "logging buffered 64000 informational",
            "no logging console",
        ],
    );
    head.push(format!("enable secret 9 {}", cisco_type9(&mut rng)));
    push(
        &mut head,
        &[
            "!",
            "aaa new-model",
            "!",
            "!",
            "aaa group server tacacs+ TACACS-SERVERS",
            " server name ISE-1",
            " server name ISE-2",
            "!",
            "aaa authentication login default group TACACS-SERVERS local",
            "aaa authentication enable default group TACACS-SERVERS enable",
            "aaa authorization exec default group TACACS-SERVERS local ",
            "aaa accounting exec default start-stop group TACACS-SERVERS",
            "aaa accounting commands 15 default start-stop group TACACS-SERVERS",
            "!",
            "aaa session-id common",
            "clock timezone UTC 0 0",
            "switch 1 provision c9300-24p",
            "!",
            "ip routing",
            "!",
        ],
    );
    head.push(format!("ip domain name {}", site.domain));
    head.push(format!("ip name-server {} {}", site.dns[0], site.dns[1]));
    push(
        &mut head,
        &[
            "no ip domain lookup",
            "!",
            "login on-success log",
            "!",
            "crypto pki trustpoint TP-self-signed-3012345678",
            " enrollment selfsigned",
            " subject-name cn=IOS-Self-Signed-Certificate-3012345678",
            " revocation-check none",
            " rsakeypair TP-self-signed-3012345678",
            "!",
            "license boot level network-advantage addon dna-advantage",
            "!",
            "diagnostic bootup level minimal",
            "!",
            "spanning-tree mode rapid-pvst",
            "spanning-tree extend system-id",
            "!",
        ],
    );
    head.push(format!(
        "username admin privilege 15 secret 9 {}",
        cisco_type9(&mut rng)
    ));
    head.push(format!(
        "username netops privilege 15 password 7 {}",
        cisco_type7("N3tOps!2024", rng.below(16) as u8)
    ));
    push(&mut head, &["!", "redundancy", " mode sso", "!"]);
    for vlan in &site.vlans {
        head.push(format!("vlan {}", vlan.id));
        head.push(format!(" name {}", vlan.name));
        head.push("!".into());
    }
    push(
        &mut head,
        &[
            "crypto isakmp policy 10",
            " encr aes 256",
            " hash sha256",
            " authentication pre-share",
            " group 14",
            "crypto isakmp key MyPreSharedKey address 0.0.0.0",
            "crypto keyring KR-BRANCH",
            "  pre-shared-key address 198.51.100.7 key Br4nchPsk",
            "  pre-shared-key hostname branch2.example.net key Br4nchHostPsk",
            "!",
            "crypto ikev2 keyring IK2-KR",
            " peer HQ",
            "  address 198.51.100.9",
            "  pre-shared-key local Ik2LocalPsk",
            "  pre-shared-key remote Ik2RemotePsk",
            " !",
            "!",
            "crypto ikev2 profile IK2-PROF",
            " match identity remote address 198.51.100.9 255.255.255.255",
            " authentication remote pre-share key Ik2ProfPsk",
            " authentication local pre-share",
            " keyring local IK2-KR",
            "!",
            "key chain OSPF-KEYS",
            " key 1",
        ],
    );
    head.push(format!(
        "  key-string 7 {}",
        cisco_type7("0spfK3y", rng.below(16) as u8)
    ));
    push(
        &mut head,
        &[
            "!",
            "interface GigabitEthernet0/0",
            " vrf forwarding Mgmt-vrf",
        ],
    );
    head.push(format!(" ip address {} 255.255.255.0", site.mgmt_ip));
    push(&mut head, &[" negotiation auto", "!"]);
    head.push("interface Loopback0".into());
    head.push(format!(" ip address {} 255.255.255.255", site.loopback));
    head.push("!".into());

    let mut tail = Vec::new();
    for (i, vlan) in site.vlans.iter().enumerate() {
        tail.push(format!("interface Vlan{}", vlan.id));
        tail.push(format!(" description {} gateway", vlan.name));
        tail.push(format!(" ip address {} 255.255.255.0", vlan.gateway));
        tail.push(" ip helper-address 10.0.0.67".into());
        if i == 0 {
            tail.push(" ip ospf message-digest-key 1 md5 7 OspfMd5Ios".into());
        }
        tail.push("!".into());
    }
    tail.push("router ospf 1".into());
    tail.push(format!(" router-id {}", site.loopback));
    tail.push(" passive-interface default".into());
    for link in &site.uplinks {
        tail.push(format!(" network {} 0.0.0.3 area 0", link.local));
    }
    tail.push(format!(" network {} 0.0.0.0 area 0", site.loopback));
    tail.push("!".into());
    tail.push(format!("router bgp {}", site.asn));
    tail.push(" bgp log-neighbor-changes".into());
    for (i, link) in site.uplinks.iter().enumerate() {
        tail.push(format!(
            " neighbor {} remote-as {}",
            link.peer, link.peer_asn
        ));
        tail.push(format!(
            " neighbor {} description {}",
            link.peer, link.peer_name
        ));
        tail.push(format!(
            " neighbor {} password 7 {}",
            link.peer,
            cisco_type7(&format!("BgpPeer{i}!"), rng.below(16) as u8)
        ));
    }
    push(
        &mut tail,
        &[
            "!",
            "ip forward-protocol nd",
            "no ip http server",
            "no ip http secure-server",
        ],
    );
    tail.push(format!(
        "ip route vrf Mgmt-vrf 0.0.0.0 0.0.0.0 {}",
        site.mgmt_gateway
    ));
    push(
        &mut tail,
        &[
            "ip ssh version 2",
            "!",
            "ip access-list standard SNMP-RO",
            " 10 permit 10.0.0.0 0.0.255.255",
            "ip access-list extended MGMT-IN",
            " 10 permit tcp 10.0.0.0 0.255.255.255 any eq 22",
            " 20 permit icmp 10.0.0.0 0.255.255.255 any",
            " 30 deny   ip any any log",
            "!",
        ],
    );
    tail.push(format!("logging host {}", site.syslog));
    push(
        &mut tail,
        &[
            "!",
            "snmp-server community S3cr3tCommunity RO SNMP-RO",
            "snmp-server group NETOPS-V3 v3 priv read V1",
            "snmp-server user netops-v3 NETOPS-V3 v3 auth sha AuthPassV3x priv aes 128 PrivPassV3x",
        ],
    );
    tail.push(format!(
        "snmp-server host {} version 2c Tr4pC0mmV2",
        site.syslog
    ));
    tail.push(format!("snmp-server location {}", site.location));
    push(
        &mut tail,
        &[
            "snmp-server contact noc@example.net",
            "snmp-server enable traps snmp linkdown linkup",
        ],
    );
    for (i, server) in site.aaa.iter().enumerate() {
        tail.push(format!("tacacs server ISE-{}", i + 1));
        tail.push(format!(" address ipv4 {server}"));
        tail.push(format!(" key 7 {}", cisco_type7("T4cacsK3y", 8)));
    }
    tail.push("tacacs-server key 7 0822455D0A16".into());
    tail.push(format!(
        "tacacs-server host {} key 7 T4cHostK3y",
        site.aaa[0]
    ));
    tail.push(format!(
        "radius-server host {} auth-port 1812 acct-port 1813 key R4dHostK3y",
        site.aaa[1]
    ));
    push(
        &mut tail,
        &[
            "!",
            "control-plane",
            " service-policy input system-cpp-policy",
            "!",
            "banner motd ^C",
            "Authorized access only. Disconnect IMMEDIATELY if you are not",
            "an authorized user. All activity is logged.",
            "^C",
            "!",
            "line con 0",
            " exec-timeout 15 0",
            " stopbits 1",
            "line vty 0 4",
            " access-class MGMT-IN in",
            " exec-timeout 15 0",
            " transport input ssh",
            "line vty 5 15",
            " access-class MGMT-IN in",
            " transport input ssh",
            "!",
        ],
    );

    let ports = fill_to(id.config_lines, head.len() + tail.len() + 16, 4, |n| {
        let (module, port) = (1 + n / 48, 1 + n % 48);
        let mut block = vec![format!("interface GigabitEthernet1/{module}/{port}")];
        if n == 0 {
            block.push(" description Uplink to core-01".into());
            block.push(" switchport mode trunk".into());
            block.push(" switchport trunk native vlan 999".into());
        } else {
            let vlan = &site.vlans[n % site.vlans.len()];
            block.push(format!(" description {}", port_description(&mut rng, n)));
            block.push(format!(" switchport access vlan {}", vlan.id));
            block.push(" switchport mode access".into());
            block.push(" spanning-tree portfast".into());
        }
        block.push("!".into());
        block
    });

    let mut body = Template::new();
    body.line("!")
        .volatile(Volatile::IosLastChange)
        .volatile(Volatile::IosNvramUpdated);
    for l in head.iter().chain(&ports).chain(&tail) {
        body.line(l);
    }
    body.volatile(Volatile::NtpClockPeriod);
    body.line("ntp authentication-key 1 md5 NtpMd5K3y 7")
        .line("ntp authenticate")
        .line("ntp trusted-key 1");
    for server in site.ntp {
        body.line(format!("ntp server {server}"));
    }
    for l in extra {
        body.line(l);
    }
    body.line("!").line("!").line("end");

    let mut t = Template::new();
    t.line("Building configuration...")
        .line("")
        .line(format!(
            "Current configuration : {} bytes",
            body.approx_bytes()
        ))
        .append(&body);
    t
}

pub(crate) fn ios_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let serial = ios_serial(id);
    let mut rng = id.rng("version");
    let base_mac = mac(&mut rng);
    match fact {
        Fact::Version => Some(format!(
            "Cisco IOS XE Software, Version 17.03.04a\n\
             Cisco IOS Software [Amsterdam], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.3.4a, RELEASE SOFTWARE (fc3)\n\
             Technical Support: http://www.cisco.com/techsupport\n\
             Copyright (c) 1986-2021 by Cisco Systems, Inc.\n\
             Compiled Tue 20-Jul-21 03:44 by mcpre\n\
             \n\
             \n\
             Cisco IOS-XE software, Copyright (c) 2005-2021 by cisco Systems, Inc.\n\
             All rights reserved.  Certain components of Cisco IOS-XE software are\n\
             licensed under the GNU General Public License (\"GPL\") Version 2.0.  The\n\
             software code licensed under GPL Version 2.0 is free software that comes\n\
             with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such\n\
             GPL code under the terms of GPL Version 2.0.  For more details, see the\n\
             documentation or \"License Notice\" file accompanying the IOS-XE software,\n\
             or the applicable URL provided on the flyer accompanying the IOS-XE\n\
             software.\n\
             \n\
             \n\
             ROM: IOS-XE ROMMON\n\
             BOOTLDR: System Bootstrap, Version 17.3.2r, RELEASE SOFTWARE (P)\n\
             \n\
             {host} uptime is {uptime}\n\
             Uptime for this control processor is {uptime}\n\
             System returned to ROM by Reload Command\n\
             System image file is \"flash:packages.conf\"\n\
             Last reload reason: Reload Command\n\
             \n\
             \n\
             \n\
             This product contains cryptographic features and is subject to United\n\
             States and local country laws governing import, export, transfer and\n\
             use. Delivery of Cisco cryptographic products does not imply\n\
             third-party authority to import, export, distribute or use encryption.\n\
             \n\
             \n\
             Technology Package License Information: \n\
             \n\
             ------------------------------------------------------------------------------\n\
             Technology-package                                     Technology-package\n\
             Current                        Type                       Next reboot  \n\
             ------------------------------------------------------------------------------\n\
             network-advantage     \tSmart License                 \t network-advantage   \n\
             dna-advantage         \tSubscription Smart License    \t dna-advantage                 \n\
             \n\
             \n\
             Smart Licensing Status: Smart Licensing Using Policy\n\
             \n\
             cisco C9300-24P (X86) processor with 1343703K/6147K bytes of memory.\n\
             Processor board ID {serial}\n\
             2048K bytes of non-volatile configuration memory.\n\
             8388608K bytes of physical memory.\n\
             1638400K bytes of Crash Files at crashinfo:.\n\
             11264000K bytes of Flash at flash:.\n\
             \n\
             Base Ethernet MAC Address          : {mac}\n\
             Motherboard Assembly Number        : 73-17955-06\n\
             Motherboard Serial Number          : {board}\n\
             Model Revision Number              : B0\n\
             Motherboard Revision Number        : A0\n\
             Model Number                       : C9300-24P\n\
             System Serial Number               : {serial}\n\
             \n\
             \n\
             Switch Ports Model              SW Version        SW Image              Mode   \n\
             ------ ----- -----              ----------        ----------            ----   \n\
             *    1 41    C9300-24P          17.03.04a         CAT9K_IOSXE           INSTALL\n\
             \n\
             \n\
             Configuration register is 0x102\n",
            host = id.hostname,
            uptime = id.uptime(now).cisco(),
            mac = super::common::mac_colons(base_mac),
            board = rng.pattern("FOC#####@@@"),
        )),
        Fact::Inventory => Some(format!(
            "NAME: \"c93xx Stack\", DESCR: \"c93xx Stack\"\n\
             PID: C9300-24P         , VID: V02  , SN: {serial}\n\
             \n\
             NAME: \"Switch 1\", DESCR: \"C9300-24P\"\n\
             PID: C9300-24P         , VID: V02  , SN: {serial}\n\
             \n\
             NAME: \"Switch 1 - Power Supply A\", DESCR: \"Switch 1 - Power Supply A\"\n\
             PID: PWR-C1-715WAC     , VID: V02  , SN: {psu}\n\
             \n\
             NAME: \"Switch 1 FRU Uplink Module 1\", DESCR: \"8x10G Uplink Module\"\n\
             PID: C9300-NM-8X       , VID: V02  , SN: {nm}\n\
             \n",
            psu = rng.pattern("LIT####@@@@"),
            nm = rng.pattern("FOC####@@@@"),
        )),
        Fact::Clock => Some(format!(
            "*{}.{:03} UTC {} {} {} {}\n",
            now.hms(),
            now.millis,
            now.weekday_abbr(),
            now.month_abbr(),
            now.day,
            now.year
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// NX-OS (Nexus 93180YC-EX)

pub(crate) fn nxos_banner() -> String {
    "Cisco Nexus Operating System (NX-OS) Software\n\
     TAC support: http://www.cisco.com/tac\n\
     Copyright (C) 2002-2021, Cisco and/or its affiliates.\n\
     All rights reserved.\n\
     The copyrights to certain works contained in this software are\n\
     owned by other third parties and used and distributed under their own\n\
     licenses, such as open source.  This software is provided \"as is,\" and unless\n\
     otherwise stated, there is no warranty, express or implied, including but not\n\
     limited to warranties of merchantability and fitness for a particular purpose.\n\
     Certain components of this software are licensed under\n\
     the GNU General Public License (GPL) version 2.0 or \n\
     GNU General Public License (GPL) version 3.0  or the GNU\n\
     Lesser General Public License (LGPL) Version 2.1 or \n\
     Lesser General Public License (LGPL) Version 2.0. \n\
     A copy of each such license is available at\n\
     http://www.opensource.org/licenses/gpl-2.0.php and\n\
     http://opensource.org/licenses/gpl-3.0.html and\n\
     http://www.opensource.org/licenses/lgpl-2.1.php and\n\
     http://www.gnu.org/licenses/old-licenses/library.txt.\n"
        .to_string()
}

fn nxos_serial(id: &Identity) -> String {
    id.rng("serial").pattern("FDO#####@@@")
}

pub(crate) fn nxos_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head = Vec::new();
    head.push("".into());
    let boot = id.boot();
    let mut t = Template::new();
    t.line("").line("!Command: show running-config");
    t.line(format!(
        "!Running configuration last done at: {}",
        boot.ctime()
    ));
    t.volatile(Volatile::NxosTime);
    head.push("version 9.3(8) Bios:version 07.69 ".into());
    head.push(format!("hostname {}", id.hostname));
    head.push(format!("vdc {} id 1", id.hostname));
    push(
        &mut head,
        &[
            "  limit-resource vlan minimum 16 maximum 4094",
            "  limit-resource vrf minimum 2 maximum 4096",
            "  limit-resource port-channel minimum 0 maximum 511",
            "  limit-resource u4route-mem minimum 248 maximum 248",
            "  limit-resource u6route-mem minimum 96 maximum 96",
            "",
            "feature tacacs+",
            "cfs eth distribute",
            "feature ospf",
            "feature bgp",
            "feature interface-vlan",
            "feature lacp",
            "feature lldp",
            "",
        ],
    );
    head.push(format!(
        "username admin password 5 {}  role network-admin",
        sha256_crypt(&mut rng)
    ));
    push(&mut head, &["ip domain-lookup"]);
    head.push(format!("ip domain-name {}", site.domain));
    head.push(format!(
        "tacacs-server key 7 \"{}\"",
        cisco_type7("T4cacsK3y", 0).get(2..).unwrap_or_default()
    ));
    for server in site.aaa {
        head.push(format!(
            "tacacs-server host {server} key 7 \"{}\" ",
            rng.pattern("??????????")
        ));
    }
    head.push("aaa group server tacacs+ TACACS ".into());
    for server in site.aaa {
        head.push(format!("    server {server} "));
    }
    head.push("    use-vrf management".into());
    head.push(format!(
        "snmp-server user admin network-admin auth md5 0x{} priv 0x{} localizedkey",
        rng.hex(32),
        rng.hex(32)
    ));
    push(
        &mut head,
        &[
            "snmp-server user netops-v3 network-operator auth sha AuthPassV3x priv aes-128 PrivPassV3x",
            "snmp-server community S3cr3tCommunity group network-operator",
            "snmp-server community public group network-operator",
        ],
    );
    head.push(format!(
        "snmp-server host {} traps version 2c Tr4pC0mmNx",
        site.syslog
    ));
    head.push(format!("snmp-server location {}", site.location));
    head.push(format!(
        "radius-server host {} key 7 \"R4dHostNx\" authentication accounting",
        site.aaa[1]
    ));
    head.push("ntp authentication-key 1 md5 NtpMd5Nx 7".into());
    for server in site.ntp {
        head.push(format!("ntp server {server} use-vrf management"));
    }
    push(
        &mut head,
        &[
            "aaa authentication login default group TACACS ",
            "aaa accounting default group TACACS ",
            "",
        ],
    );
    let ids: Vec<String> = site.vlans.iter().map(|v| v.id.to_string()).collect();
    head.push(format!("vlan 1,{}", ids.join(",")));
    for vlan in &site.vlans {
        head.push(format!("vlan {}", vlan.id));
        head.push(format!("  name {}", vlan.name));
    }
    head.push("".into());
    head.push("vrf context management".into());
    head.push(format!("  ip route 0.0.0.0/0 {}", site.mgmt_gateway));
    head.push("".into());
    for vlan in &site.vlans {
        head.push(format!("interface Vlan{}", vlan.id));
        head.push("  no shutdown".into());
        head.push(format!("  ip address {}/24", vlan.gateway));
        head.push("".into());
    }

    let mut tail = vec![
        "interface mgmt0".to_string(),
        "  vrf member management".into(),
    ];
    tail.push(format!("  ip address {}/24", site.mgmt_ip));
    tail.push("".into());
    tail.push("interface loopback0".into());
    tail.push(format!("  ip address {}/32", site.loopback));
    push(
        &mut tail,
        &[
            "line console",
            "line vty",
            "  exec-timeout 15",
            "boot nxos bootflash:/nxos.9.3.8.bin ",
        ],
    );
    tail.push(format!("router bgp {}", site.asn));
    tail.push(format!("  router-id {}", site.loopback));
    for link in &site.uplinks {
        tail.push(format!("  neighbor {}", link.peer));
        tail.push(format!("    remote-as {}", link.peer_asn));
        tail.push(format!("    description {}", link.peer_name));
        tail.push(format!("    password 3 {}", rng.hex(16)));
        tail.push("    address-family ipv4 unicast".into());
    }
    tail.push("".into());

    let ports = fill_to(id.config_lines, head.len() + tail.len() + 4, 4, |n| {
        let mut block = vec![format!("interface Ethernet1/{}", n + 1)];
        if n < site.uplinks.len() {
            let link = &site.uplinks[n];
            block.push(format!("  description Uplink to {}", link.peer_name));
            block.push("  no switchport".into());
            block.push(format!("  ip address {}/30", link.local));
            if n == 0 {
                block.push("  ip ospf message-digest-key 1 md5 3 OspfMd5Nx".into());
            }
            block.push("  no shutdown".into());
        } else {
            let vlan = &site.vlans[n % site.vlans.len()];
            block.push(format!("  description {}", port_description(&mut rng, n)));
            block.push(format!("  switchport access vlan {}", vlan.id));
        }
        block.push("".into());
        block
    });
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t
}

pub(crate) fn nxos_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let serial = nxos_serial(id);
    let up = id.uptime(now);
    match fact {
        Fact::Version => Some(format!(
            "{banner}\
             \n\
             Software\n\
             \x20 BIOS: version 07.69\n\
             \x20NXOS: version 9.3(8)\n\
             \x20 BIOS compile time:  04/08/2021\n\
             \x20 NXOS image file is: bootflash:///nxos.9.3.8.bin\n\
             \x20 NXOS compile time:  8/18/2021 14:00:00 [08/18/2021 23:11:43]\n\
             \n\
             \n\
             Hardware\n\
             \x20 cisco Nexus9000 C93180YC-EX chassis \n\
             \x20 Intel(R) Xeon(R) CPU  @ 1.80GHz with 24632252 kB of memory.\n\
             \x20 Processor Board ID {serial}\n\
             \n\
             \x20 Device name: {host}\n\
             \x20 bootflash: 53298520 kB\n\
             Kernel uptime is {days} day(s), {hours} hour(s), {minutes} minute(s), {seconds} second(s)\n\
             \n\
             Last reset at 123456 usecs after {boot}\n\
             \x20 Reason: Reset Requested by CLI command reload\n\
             \x20 System version: 9.3(8)\n\
             \x20 Service: \n\
             \n\
             plugin\n\
             \x20 Core Plugin, Ethernet Plugin\n\
             \n\
             Active Package(s):\n\
             \x20       \n",
            banner = nxos_banner(),
            host = id.hostname,
            days = up.total_days(),
            hours = up.hours,
            minutes = up.minutes,
            seconds = up.seconds,
            boot = id.boot().ctime(),
        )),
        Fact::Inventory => Some(format!(
            "NAME: \"Chassis\",  DESCR: \"Nexus9000 C93180YC-EX chassis\"         \n\
             PID: N9K-C93180YC-EX     ,  VID: A0 ,  SN: {serial}          \n\
             \n\
             NAME: \"Slot 1\",  DESCR: \"48x10/25G + 6x40/100G Ethernet Module\"  \n\
             PID: N9K-C93180YC-EX     ,  VID: A0 ,  SN: {serial}          \n\
             \n\
             NAME: \"Power Supply 1\",  DESCR: \"Nexus9000 C93180YC-EX chassis Power Supply\"\n\
             PID: NXA-PAC-650W-PE     ,  VID: V01 ,  SN: {psu}          \n\
             \n",
            psu = id.rng("psu").pattern("LIT#####@@@"),
        )),
        Fact::Clock => Some(format!(
            "{}.{:03} UTC {} {} {:02} {}\nTime source is NTP\n",
            now.hms(),
            now.millis,
            now.weekday_abbr(),
            now.month_abbr(),
            now.day,
            now.year
        )),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// IOS-XR (ASR 9006)

pub(crate) fn iosxr_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head = Vec::new();
    head.push(format!("hostname {}", id.hostname));
    push(
        &mut head,
        &["clock timezone UTC UTC", "logging console informational"],
    );
    head.push(format!(
        "logging {} vrf default severity info port default",
        site.syslog
    ));
    head.push(format!("domain name {}", site.domain));
    head.push(format!("domain name-server {}", site.dns[0]));
    push(
        &mut head,
        &["username admin", " group root-lr", " group cisco-support"],
    );
    head.push(format!(" secret 10 {}", sha512_crypt(&mut rng)));
    push(&mut head, &["!"]);
    for server in site.aaa {
        head.push(format!("tacacs-server host {server} port 49"));
        head.push(format!(
            " key 7 {}",
            cisco_type7("T4cacsK3y", rng.below(16) as u8)
        ));
        head.push("!".into());
    }
    push(
        &mut head,
        &[
            "aaa group server tacacs+ TACACS",
            " server 10.0.0.49",
            " server 10.0.1.49",
            "!",
            "aaa authorization exec default group TACACS local",
            "aaa authentication login default group TACACS local",
            "tacacs-server key 7 XrTacGlob",
            "snmp-server community S3cr3tCommunity RO",
            "snmp-server group NETOPS-V3 v3 priv",
            "snmp-server user netops-v3 NETOPS-V3 v3 auth sha encrypted AuthPassV3x priv aes 128 encrypted PrivPassV3x",
        ],
    );
    head.push(format!(
        "snmp-server host {} traps version 2c Tr4pC0mmXr",
        site.syslog
    ));
    head.push(format!("snmp-server location {}", site.location));
    push(
        &mut head,
        &[
            "ntp",
            " authentication-key 1 md5 encrypted NtpMd5Xr",
            " authenticate",
            " trusted-key 1",
        ],
    );
    for server in site.ntp {
        head.push(format!(" server {server}"));
    }
    push(
        &mut head,
        &[
            "!",
            "key chain KC-ISIS",
            " key 1",
            "  accept-lifetime 00:00:00 january 01 2024 infinite",
            "  key-string password XrKeyStrPw",
            "  cryptographic-algorithm HMAC-MD5",
            " !",
            "!",
            "keyring KR-HQ",
            " peer HQ",
            "  pre-shared-key password XrIkePsk",
            "  address 198.51.100.7",
            " !",
            "!",
        ],
    );
    head.push("interface Loopback0".into());
    head.push(format!(" ipv4 address {} 255.255.255.255", site.loopback));
    head.push("!".into());
    head.push("interface MgmtEth0/RSP0/CPU0/0".into());
    head.push(format!(" ipv4 address {} 255.255.255.0", site.mgmt_ip));
    head.push("!".into());

    let mut tail = Vec::new();
    push(
        &mut tail,
        &["router static", " address-family ipv4 unicast"],
    );
    tail.push(format!("  0.0.0.0/0 {}", site.mgmt_gateway));
    push(&mut tail, &[" !", "!"]);
    tail.push(format!("router bgp {}", site.asn));
    tail.push(format!(" bgp router-id {}", site.loopback));
    push(&mut tail, &[" address-family ipv4 unicast", " !"]);
    for (i, link) in site.uplinks.iter().enumerate() {
        tail.push(format!(" neighbor {}", link.peer));
        tail.push(format!("  remote-as {}", link.peer_asn));
        tail.push(format!("  description {}", link.peer_name));
        // A readable value (real ones are type 7 hex) lets tests see whether it was masked.
        tail.push(format!("  password encrypted XrBgpPeer{i}"));
        push(
            &mut tail,
            &[
                "  address-family ipv4 unicast",
                "   route-policy PASS in",
                "   route-policy PASS out",
                "  !",
                " !",
            ],
        );
    }
    push(
        &mut tail,
        &[
            "!",
            "router ospf 1",
            " area 0",
            "  interface TenGigE0/0/0/0",
            "   authentication message-digest",
            "   message-digest-key 1 md5 encrypted OspfMd5Xr",
            "  !",
            " !",
            "!",
            "route-policy PASS",
            "  pass",
            "end-policy",
            "!",
            "ssh server v2",
            "ssh server vrf default",
        ],
    );
    let ports = fill_to(id.config_lines, head.len() + tail.len() + 6, 4, |n| {
        let mut block = vec![format!("interface TenGigE0/0/0/{n}")];
        if n < site.uplinks.len() {
            let link = &site.uplinks[n];
            block.push(format!(" description Uplink to {}", link.peer_name));
            block.push(format!(" ipv4 address {} 255.255.255.252", link.local));
        } else if n % 3 == 0 {
            block.push(" shutdown".into());
        } else {
            block.push(format!(
                " description Customer CUST-{:04} circuit {}",
                rng.range(1, 9999),
                rng.pattern("??####")
            ));
            block.push(format!(
                " ipv4 address 100.64.{}.{} {}",
                n % 250,
                1 + 4 * (n % 60),
                netmask(30)
            ));
        }
        block.push("!".into());
        block
    });

    let mut t = Template::new();
    t.volatile(Volatile::XrDateLine)
        .line("Building configuration...")
        .line("!! IOS XR Configuration 7.3.2")
        .volatile(Volatile::XrLastChange)
        .line("!");
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("end");
    t
}

pub(crate) fn iosxr_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let date = format!(
        "{} {} {:2} {}.{:03} UTC\n",
        now.weekday_abbr(),
        now.month_abbr(),
        now.day,
        now.hms(),
        now.millis
    );
    let serial = id.rng("serial").pattern("FOX####@@@@");
    let mut rng = id.rng("inventory");
    match fact {
        Fact::Version => Some(format!(
            "{date}\n\
             Cisco IOS XR Software, Version 7.3.2\n\
             Copyright (c) 2013-2021 by Cisco Systems, Inc.\n\
             \n\
             Build Information:\n\
             \x20Built By     : ingunawa\n\
             \x20Built On     : Fri Jul 16 23:55:35 PDT 2021\n\
             \x20Built Host   : iox-ucs-046\n\
             \x20Workspace    : /auto/srcarchive17/prod/7.3.2/asr9k-x64/ws\n\
             \x20Version      : 7.3.2\n\
             \x20Location     : /opt/cisco/XR/packages/\n\
             \x20Label        : 7.3.2\n\
             \n\
             cisco ASR9K Series (Intel 686 F6M14S4) processor with 33554432K bytes of memory.\n\
             Intel 686 F6M14S4 processor at 2134MHz, Revision 2.174\n\
             ASR 9006 4 Line Card Slot Chassis with V2 AC PEM\n\
             \n\
             {host} uptime is {uptime}\n",
            host = id.hostname,
            uptime = id.uptime(now).cisco(),
        )),
        Fact::Inventory => Some(format!(
            "{date}\
             NAME: \"Rack 0\", DESCR: \"ASR 9006 4 Line Card Slot Chassis with V2 AC PEM\"\n\
             PID: ASR-9006-AC-V2, VID: V02, SN: {serial}\n\
             \n\
             NAME: \"0/RSP0/CPU0\", DESCR: \"ASR9K Route Switch Processor with 440G/slot Fabric and 6GB\"\n\
             PID: A9K-RSP440-SE, VID: V05, SN: {rsp}\n\
             \n\
             NAME: \"0/0/CPU0\", DESCR: \"24-Port 10GE Line Card, Requires SFP+\"\n\
             PID: A9K-24X10GE-1G-SE, VID: V03, SN: {lc}\n\
             \n\
             NAME: \"0/PT0/PM0\", DESCR: \"3kW AC V2 Power Module\"\n\
             PID: PWR-3KW-AC-V2, VID: V03, SN: {pm}\n\
             \n",
            rsp = rng.pattern("FOC####@@@@"),
            lc = rng.pattern("FOC####@@@@"),
            pm = rng.pattern("AZS####@@@@"),
        )),
        Fact::Clock => Some(date),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// ASA (ASA 5516-X)

fn asa_serial(id: &Identity) -> String {
    id.rng("serial").pattern("JAD#####@@@")
}

const ASA_HARDWARE: &str = "ASA5516, 8192 MB RAM, CPU Atom C2000 series 2416 MHz, 1 CPU (8 cores)";

pub(crate) fn asa_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut lines: Vec<String> = vec!["ASA Version 9.16(3) ".into(), "!".into()];
    lines.push(format!("hostname {}", id.hostname));
    lines.push(format!("domain-name {}", site.domain));
    lines.push(format!(
        "enable password $sha512$5000${}${} pbkdf2",
        rng.base64(16),
        rng.base64(16)
    ));
    lines.push(format!("passwd {} encrypted", rng.crypt64(16)));
    push(&mut lines, &["names", "no mac-address auto", "", "!"]);
    lines.push("interface GigabitEthernet1/1".into());
    push(&mut lines, &[" nameif outside", " security-level 0"]);
    let outside = format!("203.0.113.{}", 8 * rng.range(1, 30) + 2);
    lines.push(format!(" ip address {outside} 255.255.255.248 "));
    lines.push("!".into());
    let mut rest = Vec::new();
    push(
        &mut rest,
        &[
            "interface Management1/1",
            " management-only",
            " nameif management",
            " security-level 100",
        ],
    );
    rest.push(format!(" ip address {} 255.255.255.0 ", site.mgmt_ip));
    push(&mut rest, &["!", "ftp mode passive"]);
    rest.push("dns domain-lookup inside".into());
    rest.push("dns server-group DefaultDNS".into());
    rest.push(format!(" name-server {} inside", site.dns[0]));
    rest.push(format!(" domain-name {}", site.domain));
    push(&mut rest, &["object network OBJ-WEB"]);
    rest.push(format!(
        " host {}",
        super::common::offset(site.vlans[2 % site.vlans.len()].gateway, 9)
    ));
    push(&mut rest, &["object network OBJ-INSIDE-NET"]);
    rest.push(format!(
        " subnet 10.{}.0.0 255.255.0.0",
        site.mgmt_ip.octets()[2]
    ));
    push(
        &mut rest,
        &[
            "access-list OUTSIDE-IN extended permit tcp any object OBJ-WEB eq https ",
            "access-list OUTSIDE-IN extended permit icmp any any echo-reply ",
            "access-list VPN-ACL extended permit ip object OBJ-INSIDE-NET 10.200.0.0 255.255.0.0 ",
            "pager lines 24",
            "logging enable",
            "logging timestamp",
            "logging buffered informational",
        ],
    );
    rest.push(format!("logging host inside {}", site.syslog));
    push(
        &mut rest,
        &[
            "mtu outside 1500",
            "mtu inside 1500",
            "mtu management 1500",
            "no failover",
            "icmp unreachable rate-limit 1 burst-size 1",
            "no asdm history enable",
            "arp timeout 14400",
            "!",
            "object network OBJ-INSIDE-NET",
            " nat (inside,outside) dynamic interface",
            "access-group OUTSIDE-IN in interface outside",
            "route outside 0.0.0.0 0.0.0.0 203.0.113.1 1",
            "timeout xlate 3:00:00",
            "timeout conn 1:00:00 half-closed 0:10:00 udp 0:02:00 sctp 0:02:00 icmp 0:00:02",
            "aaa-server TACACS protocol tacacs+",
        ],
    );
    for server in site.aaa {
        rest.push(format!("aaa-server TACACS (inside) host {server}"));
        rest.push(" key *****".into());
    }
    push(
        &mut rest,
        &[
            "user-identity default-domain LOCAL",
            "aaa authentication ssh console TACACS LOCAL",
            "aaa authentication enable console TACACS LOCAL",
            "http server enable",
            "http 10.0.0.0 255.0.0.0 inside",
        ],
    );
    rest.push(format!(
        "snmp-server host inside {} community ***** version 2c",
        site.syslog
    ));
    rest.push(format!("snmp-server location {}", site.location));
    push(
        &mut rest,
        &[
            "snmp-server contact noc@example.net",
            "snmp-server community *****",
            "snmp-server group NETOPS-V3 v3 priv",
            "snmp-server user netops-v3 NETOPS-V3 v3 auth sha AuthPassV3x priv aes 256 PrivPassV3x",
            "crypto ipsec ikev1 transform-set ESP-AES256-SHA esp-aes-256 esp-sha-hmac ",
            "crypto map OUTSIDE-MAP 10 match address VPN-ACL",
            "crypto map OUTSIDE-MAP 10 set peer 198.51.100.7 ",
            "crypto map OUTSIDE-MAP 10 set ikev1 transform-set ESP-AES256-SHA",
            "crypto map OUTSIDE-MAP interface outside",
            "crypto ikev1 enable outside",
            "crypto ikev1 policy 10",
            " authentication pre-share",
            " encryption aes-256",
            " hash sha",
            " group 14",
            " lifetime 86400",
            "tunnel-group 198.51.100.7 type ipsec-l2l",
            "tunnel-group 198.51.100.7 ipsec-attributes",
            " ikev1 pre-shared-key *****",
            "tunnel-group 198.51.100.9 type ipsec-l2l",
            "tunnel-group 198.51.100.9 ipsec-attributes",
            " ikev1 pre-shared-key AsaIk1Psk",
            " ikev2 remote-authentication pre-shared-key AsaIk2Remote",
            " ikev2 local-authentication pre-shared-key AsaIk2Local",
            "ssh stricthostkeycheck",
            "ssh 10.0.0.0 255.0.0.0 inside",
            "ssh timeout 30",
            "ssh version 2",
            "ssh key-exchange group dh-group14-sha256",
        ],
    );
    for server in site.ntp {
        rest.push(format!("ntp server {server} source inside"));
    }
    rest.push(format!(
        "username admin password $sha512$5000${}${} pbkdf2 privilege 15",
        rng.base64(16),
        rng.base64(16)
    ));
    push(
        &mut rest,
        &[
            "!",
            "class-map inspection_default",
            " match default-inspection-traffic",
            "!",
            "!",
            "policy-map type inspect dns preset_dns_map",
            " parameters",
            "  message-length maximum client auto",
            "  message-length maximum 512",
            "policy-map global_policy",
            " class inspection_default",
            "  inspect dns preset_dns_map ",
            "  inspect ftp ",
            "  inspect icmp ",
            "  inspect sip  ",
            "  inspect tftp ",
            "!",
            "service-policy global_policy global",
            "prompt hostname context ",
            "no call-home reporting anonymous",
        ],
    );
    let inside = fill_to(id.config_lines, lines.len() + rest.len() + 10, 2, |n| {
        let vlan = &site.vlans[n % site.vlans.len()];
        let mut block = vec![format!("interface GigabitEthernet1/{}", n + 2)];
        if n == 0 {
            push(&mut block, &[" nameif inside", " security-level 100"]);
            block.push(format!(" ip address {} 255.255.255.0 ", vlan.gateway));
        } else if n < 7 {
            block.push(format!(" nameif dmz{n}"));
            block.push(format!(" security-level {}", 50 - n));
            block.push(format!(
                " ip address 10.{}.{}.1 255.255.255.0 ",
                200 + n % 50,
                n
            ));
        } else {
            block.push(format!(" description {}", port_description(&mut rng, n)));
            push(
                &mut block,
                &[
                    " shutdown",
                    " no nameif",
                    " no security-level",
                    " no ip address",
                ],
            );
        }
        block.push("!".into());
        block
    });
    let mut body = Template::new();
    for l in lines.iter().chain(&inside).chain(&rest).chain(extra) {
        body.line(l);
    }
    // The checksum covers the content, so it changes exactly when the configuration does.
    let digest = super::super::rng::hash(&[body.stable_text().as_bytes()]);
    let mut t = Template::new();
    t.line(": Saved")
        .line("")
        .line(": ")
        .line(format!(": Serial Number: {}", asa_serial(id)))
        .line(format!(": Hardware:   {ASA_HARDWARE}"))
        .line(":")
        .append(&body)
        .line(format!(
            "Cryptochecksum:{:016x}{:016x}",
            digest,
            digest.rotate_left(29) ^ 0x5bd1_e995
        ))
        .line(": end");
    t
}

pub(crate) fn asa_fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let up = id.uptime(now);
    let mut rng = id.rng("version");
    match fact {
        Fact::Version => Some(format!(
            "\n\
             Cisco Adaptive Security Appliance Software Version 9.16(3) \n\
             SSP Operating System Version 2.10(1.162)\n\
             Device Manager Version 7.16(1)\n\
             \n\
             Compiled on Wed 16-Mar-22 13:48 GMT by builders\n\
             System image file is \"disk0:/asa9-16-3-lfbff-k8.SPA\"\n\
             Config file at boot was \"startup-config\"\n\
             \n\
             {host} up {days} days {hours} hours\n\
             \n\
             Hardware:   {ASA_HARDWARE}\n\
             Internal ATA Compact Flash, 8192MB\n\
             BIOS Flash M25P64 @ 0xfed01000, 16384KB\n\
             \n\
             Encryption hardware device : Cisco ASA Crypto on-board accelerator (revision 0x1)\n\
             \x20                            Number of accelerators: 1\n\
             \n\
             \x201: Ext: GigabitEthernet1/1  : address is {m1}, irq 255\n\
             \x202: Ext: GigabitEthernet1/2  : address is {m2}, irq 255\n\
             \x203: Ext: Management1/1       : address is {m3}, irq 0\n\
             \n\
             Licensed features for this platform:\n\
             Maximum Physical Interfaces       : Unlimited      perpetual\n\
             Maximum VLANs                     : 150            perpetual\n\
             Inside Hosts                      : Unlimited      perpetual\n\
             Failover                          : Active/Active  perpetual\n\
             Encryption-DES                    : Enabled        perpetual\n\
             Encryption-3DES-AES               : Enabled        perpetual\n\
             Carrier                           : Disabled       perpetual\n\
             AnyConnect Premium Peers          : 4              perpetual\n\
             Total VPN Peers                   : 300            perpetual\n\
             \n\
             This platform has an ASA5516 Security Plus license.\n\
             \n\
             Serial Number: {serial}\n\
             Running Permanent Activation Key: 0x{k1} 0x{k2} 0x{k3} 0x{k4} 0x{k5} \n\
             Configuration register is 0x1\n\
             Image type          : Release\n\
             Key Version         : A\n\
             Configuration last modified by admin at {hms}.{ms:03} UTC {wd} {mon} {day} {year}\n",
            host = id.hostname,
            days = up.total_days(),
            hours = up.hours,
            m1 = mac_dotted(mac(&mut rng)),
            m2 = mac_dotted(mac(&mut rng)),
            m3 = mac_dotted(mac(&mut rng)),
            serial = asa_serial(id),
            k1 = rng.hex(8),
            k2 = rng.hex(8),
            k3 = rng.hex(8),
            k4 = rng.hex(8),
            k5 = rng.hex(8),
            hms = id.boot().hms(),
            ms = 0,
            wd = id.boot().weekday_abbr(),
            mon = id.boot().month_abbr(),
            day = id.boot().day,
            year = id.boot().year,
        )),
        Fact::Inventory => Some(format!(
            "Name: \"Chassis\", DESCR: \"ASA 5516-X with FirePOWER services, 8GE, AC, DES\"\n\
             PID: ASA5516           , VID: V06     , SN: {}\n\
             \n\
             Name: \"Storage Device 1\", DESCR: \"ASA 5516-X SSD\"\n\
             PID: ASA5516-SSD       , VID: N/A     , SN: {}\n\
             \n",
            asa_serial(id),
            rng.pattern("MSA####@@@@")
        )),
        Fact::Clock => Some(format!(
            "{}.{:03} UTC {} {} {} {}\n",
            now.hms(),
            now.millis,
            now.weekday_abbr(),
            now.month_abbr(),
            now.day,
            now.year
        )),
        _ => None,
    }
}
