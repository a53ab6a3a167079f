//! Talking to a stored device through the engine: its credentials in order, its recorded SSH
//! host key (trust on first use; a changed key is kept aside until an administrator accepts
//! it), credential statistics, and the "test connection" action. Backups build on `contact`.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use super::audit::{self, Actor, Event};
use super::credentials::{self, UsableCredential};
use super::settings::{self, registry::JOBS_DEVICE_TIMEOUT_SECONDS};
use crate::crypto::Vault;
use crate::device::fetch::{Attempt, Collect, Credential, FetchError, Fetched, Options, Target};
use crate::device::profile;
use crate::device::transport::ssh::HostKey;
use crate::device::{DeviceError, ErrorClass};
use crate::entity::{credentials as credential_entity, devices};
use crate::error::Error;

/// The step timeout of device sessions, from the admin setting.
pub async fn step_timeout(db: &impl ConnectionTrait) -> Result<Duration, Error> {
    let secs = settings::int(db, &JOBS_DEVICE_TIMEOUT_SECONDS).await?;
    // Within the setting's bounds (5 to 3,600 seconds), so never negative.
    Ok(Duration::from_secs(secs.unsigned_abs()))
}

pub fn engine_credential(c: UsableCredential) -> (i32, Credential) {
    // Job logs, results and the audit log name the credential used; other users may read them,
    // and a private credential's name is its owner's.
    let name = if c.private {
        format!("private credential #{}", c.id)
    } else {
        c.name
    };
    (
        c.id,
        Credential {
            name,
            username: c.username,
            private: c.private,
            password: c.secret,
            enable_secret: c.enable_secret,
            private_key: c.private_key,
        },
    )
}

/// The fingerprint of a stored OpenSSH host-key line, for pages.
pub fn fingerprint(openssh: &str) -> String {
    HostKey::parse(openssh)
        .map(|k| HostKey::from_public(&k).fingerprint)
        .unwrap_or_else(|_| "unreadable key".into())
}

