//! Rendering a Jinja2 template (minijinja): strict about undefined variables, no loader (a
//! template cannot read files or include others), no network, and bounded: a fuel budget stops
//! endless work and the output stops at `MAX_OUTPUT`. An undefined variable is named, with the
//! keys its parent does have.

use std::io::Write;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use super::check::jinja_error;

/// The most a rendering may write.
pub const MAX_OUTPUT: usize = 4 * 1024 * 1024;
/// Instructions a rendering may run (a template looping over millions of items runs out).
const FUEL: u64 = 20_000_000;

/// What a rendering made.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub output: String,
    /// The context variables the template reads (`device.hostname`, `vars.vlan`).
    pub used: Vec<String>,
}

/// Writes into a string until the limit, then refuses.
struct Limited {
    out: Vec<u8>,
    exceeded: bool,
}

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT {
            self.exceeded = true;
            return Err(std::io::Error::other("output limit"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Configuration text keeps its trailing newline and is not HTML.
    env.set_keep_trailing_newline(true);
    env
}

/// The value at `path` (`vars.vlan`) in the context, if there is one.
fn lookup<'v>(ctx: &'v Value, path: &str) -> Result<&'v Value, String> {
    let mut cur = ctx;
    let mut walked: Vec<&str> = Vec::new();
    for part in path.split('.') {
        match cur.get(part) {
            Some(next) => cur = next,
            None => {
                let parent = if walked.is_empty() {
                    "the context".to_string()
                } else {
                    walked.join(".")
                };
                let keys: Vec<&str> = cur
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let has = if keys.is_empty() {
                    "nothing".to_string()
                } else {
                    keys.join(", ")
                };
                return Err(format!("{path} is not defined; {parent} has: {has}"));
            }
        }
        walked.push(part);
    }
    Ok(cur)
}

/// Renders `text` with `ctx` (a JSON object: `device`, `config`, `vars`, ...).
pub fn render(text: &str, ctx: &Value) -> Result<Rendered, String> {
    Compiled::new(text)?.render(ctx)
}

/// A template parsed once, to render for many devices.
pub struct Compiled {
    env: Environment<'static>,
    text: String,
    /// The context variables it reads, sorted.
    pub used: Vec<String>,
}

/// The name the one template has in its environment.
const NAME: &str = "template";

impl Compiled {
    pub fn new(text: &str) -> Result<Compiled, String> {
        let mut env = environment();
        env.add_template_owned(NAME, text.to_string())
            .map_err(|e| jinja_error(text, &e))?;
        let used = {
            let tmpl = env.get_template(NAME).map_err(|e| jinja_error(text, &e))?;
            let mut used: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
            used.sort();
            used
        };
        Ok(Compiled {
            env,
            text: text.to_string(),
            used,
        })
    }

    /// Whether the template reads this top-level context key (`nautobot`).
    pub fn reads(&self, key: &str) -> bool {
        self.used
            .iter()
            .any(|u| u == key || u.starts_with(&format!("{key}.")))
    }

    pub fn render(&self, ctx: &Value) -> Result<Rendered, String> {
        let text = self.text.as_str();
        let tmpl = self
            .env
            .get_template(NAME)
            .map_err(|e| jinja_error(text, &e))?;
        let used = &self.used;
        let mut out = Limited {
            out: Vec::new(),
            exceeded: false,
        };
        outcome(
            text,
            ctx,
            used,
            tmpl.render_captured_to(ctx, &mut out).map(drop),
            out,
        )
    }
}

fn outcome(
    text: &str,
    ctx: &Value,
    used: &[String],
    result: Result<(), minijinja::Error>,
    out: Limited,
) -> Result<Rendered, String> {
    match result {
        Ok(()) => Ok(Rendered {
            output: String::from_utf8_lossy(&out.out).into_owned(),
            used: used.to_vec(),
        }),
        Err(_) if out.exceeded => Err(format!(
            "the output passed {} MiB and was stopped; a template renders at most that",
            MAX_OUTPUT / 1024 / 1024
        )),
        Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(format!(
            "{}: the template does too much work (a loop over too many items?) and was stopped",
            jinja_error(text, &e)
        )),
        Err(e) if e.kind() == minijinja::ErrorKind::UndefinedError => {
            let missing = used.iter().find_map(|p| lookup(ctx, p).err());
            Err(match missing {
                Some(why) => format!("{}: {why}", jinja_error(text, &e)),
                None => jinja_error(text, &e),
            })
        }
        Err(e) => Err(jinja_error(text, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_and_names_what_is_missing() {
        let ctx = json!({"device": {"hostname": "r1"}, "vars": {"vlan": 10}});
        let r = render(
            "hostname {{ device.hostname }}\nvlan {{ vars.vlan }}\n",
            &ctx,
        )
        .unwrap();
        assert_eq!(r.output, "hostname r1\nvlan 10\n");
        assert_eq!(r.used, vec!["device.hostname", "vars.vlan"]);
        let e = render("a\n{{ vars.name }}", &ctx).unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        assert!(
            e.contains("vars.name is not defined; vars has: vlan"),
            "{e}"
        );
    }

    #[test]
    fn limits_stop_runaway_templates() {
        let ctx = json!({});
        let e = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert!(e.contains("too much work"), "{e}");
        let e = render(
            "{% for i in range(10000) %}{{ 'x' * 20000 }}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert!(e.contains("output passed"), "{e}");
    }
}
