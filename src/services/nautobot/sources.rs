//! Nautobot sources (a saved filter on Nautobot's devices and how they map to NetRaven devices)
//! and the platform-name mapping table: the forms, their checks and changes, each audited.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Deserialize;

use crate::device::platforms;
use crate::entity::{devices, nautobot_platforms, nautobot_sources as source};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::validation::{FieldErrors, MAX_NAME, toggle};
use crate::vocabulary::LeaveAction;

/// The source form as sent.
#[derive(Clone, Debug, Deserialize)]
pub struct SourceInput {
    pub name: String,
    pub description: String,
    pub locations: String,
    pub roles: String,
    pub statuses: String,
    pub tags: String,
    pub platforms: String,
    pub tenants: String,
    pub graphql_filter: String,
    pub port_field: String,
    #[serde(deserialize_with = "toggle")]
    pub import_tags: bool,
    pub location_tag_prefix: String,
    pub role_tag_prefix: String,
    pub status_tag_prefix: String,
    pub tenant_tag_prefix: String,
    pub on_leave: String,
    #[serde(deserialize_with = "toggle")]
    pub adopt: bool,
    #[serde(deserialize_with = "toggle")]
    pub write_back: bool,
    pub write_back_field: String,
}

impl SourceInput {
    pub fn for_new() -> Self {
        SourceInput {
            name: String::new(),
            description: String::new(),
            locations: String::new(),
            roles: String::new(),
            statuses: "Active".into(),
            tags: String::new(),
            platforms: String::new(),
            tenants: String::new(),
            graphql_filter: String::new(),
            port_field: String::new(),
            import_tags: true,
            location_tag_prefix: String::new(),
            role_tag_prefix: String::new(),
            status_tag_prefix: String::new(),
            tenant_tag_prefix: String::new(),
            on_leave: LeaveAction::Disable.as_str().into(),
            adopt: false,
            write_back: false,
            write_back_field: "last_backup".into(),
        }
    }

    pub fn of(s: &source::Model) -> Self {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        SourceInput {
            name: s.name.clone(),
            description: opt(&s.description),
            locations: s.locations.clone(),
            roles: s.roles.clone(),
            statuses: s.statuses.clone(),
            tags: s.tags.clone(),
            platforms: s.platforms.clone(),
            tenants: s.tenants.clone(),
            graphql_filter: opt(&s.graphql_filter),
            port_field: opt(&s.port_field),
            import_tags: s.import_tags,
            location_tag_prefix: opt(&s.location_tag_prefix),
            role_tag_prefix: opt(&s.role_tag_prefix),
            status_tag_prefix: opt(&s.status_tag_prefix),
            tenant_tag_prefix: opt(&s.tenant_tag_prefix),
            on_leave: s.on_leave.as_str().into(),
            adopt: s.adopt,
            write_back: s.write_back,
            write_back_field: s.write_back_field.clone(),
        }
    }
}

/// The filter fields of a source: the form field, the GraphQL argument, and its label.
pub const FILTERS: [(&str, &str, &str); 6] = [
    ("locations", "location", "Locations"),
    ("roles", "role", "Roles"),
    ("statuses", "status", "Statuses"),
    ("tags", "tags", "Tags"),
    ("platforms", "platform", "Platforms"),
    ("tenants", "tenant", "Tenants"),
];

/// A filter field's names: one per line or comma-separated, trimmed, without blanks or repeats.
pub fn names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

/// The filter values of a stored source, by GraphQL argument, the non-empty ones.
pub fn filters_of(s: &source::Model) -> Vec<(&'static str, Vec<String>)> {
    let texts = [
        &s.locations,
        &s.roles,
        &s.statuses,
        &s.tags,
        &s.platforms,
        &s.tenants,
    ];
    FILTERS
        .iter()
        .zip(texts)
        .map(|((_, arg, _), text)| (*arg, names(text)))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Checks a free GraphQL filter: arguments of `devices(...)` only. Brackets and quotes must
/// balance and nothing may close the argument list or open a selection, so the text cannot
/// change the query it is put into; Nautobot checks the rest when the source is read.
pub fn check_graphql_filter(text: &str) -> Result<(), &'static str> {
    let mut depth: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                (false, '\n') => return Err("A string is not closed on its line."),
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' => depth.push(']'),
            ']' if depth.pop() != Some(']') => return Err("A ] has no matching [."),
            '(' | ')' | '{' | '}' | '#' | '$' | '@' | '.' => {
                return Err(
                    "Write arguments of devices(...) only, such as has_primary_ip: true, name__ic: \"core\" (no parentheses, braces, variables, directives or comments).",
                );
            }
            _ => {}
        }
    }
    if in_string {
        return Err("A string is not closed.");
    }
    if !depth.is_empty() {
        return Err("A [ is not closed.");
    }
    if !text.trim().is_empty() && !text.contains(':') {
        return Err("Write arguments as name: value, such as has_primary_ip: true.");
    }
    Ok(())
}

/// A Nautobot custom field key: letters, digits and underscores.
fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 50
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit())
}

