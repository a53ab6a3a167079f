//! Brocade / Ruckus FastIron content (ICX7450-48P, 08.0.95g).

use crate::clock::Stamp;

use super::common::{Site, fill_to, md5_crypt, port_description};
use super::{Fact, Identity, Template};

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("CYR####K0@@")
}

pub(crate) fn config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut head: Vec<String> = vec![
        "Current configuration:".into(),
        "!".into(),
        "ver 08.0.95gT213".into(),
        "!".into(),
        "stack unit 1".into(),
        "  module 1 icx7450-48p-poe-management-module".into(),
        "  module 2 icx7400-xgf-4port-40g-module".into(),
        "!".into(),
        "global-stp".into(),
        "!".into(),
        "vlan 1 name DEFAULT-VLAN by port".into(),
        "!".into(),
    ];
    for (i, vlan) in site.vlans.iter().enumerate() {
        head.push(format!("vlan {} name {} by port", vlan.id, vlan.name));
        head.push(" tagged ethe 1/2/1 ".into());
        head.push(format!(
            " untagged ethe 1/1/{} to 1/1/{} ",
            2 + 6 * i,
            7 + 6 * i
        ));
        head.push(format!(" router-interface ve {}", vlan.id));
        head.push("!".into());
    }
    head.extend([
        "aaa authentication enable default tacacs+ enable".into(),
        "aaa authentication login default tacacs+ local".into(),
        format!("enable super-user-password 8 {}", md5_crypt(&mut rng)),
        format!("hostname {}", id.hostname),
        format!("ip dns domain-list {}", site.domain),
        format!("ip dns server-address {}", site.dns[0]),
        format!("ip route 0.0.0.0/0 {}", site.mgmt_gateway),
        "!".into(),
        format!("logging host {}", site.syslog),
        format!("username admin password 8 {}", md5_crypt(&mut rng)),
        format!("username netops password 8 {}", md5_crypt(&mut rng)),
    ]);
    for server in site.aaa {
        head.push(format!("tacacs-server host {server}"));
    }
    head.push(format!("tacacs-server key 2 ${}", rng.base64(12)));
    head.push(format!(
        "radius-server host {} auth-port 1812 acct-port 1813 default key 2 $BrcdRadK3y dot1x",
        site.aaa[1]
    ));
    head.push(format!("snmp-server community 2 ${} ro", rng.base64(10)));
    head.push(
        "snmp-server user netops-v3 admin v3 encrypted auth md5 AuthPassV3x priv encrypted des PrivPassV3x"
            .into(),
    );
    head.push(format!(
        "snmp-server host {} version v2c 2 $Tr4pC0mmBr",
        site.syslog
    ));
    head.push(format!("snmp-server location {}", site.location));
    head.extend([
        "!".into(),
        "clock timezone gmt GMT+00".into(),
        "!".into(),
        "ntp".into(),
    ]);
    for server in site.ntp {
        head.push(format!(" server {server}"));
    }
    head.extend(["!".into(), "interface management 1".into()]);
    head.push(format!(" ip address {} 255.255.255.0", site.mgmt_ip));
    head.push("!".into());
    let mut tail: Vec<String> = Vec::new();
    for (i, vlan) in site.vlans.iter().enumerate() {
        tail.push(format!("interface ve {}", vlan.id));
        tail.push(format!(" ip address {} 255.255.255.0", vlan.gateway));
        if i == 0 {
            tail.push(" ip ospf md5-authentication key-id 1 key 2 $OspfMd5Br".into());
        }
        tail.push("!".into());
    }
    tail.extend([
        "ip ssh  key-exchange-method dh-group14-sha256".into(),
        "!".into(),
        "!".into(),
    ]);
    let ports = fill_to(id.config_lines, head.len() + tail.len() + 1, 4, |n| {
        vec![
            format!("interface ethernet 1/1/{}", n + 1),
            format!(" port-name {}", port_description(&mut rng, n)),
            "!".into(),
        ]
    });
    let mut t = Template::new();
    for l in head.iter().chain(&ports).chain(&tail).chain(extra) {
        t.line(l);
    }
    t.line("end");
    t
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let up = id.uptime(now);
    let boot = id.boot();
    match fact {
        Fact::Version => Some(format!(
            "  Copyright (c) Ruckus Networks, Inc. All rights reserved.\n\
             \x20   UNIT 1: compiled on Jun 22 2021 at 05:41:37 labeled as SPR08095g\n\
             \x20     (33554432 bytes) from Primary SPR08095g.bin (UFI)\n\
             \x20 SW: Version 08.0.95gT213 Copyright (c) Ruckus Networks, Inc.\n\
             \x20       Compressed Primary Boot Code size = 786944, Version:10.1.22T225 (spz10122)\n\
             \x20      Compiled on Tue Nov 10 10:48:22 2020\n\
             \n\
             \x20 HW: Stackable ICX7450-48P-POE\n\
             ==========================================================================\n\
             UNIT 1: SL 1: ICX7450-48P POE 48-port Management Module\n\
             \x20     Serial  #:{serial}\n\
             \x20     Software Package: ICX7450_L3_SOFT_PACKAGE   \n\
             \x20     Current License: l3-prem-8X10G\n\
             \x20     P-ASIC  0: type B548, rev 01  Chip BCM56548_A0\n\
             ==========================================================================\n\
             UNIT 1: SL 2: ICX7400-4X10GF 4-port 40G Module\n\
             \x20     Serial  #:{module}\n\
             ==========================================================================\n\
             \x201000 MHz ARM processor ARMv7 88 MHz bus\n\
             \x208192 KB boot flash memory\n\
             \x202048 MB code flash memory\n\
             \x202048 MB DRAM\n\
             STACKID 1  system uptime is {days} day(s) {h} hour(s) {m} minute(s) {s} second(s) \n\
             The system started at {hms} GMT+00 {wd} {mon} {day:02} {year}\n\
             \n\
             The system : started=warm start   reloaded=by \"reload\"\n",
            serial = serial(id),
            module = id.rng("module").pattern("CYS####K0@@"),
            days = up.total_days(),
            h = up.hours,
            m = up.minutes,
            s = up.seconds,
            hms = boot.hms(),
            wd = boot.weekday_abbr(),
            mon = boot.month_abbr(),
            day = boot.day,
            year = boot.year,
        )),
        Fact::Clock => Some(format!(
            "{} GMT+00 {} {} {:02} {}\n",
            now.hms(),
            now.weekday_abbr(),
            now.month_abbr(),
            now.day,
            now.year
        )),
        _ => None,
    }
}
