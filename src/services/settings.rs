//! Admin settings: typed values stored as JSON in `admin_settings`, seeded with defaults by the
//! migration. Sensitive values are stored as Fernet tokens and never shown again.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::Value;

use super::audit::{self, Actor, Event};
use super::validation::{FieldErrors, MAX_NAME};
use crate::crypto::Vault;
use crate::entity::admin_settings;
use crate::error::AppError;

pub const SESSION_LIFETIME: &str = "security.session_lifetime_minutes";
pub const LOCKOUT_THRESHOLD: &str = "security.lockout_threshold";
pub const LOCKOUT_MINUTES: &str = "security.lockout_minutes";
pub const ADDRESS_FAILURE_LIMIT: &str = "security.address_failure_limit";
pub const PASSWORD_MIN_LENGTH: &str = "security.password_min_length";
pub const PASSWORD_REQUIRE_MIXED: &str = "security.password_require_mixed";

/// Allowed range of each integer setting; a setting not listed accepts 0..=1,000,000.
const INTEGER_BOUNDS: [(&str, i64, i64); 11] = [
    (LOCKOUT_THRESHOLD, 1, 100),
    (ADDRESS_FAILURE_LIMIT, 1, 10_000),
    (LOCKOUT_MINUTES, 1, 1440),
    (SESSION_LIFETIME, 5, 43_200),
    (PASSWORD_MIN_LENGTH, 8, 128),
    ("jobs.concurrency", 1, 2000),
    ("jobs.device_timeout_seconds", 5, 3600),
    ("jobs.log_retention_days", 1, 3650),
    ("backups.retention_versions", 0, 100_000),
    ("backups.retention_days", 0, 36_500),
    ("credentials.expiry_warning_days", 0, 365),
];

pub const CATEGORIES: [(&str, &str); 7] = [
    ("security", "Security"),
    ("jobs", "Jobs"),
    ("backups", "Backups"),
    ("credentials", "Credentials"),
    ("notifications", "Notifications"),
    ("nautobot", "Nautobot"),
    ("checkmk", "CheckMK"),
];

/// A setting as the settings page shows it: secrets only as set / not set.
#[derive(Clone, Debug)]
pub struct SettingView {
    pub key: String,
    pub label: String,
    pub value_type: String,
    pub description: String,
    pub is_sensitive: bool,
    /// The value as text for the input; empty for sensitive values.
    pub display: String,
    pub is_set: bool,
    pub checked: bool,
}

impl SettingView {
    fn from_model(m: &admin_settings::Model) -> Self {
        let display = if m.is_sensitive {
            String::new()
        } else {
            match &m.value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            }
        };
        Self {
            label: m
                .key
                .split_once('.')
                .map(|(_, l)| l)
                .unwrap_or(&m.key)
                .replace('_', " "),
            key: m.key.clone(),
            value_type: m.value_type.clone(),
            description: m.description.clone(),
            is_sensitive: m.is_sensitive,
            is_set: !m.value.is_null() && m.value != Value::String(String::new()),
            checked: m.value == Value::Bool(true),
            display,
        }
    }

    /// The input the form shows for this setting.
    pub fn input_type(&self) -> &'static str {
        match self.value_type.as_str() {
            "integer" => "number",
            "boolean" => "checkbox",
            "secret" => "password",
            _ if self.key.ends_with(".url") => "url",
            _ => "text",
        }
    }

    pub fn bounds(&self) -> Option<(i64, i64)> {
        integer_bounds(&self.key)
    }
}

fn integer_bounds(key: &str) -> Option<(i64, i64)> {
    INTEGER_BOUNDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, lo, hi)| (*lo, *hi))
}

pub struct CategoryView {
    pub id: &'static str,
    pub title: &'static str,
    pub settings: Vec<SettingView>,
}

pub async fn grouped(db: &impl ConnectionTrait) -> Result<Vec<CategoryView>, DbErr> {
    let all = admin_settings::Entity::find()
        .order_by_asc(admin_settings::Column::Id)
        .all(db)
        .await?;
    Ok(CATEGORIES
        .iter()
        .map(|(id, title)| CategoryView {
            id,
            title,
            settings: all
                .iter()
                .filter(|m| m.category == *id)
                .map(SettingView::from_model)
                .collect(),
        })
        .filter(|c| !c.settings.is_empty())
        .collect())
}

pub async fn get_value(db: &impl ConnectionTrait, key: &str) -> Result<Option<Value>, DbErr> {
    Ok(admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.eq(key))
        .one(db)
        .await?
        .map(|m| m.value))
}

/// An integer setting, or `default` when missing or not a number.
pub async fn get_i64(db: &impl ConnectionTrait, key: &str, default: i64) -> Result<i64, DbErr> {
    Ok(get_value(db, key)
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(default))
}

pub async fn get_bool(db: &impl ConnectionTrait, key: &str, default: bool) -> Result<bool, DbErr> {
    Ok(get_value(db, key)
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(default))
}

pub async fn session_lifetime(db: &impl ConnectionTrait) -> Result<chrono::Duration, DbErr> {
    Ok(chrono::Duration::minutes(
        get_i64(db, SESSION_LIFETIME, 480).await?,
    ))
}

/// Decrypts a sensitive setting for the code that uses it (never for display).
pub async fn get_secret(
    db: &impl ConnectionTrait,
    vault: &Vault,
    key: &str,
) -> Result<Option<String>, AppError> {
    match get_value(db, key).await? {
        Some(Value::String(token)) if !token.is_empty() => Ok(Some(vault.decrypt(&token)?)),
        _ => Ok(None),
    }
}

