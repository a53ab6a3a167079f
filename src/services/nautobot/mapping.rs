//! One Nautobot device as the NetRaven device a source makes of it: host name, address, port,
//! platform and tags, or the reason, in words, why it cannot be imported.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use serde_json::{Value, json};

use crate::device::platforms;
use crate::entity::nautobot_sources as source;
use crate::services::devices::hostname_error;
use crate::services::tags::MAX_TAG_NAME;

/// The GraphQL selection a sync reads for each device: what `map` needs and nothing more.
pub const DEVICE_FIELDS: &str = "id name primary_ip4 { host } primary_ip6 { host } \
platform { name network_driver } location { name } role { name } status { name } \
tenant { name } tags { name } _custom_field_data";

/// A Nautobot device as NetRaven stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub nautobot_id: String,
    pub hostname: String,
    pub ip_address: String,
    pub port: i32,
    pub device_type: String,
    /// Tag names as Nautobot (and the generated prefixes) give them; compared without case.
    pub tags: BTreeSet<String>,
}

impl Desired {
    pub fn to_json(&self) -> Value {
        json!({
            "hostname": self.hostname,
            "ip_address": self.ip_address,
            "port": self.port,
            "device_type": self.device_type,
            "tags": self.tags,
        })
    }

    pub fn from_json(nautobot_id: &str, v: &Value) -> Option<Desired> {
        Some(Desired {
            nautobot_id: nautobot_id.to_string(),
            hostname: v.get("hostname")?.as_str()?.to_string(),
            ip_address: v.get("ip_address")?.as_str()?.to_string(),
            port: i32::try_from(v.get("port")?.as_i64()?).ok()?,
            device_type: v.get("device_type")?.as_str()?.to_string(),
            tags: v
                .get("tags")?
                .as_array()?
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        })
    }
}

/// A device that cannot be imported: its id and name as far as known, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub nautobot_id: String,
    pub name: String,
    pub reason: String,
}

/// What one source does with Nautobot's devices.
pub struct Mapper<'a> {
    source: &'a source::Model,
    /// Nautobot platform name (lower case) → NetRaven platform id.
    platform_map: HashMap<String, String>,
}

fn text<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

impl<'a> Mapper<'a> {
    pub fn new(source: &'a source::Model, platform_map: HashMap<String, String>) -> Self {
        Mapper {
            source,
            platform_map,
        }
    }

