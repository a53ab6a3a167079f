//! TextFSM templates (the format of Google's TextFSM and of ntc-templates): `Value` lines, then
//! states of rules `^regex -> Action`. `Fsm::compile` checks a template the way TextFSM does when
//! it loads one; `Fsm::parse` turns command output into records.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;

/// A template error, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for FsmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, Default)]
struct Options {
    filldown: bool,
    key: bool,
    required: bool,
    list: bool,
    fillup: bool,
}

#[derive(Debug, Clone)]
struct Value {
    name: String,
    pattern: String,
    options: Options,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineOp {
    Next,
    Continue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordOp {
    NoRecord,
    Record,
    Clear,
    Clearall,
}

#[derive(Debug, Clone)]
struct Rule {
    regex: Regex,
    line_op: LineOp,
    record_op: RecordOp,
    new_state: Option<String>,
    error: Option<String>,
    line: usize,
}

/// A state as read, before its rules are compiled.
struct RawState<'t> {
    name: String,
    rules: Vec<(usize, &'t str)>,
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Fsm {
    values: Vec<Value>,
    states: HashMap<String, Vec<Rule>>,
}

fn err(line: usize, message: impl Into<String>) -> FsmError {
    FsmError {
        line,
        message: message.into(),
    }
}

/// The largest template accepted.
const MAX_TEMPLATE: usize = 256 * 1024;

impl Fsm {
    pub fn compile(text: &str) -> Result<Fsm, FsmError> {
        if text.len() > MAX_TEMPLATE {
            return Err(err(1, "the template is larger than 256 KiB"));
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut values: Vec<Value> = Vec::new();
        let mut i = 0;
        // Values, up to the first blank line.
        while i < lines.len() {
            let line = lines[i];
            let n = i + 1;
            i += 1;
            if line.trim().is_empty() {
                if values.is_empty() {
                    continue;
                }
                break;
            }
            if line.trim_start().starts_with('#') {
                continue;
            }
            let Some(rest) = line.strip_prefix("Value ") else {
                return Err(err(
                    n,
                    "expected a `Value [options] NAME (regex)` line, or a blank line before the states",
                ));
            };
            values.push(parse_value(rest, n, &values)?);
        }
        if values.is_empty() {
            return Err(err(
                1,
                "no Value lines: a template declares at least one value",
            ));
        }
        // States, each a name line and its rules (line number, text), separated by blank lines.
        let mut raw: Vec<RawState> = Vec::new();
        while i < lines.len() {
            let line = lines[i];
            let n = i + 1;
            i += 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match raw.last_mut() {
                    Some(state) => state.rules.push((n, line.trim())),
                    None => return Err(err(n, "a rule outside a state: name the state first")),
                }
                continue;
            }
            let name = line.trim();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.len() > 48 {
                return Err(err(
                    n,
                    format!("{name:?} is not a state name (letters, digits, _)"),
                ));
            }
            if raw.iter().any(|s| s.name == name) {
                return Err(err(n, format!("state {name} is defined twice")));
            }
            let reserved = name == "End" || name == "EOF";
            if reserved
                && lines[i..]
                    .iter()
                    .take_while(|l| !l.trim().is_empty())
                    .any(|l| l.starts_with([' ', '\t']))
            {
                return Err(err(
                    n,
                    format!("the {name} state is reserved and takes no rules"),
                ));
            }
            raw.push(RawState {
                name: name.to_string(),
                rules: Vec::new(),
            });
        }
        if !raw.iter().any(|s| s.name == "Start") {
            return Err(err(lines.len().max(1), "no Start state"));
        }
        let names: Vec<String> = raw.iter().map(|s| s.name.clone()).collect();
        let mut states = HashMap::new();
        for RawState { name, rules } in raw {
            let mut compiled = Vec::new();
            for (n, text) in rules {
                compiled.push(parse_rule(text, n, &values, &names)?);
            }
            states.insert(name, compiled);
        }
        Ok(Fsm { values, states })
    }

    /// The value names, in order (a parsed table's columns).
    pub fn header(&self) -> Vec<String> {
        self.values.iter().map(|v| v.name.clone()).collect()
    }

    /// Parses command output into records, one map per record (a `List` value as a list).
    pub fn parse(&self, output: &str) -> Result<Vec<BTreeMap<String, serde_json::Value>>, String> {
        let mut run = Runner::new(self);
        run.run(output)?;
        Ok(run.records)
    }
}

fn parse_value(rest: &str, n: usize, earlier: &[Value]) -> Result<Value, FsmError> {
    let rest = rest.trim();
    let open = rest
        .find('(')
        .ok_or_else(|| err(n, "a value's regex goes in parentheses: Value NAME (regex)"))?;
    if !rest.ends_with(')') {
        return Err(err(n, "a value's regex must end the line with )"));
    }
    let words: Vec<&str> = rest[..open].split_whitespace().collect();
    let (options, name) = match words.as_slice() {
        [name] => ("", *name),
        [options, name] => (*options, *name),
        _ => return Err(err(n, "write Value [options] NAME (regex)")),
    };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.len() > 48 {
        return Err(err(
            n,
            format!("{name:?} is not a value name (letters, digits, _)"),
        ));
    }
    if earlier.iter().any(|v| v.name == name) {
        return Err(err(n, format!("value {name} is declared twice")));
    }
    let mut o = Options::default();
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "Filldown" => o.filldown = true,
            "Key" => o.key = true,
            "Required" => o.required = true,
            "List" => o.list = true,
            "Fillup" => o.fillup = true,
            other => {
                return Err(err(
                    n,
                    format!("unknown option {other:?}: Filldown, Key, Required, List or Fillup"),
                ));
            }
        }
    }
    let pattern = rest[open..].to_string();
    Regex::new(&pattern).map_err(|e| {
        err(
            n,
            format!("value {name}: bad regex: {}", first_line(&e.to_string())),
        )
    })?;
    Ok(Value {
        name: name.to_string(),
        pattern,
        options: o,
    })
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn parse_rule(text: &str, n: usize, values: &[Value], states: &[String]) -> Result<Rule, FsmError> {
    if !text.starts_with('^') {
        return Err(err(n, "a rule starts with ^"));
    }
    let (pattern, action) = match text.rfind(" -> ") {
        Some(i) => (&text[..i], Some(text[i + 4..].trim())),
        None => (text, None),
    };
    // ${NAME} becomes the value's named group; $$ a literal $ (TextFSM's own escaping).
    let mut expanded = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find('$') {
        expanded.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| err(n, "a ${ is not closed"))?;
            let name = &inner[..end];
            let v = values
                .iter()
                .find(|v| v.name == name)
                .ok_or_else(|| err(n, format!("${{{name}}}: no value has this name")))?;
            expanded.push_str(&format!(
                "(?P<{}>{})",
                v.name,
                &v.pattern[1..v.pattern.len() - 1]
            ));
            rest = &inner[end + 1..];
        } else if let Some(r) = after.strip_prefix('$') {
            expanded.push_str("\\$");
            rest = r;
        } else {
            expanded.push('$');
            rest = after;
        }
    }
    expanded.push_str(rest);
    let regex = Regex::new(&expanded)
        .map_err(|e| err(n, format!("bad regex: {}", first_line(&e.to_string()))))?;
    let mut rule = Rule {
        regex,
        line_op: LineOp::Next,
        record_op: RecordOp::NoRecord,
        new_state: None,
        error: None,
        line: n,
    };
    let Some(action) = action else {
        return Ok(rule);
    };
    if let Some(message) = action.strip_prefix("Error") {
        rule.error = Some(message.trim().trim_matches('"').to_string());
        return Ok(rule);
    }
    let mut words = action.split_whitespace();
    let ops = words.next().unwrap_or_default();
    let new_state = words.next();
    if words.next().is_some() {
        return Err(err(n, "an action is `LineOp.RecordOp NewState`"));
    }
    let mut known_op = false;
    for part in ops.split('.') {
        match part {
            "Next" => rule.line_op = LineOp::Next,
            "Continue" => rule.line_op = LineOp::Continue,
            "NoRecord" => rule.record_op = RecordOp::NoRecord,
            "Record" => rule.record_op = RecordOp::Record,
            "Clear" => rule.record_op = RecordOp::Clear,
            "Clearall" => rule.record_op = RecordOp::Clearall,
            "" => {}
            other if !known_op && new_state.is_none() && !ops.contains('.') => {
                // A bare state name: `-> State`.
                rule.new_state = Some(other.to_string());
            }
            other => return Err(err(n, format!("unknown action {other:?}"))),
        }
        known_op = true;
    }
    if let Some(s) = new_state {
        rule.new_state = Some(s.to_string());
    }
    if let Some(s) = &rule.new_state {
        if rule.line_op == LineOp::Continue {
            return Err(err(n, "Continue cannot change state"));
        }
        if s != "End" && s != "EOF" && !states.contains(s) {
            return Err(err(n, format!("state {s} is not defined")));
        }
    }
    Ok(rule)
}