/// Whether any sensitive setting holds an encrypted value (used by the start-up key check).
pub async fn encrypted_values(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, DbErr> {
    Ok(admin_settings::Entity::find()
        .filter(admin_settings::Column::IsSensitive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| match m.value {
            Value::String(token) if !token.is_empty() => Some((m.key, token)),
            _ => None,
        })
        .collect())
}

/// Saves the settings of one category from a submitted form. Everything is validated first;
/// one bad value rejects the whole save and keeps every stored value. Returns the changed keys.
pub async fn update_category(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
    category: &str,
    form: &HashMap<String, String>,
) -> Result<Vec<String>, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let rows = admin_settings::Entity::find()
        .filter(admin_settings::Column::Category.eq(category))
        .order_by_asc(admin_settings::Column::Id)
        .all(&txn)
        .await?;
    if rows.is_empty() {
        return Err(AppError::NotFound);
    }
    // Every setting of the category is on its form (a checkbox as "off" or "on"): a body without
    // them is refused, not read as "clear everything".
    let missing: Vec<&str> = rows
        .iter()
        .map(|r| r.key.as_str())
        .filter(|k| !form.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(crate::web::form::missing(&missing));
    }
    let mut errors = FieldErrors::new();
    let mut changes: Vec<(admin_settings::Model, Value)> = Vec::new();
    for row in rows {
        let submitted = form.get(&row.key).map(|v| v.trim());
        let clear = form.contains_key(&format!("{}__clear", row.key));
        let new_value = match row.value_type.as_str() {
            "boolean" => match submitted {
                Some("on") => Some(Value::Bool(true)),
                Some("off") => Some(Value::Bool(false)),
                _ => {
                    errors.add(&row.key, "Tick the box or leave it unticked.");
                    None
                }
            },
            "integer" => match submitted {
                Some(text) => parse_integer(&row.key, text)
                    .map_err(|m| errors.add(&row.key, m))
                    .ok(),
                None => None,
            },
            "secret" if clear => Some(Value::Null),
            "secret" => match submitted {
                Some(text) if !text.is_empty() => {
                    if text.chars().count() > 4096 {
                        errors.add(&row.key, "At most 4096 characters.");
                        None
                    } else {
                        Some(Value::String(vault.encrypt(text)))
                    }
                }
                _ => None,
            },
            _ => match submitted {
                Some(text) => validate_text(&row.key, text)
                    .map(|v| Value::String(v.to_string()))
                    .map_err(|m| errors.add(&row.key, m))
                    .ok(),
                None => None,
            },
        };
        if let Some(value) = new_value {
            let changed = if row.is_sensitive {
                !(value.is_null() && row.value.is_null())
            } else {
                value != row.value
            };
            if changed {
                changes.push((row, value));
            }
        }
    }
    errors.into_result()?;
    let now = Utc::now();
    let keys: Vec<String> = changes.iter().map(|(m, _)| m.key.clone()).collect();
    for (row, value) in changes {
        let mut active = row.into_active_model();
        active.value = Set(value);
        active.updated_at = Set(now);
        active.updated_by = Set(actor.id);
        active.update(&txn).await?;
    }
    if !keys.is_empty() {
        // Key names only: the values of sensitive settings must not reach the audit log.
        audit::record(
            &txn,
            actor,
            Event::admin("settings.update")
                .target("settings", category)
                .detail("keys", keys.clone()),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(keys)
}

fn parse_integer(key: &str, text: &str) -> Result<Value, String> {
    let (lo, hi) = integer_bounds(key).unwrap_or((0, 1_000_000));
    match text.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Value::from(n)),
        Ok(_) => Err(format!("Enter a whole number from {lo} to {hi}.")),
        Err(_) => Err(format!(
            "Enter a whole number from {lo} to {hi}, not {:?}.",
            truncate(text)
        )),
    }
}

fn validate_text<'a>(key: &str, text: &'a str) -> Result<&'a str, String> {
    if text.chars().count() > MAX_NAME {
        return Err(format!("At most {MAX_NAME} characters."));
    }
    if text.chars().any(char::is_control) {
        return Err("Control characters are not allowed.".into());
    }
    if key.ends_with(".url")
        && !text.is_empty()
        && !(text.starts_with("http://") || text.starts_with("https://"))
    {
        return Err("Enter a URL that starts with http:// or https://.".into());
    }
    if key.ends_with("_host")
        && text
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
    {
        return Err("Enter a host name or IP address (letters, digits, dots, dashes).".into());
    }
    Ok(text)
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_bounded() {
        assert_eq!(parse_integer(LOCKOUT_THRESHOLD, "5"), Ok(Value::from(5)));
        assert!(parse_integer(LOCKOUT_THRESHOLD, "0").is_err());
        assert!(parse_integer(LOCKOUT_THRESHOLD, "five").is_err());
        assert!(parse_integer("jobs.unknown", "5").is_ok());
    }

    #[test]
    fn urls_and_hosts_are_checked() {
        assert!(validate_text("nautobot.url", "ftp://x").is_err());
        assert!(validate_text("nautobot.url", "").is_ok());
        assert!(validate_text("notifications.smtp_host", "mail.example.com").is_ok());
        assert!(validate_text("notifications.smtp_host", "mail example").is_err());
    }
}
