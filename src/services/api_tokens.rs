//! API tokens: named keys a user makes for scripts and tools. A token carries a subset of its
//! owner's permission flags and acts with those and the owner's current ones, so revoking it,
//! deactivating the owner or taking a flag from the owner takes effect on the next request.
//!
//! Only a SHA-256 hash of a token is stored: a token is 32 random bytes, so a fast hash is as
//! safe as a slow one and checking it costs one indexed lookup, not an argon2 run. The first
//! characters stay visible (`prefix`) to tell tokens apart.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ipnet::IpNet;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Deserialize;

use super::audit::{self, Actor, Event};
use super::credentials::{networks_text, parse_networks, permits};
use super::query::is_unique_violation;
use super::validation::{FieldErrors, MAX_NAME};
use crate::auth::permissions::{Permissions, flag_bits};
use crate::crypto::{random_token, sha256_hex};
use crate::entity::{api_tokens, login_throttle, users};
use crate::error::Error;

/// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_START: &str = "nrv_";
/// How many characters of a token stay visible.
const PREFIX_LEN: usize = 12;
/// The last-used time and address are written at most this often per token.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The token form: a name, the flags (none ticked sends none), an optional expiry date and the
/// networks it may be used from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenInput {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub expires_on: String,
    pub networks: String,
}

impl TokenInput {
    /// A new token's form: read-only, no expiry, anywhere.
    pub fn for_new() -> Self {
        Self {
            permissions: vec!["read".into()],
            ..Self::default()
        }
    }

    pub fn has(&self, flag: &str) -> bool {
        self.permissions.iter().any(|p| p == flag)
    }
}

/// A token just made: the stored row and the token itself, shown once.
pub struct Created {
    pub token: api_tokens::Model,
    pub secret: String,
}

struct Valid {
    name: String,
    bits: i32,
    expires_at: Option<DateTime<Utc>>,
    networks: Vec<IpNet>,
}

fn validate(owner: &users::Model, input: &TokenInput, today: NaiveDate) -> Result<Valid, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let mut bits = 0;
    for flag in &input.permissions {
        match flag_bits(flag) {
            Some(bit) => bits |= bit,
            None => errors.add("permissions", format!("There is no permission {flag:?}.")),
        }
    }
    let missing = Permissions(owner.permissions).missing(bits);
    if !missing.is_empty() {
        // A token can never hold a right its owner does not.
        errors.add(
            "permissions",
            format!(
                "Your account does not have the {} permission, so a token of yours cannot.",
                missing.join(" and ")
            ),
        );
    } else if bits == 0 && input.permissions.is_empty() {
        errors.add("permissions", "Choose at least one permission.");
    }
    let expires_at = match input.expires_on.trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if date > today => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Ok(_) => {
                errors.add("expires_on", "The expiry date must be after today.");
                None
            }
            Err(_) => {
                errors.add("expires_on", "Write the date as YYYY-MM-DD.");
                None
            }
        },
    };
    let networks = parse_networks(&input.networks).unwrap_or_else(|message| {
        errors.add("networks", message);
        Vec::new()
    });
    errors.into_result()?;
    Ok(Valid {
        name,
        bits,
        expires_at,
        networks,
    })
}

