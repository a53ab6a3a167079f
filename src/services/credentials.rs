//! The credential vault. Secrets are Fernet tokens from the moment they leave the form; no view
//! type here carries a secret, only whether one is set. A private credential exists only for its
//! owner: every lookup for another user is "not found" (an admin may delete it, nothing more).

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use super::audit::{self, Actor, Event};
use super::settings::{self, registry::CREDENTIALS_EXPIRY_WARNING_DAYS};
use super::tags;
use super::validation::{FieldErrors, MAX_NAME, ticked, toggle};
use crate::crypto::Vault;
use crate::entity::{credential_tags, credentials, device_tags, devices, tags as tag_entity};
use crate::error::Error;
use crate::vocabulary::CredentialKind;
use serde::Deserialize;

pub const MAX_SECRET: usize = 16 * 1024;

/// Who is asking: their id and whether they hold ADMIN (which only adds the right to delete
/// other users' private credentials).
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub user_id: i32,
    pub is_admin: bool,
}

fn visible_to(viewer: Viewer) -> Condition {
    Condition::any()
        .add(credentials::Column::OwnerId.is_null())
        .add(credentials::Column::OwnerId.eq(viewer.user_id))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Status {
    Active,
    Expiring,
    Expired,
}

impl Status {
    pub fn of(valid_until: Option<DateTime<Utc>>, warning_days: i64, now: DateTime<Utc>) -> Self {
        match valid_until {
            Some(t) if t <= now => Status::Expired,
            Some(t) if t <= now + Duration::days(warning_days) => Status::Expiring,
            _ => Status::Active,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
        }
    }
}

/// A credential as pages and lists show it: no secret, only whether one is set.
#[derive(Clone, Debug)]
pub struct CredentialView {
    pub id: i32,
    pub name: String,
    pub kind: CredentialKind,
    pub username: String,
    pub description: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    pub private: bool,
    /// Where it may be sent; empty: anywhere (pages warn about that).
    pub allowed_networks: Vec<IpNet>,
    pub has_secret: bool,
    pub has_enable_secret: bool,
    pub has_private_key: bool,
    pub status: Status,
    pub success_count: i32,
    pub failure_count: i32,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl CredentialView {
    fn of(m: &credentials::Model, warning_days: i64, now: DateTime<Utc>) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            kind: m.kind,
            username: m.username.clone(),
            description: m.description.clone(),
            valid_until: m.valid_until,
            private: m.owner_id.is_some(),
            allowed_networks: allowed_networks(m),
            has_secret: m.secret.is_some(),
            has_enable_secret: m.enable_secret.is_some(),
            has_private_key: m.private_key.is_some(),
            status: Status::of(m.valid_until, warning_days, now),
            success_count: m.success_count,
            failure_count: m.failure_count,
            last_used_at: m.last_used_at,
            last_success_at: m.last_success_at,
            last_failure_at: m.last_failure_at,
        }
    }
}

impl CredentialView {
    /// May be sent to any address: a device added at an address its user controls would receive
    /// it in the clear.
    pub fn unrestricted(&self) -> bool {
        self.allowed_networks.is_empty()
    }

    pub fn networks_text(&self) -> String {
        networks_text(&self.allowed_networks)
    }
}

/// How logs and the audit trail, which other users read, name a credential: a private one by its
/// id only (its name is its owner's).
fn label(id: i32, name: &str, private: bool) -> String {
    if private {
        format!("private credential #{id}")
    } else {
        name.to_string()
    }
}

