//! A Debian 12 server running FRRouting.

use crate::clock::Stamp;

use super::common::{Site, fill_to};
use super::{Fact, Identity, Template};

pub(crate) fn banner(id: &Identity, now: &Stamp, _user: &str) -> String {
    format!(
        "Linux {} 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29) x86_64\n\
         \n\
         The programs included with the Debian GNU/Linux system are free software;\n\
         the exact distribution terms for each program are described in the\n\
         individual files in /usr/share/doc/*/copyright.\n\
         \n\
         Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\n\
         permitted by applicable law.\n\
         Last login: {} from 10.0.0.15\n",
        id.hostname,
        now.minus(3000).ctime()
    )
}

/// `/etc/frr/frr.conf`: the "configuration" of a Linux router.
pub(crate) fn frr_config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut head: Vec<String> = vec![
        "frr version 8.4.4".into(),
        "frr defaults traditional".into(),
        format!("hostname {}", id.hostname),
        "log syslog informational".into(),
        "password zebra".into(),
        "enable password S3cretEnable".into(),
        "service integrated-vtysh-config".into(),
        "!".into(),
        "key chain RIP-KEYS".into(),
        " key 1".into(),
        "  key-string FrrKeyStr".into(),
        " exit".into(),
        "exit".into(),
        "!".into(),
    ];
    let mut tail: Vec<String> = vec![
        format!("router bgp {}", site.asn),
        format!(" bgp router-id {}", site.loopback),
    ];
    for link in &site.uplinks {
        tail.push(format!(
            " neighbor {} remote-as {}",
            link.peer, link.peer_asn
        ));
        tail.push(format!(
            " neighbor {} description {}",
            link.peer, link.peer_name
        ));
        tail.push(format!(" neighbor {} password BgpPeerSecret", link.peer));
    }
    tail.extend([
        " !".into(),
        " address-family ipv4 unicast".into(),
        format!("  network {}/32", site.loopback),
        " exit-address-family".into(),
        "exit".into(),
        "!".into(),
        "router ospf".into(),
        format!(" ospf router-id {}", site.loopback),
        " network 10.0.0.0/8 area 0".into(),
        " area 0 authentication message-digest".into(),
        "exit".into(),
        "!".into(),
        "ip prefix-list LOOPBACKS seq 5 permit 10.255.0.0/16 le 32".into(),
        "!".into(),
        "line vty".into(),
        "!".into(),
    ]);
    let interfaces = fill_to(id.config_lines, head.len() + tail.len(), 2, |n| {
        vec![
            format!("interface ens{}", 18 + n),
            format!(" description Link {}", n + 1),
            format!(
                " ip address 172.16.{}.{}/30",
                n % 250,
                1 + 4 * (n / 250 % 60)
            ),
            " ip ospf message-digest-key 1 md5 OspfMd5Key".into(),
            "exit".into(),
            "!".into(),
        ]
    });
    head.extend(interfaces);
    let mut t = Template::new();
    for l in head.iter().chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("end");
    t
}

pub(crate) fn fact(id: &Identity, fact: Fact, _now: &Stamp, user: &str) -> Option<String> {
    let site = Site::of(id);
    match fact {
        Fact::UnameAll => Some(format!(
            "Linux {} 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29) x86_64 GNU/Linux\n",
            id.hostname
        )),
        Fact::UnameSr | Fact::Version => Some("Linux 6.1.0-13-amd64\n".into()),
        Fact::Uname => Some("Linux\n".into()),
        Fact::Hostname => Some(format!("{}\n", id.hostname)),
        Fact::Whoami => Some(format!("{user}\n")),
        Fact::OsRelease => Some(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
             NAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\n\
             VERSION=\"12 (bookworm)\"\n\
             VERSION_CODENAME=bookworm\n\
             ID=debian\n\
             HOME_URL=\"https://www.debian.org/\"\n\
             SUPPORT_URL=\"https://www.debian.org/support\"\n\
             BUG_REPORT_URL=\"https://bugs.debian.org/\"\n"
                .into(),
        ),
        Fact::NetworkInterfaces => Some(format!(
            "# This file describes the network interfaces available on your system\n\
             # and how to activate them. For more information, see interfaces(5).\n\
             \n\
             source /etc/network/interfaces.d/*\n\
             \n\
             # The loopback network interface\n\
             auto lo\n\
             iface lo inet loopback\n\
             \n\
             auto lo:0\n\
             iface lo:0 inet static\n\
             \x20   address {lo}/32\n\
             \n\
             # Management\n\
             auto ens18\n\
             iface ens18 inet static\n\
             \x20   address {mgmt}/24\n\
             \x20   gateway {gw}\n\
             \x20   dns-nameservers {dns}\n\
             \x20   dns-search {domain}\n\
             \n\
             # Wireless uplink\n\
             auto wlan0\n\
             iface wlan0 inet dhcp\n\
             \x20   wpa-ssid corp\n\
             \x20   wpa-psk WlanPskLinux\n",
            lo = site.loopback,
            mgmt = site.mgmt_ip,
            gw = site.mgmt_gateway,
            dns = site.dns[0],
            domain = site.domain,
        )),
        _ => None,
    }
}
