//! The CheckMK mapping's little languages: templates (`/network/{location}/{role}`) filled from a
//! source device, and ordered rules (`cidr 10.1.0.0/16 => /network/dc1`) choosing a folder or a
//! site. Both are checked when the mapping is saved, so a comparison never meets a bad rule.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::Regex;

/// A device of the mapping's source, as templates and rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceDevice {
    pub name: String,
    /// The management address without a mask; `None` when the source has none.
    pub address: Option<String>,
    /// Outermost parent first, the device's own location last.
    pub locations: Vec<String>,
    /// `role`, `status`, `platform`, `tenant`, `cf.<custom field>`, `fact.<fact>`.
    pub values: BTreeMap<String, String>,
    pub tags: Vec<String>,
}

impl SourceDevice {
    /// What a placeholder stands for on this device (empty when the device has no such value).
    fn value(&self, key: &str) -> String {
        match key {
            "name" => self.name.clone(),
            "address" => self.address.clone().unwrap_or_default(),
            "location" => self.locations.last().cloned().unwrap_or_default(),
            "locations" => self.locations.join("/"),
            _ => {
                if let Some(prefix) = key.strip_prefix("tag:") {
                    let prefix = prefix.to_lowercase();
                    return self
                        .tags
                        .iter()
                        .find(|t| t.to_lowercase().starts_with(&prefix))
                        .map(|t| t[prefix.len()..].to_string())
                        .unwrap_or_default();
                }
                self.values.get(key).cloned().unwrap_or_default()
            }
        }
    }

    /// The JSON shown as the source's side of a preview or result.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "address": self.address,
            "locations": self.locations,
            "values": self.values,
            "tags": self.tags,
        })
    }
}

/// Placeholders every source fills (custom fields, facts and tag prefixes come beside them).
pub const PLACEHOLDERS: [&str; 8] = [
    "name",
    "address",
    "location",
    "locations",
    "role",
    "status",
    "platform",
    "tenant",
];

