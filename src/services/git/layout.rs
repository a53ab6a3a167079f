//! Where the mirror writes each device's configuration: a folder inside the repository and a
//! file name template (`{hostname}.cfg`) with placeholders for the device's fields, its platform
//! and its first tag. Checked when saved; every expanded path stays inside the folder.

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 9] = [
    "hostname",
    "platform",
    "tag",
    "address",
    "port",
    "model",
    "serial",
    "os_version",
    "id",
];

pub const DEFAULT_TEMPLATE: &str = "{hostname}.cfg";

/// A device's values for the placeholders.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    pub id: i32,
    pub hostname: String,
    pub platform: String,
    /// The device's first tag by name ("untagged" when it has none).
    pub tag: String,
    pub address: String,
    pub port: i32,
    pub model: String,
    pub serial: String,
    pub os_version: String,
}

/// Why a folder or template is refused, in words for the form.
pub fn check_template(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("Enter a file name template, for example {hostname}.cfg.".into());
    }
    check_segments(template)?;
    let mut rest = template;
    let mut unique = false;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err("A { has no matching }.".into());
        };
        let name = &rest[open + 1..open + close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "Unknown placeholder {{{name}}}: use {}.",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        unique |= name == "hostname" || name == "id";
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err("A } has no matching {.".into());
    }
    if !unique {
        return Err(
            "Include {hostname} or {id}, so that every device has a file of its own.".into(),
        );
    }
    if template.ends_with('/') {
        return Err("The template names a file, not a folder.".into());
    }
    Ok(())
}

/// The folder inside the repository ("" is its root).
pub fn check_dir(dir: &str) -> Result<(), String> {
    if dir.is_empty() {
        return Ok(());
    }
    check_segments(dir)
}

fn check_segments(path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.contains('\\') {
        return Err("Use a relative path with / between folders.".into());
    }
    if path.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    for segment in path.trim_end_matches('/').split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err("Empty, . and .. path segments are not allowed.".into());
        }
        if segment.eq_ignore_ascii_case(".git") {
            return Err(".git is git's own folder.".into());
        }
    }
    Ok(())
}

/// A value as a safe file name part: no folder separators, no leading dots.
fn safe(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "_".into()
    } else {
        trimmed.to_string()
    }
}

/// The path of a device's file inside the repository (template and folder already checked).
pub fn path_of(dir: &str, template: &str, f: &Fields) -> String {
    let mut name = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        name.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let key = &rest[open + 1..close.min(rest.len())];
        let value = match key {
            "hostname" => safe(&f.hostname),
            "platform" => safe(&f.platform),
            "tag" => safe(&f.tag),
            "address" => safe(&f.address),
            "port" => f.port.to_string(),
            "model" => safe(&f.model),
            "serial" => safe(&f.serial),
            "os_version" => safe(&f.os_version),
            "id" => f.id.to_string(),
            _ => String::new(),
        };
        name.push_str(&value);
        rest = rest.get(close + 1..).unwrap_or("");
    }
    name.push_str(rest);
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert!(check_template("{hostname}.cfg").is_ok());
        assert!(check_template("{platform}/{tag}/{hostname}.txt").is_ok());
        assert!(check_template("{platform}.cfg").is_err());
        assert!(check_template("../{hostname}").is_err());
        assert!(check_template("/{hostname}").is_err());
        assert!(check_template("{nope}/{hostname}").is_err());
        assert!(check_template("{hostname").is_err());
        assert!(check_template(".git/{hostname}").is_err());
        assert!(check_dir("").is_ok());
        assert!(check_dir("configs/site-a").is_ok());
        assert!(check_dir("a/../b").is_err());
    }

    #[test]
    fn paths_stay_inside() {
        let f = Fields {
            id: 7,
            hostname: "../evil/x".into(),
            platform: "cisco_ios".into(),
            tag: "core".into(),
            ..Fields::default()
        };
        assert_eq!(path_of("", "{hostname}.cfg", &f), "_evil_x.cfg");
        assert_eq!(
            path_of("configs", "{platform}/{tag}/{hostname}-{id}.cfg", &f),
            "configs/cisco_ios/core/_evil_x-7.cfg"
        );
    }
}
