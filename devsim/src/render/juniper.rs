//! Juniper Junos content (MX204, Junos 21.4R3-S4.9). The configuration is built as a tree of
//! statements so both `show configuration` (curly braces) and `| display set` come from the same
//! data, and `set` lines added later land in the right place in both.

use crate::clock::Stamp;

use super::common::{Site, fill_to, port_description, sha512_crypt};
use super::{ConfigView, Fact, Identity, Template, Volatile};
use crate::rng::Rng;

/// One statement: a container (with children) or a leaf.
#[derive(Debug, Clone, Default)]
struct Node {
    name: String,
    secret: bool,
    children: Vec<Node>,
}

impl Node {
    /// Adds a statement given as node names (`["interfaces", "xe-0/1/0", "unit 0", ...]`).
    fn add(&mut self, path: &[String], secret: bool) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            if !self
                .children
                .iter()
                .any(|c| c.name == *first && c.children.is_empty())
            {
                self.children.push(Node {
                    name: first.clone(),
                    secret,
                    children: Vec::new(),
                });
            }
            return;
        }
        if let Some(child) = self
            .children
            .iter_mut()
            .find(|c| c.name == *first && !c.children.is_empty())
        {
            child.add(rest, secret);
        } else {
            let mut child = Node {
                name: first.clone(),
                ..Node::default()
            };
            child.add(rest, secret);
            self.children.push(child);
        }
    }

    /// Adds a `set` line typed by a user: its words are matched against existing node names
    /// (which may span several words, like `unit 0`); what is left becomes a leaf under the
    /// deepest match, or a new top-level container when nothing matched.
    fn add_words(&mut self, words: &[&str], depth: usize) {
        if words.is_empty() {
            return;
        }
        for child in self.children.iter_mut().filter(|c| !c.children.is_empty()) {
            let n = child.name.split(' ').count();
            if words.len() > n && child.name.split(' ').eq(words[..n].iter().copied()) {
                child.add_words(&words[n..], depth + 1);
                return;
            }
        }
        if depth == 0 && words.len() > 1 {
            let path = [words[0].to_string(), words[1..].join(" ")];
            self.add(&path, false);
        } else {
            self.add(&[words.join(" ")], false);
        }
    }

    fn render_set(&self, prefix: &str, out: &mut Template) {
        for child in &self.children {
            let path = if prefix.is_empty() {
                child.name.clone()
            } else {
                format!("{prefix} {}", child.name)
            };
            if child.children.is_empty() {
                let tag = if child.secret { " ## SECRET-DATA" } else { "" };
                out.line(format!("set {path}{tag}"));
            } else {
                child.render_set(&path, out);
            }
        }
    }

    fn render_curly(&self, indent: usize, out: &mut Template) {
        let pad = " ".repeat(indent);
        for child in &self.children {
            if child.children.is_empty() {
                let tag = if child.secret { " ## SECRET-DATA" } else { "" };
                out.line(format!("{pad}{};{tag}", child.name));
            } else {
                out.line(format!("{pad}{} {{", child.name));
                child.render_curly(indent + 4, out);
                out.line(format!("{pad}}}"));
            }
        }
    }
}

/// A Junos `$9$` obfuscated secret.
fn junos9(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"QzF3n6/9CAtpu0O1IhclMLN7dbs2-vrY4gjoaZwyxRkKVWEG.Xe5S8UTiDmfJHP";
    let body: String = (0..32).map(|_| char::from(*rng.pick(ALPHABET))).collect();
    format!("$9${body}")
}

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("JN####@@@@@@")
}

