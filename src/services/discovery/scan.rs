//! What a scan covers: ranges and addresses (IPv4 and IPv6) less the exclusions, the TCP ports,
//! the credentials, concurrency and timeout, checked against the admin's bounds. Guard rails: only
//! the addresses entered, never a network's broadcast, multicast or unspecified address, and no
//! more than the limit.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::services::settings::{self, registry};
use crate::services::validation::FieldErrors;

/// Ports per scan.
const MAX_PORTS: usize = 16;

/// A scan, as a job keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSpec {
    /// Ranges and addresses as entered (CIDR or single addresses).
    pub ranges: Vec<String>,
    pub exclude: Vec<String>,
    pub ports: Vec<u16>,
    /// Credentials to try, in order.
    pub credential_ids: Vec<i32>,
    /// A tag whose credentials are tried, by priority, after the chosen ones.
    pub tag_id: Option<i32>,
    pub concurrency: usize,
    pub timeout_seconds: u64,
}

/// The scan form as sent.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScanInput {
    #[serde(default)]
    pub ranges: String,
    #[serde(default)]
    pub exclude: String,
    #[serde(default)]
    pub ports: String,
    #[serde(default)]
    pub credential_ids: Vec<String>,
    #[serde(default)]
    pub tag_id: String,
    #[serde(default)]
    pub concurrency: String,
    #[serde(default)]
    pub timeout_seconds: String,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A range or an address as a network.
