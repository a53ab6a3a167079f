//! Tag-rule criteria: conditions on device fields, combined in nested all/any groups, each of
//! which can be negated. Stored as JSON; compiled once (regexes, networks) before matching, so a
//! bad regex or CIDR is reported at save time with the parser's message.

use std::net::IpAddr;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::entity::devices;

pub const FIELDS: [&str; 6] = [
    "hostname",
    "ip_address",
    "platform",
    "description",
    "model",
    "os_version",
];
pub const OPERATORS: [&str; 6] = [
    "equals",
    "contains",
    "starts_with",
    "ends_with",
    "regex",
    "in_cidr",
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupOp {
    #[default]
    All,
    Any,
}

impl GroupOp {
    /// The editor's menu value: "any", else all.
    pub fn parse(text: &str) -> Self {
        if text == "any" {
            GroupOp::Any
        } else {
            GroupOp::All
        }
    }
}

/// What a line of the rule editor is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum RowKind {
    #[default]
    Condition,
    Group,
}

impl RowKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "condition" => Some(RowKind::Condition),
            "group" => Some(RowKind::Group),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub operator: String,
    pub value: String,
    #[serde(default)]
    pub negate: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub op: GroupOp,
    #[serde(default)]
    pub negate: bool,
    pub items: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Group(Group),
    Condition(Condition),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CriteriaError {
    #[error("unknown field {0:?}")]
    Field(String),
    #[error("unknown operator {0:?}")]
    Operator(String),
    #[error("invalid regular expression {value:?}: {message}")]
    Regex { value: String, message: String },
    #[error(
        "invalid network {value:?}: {message} (use a CIDR such as 10.0.0.0/8 or 2001:db8::/32)"
    )]
    Cidr { value: String, message: String },
    #[error("a condition needs a value")]
    EmptyValue,
    #[error("a group needs at least one condition")]
    EmptyGroup,
    #[error("the criteria are not valid: {0}")]
    Json(String),
}

enum Test {
    Equals(String),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Regex(Regex),
    InCidr(IpNet),
}

enum Compiled {
    Group {
        any: bool,
        negate: bool,
        items: Vec<Compiled>,
    },
    Condition {
        field: usize,
        test: Test,
        negate: bool,
    },
}

/// Criteria ready to match devices.
pub struct Matcher(Compiled);

impl Group {
    pub fn compile(&self) -> Result<Matcher, CriteriaError> {
        compile_group(self).map(Matcher)
    }

    pub fn from_json(value: &serde_json::Value) -> Result<Self, CriteriaError> {
        serde_json::from_value(value.clone()).map_err(|e| CriteriaError::Json(e.to_string()))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn compile_group(g: &Group) -> Result<Compiled, CriteriaError> {
    if g.items.is_empty() {
        return Err(CriteriaError::EmptyGroup);
    }
    let items = g
        .items
        .iter()
        .map(compile_node)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Compiled::Group {
        any: g.op == GroupOp::Any,
        negate: g.negate,
        items,
    })
}

fn compile_node(n: &Node) -> Result<Compiled, CriteriaError> {
    match n {
        Node::Group(g) => compile_group(g),
        Node::Condition(c) => compile_condition(c),
    }
}

pub fn compile_condition_check(c: &Condition) -> Result<(), CriteriaError> {
    compile_condition(c).map(|_| ())
}

fn compile_condition(c: &Condition) -> Result<Compiled, CriteriaError> {
    let field = FIELDS
        .iter()
        .position(|f| *f == c.field)
        .ok_or_else(|| CriteriaError::Field(c.field.clone()))?;
    let value = c.value.trim();
    if value.is_empty() {
        return Err(CriteriaError::EmptyValue);
    }
    // Text comparisons ignore case: host names and platforms are case-insensitive in practice.
    let lower = value.to_lowercase();
    let test = match c.operator.as_str() {
        "equals" => Test::Equals(lower),
        "contains" => Test::Contains(lower),
        "starts_with" => Test::StartsWith(lower),
        "ends_with" => Test::EndsWith(lower),
        "regex" => Test::Regex(
            RegexBuilder::new(value)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| CriteriaError::Regex {
                    value: value.to_string(),
                    message: e.to_string(),
                })?,
        ),
        "in_cidr" => Test::InCidr(parse_net(value)?),
        other => return Err(CriteriaError::Operator(other.to_string())),
    };
    Ok(Compiled::Condition {
        field,
        test,
        negate: c.negate,
    })
}

/// A CIDR, or a bare address as a host network.
fn parse_net(value: &str) -> Result<IpNet, CriteriaError> {
    value
        .parse::<IpNet>()
        .or_else(|e| value.parse::<IpAddr>().map(IpNet::from).map_err(|_| e))
        .map_err(|e| CriteriaError::Cidr {
            value: value.to_string(),
            message: e.to_string(),
        })
}