fn tree(id: &Identity, extra: &[String]) -> Node {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let mut root = Node::default();
    let mut add = |secret: bool, path: &[&str]| {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        root.add(&path, secret);
    };
    let host = format!("host-name {}", id.hostname);
    let domain = format!("domain-name {}", site.domain);
    add(false, &["version 21.4R3-S4.9"]);
    add(false, &["system", &host]);
    add(false, &["system", &domain]);
    add(false, &["system", "time-zone UTC"]);
    let root_pw = format!("encrypted-password \"{}\"", sha512_crypt(&mut rng));
    add(true, &["system", "root-authentication", &root_pw]);
    let ns = format!("name-server {}", site.dns[0]);
    add(false, &["system", &ns]);
    add(
        false,
        &["system", "authentication-order [ tacplus password ]"],
    );
    for server in site.aaa {
        let s = format!("tacplus-server {server}");
        let secret = format!("secret \"{}\"", junos9(&mut rng));
        add(true, &["system", &s, &secret]);
    }
    add(false, &["system", "login", "class NOC", "permissions all"]);
    for (user, class, uid) in [("admin", "super-user", 2000), ("netops", "read-only", 2001)] {
        let u = format!("user {user}");
        let uid = format!("uid {uid}");
        let class = format!("class {class}");
        let pw = format!("encrypted-password \"{}\"", sha512_crypt(&mut rng));
        add(false, &["system", "login", &u, &uid]);
        add(false, &["system", "login", &u, &class]);
        add(true, &["system", "login", &u, "authentication", &pw]);
    }
    add(false, &["system", "services", "ssh", "root-login deny"]);
    add(false, &["system", "services", "ssh", "protocol-version v2"]);
    add(false, &["system", "services", "netconf", "ssh"]);
    let syslog = format!("host {}", site.syslog);
    add(false, &["system", "syslog", &syslog, "any notice"]);
    add(false, &["system", "syslog", "file messages", "any notice"]);
    add(
        false,
        &[
            "system",
            "syslog",
            "file interactive-commands",
            "interactive-commands any",
        ],
    );
    for server in site.ntp {
        let s = format!("server {server}");
        add(false, &["system", "ntp", &s]);
    }
    add(
        false,
        &["system", "archival", "configuration", "transfer-on-commit"],
    );
    // A URL with credentials, as people configure for config archival.
    add(
        false,
        &[
            "system",
            "archival",
            "configuration",
            "archive-sites",
            "\"scp://backup:Backup123@10.0.0.5:/configs\"",
        ],
    );
    add(
        false,
        &[
            "chassis",
            "aggregated-devices",
            "ethernet",
            "device-count 8",
        ],
    );

    // About 60 statements are not interfaces; `config_lines` counts `display set` lines.
    let ports = fill_to(id.config_lines, 60, 4, |n| {
        let ifname = format!("xe-0/1/{n}");
        let mut lines = Vec::new();
        if n < site.uplinks.len() {
            let link = &site.uplinks[n];
            lines.push(vec![
                ifname.clone(),
                format!("description \"Uplink to {}\"", link.peer_name),
            ]);
            lines.push(vec![
                ifname.clone(),
                "unit 0".into(),
                "family inet".into(),
                format!("address {}/30", link.local),
            ]);
        } else {
            lines.push(vec![
                ifname.clone(),
                format!("description \"{}\"", port_description(&mut rng, n)),
            ]);
            lines.push(vec![
                ifname.clone(),
                "unit 0".into(),
                format!("description \"CUST-{:04}\"", 100 + n),
            ]);
            lines.push(vec![
                ifname.clone(),
                "unit 0".into(),
                "family inet".into(),
                format!("address 100.64.{}.{}/30", n % 250, 1 + 4 * (n % 60)),
            ]);
        }
        // Paths travel through `fill_to` as strings; \u{1} separates node names.
        lines.into_iter().map(|l| l.join("\u{1}")).collect()
    });
    for encoded in &ports {
        let mut path = vec!["interfaces".to_string()];
        path.extend(encoded.split('\u{1}').map(str::to_string));
        root.add(&path, false);
    }
    let mut add = |secret: bool, path: &[&str]| {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        root.add(&path, secret);
    };
    let lo = format!("address {}/32", site.loopback);
    add(false, &["interfaces", "lo0", "unit 0", "family inet", &lo]);
    let mgmt = format!("address {}/24", site.mgmt_ip);
    add(
        false,
        &["interfaces", "fxp0", "unit 0", "family inet", &mgmt],
    );
    let location = format!("location \"{}\"", site.location);
    add(false, &["snmp", &location]);
    add(false, &["snmp", "contact \"noc@example.net\""]);
    add(
        false,
        &["snmp", "community public", "authorization read-only"],
    );
    add(
        false,
        &[
            "snmp",
            "community S3cr3tCommunity",
            "authorization read-only",
        ],
    );
    add(
        false,
        &["snmp", "community S3cr3tCommunity", "clients 10.0.0.0/8"],
    );
    let rid = format!("router-id {}", site.loopback);
    add(false, &["routing-options", &rid]);
    let asn = format!("autonomous-system {}", site.asn);
    add(false, &["routing-options", &asn]);
    let default = format!("route 0.0.0.0/0 next-hop {}", site.mgmt_gateway);
    add(false, &["routing-options", "static", &default]);
    add(false, &["protocols", "bgp", "group CORE", "type external"]);
    let key = format!("authentication-key \"{}\"", junos9(&mut rng));
    add(true, &["protocols", "bgp", "group CORE", &key]);
    for link in &site.uplinks {
        let n = format!("neighbor {}", link.peer);
        let d = format!("description {}", link.peer_name);
        let p = format!("peer-as {}", link.peer_asn);
        add(false, &["protocols", "bgp", "group CORE", &n, &d]);
        add(false, &["protocols", "bgp", "group CORE", &n, &p]);
    }
    add(
        false,
        &[
            "protocols",
            "ospf",
            "area 0.0.0.0",
            "interface lo0.0",
            "passive",
        ],
    );
    for n in 0..site.uplinks.len() {
        let i = format!("interface xe-0/1/{n}.0");
        add(
            false,
            &[
                "protocols",
                "ospf",
                "area 0.0.0.0",
                &i,
                "interface-type p2p",
            ],
        );
    }
    add(false, &["protocols", "lldp", "interface all"]);
    add(false, &["policy-options", "prefix-list MGMT", "10.0.0.0/8"]);
    let term = ["firewall", "family inet", "filter PROTECT-RE", "term SSH"];
    for (part, stmt) in [
        ("from", "source-prefix-list MGMT"),
        ("from", "protocol tcp"),
        ("from", "destination-port ssh"),
        ("then", "accept"),
    ] {
        let mut path = term.to_vec();
        path.extend([part, stmt]);
        add(false, &path);
    }
    // Values added later come from their own generator so the rest of the output stays as it was.
    let mut more = id.rng("secrets");
    let ntp_key = format!(
        "authentication-key 1 type md5 value \"{}\"",
        junos9(&mut more)
    );
    add(true, &["system", "ntp", &ntp_key]);
    let psk = format!("pre-shared-key ascii-text \"{}\"", junos9(&mut more));
    add(false, &["security", "ike", "policy IKE-HQ", "mode main"]);
    add(true, &["security", "ike", "policy IKE-HQ", &psk]);
    let usm = ["snmp", "v3", "usm", "local-engine", "user netops"];
    let auth = format!("authentication-key \"{}\"", junos9(&mut more));
    let privacy = format!("privacy-key \"{}\"", junos9(&mut more));
    add(true, &[&usm[..], &["authentication-sha", &auth]].concat());
    add(true, &[&usm[..], &["privacy-aes128", &privacy]].concat());
    let md5 = format!("md5 1 key \"{}\"", junos9(&mut more));
    add(
        true,
        &[
            "protocols",
            "ospf",
            "area 0.0.0.0",
            "interface xe-0/1/0.0",
            "authentication",
            &md5,
        ],
    );
    for line in extra {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some((&"set", rest)) = words.split_first() {
            root.add_words(rest, 0);
        }
    }
    root
}

