//! MikroTik RouterOS 7 content (CCR2004-1G-12S+2XS, 7.12.1).

use crate::clock::Stamp;

use super::common::{Site, fill_to, mac, mac_colons, port_description};
use super::{ConfigView, Fact, Identity, Template, Volatile};

const MODEL: &str = "CCR2004-1G-12S+2XS";

fn serial(id: &Identity) -> String {
    id.rng("serial").pattern("HE####@@@@@")
}

/// ANSI colours RouterOS uses when the client did not ask for `+c` (no colours).
pub(crate) mod colour {
    pub(crate) const RESET: &str = "\x1b[m";
    pub(crate) const PATH: &str = "\x1b[m\x1b[36m";
    pub(crate) const COMMENT: &str = "\x1b[m\x1b[90m";
    pub(crate) const BOLD: &str = "\x1b[m\x1b[1m";
}

pub(crate) fn banner(colour: bool) -> String {
    const ART: [&str; 10] = [
        "  MMM      MMM       KKK                          TTTTTTTTTTT      KKK",
        "  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK",
        "  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK",
        "  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK",
        "  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK",
        "  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK",
        "",
        "  MikroTik RouterOS 7.12.1 (c) 1999-2023       https://www.mikrotik.com/",
        "",
        "Press F1 for help",
    ];
    let art = format!("\n\n\n{}\n\n", ART.join("\n"));
    if colour {
        format!("{}{art}{}", colour::BOLD, colour::RESET)
    } else {
        art.to_string()
    }
}

/// Colours an export or print output the way the RouterOS console does.
pub(crate) fn colourize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        if body.starts_with('/') {
            out.push_str(colour::PATH);
            out.push_str(body);
            out.push_str(colour::RESET);
        } else if body.starts_with('#') {
            out.push_str(colour::COMMENT);
            out.push_str(body);
            out.push_str(colour::RESET);
        } else {
            out.push_str(body);
        }
        out.push_str(nl);
    }
    out
}