/// The device fields rules can test, in `FIELDS` order.
pub struct DeviceFacts<'a>([&'a str; 6]);

impl<'a> DeviceFacts<'a> {
    pub fn of(d: &'a devices::Model) -> Self {
        Self([
            &d.hostname,
            &d.ip_address,
            &d.device_type,
            d.description.as_deref().unwrap_or(""),
            d.model.as_deref().unwrap_or(""),
            d.os_version.as_deref().unwrap_or(""),
        ])
    }
}

impl Matcher {
    pub fn matches(&self, facts: &DeviceFacts) -> bool {
        eval(&self.0, facts)
    }
}

fn eval(c: &Compiled, facts: &DeviceFacts) -> bool {
    match c {
        Compiled::Group { any, negate, items } => {
            let hit = if *any {
                items.iter().any(|i| eval(i, facts))
            } else {
                items.iter().all(|i| eval(i, facts))
            };
            hit != *negate
        }
        Compiled::Condition {
            field,
            test,
            negate,
        } => {
            let value = facts.0[*field];
            let hit = match test {
                Test::Equals(v) => value.to_lowercase() == *v,
                Test::Contains(v) => value.to_lowercase().contains(v.as_str()),
                Test::StartsWith(v) => value.to_lowercase().starts_with(v.as_str()),
                Test::EndsWith(v) => value.to_lowercase().ends_with(v.as_str()),
                Test::Regex(r) => r.is_match(value),
                Test::InCidr(net) => value.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip)),
            };
            hit != *negate
        }
    }
}

/// One line per condition or group, for the form editor and for rule summaries. `depth` is the
/// nesting level; a group row's children follow it one level deeper.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub depth: usize,
    pub kind: RowKind,
    /// A group's operator.
    pub op: GroupOp,
    pub field: String,
    pub operator: String,
    pub value: String,
    pub negate: bool,
}

impl Row {
    pub fn is_group(&self) -> bool {
        self.kind == RowKind::Group
    }
    pub fn is_any(&self) -> bool {
        self.op == GroupOp::Any
    }
}

impl Group {
    /// The nested groups below the top level, flattened to rows.
    pub fn rows(&self) -> Vec<Row> {
        let mut out = Vec::new();
        flatten(&self.items, 0, &mut out);
        out
    }

    /// Rebuilds the tree from rows (the form editor's order). Rows deeper than their parent
    /// allows are attached to the nearest open group.
    pub fn from_rows(op: GroupOp, negate: bool, rows: &[Row]) -> Group {
        let mut stack: Vec<(usize, Group)> = vec![(
            0,
            Group {
                op,
                negate,
                items: Vec::new(),
            },
        )];
        for row in rows {
            // Close groups until the row's depth fits under the open one.
            while stack.len() > row.depth + 1 {
                close_top(&mut stack);
            }
            if row.kind == RowKind::Group {
                stack.push((
                    row.depth,
                    Group {
                        op: row.op,
                        negate: row.negate,
                        items: Vec::new(),
                    },
                ));
            } else if let Some((_, top)) = stack.last_mut() {
                top.items.push(Node::Condition(Condition {
                    field: row.field.clone(),
                    operator: row.operator.clone(),
                    value: row.value.trim().to_string(),
                    negate: row.negate,
                }));
            }
        }
        while stack.len() > 1 {
            close_top(&mut stack);
        }
        stack.pop().map(|(_, g)| g).unwrap_or(Group {
            op: GroupOp::All,
            negate: false,
            items: Vec::new(),
        })
    }

    /// A one-line description, e.g. `hostname starts_with "core" AND (ip_address in_cidr ...)`.
    pub fn summary(&self) -> String {
        let joiner = if self.op == GroupOp::Any {
            " OR "
        } else {
            " AND "
        };
        let body = self
            .items
            .iter()
            .map(|n| match n {
                Node::Condition(c) => {
                    format!(
                        "{}{} {} {:?}",
                        if c.negate { "NOT " } else { "" },
                        c.field,
                        c.operator,
                        c.value
                    )
                }
                Node::Group(g) => format!("({})", g.summary()),
            })
            .collect::<Vec<_>>()
            .join(joiner);
        if self.negate {
            format!("NOT ({body})")
        } else {
            body
        }
    }
}

fn close_top(stack: &mut Vec<(usize, Group)>) {
    if let Some((_, group)) = stack.pop()
        && let Some((_, parent)) = stack.last_mut()
    {
        parent.items.push(Node::Group(group));
    }
}

