//! Sign-in: the password check behind two limits, each counted atomically so that parallel
//! attempts cannot slip past them.
//!
//! - **Account lockout**: every attempt on an account takes a slot first
//!   (`failed_logins = failed_logins + 1 ... RETURNING`); an attempt past the threshold is refused
//!   without a password check and locks the account, and a check that succeeds while the account
//!   became locked is refused too. A success frees the slots.
//! - **Source address limit**: every attempt from an address takes a slot in `login_throttle`,
//!   whichever account it names (a password spray across many accounts); past the limit the
//!   address is refused for the lockout minutes. A success gives its slot back.
//!
//! A lockout caused from elsewhere does not shut a user out of the addresses they signed in from
//! before (within [`FAMILIAR_DAYS`]): attempts from those count on a counter of their own, with
//! the same threshold, so an attacker cannot keep a user locked out by guessing from afar.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter,
};

use super::audit::{self, Actor, Event};
use super::settings::{self, registry};
use super::users::find_by_username;
use super::validation::MAX_NAME;
use crate::auth::password;
use crate::crypto::random_token;
use crate::entity::{login_throttle, user_login_addresses, users};

/// An address counts as the user's own for this long after their last sign-in from it.
pub const FAMILIAR_DAYS: i64 = 90;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong username or password, or the account is locked or disabled")]
    Rejected,
    /// Too many failed sign-ins from this source address.
    #[error("too many failed sign-ins from this address")]
    Throttled { until: DateTime<Utc> },
    #[error(transparent)]
    Db(#[from] DbErr),
}

struct Policy {
    threshold: i32,
    window: Duration,
    address_limit: i32,
}

impl Policy {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        // The settings' bounds (at most 10,000) keep both counts well inside an i32.
        let as_i32 = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
        Ok(Self {
            threshold: as_i32(settings::int(db, &registry::SECURITY_LOCKOUT_THRESHOLD).await?),
            window: Duration::minutes(
                settings::int(db, &registry::SECURITY_LOCKOUT_MINUTES).await?,
            ),
            address_limit: as_i32(
                settings::int(db, &registry::SECURITY_ADDRESS_FAILURE_LIMIT).await?,
            ),
        })
    }
}

/// Which counter an attempt on an existing, active account is charged to.
enum AccountSlot {
    /// `users.failed_logins`: attempts from anywhere the user has not signed in from.
    Account,
    /// A `login_throttle` row for the user's familiar addresses.
    Familiar(String),
}