/// Makes a token for `owner`.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    owner: &users::Model,
    input: &TokenInput,
) -> Result<Created, Error> {
    let now = Utc::now();
    let valid = validate(owner, input, now.date_naive())?;
    let secret = format!("{TOKEN_START}{}", random_token(32));
    let inserted = api_tokens::Entity::insert(api_tokens::ActiveModel {
        user_id: Set(owner.id),
        name: Set(valid.name.clone()),
        token_hash: Set(sha256_hex(secret.as_bytes())),
        prefix: Set(secret.chars().take(PREFIX_LEN).collect()),
        expires_at: Set(valid.expires_at),
        last_used_at: Set(None),
        created_at: Set(now),
        permissions: Set(valid.bits),
        allowed_networks: Set(networks_text(&valid.networks)),
        last_used_from: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await;
    let token = match inserted {
        Ok(token) => token,
        Err(e) if is_unique_violation(&e) => {
            return Err(FieldErrors::single(
                "name",
                "You already have a token with this name.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        db,
        actor,
        Event::security("api_token.created")
            .target("api_token", token.id)
            .detail("owner", owner.username.clone())
            .detail("name", token.name.clone())
            .detail("prefix", token.prefix.clone())
            .detail("permissions", Permissions(token.permissions).names())
            .detail(
                "expires_at",
                token.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            )
            .detail("networks", token.allowed_networks.clone()),
    )
    .await?;
    Ok(Created { token, secret })
}

/// A token with its owner's name, for the user manager's list.
pub struct Listed {
    pub token: api_tokens::Model,
    pub owner: String,
}

/// A user's tokens, newest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<api_tokens::Model>, Error> {
    Ok(api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(user_id))
        .order_by_desc(api_tokens::Column::CreatedAt)
        .order_by_desc(api_tokens::Column::Id)
        .all(db)
        .await?)
}

/// Every user's tokens, by owner then newest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Listed>, Error> {
    let rows = api_tokens::Entity::find()
        .find_also_related(users::Entity)
        .order_by_asc(users::Column::Username)
        .order_by_desc(api_tokens::Column::CreatedAt)
        .order_by_desc(api_tokens::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(token, owner)| Listed {
            token,
            owner: owner.map(|u| u.username).unwrap_or_default(),
        })
        .collect())
}

/// Revokes a token: of `owner_id` only when given (a user revoking their own), any user's
/// otherwise (a user manager). It stops working at once.
pub async fn revoke(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i32,
    owner_id: Option<i32>,
) -> Result<api_tokens::Model, Error> {
    let mut scope = Condition::all().add(api_tokens::Column::Id.eq(id));
    if let Some(owner) = owner_id {
        scope = scope.add(api_tokens::Column::UserId.eq(owner));
    }
    let token = api_tokens::Entity::find()
        .filter(scope.clone())
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    api_tokens::Entity::delete_many()
        .filter(scope)
        .exec(db)
        .await?;
    let owner = users::Entity::find_by_id(token.user_id)
        .one(db)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    audit::record(
        db,
        actor,
        Event::security("api_token.revoked")
            .target("api_token", token.id)
            .detail("owner", owner)
            .detail("name", token.name.clone())
            .detail("prefix", token.prefix.clone()),
    )
    .await?;
    Ok(token)
}

/// Who a request with a valid token acts as.
#[derive(Clone, Debug)]
pub struct Bearer {
    pub user: users::Model,
    /// The token's flags that its owner still holds.
    pub perms: Permissions,
    pub token_id: i32,
    pub token_name: String,
}

/// Why a token was not accepted. The caller is told only "invalid" (never which check failed,
/// so an answer does not reveal whether a token exists); the log says which.
#[derive(Debug)]
pub enum Refusal {
    Invalid(&'static str),
    /// Too many invalid tokens from this address.
    Throttled {
        until: DateTime<Utc>,
    },
}

/// Checks a token sent from `ip`. An address that sent too many invalid ones is refused for a
/// while, whatever it sends (counted with the sign-in limits: a token guess is a password guess).
/// A valid token costs one statement: the token, its owner and the address's block together.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    secret: &str,
    ip: Option<&str>,
) -> Result<Result<Bearer, Refusal>, Error> {
    let now = Utc::now();
    let checked = match check(db, secret, ip, now).await? {
        Checked::Blocked(until) => return Ok(Err(Refusal::Throttled { until })),
        Checked::Valid(bearer) => return Ok(Ok(bearer)),
        Checked::Invalid(reason) => reason,
    };
    tracing::info!(
        reason = checked,
        ip = ip.unwrap_or("-"),
        "API token refused"
    );
    if let Some(ip) = ip {
        // No token row came back to say whether the address is blocked: ask, then count.
        if let Some(until) = super::sign_in::token_address_blocked(db, ip, now).await? {
            return Ok(Err(Refusal::Throttled { until }));
        }
        if let Some(until) = super::sign_in::token_failure(db, ip, now).await? {
            return Ok(Err(Refusal::Throttled { until }));
        }
    }
    Ok(Err(Refusal::Invalid(checked)))
}

enum Checked {
    Valid(Bearer),
    Invalid(&'static str),
    Blocked(DateTime<Utc>),
}

/// A token row with its address's block, read in the token's own statement.
struct WithBlock {
    token: api_tokens::Model,
    blocked_until: Option<DateTime<Utc>>,
}

impl sea_orm::FromQueryResult for WithBlock {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            token: api_tokens::Model::from_query_result(row, pre)?,
            blocked_until: row.try_get(pre, BLOCKED)?,
        })
    }
}

