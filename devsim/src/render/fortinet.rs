//! Fortinet FortiOS content (FortiGate-60F, 7.2.5 build 1517).

use crate::clock::Stamp;

use super::common::{Site, fill_to, offset, port_description};
use super::{Fact, Identity, Template, Volatile};

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("FGT60FTK#####@@@")
}

/// Length in bytes of the blobs behind `ENC` values (shown as 88 base64 characters).
const ENC_BYTES: usize = 66;

pub(crate) fn config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut t = Template::new();
    t.line("#config-version=FGT60F-7.2.5-FW-build1517-230606:opmode=0:vdom=0:user=admin")
        .volatile(Volatile::FortiConfFileVer)
        .line("#buildno=1517")
        .line("#global_vdom=1");
    // `marker` starts the value with a fixed word, so tests can tell whether that value was
    // masked; the rest is re-salted on every read like the others.
    let enc = |t: &mut Template, indent: &str, key: &str, marker: &str| {
        t.text(&format!("{indent}set {key} ENC {marker}"))
            .volatile(Volatile::FortiEnc(ENC_BYTES - marker.len() * 3 / 4))
            .text("\n");
    };
    t.line("config system global")
        .line("    set admin-sport 443")
        .line("    set admin-ssh-port 22")
        .line("    set admintimeout 30")
        .line("    set alias \"FortiGate-60F\"")
        .line(format!("    set hostname \"{}\"", id.hostname))
        .line("    set switch-controller enable")
        .line("    set timezone \"Etc/UTC\"")
        .line("end")
        .line("config system accprofile")
        .line("    edit \"prof_admin\"")
        .line("        set secfabgrp read-write")
        .line("        set ftviewgrp read-write")
        .line("        set authgrp read-write")
        .line("        set sysgrp read-write")
        .line("        set netgrp read-write")
        .line("        set loggrp read-write")
        .line("        set fwgrp read-write")
        .line("        set vpngrp read-write")
        .line("        set utmgrp read-write")
        .line("        set wifi read-write")
        .line("    next")
        .line("end")
        .line("config system interface")
        .line("    edit \"wan1\"")
        .line("        set vdom \"root\"")
        .line(format!(
            "        set ip 203.0.113.{} 255.255.255.248",
            8 * (site.mgmt_ip.octets()[3] % 30) + 2
        ))
        .line("        set allowaccess ping https ssh")
        .line("        set type physical")
        .line("        set description \"ISP uplink\"")
        .line("        set role wan")
        .line("        set snmp-index 1")
        .line("    next")
        .line("    edit \"mgmt\"")
        .line("        set vdom \"root\"")
        .line(format!("        set ip {} 255.255.255.0", site.mgmt_ip))
        .line("        set allowaccess ping https ssh snmp")
        .line("        set type physical")
        .line("        set dedicated-to management")
        .line("        set role lan")
        .line("        set snmp-index 2")
        .line("    next");
    // Everything but the internal interfaces takes about 250 lines.
    let ports = fill_to(id.config_lines, 250, 2, |n| {
        let vlan = &site.vlans[n % site.vlans.len()];
        vec![
            format!("    edit \"internal{}\"", n + 1),
            "        set vdom \"root\"".into(),
            format!(
                "        set ip {} 255.255.255.0",
                offset(vlan.gateway, (n / site.vlans.len()) as u32 * 256)
            ),
            "        set allowaccess ping https ssh".into(),
            "        set type physical".into(),
            format!(
                "        set description \"{}\"",
                port_description(&mut rng, n)
            ),
            "        set role lan".into(),
            format!("        set snmp-index {}", n + 3),
            "    next".into(),
        ]
    });
    for l in &ports {
        t.line(l);
    }
    t.line("end")
        .line("config system admin")
        .line("    edit \"admin\"")
        .line("        set accprofile \"super_admin\"")
        .line("        set vdom \"root\"");
    enc(&mut t, "        ", "password", "");
    t.line("    next")
        .line("    edit \"netops\"")
        .line("        set accprofile \"prof_admin\"")
        .line("        set vdom \"root\"");
    enc(&mut t, "        ", "password", "");
    t.line("    next")
        .line("end")
        .line("config system dns")
        .line(format!("    set primary {}", site.dns[0]))
        .line(format!("    set secondary {}", site.dns[1]))
        .line("end")
        .line("config system ntp")
        .line("    set ntpsync enable")
        .line("    set type custom")
        .line("    config ntpserver");
    for (i, server) in site.ntp.iter().enumerate() {
        t.line(format!("        edit {}", i + 1))
            .line(format!("            set server \"{server}\""))
            .line("        next");
    }
    t.line("    end")
        .line("end")
        .line("config system snmp sysinfo")
        .line("    set status enable")
        .line(format!("    set location \"{}\"", site.location))
        .line("    set contact-info \"noc@example.net\"")
        .line("end")
        .line("config system snmp community")
        .line("    edit 1")
        .line("        set name \"S3cr3tCommunity\"")
        .line("        config hosts")
        .line("            edit 1")
        .line(format!(
            "                set ip {} 255.255.255.255",
            site.syslog
        ))
        .line("            next")
        .line("        end")
        .line("    next")
        .line("end")
        .line("config system snmp user")
        .line("    edit \"netops\"")
        .line(format!("        set notify-hosts {}", site.syslog))
        .line("        set security-level auth-priv")
        .line("        set auth-proto sha256");
    enc(&mut t, "        ", "auth-pwd", "AuthPassV3x");
    t.line("        set priv-proto aes256");
    enc(&mut t, "        ", "priv-pwd", "PrivPassV3x");
    t.line("    next")
        .line("end")
        .line("config user local")
        .line("    edit \"vpnuser\"")
        .line("        set type password");
    enc(&mut t, "        ", "passwd", "FgtLocalPasswdX");
    t.line("    next")
        .line("end")
        .line("config user tacacs+")
        .line("    edit \"TACACS\"")
        .line(format!("        set server \"{}\"", site.aaa[0]));
    enc(&mut t, "        ", "key", "");
    t.line("    next")
        .line("end")
        .line("config user radius")
        .line("    edit \"RADIUS\"")
        .line(format!("        set server \"{}\"", site.aaa[1]));
    enc(&mut t, "        ", "secret", "");
    t.line("    next")
        .line("end")
        .line("config log syslogd setting")
        .line("    set status enable")
        .line(format!("    set server \"{}\"", site.syslog))
        .line("end")
        .line("config firewall address");
    for vlan in &site.vlans {
        let o = vlan.gateway.octets();
        t.line(format!("    edit \"NET-{}\"", vlan.name))
            .line(format!(
                "        set subnet {}.{}.{}.0 255.255.255.0",
                o[0], o[1], o[2]
            ))
            .line("    next");
    }
    t.line("end").line("config firewall policy");
    for (i, vlan) in site.vlans.iter().enumerate() {
        t.line(format!("    edit {}", i + 1))
            .line(format!("        set name \"{}-to-WAN\"", vlan.name))
            .line(format!("        set srcintf \"internal{}\"", i + 1))
            .line("        set dstintf \"wan1\"")
            .line("        set action accept")
            .line(format!("        set srcaddr \"NET-{}\"", vlan.name))
            .line("        set dstaddr \"all\"")
            .line("        set schedule \"always\"")
            .line("        set service \"ALL\"")
            .line("        set nat enable")
            .line("    next");
    }
    t.line("end")
        .line("config vpn ipsec phase1-interface")
        .line("    edit \"to-hq\"")
        .line("        set interface \"wan1\"")
        .line("        set peertype any")
        .line("        set net-device disable")
        .line("        set proposal aes256-sha256")
        .line("        set remote-gw 198.51.100.7");
    enc(&mut t, "        ", "psksecret", "");
    t.line("    next")
        .line("    edit \"to-branch\"")
        .line("        set interface \"wan1\"")
        .line("        set peertype any")
        .line("        set proposal aes256-sha256")
        .line("        set remote-gw 198.51.100.9");
    enc(&mut t, "        ", "psksecret", "FgtBranchPskX");
    t.line("    next")
        .line("end")
        .line("config router static")
        .line("    edit 1")
        .line("        set gateway 203.0.113.9")
        .line("        set device \"wan1\"")
        .line("    next")
        .line("end");
    for l in extra {
        t.line(l);
    }
    t
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    match fact {
        Fact::Version => Some(format!(
            "Version: FortiGate-60F v7.2.5,build1517,230606 (GA.F)\n\
             Firmware Signature: certified\n\
             Virus-DB: 91.04120(2023-06-08 10:24)\n\
             Extended DB: 91.04120(2023-06-08 10:23)\n\
             AV AI/ML Model: 2.11719(2023-06-08 10:32)\n\
             IPS-DB: 6.00741(2015-12-01 02:30)\n\
             IPS-ETDB: 6.00741(2015-12-01 02:30)\n\
             APP-DB: 6.00741(2015-12-01 02:30)\n\
             INDUSTRIAL-DB: 6.00741(2015-12-01 02:30)\n\
             IPS Malicious URL Database: 1.00001(2015-01-01 01:01)\n\
             Serial-Number: {serial}\n\
             BIOS version: 05000029\n\
             System Part-Number: P24286-05\n\
             Log hard disk: Not available\n\
             Hostname: {host}\n\
             Private Encryption: Disable\n\
             Operation Mode: NAT\n\
             Current virtual domain: root\n\
             Max number of virtual domains: 10\n\
             Virtual domains status: 1 in NAT mode, 0 in TP mode\n\
             Virtual domain configuration: disable\n\
             FIPS-CC mode: disable\n\
             Current HA mode: standalone\n\
             Branch point: 1517\n\
             Release Version Information: GA\n\
             System time: {time}\n\
             Last reboot reason: warm reboot\n",
            serial = serial(id),
            host = id.hostname,
            time = now.ctime(),
        )),
        _ => None,
    }
}