/// Splits `line` at spaces outside quotes into export-style continuation lines (` \` then four
/// spaces), as `/export` does for lines longer than 79 columns.
fn wrap(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ' ' if !quoted => words.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    words.push(current);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in words {
        let indent = if lines.is_empty() { 0 } else { 4 };
        if !cur.is_empty() && indent + cur.len() + 1 + word.len() + 2 > 79 {
            lines.push(format!("{cur} \\"));
            cur = String::new();
        }
        if cur.is_empty() {
            if !lines.is_empty() {
                cur.push_str("    ");
            }
        } else {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    lines.push(cur);
    lines
}

pub(crate) fn config(id: &Identity, extra: &[String], view: ConfigView) -> Template {
    let site = Site::of(id);
    let mut rng = id.rng("config");
    let sensitive = view == ConfigView::ShowSensitive;
    let mut head: Vec<String> = vec![
        "/interface bridge".into(),
        format!(
            "add admin-mac={} auto-mac=no comment=defconf name=bridge vlan-filtering=yes",
            mac_colons(mac(&mut rng)).to_uppercase()
        ),
        "/interface ethernet".into(),
    ];
    // Each port costs two lines (its comment and its bridge port); the rest is about 92.
    let ports = fill_to(id.config_lines.saturating_sub(92) / 2, 0, 4, |n| {
        vec![format!(
            "set [ find default-name=sfp-sfpplus{} ] comment=\"{}\"",
            n + 1,
            port_description(&mut rng, n)
        )]
    });
    head.extend(ports.iter().cloned());
    let wg_key = rng.base64(32);
    // Values added later come from their own generator so the rest of the output stays as it was.
    let mut more = id.rng("secrets");
    head.push("/interface wireguard".into());
    if sensitive {
        head.push(format!(
            "add listen-port=13231 mtu=1420 name=wg-mgmt private-key=\"{wg_key}\""
        ));
    } else {
        head.push("add listen-port=13231 mtu=1420 name=wg-mgmt".into());
    }
    head.push("/interface wireguard peers".into());
    let peer = format!(
        "add allowed-address=10.9.0.2/32 interface=wg-mgmt public-key=\"{}\"",
        more.base64(32)
    );
    if sensitive {
        head.push(format!("{peer} preshared-key=\"WgPskMtQmFzZTY0=\""));
    } else {
        head.push(peer);
    }
    head.push("/interface vlan".into());
    for vlan in &site.vlans {
        head.push(format!(
            "add interface=bridge name=vlan{}-{} vlan-id={}",
            vlan.id, vlan.name, vlan.id
        ));
    }
    head.extend([
        "/interface list".into(),
        "add name=WAN".into(),
        "add name=LAN".into(),
        "/interface wireless security-profiles".into(),
    ]);
    let profile = "add authentication-types=wpa2-psk mode=dynamic-keys name=corp supplicant-identity=MikroTik";
    if sensitive {
        head.push(format!("{profile} wpa2-pre-shared-key=Wpa2PskMt"));
    } else {
        head.push(profile.into());
    }
    head.push("/ip pool".into());
    for vlan in &site.vlans {
        let o = vlan.gateway.octets();
        head.push(format!(
            "add name=pool-{} ranges={}.{}.{}.100-{}.{}.{}.200",
            vlan.name.to_lowercase(),
            o[0],
            o[1],
            o[2],
            o[0],
            o[1],
            o[2]
        ));
    }
    head.push("/snmp community".into());
    head.push("set [ find default=yes ] addresses=10.0.0.0/8 name=S3cr3tCommunity".into());
    if sensitive {
        head.push("add addresses=10.0.0.0/8 authentication-password=AuthPassV3x authentication-protocol=SHA1 encryption-password=PrivPassV3x encryption-protocol=AES name=netops-v3 security=private".into());
    } else {
        head.push("add addresses=10.0.0.0/8 authentication-protocol=SHA1 encryption-protocol=AES name=netops-v3 security=private".into());
    }
    head.push("/interface bridge port".into());
    for (n, _) in ports.iter().enumerate().skip(1) {
        let vlan = &site.vlans[n % site.vlans.len()];
        head.push(format!(
            "add bridge=bridge interface=sfp-sfpplus{} pvid={}",
            n + 1,
            vlan.id
        ));
    }
    head.push("/ip address".into());
    for vlan in &site.vlans {
        let o = vlan.gateway.octets();
        head.push(format!(
            "add address={}/24 interface=vlan{}-{} network={}.{}.{}.0",
            vlan.gateway, vlan.id, vlan.name, o[0], o[1], o[2]
        ));
    }
    head.push(format!(
        "add address={}/30 comment=\"Uplink to {}\" interface=sfp-sfpplus1 network={}",
        site.uplinks[0].local,
        site.uplinks[0].peer_name,
        super::common::offset(site.uplinks[0].local, u32::MAX)
    ));
    head.push("/ip dns".into());
    head.push(format!("set servers={},{}", site.dns[0], site.dns[1]));
    head.extend(
        [
            "/ip firewall filter",
            "add action=accept chain=input comment=\"defconf: accept established,related,untracked\" connection-state=established,related,untracked",
            "add action=drop chain=input comment=\"defconf: drop invalid\" connection-state=invalid",
            "add action=accept chain=input comment=\"defconf: accept ICMP\" protocol=icmp",
            "add action=accept chain=input comment=\"Management from NOC\" src-address=10.0.0.0/8",
            "add action=drop chain=input comment=\"defconf: drop all not coming from LAN\" in-interface-list=!LAN",
            "/ip ipsec identity",
        ]
        .map(String::from),
    );
    if sensitive {
        head.push(format!(
            "add peer=branch-hq secret=\"{}\"",
            rng.base64(12).trim_end_matches('=')
        ));
    } else {
        head.push("add peer=branch-hq".into());
    }
    head.push("/ip route".into());
    head.push(format!(
        "add disabled=no dst-address=0.0.0.0/0 gateway={} routing-table=main",
        site.uplinks[0].peer
    ));
    head.extend(
        [
            "/ip service",
            "set telnet disabled=yes",
            "set ftp disabled=yes",
            "set www disabled=yes",
            "set api disabled=yes",
            "set api-ssl disabled=yes",
            "/ppp secret",
        ]
        .map(String::from),
    );
    if sensitive {
        head.push("add name=vpn-user password=PppS3cretMt profile=default-encryption".into());
    } else {
        head.push("add name=vpn-user profile=default-encryption".into());
    }
    head.push("/radius".into());
    if sensitive {
        head.push(format!(
            "add address={} secret=R4diusK3y service=login",
            site.aaa[0]
        ));
    } else {
        head.push(format!("add address={} service=login", site.aaa[0]));
    }
    head.push("/routing bgp connection".into());
    for link in &site.uplinks {
        let connection = format!(
            "add as={} local.role=ebgp name={} remote.address={}/32 .as={} router-id={}",
            site.asn, link.peer_name, link.peer, link.peer_asn, site.loopback
        );
        if sensitive {
            head.push(format!("{connection} tcp-md5-key=BgpMd5Mt"));
        } else {
            head.push(connection);
        }
    }
    head.extend(["/system clock".into(), "set time-zone-name=UTC".into()]);
    head.extend([
        "/system identity".into(),
        format!("set name={}", id.hostname),
    ]);
    head.extend([
        "/system logging action".into(),
        format!("add name=remote remote={} target=remote", site.syslog),
        "/system note".into(),
        "set show-at-login=no".into(),
        "/system ntp client".into(),
        "set enabled=yes".into(),
        "/system ntp client servers".into(),
    ]);
    for server in site.ntp {
        head.push(format!("add address={server}"));
    }
    head.extend(["/user aaa".into(), "set use-radius=yes".into()]);

    let mut t = Template::new();
    t.volatile(Volatile::MikrotikHeader)
        .line(format!(
            "# software id = {}",
            id.rng("swid").pattern("@@@@-@@@@")
        ))
        .line("#")
        .line(format!("# model = {MODEL}"))
        .line(format!("# serial number = {}", serial(id)));
    for l in head.iter().chain(extra) {
        for part in wrap(l) {
            t.line(part);
        }
    }
    t
}

/// `key: value` lines with right-aligned keys, like RouterOS `print` of a single item.
fn aligned(items: &[(&str, String)]) -> String {
    let width = items.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    items
        .iter()
        .map(|(k, v)| format!("{:>width$}: {v}\n", k))
        .collect()
}

pub(crate) fn fact(id: &Identity, fact: Fact, now: &Stamp) -> Option<String> {
    let up = id.uptime(now);
    match fact {
        Fact::System => Some(aligned(&[
            (
                "uptime",
                format!(
                    "{}w{}d{}h{}m{}s",
                    up.weeks, up.days, up.hours, up.minutes, up.seconds
                ),
            ),
            ("version", "7.12.1 (stable)".into()),
            ("build-time", "2023-11-17 11:38:45".into()),
            ("factory-software", "7.1".into()),
            (
                "free-memory",
                format!("{}.{}MiB", 3300 + now.unix % 90, now.unix % 10),
            ),
            ("total-memory", "4096.0MiB".into()),
            ("cpu", "ARM64".into()),
            ("cpu-count", "4".into()),
            ("cpu-frequency", "1700MHz".into()),
            ("cpu-load", format!("{}%", now.unix % 7)),
            ("free-hdd-space", "98.3MiB".into()),
            ("total-hdd-space", "128.0MiB".into()),
            ("write-sect-since-reboot", "5042".into()),
            ("write-sect-total", "123456".into()),
            ("bad-blocks", "0%".into()),
            ("architecture-name", "arm64".into()),
            ("board-name", MODEL.into()),
            ("platform", "MikroTik".into()),
        ])),
        Fact::Inventory => Some(aligned(&[
            ("routerboard", "yes".into()),
            ("board-name", MODEL.into()),
            ("model", MODEL.into()),
            ("serial-number", serial(id)),
            ("firmware-type", "al2".into()),
            ("factory-firmware", "7.1".into()),
            ("current-firmware", "7.12.1".into()),
            ("upgrade-firmware", "7.12.1".into()),
        ])),
        Fact::Identity => Some(aligned(&[("name", id.hostname.clone())])),
        Fact::Clock => Some(aligned(&[
            ("time", now.hms()),
            ("date", now.ymd()),
            ("time-zone-autodetect", "no".into()),
            ("time-zone-name", "UTC".into()),
            ("gmt-offset", "+00:00".into()),
            ("dst-active", "no".into()),
        ])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_continued() {
        let parts = wrap(
            "add action=accept chain=input comment=\"defconf: accept established,related,untracked\" connection-state=established,related,untracked",
        );
        assert!(parts.len() > 1);
        assert!(parts[0].ends_with(" \\"));
        assert!(parts[1].starts_with("    "));
        assert!(parts.iter().all(|p| p.len() <= 80), "{parts:?}");
        assert_eq!(wrap("/ip dns"), vec!["/ip dns".to_string()]);
    }
}
