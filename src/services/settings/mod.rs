//! Admin settings: what is defined in the registry (`registry`), read through typed handles
//! (`int(db, &registry::JOBS_CONCURRENCY)`), shown on the settings page (`view`) and saved one
//! category at a time after every value is checked (`submit`). The database holds only the
//! values, as JSON; a missing row reads as the registry's default. Secrets are stored as Fernet
//! tokens and never shown again.

pub mod registry;
mod submit;
pub mod view;

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use serde_json::Value;

use self::registry::{BoolSetting, Category, IntSetting, SecretSetting, TextSetting};
use super::audit::{self, Actor, Event};
use crate::crypto::Vault;
use crate::entity::admin_settings;
use crate::error::Error;

pub use self::submit::MAX_SECRET;
pub use self::view::{CategoryView, SettingView};

async fn stored(db: &impl ConnectionTrait, key: &str) -> Result<Option<Value>, DbErr> {
    Ok(admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.eq(key))
        .one(db)
        .await?
        .map(|m| m.value))
}

/// Stored values by key, for the registered settings that have a row.
async fn stored_registered(
    db: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = &'static str>,
) -> Result<HashMap<String, Value>, DbErr> {
    Ok(admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.is_in(keys))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key, m.value))
        .collect())
}

/// An integer setting, always within its bounds: a stored value outside them (edited in the
/// database, or saved under other bounds) reads as the nearest bound, and a missing row or a
/// value that is not a whole number as the default.
pub async fn int(db: &impl ConnectionTrait, setting: &IntSetting) -> Result<i64, DbErr> {
    Ok(stored(db, setting.meta.key)
        .await?
        .and_then(|v| v.as_i64())
        .map_or(setting.default, |n| n.clamp(setting.min, setting.max)))
}

/// A boolean setting, or its default when the row is missing or holds no boolean.
pub async fn boolean(db: &impl ConnectionTrait, setting: &BoolSetting) -> Result<bool, DbErr> {
    Ok(stored(db, setting.meta.key)
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(setting.default))
}

/// A text setting, or its default when the row is missing or holds no text.
pub async fn text(db: &impl ConnectionTrait, setting: &TextSetting) -> Result<String, DbErr> {
    Ok(match stored(db, setting.meta.key).await? {
        Some(Value::String(s)) => s,
        _ => setting.default.to_string(),
    })
}

/// A secret decrypted for the code that uses it (never for display); `None` when unset.
pub async fn secret(
    db: &impl ConnectionTrait,
    vault: &Vault,
    setting: &SecretSetting,
) -> Result<Option<String>, Error> {
    match stored(db, setting.meta.key).await? {
        Some(Value::String(token)) if !token.is_empty() => Ok(Some(vault.decrypt(&token)?)),
        _ => Ok(None),
    }
}

/// Every encrypted setting value, registered or not: a secret saved for a feature that is not
/// (or no longer) registered is still data the start-up key check and key rotation must cover.
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

/// The settings page: every registered setting, grouped by category.
pub async fn grouped(db: &impl ConnectionTrait) -> Result<Vec<CategoryView>, DbErr> {
    let stored = stored_registered(db, registry::ALL.iter().map(|s| s.key())).await?;
    Ok(view::categories(&stored))
}

/// Saves the settings of one category from a submitted form. Everything is validated first;
/// one bad value rejects the whole save and keeps every stored value. Returns the changed keys.
/// A category that is not registered is not found, whatever rows the database holds for it.
pub async fn update_category(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
    category: &str,
    form: &HashMap<String, String>,
) -> Result<Vec<String>, Error> {
    let category = Category::from_id(category).ok_or(Error::NotFound)?;
    let settings: Vec<registry::Setting> = registry::in_category(category).collect();
    // Every setting of the category is on its form (a checkbox as "off" or "on"): a body without
    // them is refused, not read as "clear everything".
    let missing: Vec<&str> = settings
        .iter()
        .map(|s| s.key())
        .filter(|k| !form.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Refused(super::validation::incomplete_form(&missing)));
    }
    let txn = crate::db::begin_write(db).await?;
    let current = stored_registered(&txn, settings.iter().map(|s| s.key())).await?;
    let changes = submit::changes(&settings, &current, form, vault).map_err(Error::Invalid)?;
    let now = Utc::now();
    for change in &changes {
        let s = change.setting;
        // A row may be missing (it reads as the default): saving creates it, described by the
        // registry, which also refreshes an existing row's description.
        admin_settings::Entity::insert(admin_settings::ActiveModel {
            key: Set(s.key().to_string()),
            value: Set(change.value.clone()),
            value_type: Set(s.value_type().to_string()),
            category: Set(category.id().to_string()),
            description: Set(s.meta().help.to_string()),
            is_sensitive: Set(s.is_sensitive()),
            updated_by: Set(actor.id),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(admin_settings::Column::Key)
                .update_columns([
                    admin_settings::Column::Value,
                    admin_settings::Column::ValueType,
                    admin_settings::Column::Category,
                    admin_settings::Column::Description,
                    admin_settings::Column::IsSensitive,
                    admin_settings::Column::UpdatedBy,
                    admin_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    let keys: Vec<String> = changes
        .iter()
        .map(|c| c.setting.key().to_string())
        .collect();
    if !keys.is_empty() {
        // Key names only: the values of sensitive settings must not reach the audit log.
        audit::record(
            &txn,
            actor,
            Event::admin("settings.update")
                .target("settings", category.id())
                .detail("keys", keys.clone()),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(keys)
}