/// The stored networks of a credential (space-separated CIDRs; empty: any address).
pub fn allowed_networks(m: &credentials::Model) -> Vec<IpNet> {
    m.allowed_networks
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

pub fn networks_text(networks: &[IpNet]) -> String {
    networks
        .iter()
        .map(IpNet::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a credential with these networks may be sent to `address`.
pub fn permits(networks: &[IpNet], address: &str) -> bool {
    if networks.is_empty() {
        return true;
    }
    address
        .parse::<IpAddr>()
        .is_ok_and(|ip| networks.iter().any(|n| n.contains(&ip)))
}

const MAX_NETWORKS: usize = 256;

/// Networks as typed: CIDRs or single addresses, separated by commas, spaces or lines.
pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    let mut out: Vec<IpNet> = Vec::new();
    for item in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        match crate::config::parse_network(item) {
            Some(net) => out.push(net),
            None => {
                return Err(format!(
                    "{:?} is not a network: write one like 10.1.0.0/16, 2001:db8::/48 or a single address.",
                    item.chars().take(60).collect::<String>()
                ));
            }
        }
    }
    if out.len() > MAX_NETWORKS {
        return Err(format!("At most {MAX_NETWORKS} networks."));
    }
    Ok(IpNet::aggregate(&out))
}

/// Networks that would cover the devices already using a credential (the /24 or /64 of each
/// address, merged), for the form to suggest.
pub async fn suggested_networks(db: &impl ConnectionTrait, id: i32) -> Result<Vec<IpNet>, DbErr> {
    let nets: Vec<IpNet> = devices_using(db, id)
        .await?
        .iter()
        .filter_map(|(_, ip)| ip.parse::<IpAddr>().ok())
        .filter_map(|ip| {
            let prefix = if ip.is_ipv4() { 24 } else { 64 };
            IpNet::new(ip, prefix).ok().map(|n| n.trunc())
        })
        .collect();
    Ok(IpNet::aggregate(&nets))
}

/// (hostname, address) of the devices with tag `tag_id`.
async fn tagged_devices(
    db: &impl ConnectionTrait,
    tag_id: i32,
) -> Result<Vec<(String, String)>, DbErr> {
    use sea_orm::QuerySelect;
    devices::Entity::find()
        .select_only()
        .column(devices::Column::Hostname)
        .column(devices::Column::IpAddress)
        .filter(devices::Column::Id.in_subquery(tags::devices_with_tag(tag_id)))
        .order_by_asc(devices::Column::Hostname)
        .into_tuple()
        .all(db)
        .await
}

/// Devices that have the credential through their tags but are outside its allowed networks
/// (after its networks were narrowed): they no longer receive it.
pub async fn devices_outside(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<Vec<(String, String)>, Error> {
    let m = get_model(db, viewer, id).await?;
    let networks = allowed_networks(&m);
    if networks.is_empty() {
        return Ok(Vec::new());
    }
    Ok(devices_using(db, id)
        .await?
        .into_iter()
        .filter(|(_, ip)| !permits(&networks, ip))
        .collect())
}

/// (hostname, address) of the devices whose tags carry credential `id`.
pub async fn devices_using(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Vec<(String, String)>, DbErr> {
    use sea_orm::QuerySelect;
    devices::Entity::find()
        .select_only()
        .column(devices::Column::Hostname)
        .column(devices::Column::IpAddress)
        .filter(devices::Column::Id.in_subquery(devices_with_credential(id)))
        .order_by_asc(devices::Column::Hostname)
        .into_tuple()
        .all(db)
        .await
}

/// Ids of the devices whose tags carry credential `id`, as a subquery.
fn devices_with_credential(id: i32) -> sea_orm::sea_query::SelectStatement {
    let tag_ids = sea_orm::sea_query::Query::select()
        .column(credential_tags::Column::TagId)
        .from(credential_tags::Entity)
        .and_where(credential_tags::Column::CredentialId.eq(id))
        .to_owned();
    sea_orm::sea_query::Query::select()
        .column(device_tags::Column::DeviceId)
        .from(device_tags::Entity)
        .and_where(device_tags::Column::TagId.in_subquery(tag_ids))
        .to_owned()
}

/// A restricted credential on one of a set of tags.
pub struct Restricted {
    pub tag_id: i32,
    pub label: String,
    pub networks: Vec<IpNet>,
}

/// The credentials with allowed networks attached to `tag_ids` (a device given one of those
/// tags must be inside their networks); all tags' with None.
pub async fn restricted_on_tags(
    db: &impl ConnectionTrait,
    tag_ids: Option<&[i32]>,
) -> Result<Vec<Restricted>, DbErr> {
    let mut query = credential_tags::Entity::find();
    if let Some(ids) = tag_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        query = query.filter(credential_tags::Column::TagId.is_in(ids.iter().copied()));
    }
    let rows = query.find_also_related(credentials::Entity).all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, cred)| cred.map(|c| (link.tag_id, c)))
        .filter(|(_, c)| !c.allowed_networks.trim().is_empty())
        .map(|(tag_id, c)| Restricted {
            tag_id,
            label: label(c.id, &c.name, c.owner_id.is_some()),
            networks: allowed_networks(&c),
        })
        .collect())
}

