//! Whether a template's text is usable as its kind says, with the place of the first problem:
//! a Jinja2 template must parse, YAML and JSON must parse, a TextFSM template must compile.

use super::textfsm::Fsm;
use crate::vocabulary::TemplateKind;

/// Line and column (1-based) of a byte offset in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A minijinja error in words, with where it is.
pub fn jinja_error(text: &str, e: &minijinja::Error) -> String {
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind()));
    match (e.range(), e.line()) {
        (Some(range), _) => {
            let (line, column) = position(text, range.start);
            format!("line {line}, column {column}: {what}")
        }
        (None, Some(line)) => format!("line {line}: {what}"),
        (None, None) => what,
    }
}

/// `Err` with the first problem in words.
pub fn check(kind: TemplateKind, text: &str) -> Result<(), String> {
    match kind {
        TemplateKind::Jinja2 => {
            let env = minijinja::Environment::new();
            env.template_from_str(text)
                .map(drop)
                .map_err(|e| jinja_error(text, &e))
        }
        TemplateKind::Json => serde_json::from_str::<serde_json::Value>(text)
            .map(drop)
            .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column())),
        TemplateKind::Yaml => yaml_rust2::YamlLoader::load_from_str(text)
            .map(drop)
            .map_err(|e| {
                let m = e.marker();
                format!("line {}, column {}: {}", m.line(), m.col() + 1, e.info())
            }),
        TemplateKind::Textfsm => Fsm::compile(text).map(drop).map_err(|e| e.to_string()),
        TemplateKind::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_says_where() {
        let e = check(
            TemplateKind::Jinja2,
            "hostname {{ device.hostname }}\n{% if x %}\nno end",
        )
        .unwrap_err();
        // minijinja points at the block left open.
        assert!(e.starts_with("line 2, column"), "{e}");
        assert!(check(TemplateKind::Jinja2, "{{ a }}").is_ok());
        let e = check(TemplateKind::Json, "{\"a\": 1,\n \"b\": }").unwrap_err();
        assert!(e.starts_with("line 2, column"), "{e}");
        let e = check(TemplateKind::Yaml, "a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.starts_with("line "), "{e}");
        assert!(check(TemplateKind::Yaml, "a: 1\nb: [1, 2]\n").is_ok());
        assert!(
            check(
                TemplateKind::Textfsm,
                "Value X (\\d+)\n\nStart\n  ^${X} -> Record\n"
            )
            .is_ok()
        );
        assert!(check(TemplateKind::Text, "{{ anything").is_ok());
        assert_eq!(position("ab\ncd", 4), (2, 2));
    }
}