fn network(text: &str) -> Result<IpNet, String> {
    if let Ok(n) = text.parse::<IpNet>() {
        return Ok(n.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is neither an address nor a range like 192.0.2.0/24"))
}

/// An address a scan never connects to: it would reach many hosts or none.
fn refused(a: IpAddr) -> bool {
    a.is_multicast() || a.is_unspecified() || matches!(a, IpAddr::V4(v4) if v4.is_broadcast())
}

/// The addresses of `ranges` less `exclude`, in order; `Err` past `limit` or for a range that
/// holds nothing usable.
pub fn addresses(
    ranges: &[String],
    exclude: &[String],
    limit: usize,
) -> Result<Vec<IpAddr>, String> {
    let excluded: Vec<IpNet> = exclude
        .iter()
        .map(|e| network(e))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for range in ranges {
        let net = network(range)?;
        if refused(net.addr()) && net.prefix_len() == net.max_prefix_len() {
            return Err(format!(
                "{range} is a broadcast, multicast or unspecified address"
            ));
        }
        if matches!(net, IpNet::V4(_)) && net.network().is_multicast() {
            return Err(format!("{range} is a multicast range"));
        }
        // A whole network's hosts: IPv4 without its network and broadcast addresses (/31 and
        // /32 have none); IPv6 without the subnet-router anycast address.
        let hosts: Box<dyn Iterator<Item = IpAddr>> = match net {
            IpNet::V4(n) => Box::new(n.hosts().map(IpAddr::V4)),
            IpNet::V6(n) if n.prefix_len() == 128 => {
                Box::new(std::iter::once(IpAddr::V6(n.addr())))
            }
            IpNet::V6(n) => Box::new(n.hosts().skip(1).map(IpAddr::V6)),
        };
        for a in hosts {
            if refused(a) || excluded.iter().any(|e| e.contains(&a)) || !seen.insert(a) {
                continue;
            }
            if out.len() == limit {
                return Err(format!(
                    "more than {limit} addresses: narrow the ranges or add exclusions (an administrator can raise the limit)"
                ));
            }
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err("no address to scan after the exclusions".into());
    }
    Ok(out)
}

/// The ports as typed, or the setting's list.
fn ports(text: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for w in words(text) {
        match w.parse::<u16>() {
            Ok(p) if p > 0 => {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            _ => return Err(format!("{w:?} is not a TCP port (1 to 65535)")),
        }
    }
    if out.is_empty() {
        return Err("Enter at least one TCP port.".into());
    }
    if out.len() > MAX_PORTS {
        return Err(format!("At most {MAX_PORTS} ports."));
    }
    Ok(out)
}

/// The form as a scan within the admin's bounds, or the form's messages.
pub async fn validate(db: &impl ConnectionTrait, input: &ScanInput) -> Result<ScanSpec, Error> {
    let mut errors = FieldErrors::new();
    let limit =
        usize::try_from(settings::int(db, &registry::DISCOVERY_MAX_ADDRESSES).await?).unwrap_or(1);
    let max_concurrency =
        usize::try_from(settings::int(db, &registry::DISCOVERY_MAX_CONCURRENCY).await?)
            .unwrap_or(1);
    let max_timeout =
        u64::try_from(settings::int(db, &registry::DISCOVERY_MAX_TIMEOUT_SECONDS).await?)
            .unwrap_or(1);
    let ranges = words(&input.ranges);
    let exclude = words(&input.exclude);
    if ranges.is_empty() {
        errors.add("ranges", "Enter the ranges or addresses to scan.");
    } else if let Err(m) = addresses(&ranges, &exclude, limit) {
        errors.add("ranges", m);
    }
    let port_text = if input.ports.trim().is_empty() {
        settings::text(db, &registry::DISCOVERY_SSH_PORTS).await?
    } else {
        input.ports.clone()
    };
    let ports = ports(&port_text).unwrap_or_else(|m| {
        errors.add("ports", m);
        Vec::new()
    });
    let credential_ids: Vec<i32> = input
        .credential_ids
        .iter()
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let tag_id = input.tag_id.trim().parse::<i32>().ok();
    if credential_ids.is_empty() && tag_id.is_none() {
        errors.add(
            "credential_ids",
            "Choose the credentials to try, or a tag whose credentials are tried.",
        );
    }
    let number = |text: &str, default: u64, max: u64, field: &str, errors: &mut FieldErrors| {
        if text.trim().is_empty() {
            return default.min(max);
        }
        match text.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.add(field, format!("A whole number from 1 to {max}."));
                1
            }
        }
    };
    let concurrency = number(
        &input.concurrency,
        128,
        max_concurrency as u64,
        "concurrency",
        &mut errors,
    );
    let timeout_seconds = number(
        &input.timeout_seconds,
        5,
        max_timeout,
        "timeout_seconds",
        &mut errors,
    );
    errors.into_result()?;
    Ok(ScanSpec {
        ranges,
        exclude,
        ports,
        credential_ids,
        tag_id,
        concurrency: usize::try_from(concurrency).unwrap_or(1),
        timeout_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(ranges: &[&str], exclude: &[&str], limit: usize) -> Result<Vec<String>, String> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        addresses(&s(ranges), &s(exclude), limit).map(|v| v.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn ranges_expand_to_their_hosts_less_exclusions() {
        assert_eq!(
            all(&["127.0.0.0/30"], &[], 10).unwrap(),
            ["127.0.0.1", "127.0.0.2"],
            "no network or broadcast address"
        );
        assert_eq!(
            all(&["127.0.0.8/31"], &[], 10).unwrap(),
            ["127.0.0.8", "127.0.0.9"]
        );
        assert_eq!(
            all(
                &["127.0.0.0/29", "127.0.0.3"],
                &["127.0.0.2", "127.0.0.4/31"],
                10
            )
            .unwrap(),
            ["127.0.0.1", "127.0.0.3", "127.0.0.6"]
        );
        assert_eq!(all(&["::1"], &[], 10).unwrap(), ["::1"]);
        assert_eq!(all(&["127.0.0.0/22"], &[], 1022).unwrap().len(), 1022);
        assert!(
            all(&["127.0.0.0/22"], &[], 1021)
                .unwrap_err()
                .contains("more than 1021")
        );
        assert!(all(&["224.0.0.0/24"], &[], 300).is_err(), "multicast");
        assert!(all(&["255.255.255.255"], &[], 10).is_err(), "broadcast");
        assert!(all(&["0.0.0.0"], &[], 10).is_err(), "unspecified");
        assert!(
            all(&["127.0.0.1"], &["127.0.0.0/8"], 10).is_err(),
            "nothing left"
        );
        assert!(
            all(&["nonsense"], &[], 10)
                .unwrap_err()
                .contains("neither an address")
        );
        assert_eq!(ports("22, 2222 22").unwrap(), vec![22, 2222]);
        assert!(ports("0").is_err() && ports("").is_err() && ports("ssh").is_err());
    }
}