    pub fn map(&self, d: &Value) -> Result<Desired, Skipped> {
        let nautobot_id = text(d, &["id"]).unwrap_or_default().to_string();
        let name = text(d, &["name"]).unwrap_or_default().to_string();
        let skip = |reason: String| Skipped {
            nautobot_id: nautobot_id.clone(),
            name: name.clone(),
            reason,
        };
        if nautobot_id.is_empty() {
            return Err(skip("Nautobot gave no id".into()));
        }
        if name.is_empty() {
            return Err(skip("no name in Nautobot".into()));
        }
        if let Some(problem) = hostname_error(&name) {
            return Err(skip(format!(
                "the name is not a valid host name: {problem}"
            )));
        }
        let host = text(d, &["primary_ip4", "host"]).or_else(|| text(d, &["primary_ip6", "host"]));
        let Some(host) = host else {
            return Err(skip("no primary IP address".into()));
        };
        // `host` has no mask; an `address` (with one) is cut at the slash all the same.
        let bare = host.split('/').next().unwrap_or(host);
        let ip_address = match bare.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => return Err(skip(format!("the primary address {host:?} is not valid"))),
        };
        let device_type = self.platform(d).map_err(skip)?;
        let port = self.port(d).map_err(skip)?;
        Ok(Desired {
            nautobot_id,
            hostname: name.clone(),
            ip_address,
            port,
            device_type,
            tags: self.tags(d),
        })
    }

    fn platform(&self, d: &Value) -> Result<String, String> {
        let Some(name) = text(d, &["platform", "name"]) else {
            return Err("no platform in Nautobot".into());
        };
        let driver = text(d, &["platform", "network_driver"]);
        if let Some(p) = driver.and_then(platforms::find) {
            return Ok(p.id.to_string());
        }
        if let Some(p) = self.platform_map.get(&name.to_lowercase()) {
            return Ok(p.clone());
        }
        Err(match driver {
            Some(driver) => format!(
                "platform {name:?} has network driver {driver:?}, which NetRaven does not support: map the platform on the Nautobot page"
            ),
            None => format!(
                "platform {name:?} has no network driver and no mapping: map it on the Nautobot page"
            ),
        })
    }

    fn port(&self, d: &Value) -> Result<i32, String> {
        let Some(key) = self.source.port_field.as_deref() else {
            return Ok(22);
        };
        let value = d.get("_custom_field_data").and_then(|c| c.get(key));
        let port = match value {
            None | Some(Value::Null) => return Ok(22),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(22),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match port {
            Some(p) if (1..=65535).contains(&p) => Ok(i32::try_from(p).unwrap_or(22)),
            _ => Err(format!(
                "custom field {key} holds {}, which is not a port (1 to 65535)",
                value.map(Value::to_string).unwrap_or_default()
            )),
        }
    }

    fn tags(&self, d: &Value) -> BTreeSet<String> {
        let s = self.source;
        let mut out = BTreeSet::new();
        if s.import_tags
            && let Some(tags) = d.get("tags").and_then(Value::as_array)
        {
            out.extend(
                tags.iter()
                    .filter_map(|t| text(t, &["name"]))
                    .map(str::to_string),
            );
        }
        let generated = [
            (&s.location_tag_prefix, "location"),
            (&s.role_tag_prefix, "role"),
            (&s.status_tag_prefix, "status"),
            (&s.tenant_tag_prefix, "tenant"),
        ];
        for (prefix, field) in generated {
            if let (Some(prefix), Some(value)) = (prefix, text(d, &[field, "name"])) {
                out.insert(format!("{prefix}{value}"));
            }
        }
        // A name NetRaven cannot hold as a tag is left out rather than failing the device.
        out.retain(|t| t.chars().count() <= MAX_TAG_NAME && !t.contains([';', ',']));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::LeaveAction;

    fn source() -> source::Model {
        source::Model {
            id: 1,
            name: "dc".into(),
            description: None,
            locations: String::new(),
            roles: String::new(),
            statuses: String::new(),
            tags: String::new(),
            platforms: String::new(),
            tenants: String::new(),
            graphql_filter: None,
            port_field: Some("ssh_port".into()),
            import_tags: true,
            location_tag_prefix: Some("site:".into()),
            role_tag_prefix: None,
            status_tag_prefix: None,
            tenant_tag_prefix: None,
            on_leave: LeaveAction::Disable,
            adopt: false,
            write_back: false,
            write_back_field: "last_backup".into(),
            last_sync_at: None,
            last_sync_job_id: None,
            last_sync_message: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn device(extra: Value) -> Value {
        let mut d = json!({
            "id": "2ec9", "name": "r1",
            "primary_ip4": {"host": "192.0.2.10"}, "primary_ip6": null,
            "platform": {"name": "IOS", "network_driver": "cisco_ios"},
            "location": {"name": "DC1"}, "role": {"name": "router"},
            "status": {"name": "Active"}, "tenant": null,
            "tags": [{"name": "core"}], "_custom_field_data": {"ssh_port": null}
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            d[k] = v;
        }
        d
    }

    #[test]
    fn a_complete_device_maps_field_by_field() {
        let s = source();
        let m = Mapper::new(&s, HashMap::new());
        let d = m.map(&device(json!({}))).unwrap();
        assert_eq!(d.hostname, "r1");
        assert_eq!(d.ip_address, "192.0.2.10");
        assert_eq!(d.port, 22);
        assert_eq!(d.device_type, "cisco_ios");
        assert_eq!(
            d.tags.iter().cloned().collect::<Vec<_>>(),
            vec!["core", "site:DC1"]
        );
        let d = m
            .map(&device(
                json!({"_custom_field_data": {"ssh_port": 2222}, "primary_ip4": null,
                "primary_ip6": {"host": "2001:DB8::10"}}),
            ))
            .unwrap();
        assert_eq!((d.port, d.ip_address.as_str()), (2222, "2001:db8::10"));
    }

    #[test]
    fn each_gap_is_a_reason_in_words() {
        let s = source();
        let mut map = HashMap::new();
        map.insert("arista eos".to_string(), "arista_eos".to_string());
        let m = Mapper::new(&s, map);
        let reason = |extra: Value| m.map(&device(extra)).unwrap_err().reason;
        assert_eq!(reason(json!({"name": null})), "no name in Nautobot");
        assert_eq!(
            reason(json!({"primary_ip4": null})),
            "no primary IP address"
        );
        assert_eq!(reason(json!({"platform": null})), "no platform in Nautobot");
        assert!(
            reason(json!({"platform": {"name": "Weird", "network_driver": ""}}))
                .contains("no network driver and no mapping")
        );
        assert!(
            reason(json!({"platform": {"name": "X", "network_driver": "foo_os"}}))
                .contains("does not support")
        );
        assert!(reason(json!({"name": "core sw 1"})).contains("not a valid host name"));
        assert!(reason(json!({"_custom_field_data": {"ssh_port": "abc"}})).contains("not a port"));
        let mapped = m
            .map(&device(
                json!({"platform": {"name": "Arista EOS", "network_driver": ""}}),
            ))
            .unwrap();
        assert_eq!(mapped.device_type, "arista_eos");
    }
}
