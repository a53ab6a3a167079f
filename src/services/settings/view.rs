//! The settings page's view of the registry: every registered setting with its stored value (or
//! its default), grouped by category; secrets only as set or not set.

use std::collections::HashMap;

use serde_json::Value;

use super::registry::{Category, Setting, TextFormat};

#[derive(Clone, Debug)]
pub struct SettingView {
    pub setting: Setting,
    pub key: &'static str,
    /// The category id, which names the form the setting is on.
    pub category: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub is_sensitive: bool,
    /// The value as text for the input; empty for secrets.
    pub display: String,
    /// Whether a secret holds a value.
    pub is_set: bool,
    /// Whether a boolean is on.
    pub checked: bool,
}

impl SettingView {
    /// `stored` is the row's value; `None` when there is no row (the default applies).
    pub fn new(setting: Setting, stored: Option<&Value>) -> Self {
        let value = stored.cloned().unwrap_or_else(|| setting.default_value());
        let meta = setting.meta();
        let display = match (&value, setting.is_sensitive()) {
            (_, true) | (Value::Null, _) => String::new(),
            (Value::String(s), _) => s.clone(),
            (other, _) => other.to_string(),
        };
        Self {
            setting,
            key: meta.key,
            category: meta.category.id(),
            label: meta.label,
            help: meta.help,
            is_sensitive: setting.is_sensitive(),
            is_set: !value.is_null() && value != Value::String(String::new()),
            checked: value == Value::Bool(true),
            display,
        }
    }

    /// The input the form shows for this setting.
    pub fn input_type(&self) -> &'static str {
        match self.setting {
            Setting::Integer(_) => "number",
            Setting::Boolean(_) => "checkbox",
            Setting::Secret(_) => "password",
            Setting::Text(t) if t.format == TextFormat::Url => "url",
            Setting::Text(_) => "text",
        }
    }

    pub fn bounds(&self) -> Option<(i64, i64)> {
        match self.setting {
            Setting::Integer(s) => Some((s.min, s.max)),
            _ => None,
        }
    }
}

pub struct CategoryView {
    pub id: &'static str,
    pub title: &'static str,
    pub settings: Vec<SettingView>,
}

/// Every category in page order, each with its settings; `stored` maps keys to stored values.
pub fn categories(stored: &HashMap<String, Value>) -> Vec<CategoryView> {
    Category::ALL
        .into_iter()
        .map(|c| CategoryView {
            id: c.id(),
            title: c.title(),
            settings: super::registry::in_category(c)
                .map(|s| SettingView::new(s, stored.get(s.key())))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::settings::registry::{
        ALL, BACKUPS_STORE_SECRETS_MASKED, JOBS_CONCURRENCY, Meta, SecretSetting,
    };

    #[test]
    fn the_page_holds_every_registered_setting_once() {
        let page = categories(&HashMap::new());
        let shown: Vec<&str> = page
            .iter()
            .flat_map(|c| c.settings.iter().map(|s| s.key))
            .collect();
        assert_eq!(shown.len(), ALL.len());
        assert!(ALL.iter().all(|s| shown.contains(&s.key())));
        let ids: Vec<&str> = page.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "security",
                "jobs",
                "backups",
                "credentials",
                "nautobot",
                "checkmk",
                "discovery"
            ]
        );
    }

    #[test]
    fn a_missing_row_shows_the_default() {
        let view = SettingView::new(Setting::Integer(&JOBS_CONCURRENCY), None);
        assert_eq!(view.display, "100");
        assert_eq!(view.bounds(), Some((1, 2000)));
        let view = SettingView::new(Setting::Boolean(&BACKUPS_STORE_SECRETS_MASKED), None);
        assert!(view.checked);
        let view = SettingView::new(
            Setting::Boolean(&BACKUPS_STORE_SECRETS_MASKED),
            Some(&Value::Bool(false)),
        );
        assert!(!view.checked);
    }

    #[test]
    fn a_secret_is_never_displayed() {
        const TOKEN: SecretSetting = SecretSetting {
            meta: Meta {
                key: "test.token",
                category: Category::Security,
                label: "token",
                help: "",
            },
        };
        let token = Value::String("gAAAA-a-fernet-token".into());
        let view = SettingView::new(Setting::Secret(&TOKEN), Some(&token));
        assert!(view.is_set && view.display.is_empty());
        assert_eq!(view.input_type(), "password");
        assert!(!SettingView::new(Setting::Secret(&TOKEN), None).is_set);
    }
}