struct Valid {
    name: String,
    description: Option<String>,
    filters: [String; 6],
    graphql_filter: Option<String>,
    port_field: Option<String>,
    import_tags: bool,
    prefixes: [Option<String>; 4],
    on_leave: LeaveAction,
    adopt: bool,
    write_back: bool,
    write_back_field: String,
}

async fn validate(
    db: &impl ConnectionTrait,
    input: &SourceInput,
    existing_id: Option<i32>,
) -> Result<Valid, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let description = errors.optional("description", &input.description, 2000);
    let raw = [
        &input.locations,
        &input.roles,
        &input.statuses,
        &input.tags,
        &input.platforms,
        &input.tenants,
    ];
    let mut filters: [String; 6] = Default::default();
    for (i, ((field, _, _), text)) in FILTERS.iter().zip(raw).enumerate() {
        let list = names(text);
        if list.iter().any(|n| n.chars().count() > MAX_NAME) {
            errors.add(field, "Each name can have at most 255 characters.");
        } else if list.len() > 200 {
            errors.add(field, "At most 200 names.");
        }
        filters[i] = list.join("\n");
    }
    let graphql_filter = errors.optional("graphql_filter", &input.graphql_filter, 2000);
    if let Some(f) = &graphql_filter
        && let Err(m) = check_graphql_filter(f)
    {
        errors.add("graphql_filter", m);
    }
    let port_field = errors.optional("port_field", &input.port_field, 50);
    if port_field.as_deref().is_some_and(|k| !valid_key(k)) {
        errors.add(
            "port_field",
            "Enter a custom field key: letters, digits and underscores (e.g. ssh_port).",
        );
    }
    let prefix_fields = [
        ("location_tag_prefix", &input.location_tag_prefix),
        ("role_tag_prefix", &input.role_tag_prefix),
        ("status_tag_prefix", &input.status_tag_prefix),
        ("tenant_tag_prefix", &input.tenant_tag_prefix),
    ];
    let mut prefixes: [Option<String>; 4] = Default::default();
    for (i, (field, value)) in prefix_fields.iter().enumerate() {
        let p = errors.optional(field, value, 20);
        if p.as_deref().is_some_and(|p| p.contains([';', ','])) {
            errors.add(field, "A tag prefix cannot contain ; or ,.");
        }
        prefixes[i] = p;
    }
    let on_leave = LeaveAction::parse(input.on_leave.trim());
    if on_leave.is_none() {
        errors.add("on_leave", "Choose disable or delete.");
    }
    let write_back_field = input.write_back_field.trim().to_string();
    if (input.write_back || !write_back_field.is_empty()) && !valid_key(&write_back_field) {
        errors.add(
            "write_back_field",
            "Enter the key of a date/time custom field on Nautobot devices (letters, digits and underscores).",
        );
    }
    if errors.get("name").is_none() {
        let mut q = source::Entity::find().filter(
            Expr::expr(Func::lower(Expr::col(source::Column::Name))).eq(name.to_lowercase()),
        );
        if let Some(id) = existing_id {
            q = q.filter(source::Column::Id.ne(id));
        }
        if q.count(db).await? > 0 {
            errors.add("name", "A source with this name already exists.");
        }
    }
    errors.into_result()?;
    Ok(Valid {
        name,
        description,
        filters,
        graphql_filter,
        port_field,
        import_tags: input.import_tags,
        prefixes,
        on_leave: on_leave.unwrap_or(LeaveAction::Disable),
        adopt: input.adopt,
        write_back: input.write_back,
        write_back_field,
    })
}

