//! A submitted settings form checked against the registry: every value is parsed by its
//! setting's definition and every error collected before anything is written, so one bad value
//! rejects the whole save.

use std::collections::HashMap;

use serde_json::Value;

use super::registry::{IntSetting, Setting, TextFormat, TextSetting};
use crate::crypto::Vault;
use crate::services::validation::{FieldErrors, MAX_NAME};

/// Longest secret the page accepts (the input's `maxlength`).
pub const MAX_SECRET: usize = 4096;

/// A value to store.
#[derive(Debug)]
pub struct Change {
    pub setting: Setting,
    pub value: Value,
}

/// The new values of `settings` that differ from `current` (each stored value; a setting
/// without a row counts as its default). A secret left empty keeps its value and
/// `<key>__clear` removes it.
pub fn changes(
    settings: &[Setting],
    current: &HashMap<String, Value>,
    form: &HashMap<String, String>,
    vault: &Vault,
) -> Result<Vec<Change>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for &setting in settings {
        let key = setting.key();
        let submitted = form.get(key).map(|v| v.trim());
        let parsed = match (setting, submitted) {
            (Setting::Secret(_), _) if form.contains_key(&format!("{key}__clear")) => {
                Ok(Some(Value::Null))
            }
            (Setting::Secret(_), Some(text)) if !text.is_empty() => {
                if text.chars().count() > MAX_SECRET {
                    Err(format!("At most {MAX_SECRET} characters."))
                } else {
                    Ok(Some(Value::String(vault.encrypt(text))))
                }
            }
            (Setting::Secret(_), _) | (_, None) => Ok(None),
            (Setting::Boolean(_), Some("on")) => Ok(Some(Value::Bool(true))),
            (Setting::Boolean(_), Some("off")) => Ok(Some(Value::Bool(false))),
            (Setting::Boolean(_), Some(_)) => Err("Tick the box or leave it unticked.".into()),
            (Setting::Integer(s), Some(text)) => parse_integer(s, text).map(Some),
            (Setting::Text(s), Some(text)) => {
                validate_text(s, text).map(|t| Some(Value::String(t.to_string())))
            }
        };
        let value = match parsed {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(message) => {
                errors.add(key, message);
                continue;
            }
        };
        let before = current
            .get(key)
            .cloned()
            .unwrap_or_else(|| setting.default_value());
        // A new secret is a fresh token, never equal to the stored one: only clearing an
        // already empty secret is no change.
        let changed = if setting.is_sensitive() {
            !(value.is_null() && before.is_null())
        } else {
            value != before
        };
        if changed {
            out.push(Change { setting, value });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_integer(s: &IntSetting, text: &str) -> Result<Value, String> {
    let (lo, hi) = (s.min, s.max);
    match text.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Value::from(n)),
        Ok(_) => Err(format!("Enter a whole number from {lo} to {hi}.")),
        Err(_) => Err(format!(
            "Enter a whole number from {lo} to {hi}, not {:?}.",
            text.chars().take(40).collect::<String>()
        )),
    }
}