/// One contact with a device: the engine's result and what it taught about the host key and the
/// credentials. Nothing is stored until `record` (a backup records it in the transaction that
/// stores its result).
pub struct Contact {
    pub result: Result<Fetched, FetchError>,
    /// The id of the credential that worked.
    pub credential_id: Option<i32>,
    /// What happened to the device's host key.
    pub host_key: HostKeyEvent,
    /// Why credentials on the device's tags were not sent to it (outside their networks).
    pub withheld: Vec<String>,
    device_id: i32,
    /// The ids of the credentials in the order they were tried.
    credential_ids: Vec<i32>,
    /// The (recorded, pending) host keys to store on the device.
    host_key_update: Option<(Option<String>, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyEvent {
    /// The recorded key matched (or no connection got that far).
    Unchanged,
    /// First contact: the presented key is now recorded.
    Recorded(String),
    /// The device presented another key; it waits for an administrator.
    Changed { presented: String },
}

/// Contact a device with its credentials in priority order and record what was learnt.
pub async fn contact(
    db: &impl ConnectionTrait,
    vault: &Vault,
    device: &devices::Model,
    on_behalf_of: Option<i32>,
    collect: Collect,
    step_timeout: Duration,
    debug: bool,
) -> Result<Contact, Error> {
    let profile = profile::find(&device.device_type).ok_or_else(|| {
        Error::Refused(format!(
            "the device's platform {:?} is unknown",
            device.device_type
        ))
    })?;
    let usable = credentials::usable_for_device(db, vault, device, on_behalf_of).await?;
    let withheld = usable.withheld;
    let (ids, creds): (Vec<i32>, Vec<Credential>) = usable
        .credentials
        .into_iter()
        .map(engine_credential)
        .unzip();
    let options = Options {
        step_timeout,
        debug,
        collect,
        ..Options::default()
    };
    let target = Target {
        host: &device.ip_address,
        port: u16::try_from(device.port).unwrap_or(22),
        profile,
        known_host_key: device.ssh_host_key.as_deref(),
    };
    let result = if creds.is_empty() && !withheld.is_empty() {
        // Say why no credential was sent rather than "attach a credential".
        Err(FetchError {
            error: DeviceError::Configuration(format!(
                "no credential may be sent to {}: it is outside the allowed networks of every credential on its tags",
                device.ip_address
            )),
            attempts: Vec::new(),
            host_key: None,
            transcript: None,
        })
    } else {
        crate::device::fetch(&target, &creds, &options).await
    };
    let (host_key, host_key_update) = match &result {
        Ok(f) if f.host_key_first_seen => (
            HostKeyEvent::Recorded(f.host_key.fingerprint.clone()),
            Some((Some(f.host_key.openssh.clone()), None)),
        ),
        Err(FetchError {
            error: DeviceError::HostKeyChanged { .. },
            host_key: Some(presented),
            ..
        }) => (
            HostKeyEvent::Changed {
                presented: presented.fingerprint.clone(),
            },
            Some((device.ssh_host_key.clone(), Some(presented.openssh.clone()))),
        ),
        // A device reached with no recorded key that failed later still gets its key recorded.
        Err(FetchError {
            host_key: Some(seen),
            ..
        }) if device.ssh_host_key.is_none() => (
            HostKeyEvent::Recorded(seen.fingerprint.clone()),
            Some((Some(seen.openssh.clone()), None)),
        ),
        _ => (HostKeyEvent::Unchanged, None),
    };
    let credential_id = result
        .as_ref()
        .ok()
        .and_then(|f| ids.get(f.credential_index).copied());
    Ok(Contact {
        result,
        credential_id,
        host_key,
        withheld,
        device_id: device.id,
        credential_ids: ids,
        host_key_update,
    })
}

impl Contact {
    /// Store the host key learnt and the credentials' statistics.
    pub async fn record(&self, db: &impl ConnectionTrait) -> Result<(), Error> {
        if let Some((key, pending)) = &self.host_key_update {
            set_host_key(db, self.device_id, key.clone(), pending.clone()).await?;
        }
        let attempts = match &self.result {
            Ok(f) => &f.attempts,
            Err(e) => &e.attempts,
        };
        record_attempts(db, &self.credential_ids, attempts).await
    }
}

async fn set_host_key(
    db: &impl ConnectionTrait,
    device_id: i32,
    key: Option<String>,
    pending: Option<String>,
) -> Result<(), Error> {
    devices::Entity::update_many()
        .col_expr(devices::Column::SshHostKey, Expr::value(key))
        .col_expr(devices::Column::SshHostKeyPending, Expr::value(pending))
        .filter(devices::Column::Id.eq(device_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Success and failure counters of the credentials tried: only authentication outcomes count.
async fn record_attempts(
    db: &impl ConnectionTrait,
    ids: &[i32],
    attempts: &[Attempt],
) -> Result<(), Error> {
    let now = Utc::now();
    let mut tried: Vec<(i32, &Attempt)> = ids.iter().copied().zip(attempts).collect();
    // Every transaction updates credential rows in one order, so two devices trying the same
    // credentials in other orders cannot deadlock on PostgreSQL.
    tried.sort_by_key(|(id, _)| *id);
    for (id, attempt) in tried {
        let column_update = match attempt.error_class {
            None => credential_entity::Entity::update_many()
                .col_expr(
                    credential_entity::Column::SuccessCount,
                    Expr::col(credential_entity::Column::SuccessCount).add(1),
                )
                .col_expr(credential_entity::Column::LastSuccessAt, Expr::value(now)),
            Some(class) if class == ErrorClass::AuthFailed.id() => {
                credential_entity::Entity::update_many()
                    .col_expr(
                        credential_entity::Column::FailureCount,
                        Expr::col(credential_entity::Column::FailureCount).add(1),
                    )
                    .col_expr(credential_entity::Column::LastFailureAt, Expr::value(now))
            }
            Some(_) => continue,
        };
        column_update
            .col_expr(credential_entity::Column::LastUsedAt, Expr::value(now))
            .filter(credential_entity::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// What "Test connection" found, for the device page.
pub struct ConnectionTest {
    pub ok: bool,
    pub credential: Option<String>,
    pub attempts: Vec<Attempt>,
    pub error: Option<(ErrorClass, String)>,
    pub host_key: HostKeyEvent,
    pub facts: Option<crate::device::facts::Facts>,
    pub warnings: Vec<String>,
    pub transcript: Option<String>,
    pub seconds: f64,
}

/// Log in with the device's credentials, enter enable mode and read its facts (no configuration
/// is stored); record the host key on first contact and the facts on the device.
pub async fn test_connection(
    db: &impl ConnectionTrait,
    vault: &Vault,
    actor: &Actor,
    device_id: i32,
    debug: bool,
) -> Result<ConnectionTest, Error> {
    let device = super::devices::get(db, device_id).await?;
    let started = std::time::Instant::now();
    let step = step_timeout(db).await?;
    let contact = contact(
        db,
        vault,
        &device,
        actor.id,
        Collect::FactsOnly,
        step,
        debug,
    )
    .await?;
    contact.record(db).await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut event = Event::data("device.test_connection")
        .target("device", device.id)
        .detail("hostname", device.hostname.clone());
    let withheld = contact.withheld;
    let test = match contact.result {
        Ok(fetched) => {
            let facts = fetched.facts.clone();
            let mut active = device.clone().into_active_model();
            if let Some(m) = &facts.model {
                active.model = Set(Some(m.clone()));
            }
            if let Some(s) = &facts.serial {
                active.serial_number = Set(Some(s.clone()));
            }
            if let Some(v) = &facts.os_version {
                active.os_version = Set(Some(v.clone()));
            }
            if active.is_changed() {
                active.updated_at = Set(Utc::now());
                active.update(db).await?;
            }
            event = event.detail("credential", fetched.credential_name.clone());
            ConnectionTest {
                ok: true,
                credential: Some(fetched.credential_name),
                attempts: fetched.attempts,
                error: None,
                host_key: contact.host_key,
                facts: Some(facts),
                warnings: withheld.into_iter().chain(fetched.warnings).collect(),
                transcript: fetched.transcript,
                seconds,
            }
        }
        Err(e) => {
            event = event
                .failure()
                .detail("error_class", e.class().id())
                .detail("error", e.error.to_string());
            ConnectionTest {
                ok: false,
                credential: None,
                error: Some((e.class(), e.error.to_string())),
                attempts: e.attempts,
                host_key: contact.host_key,
                facts: None,
                warnings: withheld,
                transcript: e.transcript,
                seconds,
            }
        }
    };
    audit::record(db, actor, event).await?;
    match &test.host_key {
        HostKeyEvent::Recorded(fp) => {
            audit::record(
                db,
                actor,
                Event::security("device.host_key_recorded")
                    .target("device", device.id)
                    .detail("fingerprint", fp.clone()),
            )
            .await?
        }
        HostKeyEvent::Changed { presented } => {
            audit::record(
                db,
                actor,
                Event::security("device.host_key_changed")
                    .target("device", device.id)
                    .failure()
                    .detail("presented", presented.clone()),
            )
            .await?
        }
        HostKeyEvent::Unchanged => {}
    }
    Ok(test)
}

/// An administrator trusts the key the device presented last: it becomes the recorded key.
pub async fn accept_host_key(
    db: &impl ConnectionTrait,
    actor: &Actor,
    device_id: i32,
) -> Result<(), Error> {
    let device = super::devices::get(db, device_id).await?;
    let Some(pending) = device.ssh_host_key_pending.clone() else {
        return Err(Error::Conflict(
            "there is no new host key waiting for a decision".into(),
        ));
    };
    set_host_key(db, device.id, Some(pending.clone()), None).await?;
    audit::record(
        db,
        actor,
        Event::security("device.host_key_accepted")
            .target("device", device.id)
            .detail("hostname", device.hostname)
            .detail("fingerprint", fingerprint(&pending))
            .detail("replaced", device.ssh_host_key.as_deref().map(fingerprint)),
    )
    .await?;
    Ok(())
}

/// Forget the recorded key: the next contact records whatever the device presents.
pub async fn forget_host_key(
    db: &impl ConnectionTrait,
    actor: &Actor,
    device_id: i32,
) -> Result<(), Error> {
    let device = super::devices::get(db, device_id).await?;
    set_host_key(db, device.id, None, None).await?;
    audit::record(
        db,
        actor,
        Event::security("device.host_key_forgotten")
            .target("device", device.id)
            .detail("hostname", device.hostname)
            .detail(
                "fingerprint",
                device.ssh_host_key.as_deref().map(fingerprint),
            ),
    )
    .await?;
    Ok(())
}