/// The labels of the credentials in `restricted` on `tag_ids` that may not go to `address`.
pub fn conflicts(restricted: &[Restricted], tag_ids: &[i32], address: &str) -> Vec<String> {
    let mut labels: Vec<String> = restricted
        .iter()
        .filter(|r| tag_ids.contains(&r.tag_id) && !permits(&r.networks, address))
        .map(|r| r.label.clone())
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// Refuses giving tags `tag_ids` to a device at `address` when a credential they carry may not
/// be sent there. `field` is the form field the message belongs to.
pub async fn check_tags_for_address(
    db: &impl ConnectionTrait,
    field: &str,
    tag_ids: &[i32],
    hostname: &str,
    address: &str,
) -> Result<(), Error> {
    let restricted = restricted_on_tags(db, Some(tag_ids)).await?;
    let labels = conflicts(&restricted, tag_ids, address);
    if labels.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors::single(
            field,
            conflict_message(hostname, address, &labels),
        ))
    }
}

/// Whether tag `tag_id` may be given to `device`: no credential it carries is restricted away
/// from the device's address.
pub async fn network_allows(
    db: &impl ConnectionTrait,
    tag_id: i32,
    device: &devices::Model,
) -> Result<bool, DbErr> {
    let restricted = restricted_on_tags(db, Some(&[tag_id])).await?;
    Ok(conflicts(&restricted, &[tag_id], &device.ip_address).is_empty())
}

/// Why a device at `address` may not have tags carrying the credentials `labels`.
pub fn conflict_message(hostname: &str, address: &str, labels: &[String]) -> String {
    format!(
        "{hostname} ({address}) is outside the allowed networks of {}, which its tags would give it: widen the credential's networks or use another tag.",
        labels.join(", ")
    )
}

async fn warning_days(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    settings::int(db, &CREDENTIALS_EXPIRY_WARNING_DAYS).await
}