fn known_placeholder(key: &str) -> bool {
    PLACEHOLDERS.contains(&key)
        || ["cf.", "fact.", "tag:"]
            .iter()
            .any(|p| key.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// A checked template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(String);

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("a {{ is not closed in {text:?}"))?;
            let key = &after[..end];
            if !known_placeholder(key) {
                return Err(format!(
                    "unknown placeholder {{{key}}}: use {{name}}, {{address}}, {{location}}, {{locations}}, {{role}}, {{status}}, {{platform}}, {{tenant}}, {{cf.FIELD}}, {{fact.FACT}} or {{tag:PREFIX}}"
                ));
            }
            rest = &after[end + 1..];
        }
        if rest.contains('}') {
            return Err(format!("a }} has no matching {{ in {text:?}"));
        }
        Ok(Template(text.trim().to_string()))
    }

    pub fn render(&self, d: &SourceDevice) -> String {
        let mut out = String::new();
        let mut rest = self.0.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else { break };
            out.push_str(&d.value(&after[..end]));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out.trim().to_string()
    }

    pub fn text(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A folder path CheckMK accepts: `/` and names of letters, digits, `-` and `_`, lower case.
/// Other characters become `_`; empty levels (a placeholder the device has no value for) go.
pub fn folder_path(rendered: &str) -> String {
    let levels: Vec<String> = rendered
        .split('/')
        .map(|level| {
            level
                .trim()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .filter(|l| !l.is_empty())
        .collect();
    format!("/{}", levels.join("/"))
}

/// The fixed start of a folder template: where hosts it produces can be (the folders a
/// comparison looks in for extra hosts).
pub fn folder_root(template: &str) -> String {
    let fixed = template.split('{').next().unwrap_or_default();
    // A partly filled level (`/net-{location}`) is not fixed either.
    let fixed = match fixed.rfind('/') {
        Some(i) if template.contains('{') => &fixed[..i],
        _ => fixed,
    };
    folder_path(fixed)
}

/// What a rule looks at.
#[derive(Clone, Debug)]
pub enum Matcher {
    /// A regular expression on the device name.
    Name(Regex),
    /// The address lies in the network.
    Cidr(IpNet),
    /// The device's location or one of its parents, without case.
    Location(String),
    /// A custom field equal to a value (without case), or set at all.
    Field { key: String, value: Option<String> },
}

impl Matcher {
    fn matches(&self, d: &SourceDevice) -> bool {
        match self {
            Matcher::Name(re) => re.is_match(&d.name),
            Matcher::Cidr(net) => d
                .address
                .as_deref()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .is_some_and(|a| net.contains(&a)),
            Matcher::Location(l) => d.locations.iter().any(|x| x.to_lowercase() == *l),
            Matcher::Field { key, value } => {
                let v = d.value(&format!("cf.{key}"));
                match value {
                    Some(want) => v.to_lowercase() == *want,
                    None => !v.is_empty(),
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub matcher: Matcher,
    pub then: Template,
}

/// Rules, one per line `kind argument => template`; blank lines and `#` comments are skipped.
/// Errors name the line.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        rules.push(parse_rule(line).map_err(|m| format!("line {}: {m}", i + 1))?);
    }
    if rules.len() > 500 {
        return Err("at most 500 rules".into());
    }
    Ok(rules)
}

fn parse_rule(line: &str) -> Result<Rule, String> {
    let (when, then) = line.split_once("=>").ok_or(
        "write a rule as `kind argument => template`, e.g. `cidr 10.1.0.0/16 => /network/dc1`",
    )?;
    let then = Template::parse(then)?;
    if then.is_empty() {
        return Err("nothing after =>".into());
    }
    let (kind, arg) = when
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((when.trim(), ""));
    let arg = arg.trim();
    if arg.is_empty() {
        return Err(format!("{kind:?} needs an argument"));
    }
    let matcher = match kind {
        "name" => Matcher::Name(
            Regex::new(arg).map_err(|e| format!("bad regular expression {arg:?}: {e}"))?,
        ),
        "cidr" => Matcher::Cidr(
            arg.parse::<IpNet>()
                .map_err(|_| format!("{arg:?} is not a network such as 10.1.0.0/16"))?
                .trunc(),
        ),
        "location" => Matcher::Location(arg.to_lowercase()),
        "field" => match arg.split_once('=') {
            Some((k, v)) => Matcher::Field {
                key: k.trim().to_string(),
                value: Some(v.trim().to_lowercase()),
            },
            None => Matcher::Field {
                key: arg.to_string(),
                value: None,
            },
        },
        other => {
            return Err(format!(
                "unknown rule kind {other:?}: use name, cidr, location or field"
            ));
        }
    };
    Ok(Rule { matcher, then })
}

/// The first matching rule's template, else the default, rendered.
pub fn choose(rules: &[Rule], default: &Template, d: &SourceDevice) -> String {
    rules
        .iter()
        .find(|r| r.matcher.matches(d))
        .map_or(default, |r| &r.then)
        .render(d)
}

/// `key: template` lines (labels, tag groups), in order; errors name the line.
pub fn parse_pairs(text: &str) -> Result<Vec<(String, Template)>, String> {
    let mut out: Vec<(String, Template)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: String| format!("line {}: {m}", i + 1);
        let (key, template) = line
            .split_once(':')
            .ok_or_else(|| at("write `key: template`, e.g. `nautobot/role: {role}`".into()))?;
        let key = key.trim();
        if key.is_empty() || key.len() > 100 || key.chars().any(char::is_whitespace) {
            return Err(at(format!(
                "{key:?} is not a key (no spaces, at most 100 characters)"
            )));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(at(format!("{key} is given twice")));
        }
        out.push((key.to_string(), Template::parse(template).map_err(at)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> SourceDevice {
        SourceDevice {
            name: "core-rtr-01".into(),
            address: Some("10.1.2.3".into()),
            locations: vec!["Europe".into(), "DC1 Frankfurt".into()],
            values: BTreeMap::from([
                ("role".into(), "router".into()),
                ("cf.monitoring_site".into(), "fra".into()),
            ]),
            tags: vec!["crit-high".into(), "backup".into()],
        }
    }

    #[test]
    fn templates_fill_placeholders_and_folders_are_clean() {
        let d = device();
        let t = Template::parse("/network/{locations}/{role}/{tenant}").unwrap();
        assert_eq!(
            folder_path(&t.render(&d)),
            "/network/europe/dc1_frankfurt/router"
        );
        assert_eq!(Template::parse("{tag:crit-}").unwrap().render(&d), "high");
        assert_eq!(
            Template::parse("{cf.monitoring_site}").unwrap().render(&d),
            "fra"
        );
        assert!(
            Template::parse("{nope}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert!(Template::parse("/a/{role").is_err());
        assert_eq!(folder_root("/network/{location}/{role}"), "/network");
        assert_eq!(folder_root("/network/dc1"), "/network/dc1");
        assert_eq!(folder_root("/{location}"), "/");
    }

    #[test]
    fn rules_match_in_order() {
        let rules = parse_rules(
            "# core first\nname ^core- => /core\ncidr 10.0.0.0/8 => /ten\nlocation europe => /eu\nfield monitoring_site => {cf.monitoring_site}",
        )
        .unwrap();
        let d = device();
        let default = Template::parse("/other").unwrap();
        assert_eq!(choose(&rules, &default, &d), "/core");
        assert_eq!(choose(&rules[1..], &default, &d), "/ten");
        assert_eq!(choose(&rules[2..], &default, &d), "/eu");
        assert_eq!(choose(&rules[3..], &default, &d), "fra");
        assert_eq!(choose(&[], &default, &d), "/other");
        assert!(
            parse_rules("cidr 10.0.0/33 => /x")
                .unwrap_err()
                .starts_with("line 1:")
        );
        assert!(
            parse_rules("\nname ( => /x")
                .unwrap_err()
                .starts_with("line 2:")
        );
        assert!(
            parse_rules("vlan 10 => /x")
                .unwrap_err()
                .contains("unknown rule kind")
        );
        assert!(
            parse_pairs("a: {role}\na: x")
                .unwrap_err()
                .contains("twice")
        );
    }
}
