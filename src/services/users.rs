//! User accounts: creation, changes, passwords, sign-in with lockout, and the rules that keep at
//! least one administrator able to manage the system.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::audit::{self, Actor, Event};
use super::query::{Page, Paging, Sort, contains_ci, fetch_page, sort_columns};
use super::settings::{self, registry};
use super::validation::{FieldErrors, MAX_NAME, toggle};
use crate::auth::password;
use crate::auth::permissions::{ADMIN, ALL, Permissions, USER_MANAGE};
use crate::auth::session_store::revoke_user_sessions;
use crate::crypto::random_token;
use crate::entity::users;
use crate::error::Error;

/// A user who can run the system: both ADMIN and USER_MANAGE, and active.
const ADMIN_BITS: i32 = ADMIN | USER_MANAGE;
pub const MAX_USERNAME: usize = 64;
pub const MAX_PASSWORD: usize = 1024;

/// With whose authority accounts are changed. A signed-in user manager grants only the flags they
/// hold and touches only accounts whose flags they all hold (so only admins manage admins); the
/// command line runs as the operator of the host, who could edit the database anyway.
#[derive(Clone, Copy, Debug)]
pub enum Manager {
    User { id: i32, permissions: i32 },
    Console,
}

impl Manager {
    /// A signed-in user acting with `permissions`: their own, or the API token's that they still
    /// hold (a token of an admin that lacks `admin` must not grant it).
    pub fn acting(user: &users::Model, permissions: Permissions) -> Self {
        Manager::User {
            id: user.id,
            permissions: permissions.0,
        }
    }

    fn id(self) -> Option<i32> {
        match self {
            Manager::User { id, .. } => Some(id),
            Manager::Console => None,
        }
    }

    /// Flags in `bits` this manager does not hold.
    fn lacks(self, bits: i32) -> Vec<&'static str> {
        match self {
            Manager::User { permissions, .. } => Permissions(permissions).missing(bits),
            Manager::Console => Vec::new(),
        }
    }

    /// Refuses to act on an account holding flags the manager lacks.
    fn may_manage(self, target: &users::Model) -> Result<(), Error> {
        if Some(target.id) == self.id() {
            return Ok(());
        }
        let missing = self.lacks(target.permissions);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::NotPermitted { missing })
        }
    }

    /// Adds a message when `bits` grants flags the manager lacks.
    fn check_grant(self, errors: &mut FieldErrors, bits: i32) {
        let missing = self.lacks(bits);
        if !missing.is_empty() {
            errors.add(
                "permissions",
                format!(
                    "You can grant only permissions you hold yourself (you lack {}).",
                    missing.join(" and ")
                ),
            );
        }
    }
}

/// An account's fields a user manager edits: the user form's body, this service's input, and
/// what the form shown again holds.
#[derive(Clone, Debug, Deserialize)]
pub struct UserInput {
    pub realname: String,
    pub email: String,
    #[serde(flatten)]
    pub permissions: Permissions,
    #[serde(deserialize_with = "toggle")]
    pub is_active: bool,
}

impl UserInput {
    pub fn for_new() -> Self {
        Self {
            realname: String::new(),
            email: String::new(),
            permissions: Permissions(crate::auth::permissions::READ),
            is_active: true,
        }
    }

    pub fn of(user: &users::Model) -> Self {
        Self {
            realname: user.realname.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
            permissions: Permissions(user.permissions),
            is_active: user.is_active,
        }
    }
}

/// A new account: the account fields plus what only a new one has.
#[derive(Clone, Debug, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    #[serde(flatten)]
    pub account: UserInput,
}

pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_mixed: bool,
}

pub async fn password_policy(db: &impl ConnectionTrait) -> Result<PasswordPolicy, DbErr> {
    Ok(PasswordPolicy {
        // Within the setting's bounds (8 to 128), so the conversion cannot fail.
        min_length: usize::try_from(
            settings::int(db, &registry::SECURITY_PASSWORD_MIN_LENGTH).await?,
        )
        .unwrap_or(usize::MAX),
        require_mixed: settings::boolean(db, &registry::SECURITY_PASSWORD_REQUIRE_MIXED).await?,
    })
}

impl PasswordPolicy {
    pub fn check(&self, errors: &mut FieldErrors, field: &str, password: &str) {
        let len = password.chars().count();
        if len < self.min_length {
            errors.add(field, format!("At least {} characters.", self.min_length));
        } else if len > MAX_PASSWORD {
            errors.add(field, format!("At most {MAX_PASSWORD} characters."));
        } else if self.require_mixed
            && !(password.chars().any(|c| c.is_alphabetic())
                && password.chars().any(|c| c.is_ascii_digit()))
        {
            errors.add(field, "Use both letters and digits.");
        }
    }
}

/// A password that satisfies any policy: 24 random url-safe characters plus a digit and letter.
pub fn generate_password() -> String {
    format!("{}a7", random_token(18))
}