/// Credentials the viewer may see, expired ones only when asked for.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    include_expired: bool,
) -> Result<Vec<CredentialView>, DbErr> {
    let days = warning_days(db).await?;
    let now = Utc::now();
    let mut q = credentials::Entity::find().filter(visible_to(viewer));
    if !include_expired {
        q = q.filter(
            Condition::any()
                .add(credentials::Column::ValidUntil.is_null())
                .add(credentials::Column::ValidUntil.gt(now)),
        );
    }
    Ok(q.order_by_asc(credentials::Column::Name)
        .order_by_asc(credentials::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(|m| CredentialView::of(m, days, now))
        .collect())
}

/// How many private credentials of other users exist (admins see the number, not the items).
pub async fn others_private_count(db: &impl ConnectionTrait, viewer: Viewer) -> Result<u64, DbErr> {
    credentials::Entity::find()
        .filter(credentials::Column::OwnerId.is_not_null())
        .filter(credentials::Column::OwnerId.ne(viewer.user_id))
        .count(db)
        .await
}

async fn get_model(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<credentials::Model, Error> {
    credentials::Entity::find_by_id(id)
        .filter(visible_to(viewer))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<CredentialView, Error> {
    let m = get_model(db, viewer, id).await?;
    Ok(CredentialView::of(&m, warning_days(db).await?, Utc::now()))
}

/// The form as typed: its body, this service's input, and what a form shown again holds (after
/// [`CredentialInput::without_secrets`]). Empty secret fields keep the stored value; the clear
/// boxes remove it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CredentialInput {
    pub name: String,
    pub kind: String,
    pub username: String,
    pub secret: String,
    #[serde(default, deserialize_with = "ticked")]
    pub clear_secret: bool,
    pub enable_secret: String,
    #[serde(default, deserialize_with = "ticked")]
    pub clear_enable_secret: bool,
    pub private_key: String,
    #[serde(default, deserialize_with = "ticked")]
    pub clear_private_key: bool,
    pub description: String,
    pub valid_until: String,
    /// CIDRs or addresses the credential may be sent to; empty: any.
    pub allowed_networks: String,
    #[serde(deserialize_with = "toggle")]
    pub private: bool,
    /// The user confirmed making a credential private although other users' devices use it.
    #[serde(default, deserialize_with = "ticked")]
    pub confirm_private: bool,
}

impl CredentialInput {
    pub fn for_new() -> Self {
        Self {
            kind: CredentialKind::Ssh.as_str().into(),
            ..Self::default()
        }
    }

    /// A stored credential as its form shows it: never a secret, only whether one is stored.
    pub fn of(cred: &CredentialView) -> Self {
        Self {
            name: cred.name.clone(),
            kind: cred.kind.as_str().into(),
            username: cred.username.clone(),
            description: cred.description.clone().unwrap_or_default(),
            valid_until: cred
                .valid_until
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            allowed_networks: cred.networks_text(),
            private: cred.private,
            ..Self::default()
        }
    }

    /// The input to show again: a typed secret is never sent back to the browser.
    pub fn without_secrets(self) -> Self {
        Self {
            secret: String::new(),
            enable_secret: String::new(),
            private_key: String::new(),
            ..self
        }
    }
}

struct Valid {
    name: String,
    kind: CredentialKind,
    username: String,
    description: Option<String>,
    valid_until: Option<DateTime<Utc>>,
    allowed_networks: String,
}

/// `YYYY-MM-DD` (end of that day, UTC) or the `YYYY-MM-DDTHH:MM` of a datetime-local input.
pub fn parse_valid_until(text: &str) -> Result<Option<DateTime<Utc>>, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M") {
        return Ok(Some(dt.and_utc()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(23, 59, 59).map(|dt| dt.and_utc()));
    }
    Err("Enter a date like 2027-01-31 (or a date and time).")
}

fn validate(input: &CredentialInput) -> Result<Valid, Error> {
    let mut e = FieldErrors::new();
    let name = e.required("name", &input.name, MAX_NAME);
    let kind = CredentialKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", "Pick ssh, tacacs, generic or token.");
    }
    // A token needs no username (git servers and APIs read the token alone).
    let username = if kind == Some(CredentialKind::Token) {
        e.optional("username", &input.username, MAX_NAME)
            .unwrap_or_default()
    } else {
        e.required("username", &input.username, MAX_NAME)
    };
    let description = e.optional("description", &input.description, 2000);
    for (field, value) in [
        ("secret", &input.secret),
        ("enable_secret", &input.enable_secret),
        ("private_key", &input.private_key),
    ] {
        if value.chars().count() > MAX_SECRET {
            e.add(field, format!("At most {MAX_SECRET} characters."));
        }
    }
    // A secret is typed at a prompt or sent as one field: a line break would end it early and
    // whatever follows would run as a command on the device.
    for (field, value) in [
        ("username", &input.username),
        ("secret", &input.secret),
        ("enable_secret", &input.enable_secret),
    ] {
        if value.chars().any(char::is_control) {
            e.add(
                field,
                "Line breaks, tabs and other control characters are not allowed: a device would take them as the end of the line.",
            );
        }
    }
    let valid_until = parse_valid_until(&input.valid_until)
        .map_err(|m| e.add("valid_until", m))
        .ok()
        .flatten();
    let allowed_networks = parse_networks(&input.allowed_networks)
        .map_err(|m| e.add("allowed_networks", m))
        .map(|n| networks_text(&n))
        .unwrap_or_default();
    let key = input.private_key.trim();
    let looks_like_pem = key.starts_with("-----BEGIN ") && key.contains("PRIVATE KEY-----");
    if !key.is_empty() && !looks_like_pem {
        e.add(
            "private_key",
            "Paste the whole private key, from -----BEGIN ... PRIVATE KEY----- to the END line.",
        );
    }
    e.into_result()?;
    let kind = kind.ok_or_else(|| FieldErrors::single("kind", "Pick a kind."))?;
    Ok(Valid {
        name,
        kind,
        username,
        description,
        valid_until,
        allowed_networks,
    })
}

/// A secret field's new stored value: a fresh token, cleared, or unchanged (None).
fn secret_change(vault: &Vault, typed: &str, clear: bool) -> Option<Option<String>> {
    if clear {
        Some(None)
    } else if typed.is_empty() {
        None
    } else {
        Some(Some(vault.encrypt(typed)))
    }
}

/// Creates a credential. Returns it and whether its expiry lies in the past (allowed, with a
/// warning for the form).
pub async fn create(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
    viewer: Viewer,
    input: &CredentialInput,
) -> Result<(CredentialView, bool), Error> {
    let v = validate(input)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let m = credentials::ActiveModel {
        name: Set(v.name),
        kind: Set(v.kind),
        username: Set(v.username),
        secret: Set(secret_change(vault, &input.secret, false).flatten()),
        enable_secret: Set(secret_change(vault, &input.enable_secret, false).flatten()),
        private_key: Set(secret_change(vault, input.private_key.trim(), false).flatten()),
        description: Set(v.description),
        valid_until: Set(v.valid_until),
        allowed_networks: Set(v.allowed_networks),
        owner_id: Set(input.private.then_some(viewer.user_id)),
        created_by: Set(Some(viewer.user_id)),
        success_count: Set(0),
        failure_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Event::data("credential.create")
            .target("credential", m.id)
            .detail("name", label(m.id, &m.name, m.owner_id.is_some()))
            .detail("kind", m.kind.as_str())
            .detail("private", m.owner_id.is_some())
            .detail("allowed_networks", m.allowed_networks.clone())
            .detail("secret_set", m.secret.is_some()),
    )
    .await?;
    txn.commit().await?;
    let past = m.valid_until.is_some_and(|t| t <= now);
    Ok((CredentialView::of(&m, warning_days(db).await?, now), past))
}

