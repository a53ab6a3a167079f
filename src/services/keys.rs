//! Fernet key rotation: `netraven key rotate` re-encrypts every stored secret with a new first
//! key; `netraven key prune` drops the old keys once nothing needs them.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::Value;

use super::audit::{self, Actor, Event};
use crate::config::Settings;
use crate::crypto::{CryptoError, Vault, fernet_key_path, generate_fernet_key, write_key_file};
use crate::entity::{admin_settings, credentials};
use crate::error::Error;

#[derive(Debug, Default, PartialEq)]
pub struct Rotated {
    pub credentials: usize,
    pub settings: usize,
    pub keys_now: usize,
}

fn reencrypt(vault: &Vault, token: &Option<String>) -> Result<Option<String>, CryptoError> {
    token
        .as_deref()
        .map(|t| vault.decrypt(t).map(|plain| vault.encrypt(&plain)))
        .transpose()
}

/// Re-encrypts every credential secret and sensitive setting with `vault`'s first key, in one
/// transaction. The vault must still hold the older keys so every value can be read.
pub async fn reencrypt_all(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
) -> Result<Rotated, Error> {
    let txn = crate::db::begin_write(db).await?;
    let mut out = Rotated {
        keys_now: vault.keys().len(),
        ..Default::default()
    };
    for c in credentials::Entity::find().all(&txn).await? {
        if c.secret.is_none() && c.enable_secret.is_none() && c.private_key.is_none() {
            continue;
        }
        credentials::Entity::update_many()
            .col_expr(
                credentials::Column::Secret,
                Expr::value(reencrypt(vault, &c.secret)?),
            )
            .col_expr(
                credentials::Column::EnableSecret,
                Expr::value(reencrypt(vault, &c.enable_secret)?),
            )
            .col_expr(
                credentials::Column::PrivateKey,
                Expr::value(reencrypt(vault, &c.private_key)?),
            )
            .filter(credentials::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        out.credentials += 1;
    }
    for s in admin_settings::Entity::find()
        .filter(admin_settings::Column::IsSensitive.eq(true))
        .all(&txn)
        .await?
    {
        if let Value::String(token) = &s.value
            && !token.is_empty()
        {
            let fresh = vault.encrypt(&vault.decrypt(token)?);
            admin_settings::Entity::update_many()
                .col_expr(
                    admin_settings::Column::Value,
                    Expr::value(Value::String(fresh)),
                )
                .filter(admin_settings::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
            out.settings += 1;
        }
    }
    audit::record(
        &txn,
        actor,
        Event::security("key.rotate")
            .detail("credentials", out.credentials)
            .detail("settings", out.settings)
            .detail("keys", out.keys_now),
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// `key rotate`: with a key file, prepends a new key (written first, so every value stays
/// readable whatever happens next) and re-encrypts everything with it. With
/// NETRAVEN_FERNET_KEYS the operator prepends the new key; this re-encrypts with the first.
pub async fn rotate(
    db: &DatabaseConnection,
    settings: &Settings,
    current: &Vault,
    actor: &Actor,
) -> Result<(Rotated, Option<String>), Error> {
    match fernet_key_path(settings) {
        Some(path) => {
            let mut keys = vec![generate_fernet_key()];
            keys.extend(current.keys().iter().cloned());
            write_key_file(&path, &keys)?;
            let vault = Vault::from_keys(&keys, &path.display().to_string())?;
            Ok((reencrypt_all(db, &vault, actor).await?, None))
        }
        None if current.keys().len() < 2 => Ok((
            Rotated::default(),
            Some(format!(
                "Keys come from NETRAVEN_FERNET_KEYS. Put a new key first, keep the old one after it, restart, then run `netraven key rotate` again. A new key: {}",
                generate_fernet_key()
            )),
        )),
        None => Ok((reencrypt_all(db, current, actor).await?, None)),
    }
}

/// `key prune`: keeps only the first key, after checking that it alone decrypts everything.
pub async fn prune(
    db: &DatabaseConnection,
    settings: &Settings,
    current: &Vault,
    actor: &Actor,
) -> Result<usize, Error> {
    let first = Vault::from_keys(&current.keys()[..1], current.source_name())?;
    let mut tokens: Vec<String> = Vec::new();
    for c in credentials::Entity::find().all(db).await? {
        tokens.extend(
            [c.secret, c.enable_secret, c.private_key]
                .into_iter()
                .flatten(),
        );
    }
    tokens.extend(
        super::settings::encrypted_values(db)
            .await?
            .into_iter()
            .map(|(_, t)| t),
    );
    if tokens.iter().any(|t| first.decrypt(t).is_err()) {
        return Err(Error::Conflict(
            "Some stored values are still encrypted with an older key: run `netraven key rotate` first.".into(),
        ));
    }
    let dropped = current.keys().len() - 1;
    match fernet_key_path(settings) {
        Some(path) => write_key_file(&path, &current.keys()[..1])?,
        None if dropped > 0 => {
            println!(
                "Everything decrypts with the first key of NETRAVEN_FERNET_KEYS; remove the other {dropped} key(s) from it."
            );
        }
        None => {}
    }
    audit::record(
        db,
        actor,
        Event::security("key.prune").detail("keys_dropped", dropped),
    )
    .await?;
    Ok(dropped)
}
