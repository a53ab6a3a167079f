//! actix-session storage in the `sessions` table, so several nodes share sessions and a session
//! can be revoked at once (logout, deactivation, password reset).
//!
//! The cookie carries a random key; the table stores only its SHA-256, so a database dump does
//! not hand out live sessions. Sessions expire a fixed time after they are created (the
//! `security.session_lifetime_minutes` setting at that moment).

use std::collections::HashMap;

use actix_session::Session;
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::crypto::{random_token, sha256_hex};
use crate::entity::{sessions, users};
use crate::services::settings::{self, registry::SECURITY_SESSION_LIFETIME_MINUTES};

/// Keys of the session state that the store copies into columns.
pub const USER_ID: &str = "uid";
pub const CLIENT_IP: &str = "ip";
pub const USER_AGENT: &str = "ua";

/// The signed-in user's row, read together with the session (one query per request instead of
/// two: each costs a round trip to the connection's thread, ~110 µs of CPU under load) and
/// handed to `Auth` in the session state. It lives for the request only: `save` and `update`
/// never store it, so it is always as fresh as the session row itself.
const USER_ROW: &str = "_user";

/// `users::Model` read back from `USER_ROW`; the entity derives only `Serialize`. The compiler
/// checks this list against the entity's fields.
#[derive(Deserialize)]
#[serde(remote = "users::Model")]
struct UserRow {
    id: i32,
    username: String,
    email: Option<String>,
    realname: Option<String>,
    password_hash: String,
    permissions: i32,
    is_active: bool,
    debug: bool,
    last_login_at: Option<DateTime<Utc>>,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    password_changed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct SessionUser(#[serde(with = "UserRow")] users::Model);

/// The user whose row came with this request's session, if any.
pub fn session_user(session: &Session) -> Option<users::Model> {
    session
        .get::<SessionUser>(USER_ROW)
        .ok()
        .flatten()
        .map(|u| u.0)
}

/// A session nobody signed in to (the sign-in form keeps its token in a cookie, so these are
/// rare) lives only this long: anonymous visits must not pile up rows.
const ANONYMOUS_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

type State = HashMap<String, String>;

/// actix-session stores each value JSON-encoded; read one back as plain text or number.
fn state_value<T: serde::de::DeserializeOwned>(state: &State, key: &str) -> Option<T> {
    state.get(key).and_then(|v| serde_json::from_str(v).ok())
}

fn truncated(value: Option<String>, max: usize) -> Option<String> {
    value.map(|v| v.chars().take(max).collect())
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        // No `.one()`: it adds a bound `LIMIT ?`, and SQLite re-prepares a statement with a
        // bound LIMIT on every run (see `query::limit_clause`); a primary key needs no LIMIT.
        let row = sessions::Entity::find_by_id(sha256_hex(key.as_ref().as_bytes()))
            .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
            .find_also_related(users::Entity)
            .all(&self.db)
            .await
            .map_err(|e| LoadError::Other(e.into()))?
            .into_iter()
            .next();
        let Some((row, user)) = row else {
            return Ok(None);
        };
        let mut state: State =
            serde_json::from_str(&row.data).map_err(|e| LoadError::Deserialization(e.into()))?;
        if let Some(user) = user {
            let user = serde_json::to_string(&user).map_err(|e| LoadError::Other(e.into()))?;
            state.insert(USER_ROW.into(), user);
        }
        Ok(Some(state))
    }

    async fn save(&self, mut state: State, _ttl: &Duration) -> Result<SessionKey, SaveError> {
        state.remove(USER_ROW);
        let data = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let user_id: Option<i32> = state_value(&state, USER_ID);
        let lifetime = if user_id.is_some() {
            settings::int(&self.db, &SECURITY_SESSION_LIFETIME_MINUTES)
                .await
                .map(chrono::Duration::minutes)
                .map_err(|e| SaveError::Other(e.into()))?
        } else {
            ANONYMOUS_LIFETIME
        };
        let key = random_token(32);
        let now = Utc::now();
        // New sessions are rare (logins, first visits): a good moment to sweep expired ones.
        sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await
            .map_err(|e| SaveError::Other(e.into()))?;
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(sha256_hex(key.as_bytes())),
            user_id: Set(user_id),
            data: Set(data),
            ip: Set(truncated(state_value(&state, CLIENT_IP), 64)),
            user_agent: Set(truncated(state_value(&state, USER_AGENT), 255)),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + lifetime),
        })
        .exec(&self.db)
        .await
        .map_err(|e| SaveError::Other(e.into()))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        mut state: State,
        _ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        state.remove(USER_ROW);
        let data =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let now = Utc::now();
        // A revoked or expired row is not brought back: the update then touches nothing and the
        // next request is anonymous.
        sessions::Entity::update_many()
            .col_expr(sessions::Column::Data, Expr::value(data))
            .col_expr(
                sessions::Column::UserId,
                Expr::value(state_value::<i32>(&state, USER_ID)),
            )
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(sha256_hex(key.as_ref().as_bytes())))
            .filter(sessions::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        Ok(key)
    }

    async fn update_ttl(&self, _key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        // Expiry is fixed at creation (see module docs); nothing to extend.
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        sessions::Entity::delete_by_id(sha256_hex(key.as_ref().as_bytes()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// Ends every session of a user (deactivation, deletion, password reset).
pub async fn revoke_user_sessions(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i32,
) -> Result<u64, sea_orm::DbErr> {
    let res = sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