pub async fn update(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
    input: &CredentialInput,
) -> Result<CredentialView, Error> {
    let v = validate(input)?;
    let txn = crate::db::begin_write(db).await?;
    let m = get_model(&txn, viewer, id).await?;
    let new_secret = secret_change(vault, &input.secret, input.clear_secret);
    let new_enable = secret_change(vault, &input.enable_secret, input.clear_enable_secret);
    let new_key = secret_change(vault, input.private_key.trim(), input.clear_private_key);
    let new_owner = new_scope(&txn, &m, viewer, input).await?;
    // Field names only: the audit log never sees a secret or its token.
    let fields = audit::changed_fields(&[
        ("name", v.name != m.name),
        ("kind", v.kind != m.kind),
        ("username", v.username != m.username),
        ("secret", new_secret.is_some()),
        ("enable_secret", new_enable.is_some()),
        ("private_key", new_key.is_some()),
        ("description", v.description != m.description),
        ("valid_until", v.valid_until != m.valid_until),
        ("allowed_networks", v.allowed_networks != m.allowed_networks),
        ("scope", new_owner != m.owner_id),
    ]);
    let networks_before = m.allowed_networks.clone();
    let mut a = m.into_active_model();
    a.name = Set(v.name);
    a.kind = Set(v.kind);
    a.username = Set(v.username);
    if let Some(s) = new_secret {
        a.secret = Set(s);
    }
    if let Some(s) = new_enable {
        a.enable_secret = Set(s);
    }
    if let Some(s) = new_key {
        a.private_key = Set(s);
    }
    a.description = Set(v.description);
    a.valid_until = Set(v.valid_until);
    a.allowed_networks = Set(v.allowed_networks);
    a.owner_id = Set(new_owner);
    a.updated_at = Set(Utc::now());
    let m = a.update(&txn).await?;
    if !fields.is_empty() {
        let mut event = Event::data("credential.update")
            .target("credential", id)
            .detail("name", label(m.id, &m.name, m.owner_id.is_some()))
            .detail("fields", fields.clone());
        if fields.contains(&"allowed_networks") {
            event = event
                .detail("allowed_networks_before", networks_before)
                .detail("allowed_networks_after", m.allowed_networks.clone());
        }
        audit::record(&txn, actor, event).await?;
    }
    txn.commit().await?;
    Ok(CredentialView::of(&m, warning_days(db).await?, Utc::now()))
}

/// The owner after an update. A private credential is seen (and so changed) only by its owner,
/// who may make it general again. A general one becomes private only by its creator or an
/// admin, and, while tags it is attached to are on devices of other users, only after the user
/// confirmed that those devices lose it: taking it private would take it away from them.
async fn new_scope(
    db: &impl ConnectionTrait,
    m: &credentials::Model,
    viewer: Viewer,
    input: &CredentialInput,
) -> Result<Option<i32>, Error> {
    let wanted = input.private.then_some(viewer.user_id);
    if m.owner_id.is_some() || wanted.is_none() {
        // Private ones reach here only for their owner (`get_model`); general stays general.
        return Ok(wanted);
    }
    if m.created_by != Some(viewer.user_id) && !viewer.is_admin {
        return Err(FieldErrors::single(
            "private",
            "Only the user who created this credential or an administrator can make it private: others use it.",
        ));
    }
    let others = devices_of_others_using(db, m.id, viewer.user_id).await?;
    if others > 0 && !input.confirm_private {
        return Err(FieldErrors::single(
            "private",
            format!(
                "{others} device(s) of other users get this credential through its tags; made private, their backups stop using it. Tick \"confirm\" to do it anyway, or detach it from those tags first."
            ),
        ));
    }
    Ok(wanted)
}