fn flatten(items: &[Node], depth: usize, out: &mut Vec<Row>) {
    for n in items {
        match n {
            Node::Condition(c) => out.push(Row {
                depth,
                kind: RowKind::Condition,
                field: c.field.clone(),
                operator: c.operator.clone(),
                value: c.value.clone(),
                negate: c.negate,
                ..Default::default()
            }),
            Node::Group(g) => {
                out.push(Row {
                    depth,
                    kind: RowKind::Group,
                    op: g.op,
                    negate: g.negate,
                    ..Default::default()
                });
                flatten(&g.items, depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, operator: &str, value: &str, negate: bool) -> Node {
        Node::Condition(Condition {
            field: field.into(),
            operator: operator.into(),
            value: value.into(),
            negate,
        })
    }

    fn device(hostname: &str, ip: &str, platform: &str) -> devices::Model {
        devices::Model {
            id: 1,
            hostname: hostname.into(),
            ip_address: ip.into(),
            ip_sort: crate::services::devices::ip_sort_key(ip),
            port: 22,
            device_type: platform.into(),
            description: Some("Rack A".into()),
            owner_id: None,
            enabled: true,
            serial_number: None,
            model: None,
            os_version: None,
            ssh_host_key: None,
            ssh_host_key_pending: None,
            last_backup_at: None,
            last_backup_status: None,
            last_backup_error: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            source: crate::vocabulary::DeviceSource::Manual,
            nautobot_source_id: None,
            external_id: None,
            left_source_at: None,
        }
    }

    #[test]
    fn nested_groups_negation_regex_and_cidr() {
        // core switches in 10.1.0.0/16 or anything on 2001:db8::/32, but not Junos.
        let g = Group {
            op: GroupOp::All,
            negate: false,
            items: vec![
                Node::Group(Group {
                    op: GroupOp::Any,
                    negate: false,
                    items: vec![
                        Node::Group(Group {
                            op: GroupOp::All,
                            negate: false,
                            items: vec![
                                cond("hostname", "regex", "^core-sw\\d+", false),
                                cond("ip_address", "in_cidr", "10.1.0.0/16", false),
                            ],
                        }),
                        cond("ip_address", "in_cidr", "2001:db8::/32", false),
                    ],
                }),
                cond("platform", "equals", "juniper_junos", true),
            ],
        };
        let m = g.compile().unwrap();
        let check = |h: &str, ip: &str, p: &str| m.matches(&DeviceFacts::of(&device(h, ip, p)));
        assert!(check("CORE-SW01", "10.1.2.3", "cisco_ios"));
        assert!(!check("core-sw01", "10.2.2.3", "cisco_ios"));
        assert!(check("edge", "2001:db8::5", "arista_eos"));
        assert!(!check("edge", "2001:db8::5", "juniper_junos"));
        assert!(!check("edge", "not-an-ip", "cisco_ios"));

        let negated = Group {
            op: GroupOp::Any,
            negate: true,
            items: vec![cond("description", "contains", "rack a", false)],
        };
        assert!(
            !negated
                .compile()
                .unwrap()
                .matches(&DeviceFacts::of(&device("x", "10.0.0.1", "linux")))
        );
    }

    #[test]
    fn bad_regex_and_cidr_are_reported() {
        let g = Group {
            op: GroupOp::All,
            negate: false,
            items: vec![cond("hostname", "regex", "([a-z", false)],
        };
        assert!(matches!(g.compile(), Err(CriteriaError::Regex { .. })));
        let g = Group {
            op: GroupOp::All,
            negate: false,
            items: vec![cond("ip_address", "in_cidr", "10.0.0.0/33", false)],
        };
        assert!(matches!(g.compile(), Err(CriteriaError::Cidr { .. })));
        let g = Group {
            op: GroupOp::All,
            negate: false,
            items: vec![cond("serial", "equals", "x", false)],
        };
        assert_eq!(
            g.compile().err(),
            Some(CriteriaError::Field("serial".into()))
        );
        let single_host = Group {
            op: GroupOp::All,
            negate: false,
            items: vec![cond("ip_address", "in_cidr", "192.0.2.7", false)],
        };
        assert!(
            single_host
                .compile()
                .unwrap()
                .matches(&DeviceFacts::of(&device("h", "192.0.2.7", "linux")))
        );
    }

    #[test]
    fn rows_round_trip_through_the_form_shape() {
        let g = Group {
            op: GroupOp::Any,
            negate: false,
            items: vec![
                cond("hostname", "starts_with", "core", false),
                Node::Group(Group {
                    op: GroupOp::All,
                    negate: true,
                    items: vec![
                        cond("platform", "equals", "linux", false),
                        cond("model", "contains", "x", true),
                    ],
                }),
                cond("os_version", "regex", "^15", false),
            ],
        };
        let rows = g.rows();
        assert_eq!(rows.len(), 5);
        assert_eq!(Group::from_rows(GroupOp::Any, false, &rows), g);
        let json = g.to_json();
        assert_eq!(Group::from_json(&json).unwrap(), g);
    }
}