/// One parse.
struct Runner<'a> {
    fsm: &'a Fsm,
    current: BTreeMap<String, serde_json::Value>,
    filled: BTreeMap<String, serde_json::Value>,
    records: Vec<BTreeMap<String, serde_json::Value>>,
}

impl<'a> Runner<'a> {
    fn new(fsm: &'a Fsm) -> Self {
        Runner {
            fsm,
            current: BTreeMap::new(),
            filled: BTreeMap::new(),
            records: Vec::new(),
        }
    }

    fn empty(&self, v: &Value) -> serde_json::Value {
        if v.options.list {
            serde_json::Value::Array(Vec::new())
        } else {
            serde_json::Value::String(String::new())
        }
    }

    fn run(&mut self, output: &str) -> Result<(), String> {
        let mut state = "Start".to_string();
        'lines: for line in output.lines() {
            let Some(rules) = self.fsm.states.get(&state) else {
                break;
            };
            for rule in rules {
                let Some(caps) = rule.regex.captures(line) else {
                    continue;
                };
                for v in &self.fsm.values {
                    if let Some(m) = caps.name(&v.name) {
                        self.set(v, m.as_str());
                    }
                }
                if let Some(message) = &rule.error {
                    return Err(format!(
                        "the template's rule on line {} says: {message} (at {line:?})",
                        rule.line
                    ));
                }
                match rule.record_op {
                    RecordOp::Record => self.record(),
                    RecordOp::Clear => self.clear(false),
                    RecordOp::Clearall => self.clear(true),
                    RecordOp::NoRecord => {}
                }
                if let Some(s) = &rule.new_state {
                    if s == "End" {
                        self.current.clear();
                        return Ok(());
                    }
                    state = s.clone();
                }
                if rule.line_op == LineOp::Next {
                    continue 'lines;
                }
            }
        }
        if state != "EOF" && !self.fsm.states.contains_key("EOF") {
            self.record();
        }
        Ok(())
    }

    fn set(&mut self, v: &Value, text: &str) {
        let value = if v.options.list {
            let mut list = match self.current.get(&v.name) {
                Some(serde_json::Value::Array(l)) => l.clone(),
                _ => Vec::new(),
            };
            list.push(serde_json::Value::String(text.to_string()));
            serde_json::Value::Array(list)
        } else {
            serde_json::Value::String(text.to_string())
        };
        if v.options.fillup {
            for r in self.records.iter_mut().rev() {
                match r.get(&v.name) {
                    Some(serde_json::Value::String(s)) if s.is_empty() => {
                        r.insert(v.name.clone(), value.clone());
                    }
                    _ => break,
                }
            }
        }
        if v.options.filldown {
            self.filled.insert(v.name.clone(), value.clone());
        }
        self.current.insert(v.name.clone(), value);
    }

    fn record(&mut self) {
        let fsm = self.fsm;
        let has_any = fsm.values.iter().any(|v| {
            !v.options.filldown
                && self.current.get(&v.name).is_some_and(|x| match x {
                    serde_json::Value::String(s) => !s.is_empty(),
                    serde_json::Value::Array(a) => !a.is_empty(),
                    _ => false,
                })
        });
        let required_ok = fsm.values.iter().filter(|v| v.options.required).all(|v| {
            self.current.get(&v.name).is_some_and(|x| match x {
                serde_json::Value::String(s) => !s.is_empty(),
                serde_json::Value::Array(a) => !a.is_empty(),
                _ => false,
            })
        });
        if has_any && required_ok {
            let row = fsm
                .values
                .iter()
                .map(|v| {
                    let x = self
                        .current
                        .get(&v.name)
                        .cloned()
                        .unwrap_or_else(|| self.empty(v));
                    (v.name.clone(), x)
                })
                .collect();
            self.records.push(row);
        }
        self.clear(false);
    }

    /// Clears the current record, keeping Filldown values unless `all`.
    fn clear(&mut self, all: bool) {
        self.current.clear();
        if all {
            self.filled.clear();
        } else {
            for (k, v) in &self.filled {
                self.current.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERFACES: &str = "Value Required INTERFACE (\\S+)\nValue STATUS (up|down|administratively down)\nValue IP (\\S+)\n\nStart\n  ^${INTERFACE}\\s+${IP}\\s+\\S+\\s+\\S+\\s+${STATUS} -> Record\n";

    #[test]
    fn parses_a_table() {
        let fsm = Fsm::compile(INTERFACES).unwrap();
        let out = "Interface IP-Address OK? Method Status Protocol\nGi1 10.0.0.1 YES manual up up\nGi2 unassigned YES unset administratively down down\n";
        let rows = fsm.parse(out).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["INTERFACE"], "Gi1");
        assert_eq!(rows[1]["STATUS"], "administratively down");
        assert_eq!(fsm.header(), vec!["INTERFACE", "STATUS", "IP"]);
    }

    #[test]
    fn filldown_and_list() {
        let t = "Value Filldown VRF (\\S+)\nValue List ROUTES (\\S+)\n\nStart\n  ^VRF ${VRF} -> Clear\n  ^  ${ROUTES}\n  ^end -> Record\n";
        let fsm = Fsm::compile(t).unwrap();
        let rows = fsm
            .parse("VRF a\n  r1\n  r2\nend\nVRF b\n  r3\nend\n")
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["ROUTES"], serde_json::json!(["r1", "r2"]));
        assert_eq!(rows[1]["VRF"], "b");
    }

    #[test]
    fn errors_name_their_line() {
        let bad = |t: &str| Fsm::compile(t).unwrap_err().to_string();
        assert!(bad("Value X (\\d+\n\nStart\n").starts_with("line 1:"));
        assert!(bad("Value X (\\d+)\n\nBegin\n  ^x -> Record\n").contains("no Start state"));
        assert_eq!(
            bad("Value X (\\d+)\n\nStart\n  ^${Y} -> Record\n"),
            "line 4: ${Y}: no value has this name"
        );
        assert!(
            bad("Value X (\\d+)\n\nStart\n  ^x -> Record Nowhere\n")
                .contains("state Nowhere is not defined")
        );
        assert!(bad("Value Sideways X (\\d+)\n\nStart\n").contains("unknown option"));
        assert!(bad("Value X ([)\n\nStart\n").contains("bad regex"));
    }
}