impl Valid {
    fn set_on(self, a: &mut source::ActiveModel) {
        let [locations, roles, statuses, tags, platforms, tenants] = self.filters;
        let [location_p, role_p, status_p, tenant_p] = self.prefixes;
        a.name = Set(self.name);
        a.description = Set(self.description);
        a.locations = Set(locations);
        a.roles = Set(roles);
        a.statuses = Set(statuses);
        a.tags = Set(tags);
        a.platforms = Set(platforms);
        a.tenants = Set(tenants);
        a.graphql_filter = Set(self.graphql_filter);
        a.port_field = Set(self.port_field);
        a.import_tags = Set(self.import_tags);
        a.location_tag_prefix = Set(location_p);
        a.role_tag_prefix = Set(role_p);
        a.status_tag_prefix = Set(status_p);
        a.tenant_tag_prefix = Set(tenant_p);
        a.on_leave = Set(self.on_leave);
        a.adopt = Set(self.adopt);
        a.write_back = Set(self.write_back);
        a.write_back_field = Set(self.write_back_field);
        a.updated_at = Set(Utc::now());
    }
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<source::Model, Error> {
    source::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<source::Model>, Error> {
    Ok(source::Entity::find()
        .order_by_asc(source::Column::Name)
        .all(db)
        .await?)
}

/// Devices a source imported.
pub async fn device_count(db: &impl ConnectionTrait, id: i32) -> Result<u64, Error> {
    Ok(devices::Entity::find()
        .filter(devices::Column::NautobotSourceId.eq(id))
        .count(db)
        .await?)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &SourceInput,
) -> Result<source::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None).await?;
    let mut active = source::ActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    v.set_on(&mut active);
    let s = active.insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("nautobot_source.create")
            .target("nautobot_source", s.id)
            .detail("name", s.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(s)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &SourceInput,
) -> Result<source::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let before = get(&txn, id).await?;
    let v = validate(&txn, input, Some(id)).await?;
    let mut active = before.clone().into_active_model();
    v.set_on(&mut active);
    let s = active.update(&txn).await?;
    let fields = audit::changed_fields(&[
        ("name", s.name != before.name),
        ("description", s.description != before.description),
        ("locations", s.locations != before.locations),
        ("roles", s.roles != before.roles),
        ("statuses", s.statuses != before.statuses),
        ("tags", s.tags != before.tags),
        ("platforms", s.platforms != before.platforms),
        ("tenants", s.tenants != before.tenants),
        ("graphql_filter", s.graphql_filter != before.graphql_filter),
        ("port_field", s.port_field != before.port_field),
        ("import_tags", s.import_tags != before.import_tags),
        (
            "tag_prefixes",
            (
                &s.location_tag_prefix,
                &s.role_tag_prefix,
                &s.status_tag_prefix,
                &s.tenant_tag_prefix,
            ) != (
                &before.location_tag_prefix,
                &before.role_tag_prefix,
                &before.status_tag_prefix,
                &before.tenant_tag_prefix,
            ),
        ),
        ("on_leave", s.on_leave != before.on_leave),
        ("adopt", s.adopt != before.adopt),
        ("write_back", s.write_back != before.write_back),
        (
            "write_back_field",
            s.write_back_field != before.write_back_field,
        ),
    ]);
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("nautobot_source.update")
                .target("nautobot_source", id)
                .detail("name", s.name.clone())
                .detail("fields", fields),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(s)
}

/// Deletes a source. Its devices stay (now belonging to no source, so no sync disables them).
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> Result<source::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let s = get(&txn, id).await?;
    let released = devices::Entity::update_many()
        .col_expr(
            devices::Column::NautobotSourceId,
            Expr::value(Option::<i32>::None),
        )
        .filter(devices::Column::NautobotSourceId.eq(id))
        .exec(&txn)
        .await?
        .rows_affected;
    source::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("nautobot_source.delete")
            .target("nautobot_source", id)
            .detail("name", s.name.clone())
            .detail("devices_released", released),
    )
    .await?;
    txn.commit().await?;
    Ok(s)
}

/// The platform-name mapping table, by Nautobot platform name.
pub async fn platform_map(
    db: &impl ConnectionTrait,
) -> Result<Vec<nautobot_platforms::Model>, Error> {
    Ok(nautobot_platforms::Entity::find()
        .order_by_asc(nautobot_platforms::Column::NautobotPlatform)
        .all(db)
        .await?)
}

/// The mapping form as sent.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MappingInput {
    pub nautobot_platform: String,
    pub platform: String,
}

/// Adds a mapping, or changes the NetRaven platform of an existing Nautobot platform name.
pub async fn map_platform(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &MappingInput,
) -> Result<nautobot_platforms::Model, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("nautobot_platform", &input.nautobot_platform, MAX_NAME);
    let platform = input.platform.trim().to_string();
    if platforms::find(&platform).is_none() {
        errors.add("platform", "Choose a NetRaven platform from the list.");
    }
    errors.into_result()?;
    let txn = crate::db::begin_write(db).await?;
    let existing = nautobot_platforms::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(
                nautobot_platforms::Column::NautobotPlatform,
            )))
            .eq(name.to_lowercase()),
        )
        .one(&txn)
        .await?;
    let row = match existing {
        Some(m) => {
            let mut a = m.into_active_model();
            a.platform = Set(platform.clone());
            a.update(&txn).await?
        }
        None => {
            nautobot_platforms::ActiveModel {
                nautobot_platform: Set(name.clone()),
                platform: Set(platform.clone()),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        actor,
        Event::data("nautobot_platform.map")
            .target("nautobot_platform", row.id)
            .detail("nautobot_platform", name)
            .detail("platform", platform),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn unmap_platform(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let row = nautobot_platforms::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    nautobot_platforms::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Event::data("nautobot_platform.unmap")
            .target("nautobot_platform", id)
            .detail("nautobot_platform", row.nautobot_platform),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_split_on_lines_and_commas() {
        assert_eq!(names(" DC1\nDC2, DC1\n\n"), vec!["DC1", "DC2"]);
        assert!(names("  ").is_empty());
    }

    #[test]
    fn a_graphql_filter_cannot_leave_the_argument_list() {
        assert!(check_graphql_filter("has_primary_ip: true").is_ok());
        assert!(
            check_graphql_filter("name__ic: \"core (a)\", location: [\"DC1\", \"DC2\"]").is_ok()
        );
        assert!(check_graphql_filter("limit: 1) { id } x: devices(").is_err());
        assert!(check_graphql_filter("name: \"open").is_err());
        assert!(check_graphql_filter("location: [\"DC1\"").is_err());
        assert!(check_graphql_filter("a: $var").is_err());
        assert!(check_graphql_filter("just words").is_err());
    }
}
