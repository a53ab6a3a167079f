//! Palo Alto PAN-OS content (PA-3220, 10.2.4).

use crate::clock::Stamp;

use super::common::{Site, mac, mac_colons, port_description, sha256_crypt};
use super::{Fact, Identity, Template};

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("0132010#####")
}

/// Writes PAN-OS's curly-brace configuration with two-space indentation.
struct Tree {
    out: Template,
    depth: usize,
}

impl Tree {
    fn open(&mut self, name: &str) -> &mut Self {
        self.out
            .line(format!("{}{name} {{", "  ".repeat(self.depth)));
        self.depth += 1;
        self
    }

    fn leaf(&mut self, stmt: &str) -> &mut Self {
        self.out.line(format!("{}{stmt};", "  ".repeat(self.depth)));
        self
    }

    fn close(&mut self) -> &mut Self {
        self.depth = self.depth.saturating_sub(1);
        self.out.line(format!("{}}}", "  ".repeat(self.depth)));
        self
    }
}

pub(crate) fn banner(now: &Stamp) -> String {
    format!(
        "Last login: {} from 10.0.0.15\n\nNumber of failed attempts since last successful login: 0\n\n\n\n",
        now.minus(4000).ctime()
    )
}

pub(crate) fn config(id: &Identity, extra: &[String]) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut t = Tree {
        out: Template::new(),
        depth: 0,
    };
    t.open("config").leaf("version 10.2.0");
    t.open("mgt-config").open("users");
    for user in ["admin", "netops"] {
        t.open(user)
            .leaf(&format!("phash {}", sha256_crypt(&mut rng)))
            .open("permissions")
            .open("role-based")
            .leaf(if user == "admin" {
                "superuser yes"
            } else {
                "superreader yes"
            })
            .close()
            .close()
            .close();
    }
    t.close().close();
    t.open("shared")
        .leaf("application")
        .leaf("application-group");
    t.open("certificate").open("mgmt-cert");
    t.leaf(&format!("common-name {}", id.hostname))
        .open("algorithm")
        .leaf("RSA")
        .close()
        .leaf("ca no")
        .leaf("not-valid-after \"Nov 25 10:01:02 2027 GMT\"")
        .leaf(&format!(
            "private-key -----BEGIN RSA PRIVATE KEY-----PanPrivK3y{}-----END RSA PRIVATE KEY-----",
            rng.base64(96)
        ))
        .close()
        .close();
    t.open("server-profile")
        .open("syslog")
        .open("SYSLOG")
        .open("server")
        .open("s1");
    t.leaf("transport UDP")
        .leaf("port 514")
        .leaf("format BSD")
        .leaf(&format!("server {}", site.syslog))
        .close()
        .close()
        .close()
        .close()
        .close();
    t.open("server-profile")
        .open("tacplus")
        .open("TACACS")
        .open("server")
        .open("t1");
    t.leaf(&format!("address {}", site.aaa[0]))
        .leaf(&format!("secret -AQ=={}", rng.base64(30)))
        .close()
        .close()
        .close()
        .close()
        .close();
    t.open("server-profile")
        .open("ldap")
        .open("LDAP")
        .open("server")
        .open("l1")
        .leaf(&format!("address {}", site.aaa[1]))
        .leaf("port 389")
        .close()
        .close()
        .leaf("base \"dc=example,dc=net\"")
        .leaf("bind-dn \"cn=netraven,dc=example,dc=net\"")
        .leaf("bind-password -AQ==PanBindPwQmFzZTY0")
        .close()
        .close()
        .close();
    t.close();
    t.open("devices")
        .open("localhost.localdomain")
        .open("network")
        .open("interface")
        .open("ethernet");
    // Everything but the interfaces takes about 230 lines; each interface takes 9 (its block,
    // its virtual-router and zone membership).
    let count = (id.config_lines.saturating_sub(230) / 9).max(2);
    let mut ifnames = Vec::new();
    for n in 0..count {
        let vlan = &site.vlans[n % site.vlans.len()];
        let name = format!("ethernet1/{}", n + 1);
        t.open(&name)
            .open("layer3")
            .open("ip")
            .leaf(&format!("{}/24", vlan.gateway))
            .close()
            .close()
            .leaf(&format!("comment \"{}\"", port_description(&mut rng, n)))
            .close();
        ifnames.push(name);
    }
    t.close().close();
    t.open("virtual-router").open("default").open("interface");
    for name in &ifnames {
        t.leaf(name);
    }
    t.close()
        .open("routing-table")
        .open("ip")
        .open("static-route")
        .open("default");
    t.leaf("destination 0.0.0.0/0")
        .open("nexthop")
        .leaf(&format!("ip-address {}", site.uplinks[0].peer))
        .close()
        .close()
        .close()
        .close()
        .close()
        .close();
    t.open("ike").open("gateway").open("HQ");
    t.open("authentication")
        .open("pre-shared-key")
        .leaf(&format!("key -AQ=={}", rng.base64(30)))
        .close()
        .close()
        .leaf("peer-address { ip 198.51.100.7; }")
        .close()
        .open("BRANCH")
        .open("authentication")
        .open("pre-shared-key")
        .leaf("key -AQ==PanIkePskQmFzZTY0")
        .close()
        .close()
        .leaf("peer-address { ip 198.51.100.9; }")
        .close()
        .close()
        .close();
    t.close();
    t.open("deviceconfig").open("system");
    t.leaf(&format!("hostname {}", id.hostname))
        .leaf("type { static; }")
        .leaf(&format!("ip-address {}", site.mgmt_ip))
        .leaf("netmask 255.255.255.0")
        .leaf(&format!("default-gateway {}", site.mgmt_gateway))
        .open("dns-setting")
        .open("servers")
        .leaf(&format!("primary {}", site.dns[0]))
        .leaf(&format!("secondary {}", site.dns[1]))
        .close()
        .close()
        .open("ntp-servers")
        .open("primary-ntp-server")
        .leaf(&format!("ntp-server-address {}", site.ntp[0]))
        .close()
        .close()
        .leaf("timezone UTC")
        .open("snmp-setting")
        .open("access-setting")
        .open("version")
        .open("v2c")
        .leaf("snmp-community-string S3cr3tCommunity")
        .close()
        .open("v3")
        .open("users")
        .open("netops")
        .leaf("view all")
        .leaf("authpwd -AQ==AuthPassV3xQmFzZTY0")
        .leaf("privpwd -AQ==PrivPassV3xQmFzZTY0")
        .close()
        .close()
        .close()
        .close()
        .close()
        .close()
        .leaf(&format!(
            "login-banner \"Authorized access only - {}\"",
            id.hostname
        ))
        .close();
    t.open("setting")
        .open("management")
        .leaf("hostname-type-in-syslog FQDN")
        .close()
        .close();
    t.close();
    t.open("vsys").open("vsys1").open("zone");
    for (zone, members) in [("trust", &ifnames[1..]), ("untrust", &ifnames[..1])] {
        t.open(zone)
            .open("network")
            .leaf(&format!("layer3 [ {} ]", members.join(" ")))
            .close()
            .close();
    }
    t.close().open("rulebase").open("security").open("rules");
    for (i, vlan) in site.vlans.iter().enumerate() {
        t.open(&format!("{}-out", vlan.name))
            .leaf("to untrust")
            .leaf("from trust")
            .leaf(&format!(
                "source 10.{}.{}.0/24",
                vlan.gateway.octets()[1],
                vlan.gateway.octets()[2]
            ))
            .leaf("destination any")
            .leaf("application any")
            .leaf("service application-default")
            .leaf("action allow")
            .leaf(&format!(
                "rule-type {}",
                if i % 2 == 0 { "universal" } else { "interzone" }
            ))
            .close();
    }
    t.close().close().close();
    for l in extra {
        t.leaf(l.trim_end_matches(';'));
    }
    t.close().close().close().close();
    t.out
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let site = Site::of(id);
    let up = id.uptime(now);
    match fact {
        Fact::Version => Some(format!(
            "\n\
             hostname: {host}\n\
             ip-address: {ip}\n\
             public-ip-address: unknown\n\
             netmask: 255.255.255.0\n\
             default-gateway: {gw}\n\
             ip-assignment: static\n\
             ipv6-address: unknown\n\
             ipv6-link-local-address: fe80::21c:17ff:fe00:{ll}/64\n\
             mac-address: {mac}\n\
             time: {time}\n\
             uptime: {days} days, {h}:{m:02}:{s:02}\n\
             family: 3200\n\
             model: PA-3220\n\
             serial: {serial}\n\
             cloud-mode: non-cloud\n\
             sw-version: 10.2.4\n\
             global-protect-client-package-version: 0.0.0\n\
             device-dictionary-version: 79-420\n\
             app-version: 8730-8157\n\
             app-release-date: 2023/07/18 16:13:43 PDT\n\
             av-version: 0\n\
             threat-version: 8730-8157\n\
             wildfire-version: 0\n\
             url-db: paloaltonetworks\n\
             logdb-version: 10.2.1\n\
             platform-family: 3200\n\
             vpn-disable-mode: off\n\
             multi-vsys: off\n\
             operational-mode: normal\n\
             device-certificate-status: Valid\n\n",
            host = id.hostname,
            ip = site.mgmt_ip,
            gw = site.mgmt_gateway,
            ll = id.seed % 0xffff,
            mac = mac_colons(mac(&mut id.rng("mac"))),
            time = now.ctime(),
            days = up.total_days(),
            h = up.hours,
            m = up.minutes,
            s = up.seconds,
            serial = serial(id),
        )),
        Fact::Clock => Some(format!("{} UTC\n", now.ctime())),
        _ => None,
    }
}
