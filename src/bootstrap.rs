//! What happens once at start: open the vault with a check against stored data, and create the
//! first administrator on an empty database.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::permissions::{ALL, Permissions};
use crate::config::Settings;
use crate::crypto::{CryptoError, Vault, load_vault};
use crate::entity::credentials;
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::{settings, users};

/// How many stored tokens the start-up check tries to decrypt.
const KEY_CHECK_SAMPLE: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{}", database_message(.0))]
    Db(#[from] sea_orm::DbErr),
    #[error("cannot create the first administrator: {0}")]
    FirstAdmin(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the workers: {0}")]
    Workers(crate::error::Error),
}

/// Our own start checks (`db`, `data_dir`) say the whole story; SeaORM's "Custom Error:" label
/// adds nothing to it.
fn database_message(e: &sea_orm::DbErr) -> String {
    match e {
        sea_orm::DbErr::Custom(message) => message.clone(),
        other => other.to_string(),
    }
}

impl StartError {
    /// Exit code for the process: 78 (EX_CONFIG) when keys or configuration must be fixed.
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::Crypto(_) | StartError::FirstAdmin(_) => 78,
            _ => 1,
        }
    }
}

/// Loads the Fernet keys and proves they decrypt what is stored, so a wrong key stops the start
/// instead of surfacing later as unreadable credentials.
pub async fn open_vault(db: &DatabaseConnection, config: &Settings) -> Result<Vault, StartError> {
    let mut samples: Vec<(String, String)> = settings::encrypted_values(db)
        .await?
        .into_iter()
        .map(|(key, token)| (format!("setting {key}"), token))
        .collect();
    let creds = credentials::Entity::find()
        .filter(credentials::Column::Secret.is_not_null())
        .limit(KEY_CHECK_SAMPLE)
        .all(db)
        .await?;
    samples.extend(
        creds
            .into_iter()
            .filter_map(|c| c.secret.map(|s| (format!("credential {:?}", c.name), s))),
    );
    let vault = load_vault(config, !samples.is_empty())?;
    if let Some((what, _)) = samples
        .iter()
        .find(|(_, token)| vault.decrypt(token).is_err())
    {
        return Err(CryptoError::WrongFernetKey {
            source_name: vault.source_name().to_string(),
            what: what.clone(),
        }
        .into());
    }
    Ok(vault)
}

/// On a database without users, creates `admin` with every permission. Returns the password
/// when it was generated, so the caller can print it once.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    config: &Settings,
) -> Result<Option<String>, StartError> {
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (users::generate_password(), true),
    };
    let input = users::NewUser {
        username: "admin".into(),
        password: password.clone(),
        account: users::UserInput {
            realname: "Administrator".into(),
            permissions: Permissions(ALL),
            ..users::UserInput::for_new()
        },
    };
    match users::create(
        db,
        &Actor::system("first start"),
        users::Manager::Console,
        &input,
    )
    .await
    {
        Ok(_) => Ok(generated.then_some(password)),
        Err(Error::Invalid(errors)) => Err(StartError::FirstAdmin(format!(
            "NETRAVEN_ADMIN_PASSWORD is not accepted: {}",
            errors.summary()
        ))),
        Err(e) => Err(StartError::FirstAdmin(e.to_string())),
    }
}