/// Checks a sign-in and applies both limits. Every refusal for an account looks the same to the
/// caller, so a failed login does not reveal whether the user exists; the audit entry says why.
pub async fn authenticate(
    db: &DatabaseConnection,
    actor: &Actor,
    username: &str,
    password_input: String,
) -> Result<users::Model, LoginError> {
    let username: String = username.trim().chars().take(MAX_NAME).collect();
    let policy = Policy::load(db).await?;
    let now = Utc::now();
    let failure = |reason: &str, user_id: Option<i32>| {
        let mut event = Event::auth("login_failed")
            .failure()
            .detail("username", username.clone())
            .detail("reason", reason);
        if let Some(id) = user_id {
            event = event.target("user", id);
        }
        event
    };

    let address_key = actor.ip.as_deref().map(|ip| format!("addr:{ip}"));
    if let Some(key) = &address_key
        && let Slot::Refused { until, newly } =
            take_slot(db, key, policy.address_limit, policy.window, now).await?
    {
        if newly {
            audit::record(
                db,
                actor,
                Event::security("login.address_blocked")
                    .detail("attempts", policy.address_limit)
                    .detail("minutes", policy.window.num_minutes()),
            )
            .await?;
        }
        audit::record(
            db,
            actor,
            failure("too many failures from this address", None),
        )
        .await?;
        return Err(LoginError::Throttled { until });
    }

    let user = match find_by_username(db, &username).await? {
        Some(user) if user.is_active => user,
        other => {
            // Hash anyway, so that timing does not tell unknown users apart.
            password::verify_async(password_input, dummy_hash().to_string()).await;
            let (reason, id) = match other {
                Some(u) => ("account disabled", Some(u.id)),
                None => ("unknown user", None),
            };
            audit::record(db, actor, failure(reason, id)).await?;
            return Err(LoginError::Rejected);
        }
    };

    let slot = match &actor.ip {
        Some(ip) if is_familiar(db, user.id, ip, now).await? => {
            AccountSlot::Familiar(format!("user:{}:familiar", user.id))
        }
        _ => AccountSlot::Account,
    };
    let taken = match &slot {
        AccountSlot::Account => take_account_slot(db, user.id, now).await?,
        AccountSlot::Familiar(key) => {
            match take_slot(db, key, policy.threshold, policy.window, now).await? {
                Slot::Taken(n) => Some(n),
                Slot::Refused { newly, .. } => {
                    if newly {
                        record_lock(db, actor, &user, "familiar addresses", policy.window).await?;
                    }
                    None
                }
            }
        }
    };
    let Some(attempt) = taken else {
        audit::record(db, actor, failure("account locked", Some(user.id))).await?;
        return Err(LoginError::Rejected);
    };
    if attempt > policy.threshold {
        // Attempts already in flight used up the account's budget: no check for this one.
        lock(db, actor, &slot, &user, policy.window, now).await?;
        audit::record(db, actor, failure("account locked", Some(user.id))).await?;
        return Err(LoginError::Rejected);
    }

    let password_ok = password::verify_async(password_input, user.password_hash.clone()).await;
    if !password_ok {
        audit::record(db, actor, failure("wrong password", Some(user.id))).await?;
        if attempt >= policy.threshold {
            lock(db, actor, &slot, &user, policy.window, now).await?;
        }
        return Err(LoginError::Rejected);
    }

    // The password is right; the account must not have been locked while it was checked.
    let now = Utc::now();
    let still_open = match &slot {
        AccountSlot::Account => {
            users::Entity::update_many()
                .col_expr(users::Column::FailedLogins, Expr::value(0))
                .col_expr(users::Column::LastLoginAt, Expr::value(now))
                .filter(users::Column::Id.eq(user.id))
                .filter(not_locked(users::Column::LockedUntil, now))
                .exec(db)
                .await?
                .rows_affected
                > 0
        }
        AccountSlot::Familiar(key) => {
            let freed = login_throttle::Entity::update_many()
                .col_expr(login_throttle::Column::Attempts, Expr::value(0))
                .filter(login_throttle::Column::Key.eq(key.as_str()))
                .filter(not_locked(login_throttle::Column::BlockedUntil, now))
                .exec(db)
                .await?
                .rows_affected
                > 0;
            if freed {
                users::Entity::update_many()
                    .col_expr(users::Column::LastLoginAt, Expr::value(now))
                    .filter(users::Column::Id.eq(user.id))
                    .exec(db)
                    .await?;
            }
            freed
        }
    };
    if !still_open {
        audit::record(
            db,
            actor,
            failure("account locked during the check", Some(user.id)),
        )
        .await?;
        return Err(LoginError::Rejected);
    }
    if let Some(key) = &address_key {
        give_back_slot(db, key).await?;
    }
    forget_stale(db, policy.window, now).await?;
    if let Some(ip) = &actor.ip {
        remember_address(db, user.id, ip, now).await?;
    }
    let user = super::users::get(db, user.id)
        .await
        .map_err(|_| LoginError::Rejected)?;
    audit::record(
        db,
        &Actor {
            id: Some(user.id),
            name: Some(user.username.clone()),
            ..actor.clone()
        },
        Event::auth("login").target("user", user.id),
    )
    .await?;
    Ok(user)
}

fn not_locked<C: ColumnTrait>(column: C, now: DateTime<Utc>) -> Condition {
    Condition::any().add(column.is_null()).add(column.lte(now))
}

/// One attempt on the account: the attempt's number in the current run of failures, or None
/// while the account is locked.
async fn take_account_slot(
    db: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<Option<i32>, DbErr> {
    let rows = users::Entity::update_many()
        .col_expr(
            users::Column::FailedLogins,
            Expr::col(users::Column::FailedLogins).add(1),
        )
        .filter(users::Column::Id.eq(user_id))
        .filter(not_locked(users::Column::LockedUntil, now))
        .exec_with_returning(db)
        .await?;
    Ok(rows.first().map(|u| u.failed_logins))
}

/// An attempt on a `login_throttle` key.
enum Slot {
    /// Its number in the current window.
    Taken(i32),
    /// The key is refused until then; `newly` when this attempt went over the limit.
    Refused { until: DateTime<Utc>, newly: bool },
}

async fn take_slot(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i32,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<Slot, DbErr> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(key.to_string()),
        attempts: Set(0),
        window_started_at: Set(now),
        blocked_until: Set(None),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    // A window that has passed starts again from zero.
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Attempts, Expr::value(0))
        .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::WindowStartedAt.lte(now - window))
        .filter(not_locked(login_throttle::Column::BlockedUntil, now))
        .exec(db)
        .await?;
    let rows = login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Attempts,
            Expr::col(login_throttle::Column::Attempts).add(1),
        )
        .filter(login_throttle::Column::Key.eq(key))
        .filter(not_locked(login_throttle::Column::BlockedUntil, now))
        .exec_with_returning(db)
        .await?;
    match rows.first() {
        Some(row) if row.attempts <= limit => Ok(Slot::Taken(row.attempts)),
        Some(_) => {
            let until = now + window;
            let newly = block(db, key, until, now).await?;
            Ok(Slot::Refused { until, newly })
        }
        None => {
            let until = login_throttle::Entity::find_by_id(key)
                .one(db)
                .await?
                .and_then(|r| r.blocked_until)
                .unwrap_or(now + window);
            Ok(Slot::Refused {
                until,
                newly: false,
            })
        }
    }
}