/// The block's column in the token statement (read with the token's `A_` prefix).
const BLOCKED: &str = "blocked_until";

async fn check(
    db: &impl ConnectionTrait,
    secret: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Checked, Error> {
    if !secret.starts_with(TOKEN_START) || secret.len() > 128 {
        return Ok(Checked::Invalid("not a NetRaven token"));
    }
    let block = Query::select()
        .column(login_throttle::Column::BlockedUntil)
        .from(login_throttle::Entity)
        .and_where(
            login_throttle::Column::Key.eq(super::sign_in::token_key(ip.unwrap_or_default())),
        )
        .to_owned();
    let found = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(sha256_hex(secret.as_bytes())))
        .find_also_related(users::Entity)
        .expr_as(
            Expr::SubQuery(None, Box::new(block.into())),
            format!("A_{BLOCKED}"),
        )
        .into_model::<WithBlock, users::Model>()
        .one(db)
        .await?;
    let Some((row, Some(user))) = found else {
        return Ok(Checked::Invalid("unknown token"));
    };
    if let Some(until) = row.blocked_until.filter(|until| *until > now) {
        return Ok(Checked::Blocked(until));
    }
    let token = row.token;
    if token.expires_at.is_some_and(|t| t <= now) {
        return Ok(Checked::Invalid("expired token"));
    }
    if !user.is_active {
        return Ok(Checked::Invalid("owner deactivated"));
    }
    let networks: Vec<IpNet> = token
        .allowed_networks
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    if !permits(&networks, ip.unwrap_or_default()) {
        return Ok(Checked::Invalid("outside the token's networks"));
    }
    touch(db, &token, ip, now).await?;
    Ok(Checked::Valid(Bearer {
        perms: Permissions(token.permissions & user.permissions),
        token_id: token.id,
        token_name: token.name,
        user,
    }))
}

/// Records the last use, at most once a minute per token (most requests write nothing).
async fn touch(
    db: &impl ConnectionTrait,
    token: &api_tokens::Model,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if token.last_used_at.is_some_and(|t| t > now - TOUCH_EVERY) {
        return Ok(());
    }
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
        .col_expr(
            api_tokens::Column::LastUsedFrom,
            Expr::value(ip.map(|ip| ip.chars().take(64).collect::<String>())),
        )
        .filter(api_tokens::Column::Id.eq(token.id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::permissions::{READ, WRITE};

    fn owner(permissions: i32) -> users::Model {
        let now = Utc::now();
        users::Model {
            id: 1,
            username: "alice".into(),
            email: None,
            realname: None,
            password_hash: String::new(),
            permissions,
            is_active: true,
            debug: false,
            last_login_at: None,
            failed_logins: 0,
            locked_until: None,
            password_changed_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn input(perms: &[&str], expires_on: &str, networks: &str) -> TokenInput {
        TokenInput {
            name: "ci".into(),
            permissions: perms.iter().map(|p| p.to_string()).collect(),
            expires_on: expires_on.into(),
            networks: networks.into(),
        }
    }

    fn field_errors(result: Result<Valid, Error>) -> FieldErrors {
        match result {
            Err(Error::Invalid(errors)) => errors,
            _ => panic!("expected invalid input"),
        }
    }

    #[test]
    fn a_token_holds_only_what_its_owner_holds() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let errors = field_errors(validate(&owner(READ), &input(&["write"], "", ""), today));
        assert!(errors.get("permissions").unwrap().contains("write"));
        let ok = validate(
            &owner(READ | WRITE),
            &input(&["read", "write"], "2026-12-04", "10.0.0.0/8"),
            today,
        )
        .ok()
        .unwrap();
        assert_eq!(ok.bits, READ | WRITE);
        assert!(ok.expires_at.is_some());
        let errors = field_errors(validate(
            &owner(READ),
            &input(&[], "2026-12-03", "x"),
            today,
        ));
        assert!(errors.get("permissions").is_some());
        assert!(errors.get("expires_on").is_some());
        assert!(errors.get("networks").is_some());
    }
}
