//! One validation path for every form: checks collect messages per field, and a non-empty set
//! becomes `Error::Invalid`, which the form handler renders next to the fields.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::error::Error;

pub const MAX_NAME: usize = 255;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field.to_string(), message.into()));
        }
    }

    /// The message for `field`, for templates.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }

    /// The messages alone, for a flash message about a form that is not shown again.
    pub fn messages(&self) -> String {
        self.0
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `Ok(())` when nothing was found, else the error that carries the messages.
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }

    /// The error for a single message.
    pub fn single(field: &str, message: impl Into<String>) -> Error {
        let mut e = Self::new();
        e.add(field, message);
        Error::Invalid(e)
    }

    /// Required text, trimmed, at most `max` characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "This field is required.");
        } else {
            self.max_len(field, value, max);
        }
        value.to_string()
    }

    /// Optional text: empty becomes None.
    pub fn optional(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        self.max_len(field, value, max);
        Some(value.to_string())
    }

    fn max_len(&mut self, field: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len > max {
            self.add(field, format!("At most {max} characters (this has {len})."));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            self.add(field, "Control characters are not allowed.");
        }
    }

    pub fn email(&mut self, field: &str, value: &str) -> Option<String> {
        let value = self.optional(field, value, MAX_NAME)?;
        let valid = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        });
        if !valid {
            self.add(field, "Enter an email address like name@example.com.");
        }
        Some(value)
    }
}

/// The message for a form without fields its handler needs (a client that left them out, or a
/// page from an older version).
pub fn incomplete_form(names: &[&str]) -> String {
    format!(
        "The form is incomplete (missing: {}); nothing was changed. Reload the page and submit it again.",
        names.join(", ")
    )
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

/// A checkbox that holds a state (active, enabled, private ...), for `#[serde(deserialize_with)]`.
/// Its page sends `<input type="hidden" name="x" value="off">` before `<input type="checkbox"
/// name="x" value="on">`, so the field is always there and its last value counts: "off" alone,
/// or "off" then "on" when ticked. A form without the field is refused like any missing field,
/// so a careless client cannot switch a state off by leaving it out.
pub fn toggle<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMore {
        One(String),
        More(Vec<String>),
    }
    let sent = OneOrMore::deserialize(deserializer)?;
    let last = match &sent {
        OneOrMore::One(value) => Some(value.as_str()),
        OneOrMore::More(values) => values.last().map(String::as_str),
    };
    match last {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(serde::de::Error::custom("expected on or off")),
    }
}

/// An action checkbox (also delete the backups, remove the stored secret, confirm), for
/// `#[serde(default, deserialize_with = "ticked")]`: sent means "do it", absent means "do not".
pub fn ticked<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_first_message_per_field() {
        let mut e = FieldErrors::new();
        assert_eq!(e.required("name", "  ", 10), "");
        e.required("name", &"x".repeat(20), 10);
        assert_eq!(e.get("name"), Some("This field is required."));
        e.email("email", "nope");
        assert!(e.get("email").is_some());
        assert!(e.into_result().is_err());
        let mut ok = FieldErrors::new();
        assert_eq!(ok.email("email", " a@b.io "), Some("a@b.io".into()));
        assert!(ok.is_empty());
    }
}