fn validate_username(errors: &mut FieldErrors, value: &str) -> String {
    let name = errors.required("username", value, MAX_USERNAME);
    if !name.is_empty()
        && !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        errors.add(
            "username",
            "Use letters, digits and . _ - @ only (no spaces).",
        );
    }
    name
}

fn validate_permissions(errors: &mut FieldErrors, bits: i32) {
    if bits & !ALL != 0 || bits < 0 {
        errors.add("permissions", "Unknown permission bits.");
    }
}

async fn username_taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    Ok(users::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(users::Column::Username))).eq(name.to_lowercase()))
        .count(db)
        .await?
        > 0)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    by: Manager,
    input: &NewUser,
) -> Result<users::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let mut errors = FieldErrors::new();
    let account = &input.account;
    let permissions = account.permissions.0;
    let username = validate_username(&mut errors, &input.username);
    let realname = errors.optional("realname", &account.realname, MAX_NAME);
    let email = errors.email("email", &account.email);
    validate_permissions(&mut errors, permissions);
    by.check_grant(&mut errors, permissions);
    password_policy(&txn)
        .await?
        .check(&mut errors, "password", &input.password);
    if errors.get("username").is_none() && username_taken(&txn, &username).await? {
        errors.add("username", "This username is already taken.");
    }
    errors.into_result()?;
    let hash = password::hash_async(input.password.clone()).await?;
    let now = Utc::now();
    let user = users::ActiveModel {
        username: Set(username),
        realname: Set(realname),
        email: Set(email),
        password_hash: Set(hash),
        permissions: Set(permissions),
        is_active: Set(account.is_active),
        debug: Set(false),
        failed_logins: Set(0),
        password_changed_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Event::data("user.create")
            .target("user", user.id)
            .detail("username", user.username.clone())
            .detail("permissions", Permissions(user.permissions).names())
            .detail("active", user.is_active),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<users::Model, Error> {
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(db)
        .await
}

/// Active users that hold ADMIN and USER_MANAGE, other than `except`.
async fn other_admins(db: &impl ConnectionTrait, except: i32) -> Result<u64, DbErr> {
    users::Entity::find()
        .filter(users::Column::IsActive.eq(true))
        .filter(users::Column::Id.ne(except))
        .filter(
            Expr::col(users::Column::Permissions)
                .bit_and(ADMIN_BITS)
                .eq(ADMIN_BITS),
        )
        .count(db)
        .await
}

fn is_admin(bits: i32, active: bool) -> bool {
    active && bits & ADMIN_BITS == ADMIN_BITS
}

/// Changes name, email, permissions and active flag.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    by: Manager,
    id: i32,
    input: &UserInput,
) -> Result<users::Model, Error> {
    let (permissions, is_active) = (input.permissions.0, input.is_active);
    let txn = crate::db::begin_write(db).await?;
    let user = get(&txn, id).await?;
    by.may_manage(&user)?;
    let mut errors = FieldErrors::new();
    let realname = errors.optional("realname", &input.realname, MAX_NAME);
    let email = errors.email("email", &input.email);
    validate_permissions(&mut errors, permissions);
    // Flags the user already holds may stay (a manager editing themselves keeps what they have).
    by.check_grant(&mut errors, permissions & !user.permissions);
    if Some(id) == by.id() {
        if user.permissions & USER_MANAGE != 0 && permissions & USER_MANAGE == 0 {
            errors.add(
                "permissions",
                "You cannot remove your own user_manage permission.",
            );
        }
        if !is_active {
            errors.add("is_active", "You cannot deactivate your own account.");
        }
    }
    if is_admin(user.permissions, user.is_active)
        && !is_admin(permissions, is_active)
        && other_admins(&txn, id).await? == 0
    {
        errors.add(
            "permissions",
            "This is the last active administrator (admin and user_manage): keep both permissions and the account active.",
        );
    }
    errors.into_result()?;

    let changed = audit::changed_fields(&[
        ("realname", realname != user.realname),
        ("email", email != user.email),
        ("permissions", permissions != user.permissions),
        ("is_active", is_active != user.is_active),
    ]);
    let before = Permissions(user.permissions).names();
    let was_active = user.is_active;
    let mut active = user.into_active_model();
    active.realname = Set(realname);
    active.email = Set(email);
    active.permissions = Set(permissions);
    active.is_active = Set(is_active);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    if was_active && !user.is_active {
        revoke_user_sessions(&txn, user.id).await?;
    }
    if !changed.is_empty() {
        let mut event = Event::data("user.update")
            .target("user", user.id)
            .detail("username", user.username.clone())
            .detail("fields", changed.clone());
        if changed.contains(&"permissions") {
            event = event
                .detail("permissions_before", before)
                .detail("permissions_after", Permissions(user.permissions).names());
        }
        audit::record(&txn, actor, event).await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// Sets a new password for another user (USER_MANAGE) and ends their sessions.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    by: Manager,
    id: i32,
    new_password: String,
) -> Result<users::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let user = get(&txn, id).await?;
    by.may_manage(&user)?;
    let mut errors = FieldErrors::new();
    password_policy(&txn)
        .await?
        .check(&mut errors, "password", &new_password);
    errors.into_result()?;
    let user = store_password(&txn, user, new_password).await?;
    revoke_user_sessions(&txn, user.id).await?;
    super::sign_in::clear_user(&txn, user.id).await?;
    audit::record(
        &txn,
        actor,
        Event::security("user.password_reset")
            .target("user", user.id)
            .detail("username", user.username.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

async fn store_password(
    db: &impl ConnectionTrait,
    user: users::Model,
    new_password: String,
) -> Result<users::Model, Error> {
    let hash = password::hash_async(new_password).await?;
    let now = Utc::now();
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(Some(now));
    active.failed_logins = Set(0);
    active.locked_until = Set(None);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    by: Manager,
    id: i32,
) -> Result<users::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let user = get(&txn, id).await?;
    by.may_manage(&user)?;
    if Some(id) == by.id() {
        return Err(Error::Conflict(
            "You cannot delete your own account.".into(),
        ));
    }
    if is_admin(user.permissions, user.is_active) && other_admins(&txn, id).await? == 0 {
        return Err(Error::Conflict(
            "This is the last active administrator and cannot be deleted.".into(),
        ));
    }
    users::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("user.delete")
            .target("user", id)
            .detail("username", user.username.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// What a user changes about themselves: the profile form's body, this service's input, and
/// what the form shown again holds.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ProfileInput {
    pub realname: String,
    pub email: String,
    #[serde(deserialize_with = "crate::services::validation::toggle")]
    pub debug: bool,
}

impl ProfileInput {
    pub fn of(user: &users::Model) -> Self {
        Self {
            realname: user.realname.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
            debug: user.debug,
        }
    }
}

/// The password form: never shown again with its values.
#[derive(serde::Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &ProfileInput,
) -> Result<users::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let user = get(&txn, id).await?;
    let mut errors = FieldErrors::new();
    let realname = errors.optional("realname", &input.realname, MAX_NAME);
    let email = errors.email("email", &input.email);
    errors.into_result()?;
    let fields = audit::changed_fields(&[
        ("realname", realname != user.realname),
        ("email", email != user.email),
        ("debug", input.debug != user.debug),
    ]);
    let mut active = user.into_active_model();
    active.realname = Set(realname);
    active.email = Set(email);
    active.debug = Set(input.debug);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("profile.update")
                .target("user", id)
                .detail("fields", fields),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// A user changing their own password: the current one is required. Other sessions end.
pub async fn change_own_password(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    change: PasswordChange,
) -> Result<(), Error> {
    let PasswordChange {
        current_password,
        new_password,
        confirm_password,
    } = change;
    let txn = crate::db::begin_write(db).await?;
    let user = get(&txn, id).await?;
    let mut errors = FieldErrors::new();
    if !password::verify_async(current_password, user.password_hash.clone()).await {
        errors.add("current_password", "The current password is not correct.");
    }
    password_policy(&txn)
        .await?
        .check(&mut errors, "new_password", &new_password);
    if new_password != confirm_password {
        errors.add("confirm_password", "The two new passwords differ.");
    }
    errors.into_result()?;
    let user = store_password(&txn, user, new_password).await?;
    revoke_user_sessions(&txn, user.id).await?;
    audit::record(
        &txn,
        actor,
        Event::security("profile.password_change").target("user", id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub text: Option<String>,
    pub status: Option<UserStatus>,
    pub sort: Sort<UserSort>,
}

/// The user list's status filter, by the word its address uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Inactive,
}

sort_columns! {
    pub enum UserSort {
        Username = "username",
        Realname = "realname",
        LastLoginAt = "last_login_at",
        CreatedAt = "created_at",
    } default Username
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: &UserFilter,
    paging: Paging,
) -> Result<Page<users::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(text) = &filter.text {
        cond = cond.add(
            Condition::any()
                .add(contains_ci(Expr::col(users::Column::Username), text))
                .add(contains_ci(Expr::col(users::Column::Realname), text))
                .add(contains_ci(Expr::col(users::Column::Email), text)),
        );
    }
    if let Some(status) = filter.status {
        let active = match status {
            UserStatus::Active => true,
            UserStatus::Inactive => false,
        };
        cond = cond.add(users::Column::IsActive.eq(active));
    }
    let column = match filter.sort.column {
        UserSort::Username => users::Column::Username,
        UserSort::Realname => users::Column::Realname,
        UserSort::LastLoginAt => users::Column::LastLoginAt,
        UserSort::CreatedAt => users::Column::CreatedAt,
    };
    let select = users::Entity::find()
        .filter(cond)
        .order_by(column, filter.sort.direction.order())
        .order_by_asc(users::Column::Id);
    fetch_page(db, select, paging).await
}

/// Every user's id and name, by name (for filters that pick a user).
pub async fn names(db: &impl ConnectionTrait) -> Result<Vec<(i32, String)>, DbErr> {
    users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Username)
        .order_by_asc(users::Column::Username)
        .into_tuple()
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    users::Entity::find().count(db).await
}