/// Devices not owned by `user_id` (unowned ones included) that reach credential `id` through
/// their tags.
async fn devices_of_others_using(
    db: &impl ConnectionTrait,
    id: i32,
    user_id: i32,
) -> Result<u64, DbErr> {
    devices::Entity::find()
        .filter(devices::Column::Id.in_subquery(devices_with_credential(id)))
        .filter(
            Condition::any()
                .add(devices::Column::OwnerId.is_null())
                .add(devices::Column::OwnerId.ne(user_id)),
        )
        .count(db)
        .await
}

/// Deletes a credential the viewer can see, or, for an admin, another user's private one.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
) -> Result<String, Error> {
    let txn = crate::db::begin_write(db).await?;
    let m = credentials::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let allowed = m.owner_id.is_none() || m.owner_id == Some(viewer.user_id) || viewer.is_admin;
    if !allowed {
        return Err(Error::NotFound);
    }
    credentials::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("credential.delete")
            .target("credential", id)
            .detail(
                "name",
                if m.owner_id.is_some() && m.owner_id != Some(viewer.user_id) {
                    "(private)".to_string()
                } else {
                    m.name.clone()
                },
            )
            .detail("private", m.owner_id.is_some()),
    )
    .await?;
    txn.commit().await?;
    Ok(m.name)
}

/// Other users' private credentials, for an admin's delete list: owner and dates, no names.
pub async fn others_private(
    db: &impl ConnectionTrait,
    viewer: Viewer,
) -> Result<Vec<credentials::Model>, DbErr> {
    if !viewer.is_admin {
        return Ok(Vec::new());
    }
    credentials::Entity::find()
        .filter(credentials::Column::OwnerId.is_not_null())
        .filter(credentials::Column::OwnerId.ne(viewer.user_id))
        .order_by_asc(credentials::Column::OwnerId)
        .all(db)
        .await
}

pub struct TagLink {
    pub tag: tag_entity::Model,
    pub priority: i32,
}

pub async fn tags_of(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<Vec<TagLink>, Error> {
    get_model(db, viewer, id).await?;
    let rows = credential_tags::Entity::find()
        .filter(credential_tags::Column::CredentialId.eq(id))
        .find_also_related(tag_entity::Entity)
        .order_by_asc(credential_tags::Column::Priority)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(l, t)| {
            t.map(|tag| TagLink {
                tag,
                priority: l.priority,
            })
        })
        .collect())
}

pub fn parse_priority(text: &str) -> Result<i32, Error> {
    match text.trim().parse::<i32>() {
        Ok(p) if (0..=10_000).contains(&p) => Ok(p),
        _ => Err(FieldErrors::single(
            "priority",
            "Priority must be a whole number from 0 to 10000 (lower is tried first).",
        )),
    }
}