pub(crate) fn config(id: &Identity, extra: &[String], view: ConfigView) -> Template {
    let root = tree(id, extra);
    let mut t = Template::new();
    t.volatile(Volatile::JunosLastCommit);
    if view == ConfigView::SetCommands {
        root.render_set("", &mut t);
    } else {
        root.render_curly(0, &mut t);
    }
    t
}

pub(crate) fn banner(_id: &Identity, now: &Stamp) -> String {
    format!(
        "Last login: {} from 10.0.0.15\n--- JUNOS 21.4R3-S4.9 Kernel 64-bit  JNPR-12.1-20230301.ec1a1a5_buil\n",
        now.minus(5400).ctime()
    )
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let mut rng = id.rng("inventory");
    match fact {
        Fact::Version => Some(format!(
            "Hostname: {}\n\
             Model: mx204\n\
             Junos: 21.4R3-S4.9\n\
             JUNOS OS Kernel 64-bit  [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS OS libs [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS OS runtime [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS OS time zone information [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS network stack and utilities [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS libs [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS OS libs compat32 [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS runtime [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS Packet Forwarding Engine Simulation Package [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS py extensions [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS py base [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS OS vmguest [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS OS crypto [20230301.ec1a1a5_builder_stable_12_214]\n\
             JUNOS mx libs compat32 [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS mx runtime [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS Routing Engine Software Suite [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS Packet Forwarding Engine Support (MX/EX92XX Common) [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS Kernel Software Suite [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS Online Documentation [20230315.101112_builder_junos_214_r3_s4]\n\
             JUNOS jail runtime [20230301.ec1a1a5_builder_stable_12_214]\n",
            id.hostname
        )),
        Fact::Inventory => Some(format!(
            "Hardware inventory:\n\
             Item             Version  Part number  Serial number     Description\n\
             Chassis                                {serial:<18}MX204\n\
             Midplane         REV 25   750-077138   {mid:<18}MX204\n\
             PEM 0            Rev 04   740-069994   {pem0:<18}JPSU-650W-AC-AFO\n\
             PEM 1            Rev 04   740-069994   {pem1:<18}JPSU-650W-AC-AFO\n\
             Routing Engine 0          BUILTIN      BUILTIN           RE-S-1600x8\n\
             CB 0             REV 25   750-077138   {mid:<18}MX204\n\
             FPC 0                     BUILTIN      BUILTIN           MPC\n\
             \x20 PIC 0                   BUILTIN      BUILTIN           4XQSFP28 PIC\n\
             \x20 PIC 1                   BUILTIN      BUILTIN           8XSFPP PIC\n\
             Fan Tray 0       REV 01   711-070223   {fan:<18}Front to Back Airflow - AFO\n\
             Fan Tray 1       REV 01   711-070223   {fan2:<18}Front to Back Airflow - AFO\n",
            serial = serial(id),
            mid = rng.pattern("CAGX####"),
            pem0 = rng.pattern("1EDL#####@@"),
            pem1 = rng.pattern("1EDL#####@@"),
            fan = rng.pattern("BCBF####"),
            fan2 = rng.pattern("BCBF####"),
        )),
        Fact::Clock => Some(format!(
            "Current time: {} UTC\nSystem booted: {} UTC ({:?} ago)\n",
            now.iso(),
            id.boot().iso(),
            id.uptime(now).total_days()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Stamp;
    use crate::platform::Platform;

    #[test]
    fn set_and_curly_agree_and_take_added_lines() {
        let id = Identity::new(Platform::JuniperJunos, "r1", 1, 120);
        let extra = vec![
            "set interfaces xe-0/1/0 unit 0 description \"changed\"".to_string(),
            "set routing-options static route 10.9.0.0/16 discard".to_string(),
        ];
        let now = Stamp::now();
        let set = config(&id, &extra, ConfigView::SetCommands).render(&now);
        let curly = config(&id, &extra, ConfigView::Native).render(&now);
        assert!(set.contains("set system host-name r1\n"));
        assert!(set.contains("set interfaces xe-0/1/0 unit 0 description \"changed\"\n"));
        assert!(set.contains("set routing-options static route 10.9.0.0/16 discard\n"));
        assert!(set.contains("## SECRET-DATA"));
        assert!(curly.contains("system {\n    host-name r1;\n"));
        assert!(curly.contains("        unit 0 {\n"));
        assert!(curly.contains("route 10.9.0.0/16 discard;"));
        assert!(set.lines().count() > 100, "{}", set.lines().count());
    }
}