/// Blocks `key` until `until`; false when a parallel attempt already had.
async fn block(
    db: &impl ConnectionTrait,
    key: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Attempts, Expr::value(0))
        .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
        .col_expr(login_throttle::Column::BlockedUntil, Expr::value(until))
        .filter(login_throttle::Column::Key.eq(key))
        .filter(not_locked(login_throttle::Column::BlockedUntil, now))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// A successful attempt does not count against its address.
async fn give_back_slot(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Attempts,
            Expr::col(login_throttle::Column::Attempts).sub(1),
        )
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Attempts.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Counters whose window and block have both passed hold nothing; a sign-in sweeps them, so
/// guesses from many addresses do not pile up rows.
async fn forget_stale(
    db: &impl ConnectionTrait,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::WindowStartedAt.lte(now - window))
        .filter(not_locked(login_throttle::Column::BlockedUntil, now))
        .exec(db)
        .await?;
    Ok(())
}

/// Locks the counter the attempt was charged to, and says so in the audit log.
async fn lock(
    db: &impl ConnectionTrait,
    actor: &Actor,
    slot: &AccountSlot,
    user: &users::Model,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (scope, newly) = match slot {
        AccountSlot::Account => {
            let res = users::Entity::update_many()
                .col_expr(users::Column::FailedLogins, Expr::value(0))
                .col_expr(users::Column::LockedUntil, Expr::value(now + window))
                .filter(users::Column::Id.eq(user.id))
                .filter(not_locked(users::Column::LockedUntil, now))
                .exec(db)
                .await?;
            ("account", res.rows_affected > 0)
        }
        AccountSlot::Familiar(key) => (
            "familiar addresses",
            block(db, key, now + window, now).await?,
        ),
    };
    if newly {
        record_lock(db, actor, user, scope, window).await?;
    }
    Ok(())
}

async fn record_lock(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user: &users::Model,
    scope: &str,
    window: Duration,
) -> Result<(), DbErr> {
    audit::record(
        db,
        actor,
        Event::security("user.locked")
            .target("user", user.id)
            .detail("username", user.username.clone())
            .detail("scope", scope)
            .detail("minutes", window.num_minutes()),
    )
    .await
}

async fn is_familiar(
    db: &impl ConnectionTrait,
    user_id: i32,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(
        user_login_addresses::Entity::find_by_id((user_id, ip.to_string()))
            .one(db)
            .await?
            .is_some_and(|r| r.last_success_at > now - Duration::days(FAMILIAR_DAYS)),
    )
}

async fn remember_address(
    db: &impl ConnectionTrait,
    user_id: i32,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user_login_addresses::Entity::insert(user_login_addresses::ActiveModel {
        user_id: Set(user_id),
        address: Set(ip.chars().take(64).collect()),
        last_success_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            user_login_addresses::Column::UserId,
            user_login_addresses::Column::Address,
        ])
        .update_column(user_login_addresses::Column::LastSuccessAt)
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The counter of invalid API tokens sent from an address.
pub fn token_key(ip: &str) -> String {
    format!("token:{ip}")
}

/// Until when `ip` is refused for sending too many invalid API tokens, if it is now.
pub async fn token_address_blocked(
    db: &impl ConnectionTrait,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(login_throttle::Entity::find_by_id(token_key(ip))
        .one(db)
        .await?
        .and_then(|row| row.blocked_until)
        .filter(|until| *until > now))
}

/// Counts an invalid API token sent from `ip`, with the sign-in limits: `Some(until)` when the
/// address is now refused.
pub async fn token_failure(
    db: &impl ConnectionTrait,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let policy = Policy::load(db).await?;
    let key = token_key(ip);
    match take_slot(db, &key, policy.address_limit, policy.window, now).await? {
        Slot::Taken(_) => Ok(None),
        Slot::Refused { until, newly } => {
            if newly {
                audit::record(
                    db,
                    &Actor {
                        ip: Some(ip.to_string()),
                        ..Actor::default()
                    },
                    Event::security("api_token.address_blocked")
                        .detail("attempts", policy.address_limit)
                        .detail("minutes", policy.window.num_minutes()),
                )
                .await?;
            }
            Ok(Some(until))
        }
    }
}

/// Clears every counter of a user (a password reset by a user manager).
pub async fn clear_user(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.eq(format!("user:{user_id}:familiar")))
        .exec(db)
        .await?;
    Ok(())
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash(&random_token(16)).unwrap_or_default())
}