fn validate_text<'a>(s: &TextSetting, text: &'a str) -> Result<&'a str, String> {
    if text.chars().count() > MAX_NAME {
        return Err(format!("At most {MAX_NAME} characters."));
    }
    if text.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    match s.format {
        TextFormat::Url
            if !(text.is_empty()
                || text.starts_with("http://")
                || text.starts_with("https://")) =>
        {
            Err("Enter a URL that starts with http:// or https://.".into())
        }
        TextFormat::Host
            if text
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || ".-:[]".contains(c))) =>
        {
            Err("Enter a host name or IP address (letters, digits, dots, dashes).".into())
        }
        _ => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::settings::registry::{
        BoolSetting, Category, JOBS_CONCURRENCY, Meta, SECURITY_LOCKOUT_THRESHOLD,
        SECURITY_PASSWORD_REQUIRE_MIXED, SecretSetting,
    };

    // Text and secret settings arrive with the integrations; these stand in for them.
    const URL: TextSetting = TextSetting {
        meta: meta("test.url"),
        format: TextFormat::Url,
        default: "",
    };
    const HOST: TextSetting = TextSetting {
        meta: meta("test.host"),
        format: TextFormat::Host,
        default: "",
    };
    const TOKEN: SecretSetting = SecretSetting {
        meta: meta("test.token"),
    };
    const FLAG: BoolSetting = BoolSetting {
        meta: meta("test.flag"),
        default: false,
    };

    const fn meta(key: &'static str) -> Meta {
        Meta {
            key,
            category: Category::Security,
            label: key,
            help: "",
        }
    }

    fn vault() -> Vault {
        Vault::from_keys(&[crate::crypto::generate_fernet_key()], "test").expect("vault")
    }

    fn form(fields: &[(&str, &str)]) -> HashMap<String, String> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn stored(fields: &[(&str, Value)]) -> HashMap<String, Value> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn integers_are_bounded_by_their_definition() {
        assert_eq!(
            parse_integer(&SECURITY_LOCKOUT_THRESHOLD, "5"),
            Ok(Value::from(5))
        );
        assert_eq!(
            parse_integer(&SECURITY_LOCKOUT_THRESHOLD, "0"),
            Err("Enter a whole number from 1 to 100.".into())
        );
        assert!(parse_integer(&SECURITY_LOCKOUT_THRESHOLD, "five").is_err());
        assert!(parse_integer(&JOBS_CONCURRENCY, "2000").is_ok());
        assert_eq!(
            parse_integer(&JOBS_CONCURRENCY, "2001"),
            Err("Enter a whole number from 1 to 2000.".into())
        );
    }

    #[test]
    fn urls_and_hosts_are_checked_by_their_format() {
        assert!(validate_text(&URL, "ftp://x").is_err());
        assert!(validate_text(&URL, "").is_ok());
        assert!(validate_text(&URL, "https://nautobot.example.net").is_ok());
        assert!(validate_text(&HOST, "mail.example.com").is_ok());
        assert!(validate_text(&HOST, "mail example").is_err());
        assert!(validate_text(&HOST, "a\u{7}b").is_err());
    }

    #[test]
    fn booleans_come_as_on_or_off() {
        let all = [Setting::Boolean(&SECURITY_PASSWORD_REQUIRE_MIXED)];
        let vault = vault();
        let none = HashMap::new();
        let off = changes(&all, &none, &form(&[(all[0].key(), "off")]), &vault).expect("valid");
        assert_eq!(off.len(), 1, "off differs from the default (on)");
        assert_eq!(off[0].value, Value::Bool(false));
        let on = changes(&all, &none, &form(&[(all[0].key(), "on")]), &vault).expect("valid");
        assert!(on.is_empty(), "on is the default: nothing to store");
        let bad = changes(&all, &none, &form(&[(all[0].key(), "yes")]), &vault)
            .expect_err("neither on nor off");
        assert!(bad.get(all[0].key()).is_some());
    }

    #[test]
    fn one_bad_value_fails_the_whole_form() {
        let all = [
            Setting::Integer(&SECURITY_LOCKOUT_THRESHOLD),
            Setting::Boolean(&FLAG),
        ];
        let threshold = SECURITY_LOCKOUT_THRESHOLD.meta.key;
        let errors = changes(
            &all,
            &HashMap::new(),
            &form(&[(threshold, "0"), ("test.flag", "on")]),
            &vault(),
        )
        .expect_err("rejected");
        assert!(errors.get(threshold).is_some());
        assert!(errors.get("test.flag").is_none());
    }

    #[test]
    fn only_changed_values_are_stored() {
        let all = [
            Setting::Integer(&SECURITY_LOCKOUT_THRESHOLD),
            Setting::Integer(&JOBS_CONCURRENCY),
        ];
        let (threshold, concurrency) = (
            SECURITY_LOCKOUT_THRESHOLD.meta.key,
            JOBS_CONCURRENCY.meta.key,
        );
        let current = stored(&[(threshold, Value::from(3))]);
        let out = changes(
            &all,
            &current,
            &form(&[(threshold, "3"), (concurrency, "50")]),
            &vault(),
        )
        .expect("valid");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].setting.key(), concurrency);
        assert_eq!(out[0].value, Value::from(50));
    }

    #[test]
    fn secrets_are_encrypted_kept_when_empty_and_cleared_on_request() {
        let all = [Setting::Secret(&TOKEN)];
        let vault = vault();
        let out = changes(
            &all,
            &HashMap::new(),
            &form(&[("test.token", "tok-123456")]),
            &vault,
        )
        .expect("valid");
        let token = out[0].value.as_str().expect("a Fernet token");
        assert!(!token.contains("tok-123456"));
        assert_eq!(vault.decrypt(token).expect("decrypts"), "tok-123456");

        let current = stored(&[("test.token", Value::String(token.into()))]);
        let kept = changes(&all, &current, &form(&[("test.token", "")]), &vault).expect("valid");
        assert!(kept.is_empty(), "empty keeps the stored secret");

        let cleared = changes(
            &all,
            &current,
            &form(&[("test.token", ""), ("test.token__clear", "on")]),
            &vault,
        )
        .expect("valid");
        assert_eq!(cleared.len(), 1);
        assert!(cleared[0].value.is_null());
        let nothing = changes(
            &all,
            &HashMap::new(),
            &form(&[("test.token", ""), ("test.token__clear", "on")]),
            &vault,
        )
        .expect("valid");
        assert!(
            nothing.is_empty(),
            "clearing an unset secret changes nothing"
        );

        let long = "x".repeat(MAX_SECRET + 1);
        assert!(changes(&all, &current, &form(&[("test.token", &long)]), &vault).is_err());
    }
}