/// Attaches a credential to a tag (or changes its priority there).
pub async fn attach(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
    tag_id: i32,
    priority: i32,
) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let cred = get_model(&txn, viewer, id).await?;
    let tag = tags::get(&txn, tag_id)
        .await
        .map_err(|_| FieldErrors::single("tag_id", "That tag does not exist."))?;
    let networks = allowed_networks(&cred);
    let outside: Vec<String> = tagged_devices(&txn, tag_id)
        .await?
        .into_iter()
        .filter(|(_, ip)| !permits(&networks, ip))
        .map(|(hostname, ip)| format!("{hostname} ({ip})"))
        .collect();
    if !outside.is_empty() {
        return Err(FieldErrors::single(
            "tag_id",
            format!(
                "{} device(s) with tag {} are outside this credential's allowed networks: {}. Widen its networks first.",
                outside.len(),
                tag.name,
                outside
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let existing = credential_tags::Entity::find()
        .filter(credential_tags::Column::CredentialId.eq(id))
        .filter(credential_tags::Column::TagId.eq(tag_id))
        .one(&txn)
        .await?;
    match existing {
        Some(link) => {
            let mut a = link.into_active_model();
            a.priority = Set(priority);
            a.update(&txn).await?;
        }
        None => {
            credential_tags::ActiveModel {
                credential_id: Set(id),
                tag_id: Set(tag_id),
                priority: Set(priority),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::record(
        &txn,
        actor,
        tag_event(Event::data("credential.attach"), &cred, &tag).detail("priority", priority),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An attach or detach entry: a private credential and its tag by id only, since which tags a
/// user's private credential serves is theirs to know.
fn tag_event(event: Event, cred: &credentials::Model, tag: &tag_entity::Model) -> Event {
    let event = event
        .target("credential", cred.id)
        .detail("name", label(cred.id, &cred.name, cred.owner_id.is_some()));
    if cred.owner_id.is_some() {
        event.detail("tag_id", tag.id)
    } else {
        event.detail("tag", tag.name.clone())
    }
}

pub async fn detach(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
    tag_id: i32,
) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let cred = get_model(&txn, viewer, id).await?;
    let tag = tags::get(&txn, tag_id).await?;
    credential_tags::Entity::delete_many()
        .filter(credential_tags::Column::CredentialId.eq(id))
        .filter(credential_tags::Column::TagId.eq(tag_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        tag_event(Event::data("credential.detach"), &cred, &tag),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The credentials a device will try, in order: by priority on its tags, then the one that
/// worked most recently; each once; expired ones left out. `viewer` limits the list to what that
/// user may see (None: the backup engine's view, general credentials only).
pub async fn for_device(
    db: &impl ConnectionTrait,
    viewer: Option<Viewer>,
    device: &devices::Model,
) -> Result<Vec<DeviceCredential>, DbErr> {
    let ordered = in_order_for_device(db, viewer, device.id).await?;
    if ordered.is_empty() {
        return Ok(Vec::new());
    }
    let days = warning_days(db).await?;
    let now = Utc::now();
    Ok(ordered
        .into_iter()
        .map(|(c, priority)| {
            let view = CredentialView::of(&c, days, now);
            DeviceCredential {
                permitted: permits(&view.allowed_networks, &device.ip_address),
                view,
                priority,
            }
        })
        .collect())
}

/// A credential on a device's tags, as the device page lists it.
pub struct DeviceCredential {
    pub view: CredentialView,
    pub priority: i32,
    /// False when the device's address is outside the credential's allowed networks: it is
    /// never sent to this device.
    pub permitted: bool,
}

/// `for_device` as rows: each with its best priority on the device's tags.
async fn in_order_for_device(
    db: &impl ConnectionTrait,
    viewer: Option<Viewer>,
    device_id: i32,
) -> Result<Vec<(credentials::Model, i32)>, DbErr> {
    let links = credential_tags::Entity::find()
        .filter(
            credential_tags::Column::TagId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(device_tags::Column::TagId)
                    .from(device_tags::Entity)
                    .and_where(device_tags::Column::DeviceId.eq(device_id))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = links.iter().map(|l| l.credential_id).collect();
    let now = Utc::now();
    let mut q = credentials::Entity::find()
        .filter(credentials::Column::Id.is_in(ids))
        .filter(
            Condition::any()
                .add(credentials::Column::ValidUntil.is_null())
                .add(credentials::Column::ValidUntil.gt(now)),
        );
    q = match viewer {
        Some(v) => q.filter(visible_to(v)),
        None => q.filter(credentials::Column::OwnerId.is_null()),
    };
    let mut ordered: Vec<(credentials::Model, i32)> = q
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let best = links
                .iter()
                .filter(|l| l.credential_id == c.id)
                .map(|l| l.priority)
                .min()
                .unwrap_or(i32::MAX);
            (c, best)
        })
        .collect();
    ordered.sort_by(|(a, pa), (b, pb)| {
        pa.cmp(pb)
            .then(b.last_success_at.cmp(&a.last_success_at))
            .then(a.id.cmp(&b.id))
    });
    let mut seen = HashSet::new();
    ordered.retain(|(c, _)| seen.insert(c.id));
    Ok(ordered)
}

/// A credential ready for a login attempt. Only the backup engine (worker) calls this.
#[derive(Clone)]
pub struct UsableCredential {
    pub id: i32,
    pub name: String,
    /// Owned by a user: its name is theirs to see only.
    pub private: bool,
    pub kind: CredentialKind,
    pub username: String,
    pub secret: Option<String>,
    pub enable_secret: Option<String>,
    pub private_key: Option<String>,
}

impl std::fmt::Debug for UsableCredential {
    // Secrets must not reach logs through a stray `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsableCredential")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The credentials a session with the device tries, in order: the general ones on its tags and,
/// when the work is done for a user (a job they started or scheduled, their connection test),
/// that user's private ones.
///
/// A credential whose allowed networks leave out the device's address is withheld (never
/// decrypted for it), and the reason is returned for the job log.
pub async fn usable_for_device(
    db: &impl ConnectionTrait,
    vault: &Vault,
    device: &devices::Model,
    on_behalf_of: Option<i32>,
) -> Result<Usable, Error> {
    let viewer = on_behalf_of.map(|user_id| Viewer {
        user_id,
        is_admin: false,
    });
    let order = in_order_for_device(db, viewer, device.id).await?;
    let mut out = Usable {
        credentials: Vec::with_capacity(order.len()),
        withheld: Vec::new(),
    };
    for (m, _) in order {
        let networks = allowed_networks(&m);
        if !permits(&networks, &device.ip_address) {
            let private = m.owner_id.is_some();
            out.withheld.push(if private {
                format!(
                    "{} withheld: {} is outside its allowed networks",
                    label(m.id, &m.name, private),
                    device.ip_address
                )
            } else {
                format!(
                    "credential {:?} withheld: {} is outside its allowed networks ({})",
                    m.name,
                    device.ip_address,
                    networks_text(&networks)
                )
            });
            continue;
        }
        let decrypt = |t: &Option<String>| t.as_deref().map(|t| vault.decrypt(t)).transpose();
        out.credentials.push(UsableCredential {
            secret: decrypt(&m.secret)?,
            enable_secret: decrypt(&m.enable_secret)?,
            private_key: decrypt(&m.private_key)?,
            id: m.id,
            private: m.owner_id.is_some(),
            name: m.name,
            kind: m.kind,
            username: m.username,
        });
    }
    Ok(out)
}

/// The credentials a scan tries (discovery), in order, each with the networks it may be sent to:
/// the chosen ones in the order given, or a tag's by priority. Private ones only their owner's
/// (`on_behalf_of`); expired ones never. Decrypted, for the worker.
pub async fn usable_for_scan(
    db: &impl ConnectionTrait,
    vault: &Vault,
    chosen: &[i32],
    tag: Option<i32>,
    on_behalf_of: Option<i32>,
) -> Result<Vec<(UsableCredential, Vec<IpNet>)>, Error> {
    let mut order: Vec<i32> = chosen.to_vec();
    if let Some(tag) = tag {
        let links = credential_tags::Entity::find()
            .filter(credential_tags::Column::TagId.eq(tag))
            .order_by_asc(credential_tags::Column::Priority)
            .order_by_asc(credential_tags::Column::CredentialId)
            .all(db)
            .await?;
        order.extend(links.iter().map(|l| l.credential_id));
    }
    let mut seen = HashSet::new();
    order.retain(|id| seen.insert(*id));
    let now = Utc::now();
    let mut q = credentials::Entity::find()
        .filter(credentials::Column::Id.is_in(order.clone()))
        .filter(
            Condition::any()
                .add(credentials::Column::ValidUntil.is_null())
                .add(credentials::Column::ValidUntil.gt(now)),
        );
    q = match on_behalf_of {
        Some(user_id) => q.filter(visible_to(Viewer {
            user_id,
            is_admin: false,
        })),
        None => q.filter(credentials::Column::OwnerId.is_null()),
    };
    let found = q.all(db).await?;
    let mut out = Vec::with_capacity(found.len());
    for id in order {
        let Some(m) = found.iter().find(|m| m.id == id) else {
            continue;
        };
        let decrypt = |t: &Option<String>| t.as_deref().map(|t| vault.decrypt(t)).transpose();
        out.push((
            UsableCredential {
                secret: decrypt(&m.secret)?,
                enable_secret: decrypt(&m.enable_secret)?,
                private_key: decrypt(&m.private_key)?,
                id: m.id,
                private: m.owner_id.is_some(),
                name: m.name.clone(),
                kind: m.kind,
                username: m.username.clone(),
            },
            allowed_networks(m),
        ));
    }
    Ok(out)
}

/// The credentials a device may receive, and why the others were withheld.
pub struct Usable {
    pub credentials: Vec<UsableCredential>,
    pub withheld: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_dates() {
        let now = Utc::now();
        assert_eq!(Status::of(None, 7, now), Status::Active);
        assert_eq!(
            Status::of(Some(now - Duration::hours(1)), 7, now),
            Status::Expired
        );
        assert_eq!(
            Status::of(Some(now + Duration::days(3)), 7, now),
            Status::Expiring
        );
        assert_eq!(
            Status::of(Some(now + Duration::days(30)), 7, now),
            Status::Active
        );
        assert!(parse_valid_until("2027-01-31").unwrap().is_some());
        assert!(parse_valid_until("2027-01-31T10:30").unwrap().is_some());
        assert!(parse_valid_until("31/01/2027").is_err());
        assert!(parse_valid_until("").unwrap().is_none());
    }
}
