//! The CheckMK mapping: which devices become CheckMK hosts (a Nautobot source, or the inventory
//! limited by a tag), in which folder and site, with which attributes, and what comparisons
//! ignore. One row, edited as a form, checked when saved and audited; `Mapper` turns a source
//! device into the host CheckMK should have, and `differences` says how a host differs from it.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::rules::{self, Rule, SourceDevice, Template};
use crate::entity::{checkmk_mapping as mapping, tags};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::nautobot::sources as nautobot_sources;
use crate::services::validation::{FieldErrors, toggle};
use crate::vocabulary::CheckmkSourceKind;

/// The one mapping row's id.
const ID: i32 = 1;

/// The mapping form as sent.
#[derive(Clone, Debug, Deserialize)]
pub struct MappingInput {
    pub source_kind: String,
    /// A Nautobot source's id, as chosen in the form.
    pub nautobot_source_id: String,
    pub inventory_tag: String,
    pub folder_rules: String,
    pub folder_default: String,
    pub site_rules: String,
    pub site_default: String,
    pub alias: String,
    pub labels: String,
    pub tag_groups: String,
    pub ignored_attributes: String,
    #[serde(deserialize_with = "toggle")]
    pub allow_delete: bool,
    #[serde(deserialize_with = "toggle")]
    pub scheduled_add: bool,
    #[serde(deserialize_with = "toggle")]
    pub scheduled_update: bool,
    #[serde(deserialize_with = "toggle")]
    pub scheduled_activate: bool,
    /// The device a preview shows (not stored).
    #[serde(default)]
    pub preview_device: String,
}

impl MappingInput {
    pub fn of(m: &mapping::Model) -> Self {
        MappingInput {
            source_kind: m.source_kind.as_str().into(),
            nautobot_source_id: m
                .nautobot_source_id
                .map(|i| i.to_string())
                .unwrap_or_default(),
            inventory_tag: m.inventory_tag.clone(),
            folder_rules: m.folder_rules.clone(),
            folder_default: m.folder_default.clone(),
            site_rules: m.site_rules.clone(),
            site_default: m.site_default.clone(),
            alias: m.alias.clone(),
            labels: m.labels.clone(),
            tag_groups: m.tag_groups.clone(),
            ignored_attributes: m.ignored_attributes.clone(),
            allow_delete: m.allow_delete,
            scheduled_add: m.scheduled_add,
            scheduled_update: m.scheduled_update,
            scheduled_activate: m.scheduled_activate,
            preview_device: String::new(),
        }
    }
}

/// The mapping a fresh installation starts with.
fn initial() -> mapping::Model {
    mapping::Model {
        id: ID,
        source_kind: CheckmkSourceKind::Inventory,
        nautobot_source_id: None,
        inventory_tag: String::new(),
        folder_rules: String::new(),
        folder_default: "/network/{location}".into(),
        site_rules: String::new(),
        site_default: String::new(),
        alias: String::new(),
        labels: String::new(),
        tag_groups: String::new(),
        ignored_attributes: "meta_data\ntag_address_family".into(),
        allow_delete: false,
        scheduled_add: false,
        scheduled_update: false,
        scheduled_activate: false,
        updated_at: Utc::now(),
    }
}

/// The saved mapping, or the initial one when none was saved yet.
pub async fn load(db: &impl ConnectionTrait) -> Result<mapping::Model, Error> {
    Ok(mapping::Entity::find_by_id(ID)
        .one(db)
        .await?
        .unwrap_or_else(initial))
}

/// Whether a mapping was ever saved (a comparison needs one).
pub async fn is_saved(db: &impl ConnectionTrait) -> Result<bool, Error> {
    Ok(mapping::Entity::find_by_id(ID).one(db).await?.is_some())
}

fn lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
    }
    out
}

/// Checks the form: every field's message in words, the source against the database; the
/// mapping it makes (not saved: a preview uses it as typed).
pub async fn check(
    db: &impl ConnectionTrait,
    input: &MappingInput,
) -> Result<mapping::Model, Error> {
    let mut errors = FieldErrors::new();
    let mut m = initial();
    match CheckmkSourceKind::parse(input.source_kind.trim()) {
        Some(kind) => m.source_kind = kind,
        None => errors.add("source_kind", "Choose the inventory or a Nautobot source."),
    }
    if m.source_kind == CheckmkSourceKind::Nautobot {
        match input.nautobot_source_id.trim().parse::<i32>() {
            Ok(id) if nautobot_sources::get(db, id).await.is_ok() => {
                m.nautobot_source_id = Some(id)
            }
            _ => errors.add("nautobot_source_id", "Choose one of the Nautobot sources."),
        }
    }
    m.inventory_tag = input.inventory_tag.trim().to_string();
    if m.source_kind == CheckmkSourceKind::Inventory && !m.inventory_tag.is_empty() {
        let known = tags::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .any(|t| t.name.eq_ignore_ascii_case(&m.inventory_tag));
        if !known {
            errors.add("inventory_tag", "No tag has this name.");
        }
    }
    let mut check = |field: &str, result: Result<(), String>| {
        if let Err(message) = result {
            errors.add(field, message);
        }
    };
    check(
        "folder_default",
        Template::parse(&input.folder_default).and_then(|t| {
            if t.is_empty() {
                Err("enter a folder, e.g. /network/{location}".into())
            } else if !input.folder_default.trim().starts_with('/') {
                Err("a folder starts with /".into())
            } else {
                Ok(())
            }
        }),
    );
    check(
        "folder_rules",
        rules::parse_rules(&input.folder_rules).map(drop),
    );
    check(
        "site_rules",
        rules::parse_rules(&input.site_rules).map(drop),
    );
    check(
        "site_default",
        Template::parse(&input.site_default).map(drop),
    );
    check("alias", Template::parse(&input.alias).map(drop));
    check("labels", rules::parse_pairs(&input.labels).map(drop));
    check(
        "tag_groups",
        rules::parse_pairs(&input.tag_groups).and_then(|pairs| {
            match pairs.iter().find(|(k, _)| !k.starts_with("tag_")) {
                Some((k, _)) => Err(format!(
                    "{k}: a host tag group attribute starts with tag_ (e.g. tag_criticality)"
                )),
                None => Ok(()),
            }
        }),
    );
    let ignored = lines(&input.ignored_attributes);
    if ignored.iter().any(|a| a.chars().any(char::is_whitespace)) {
        errors.add("ignored_attributes", "One attribute name per line.");
    }
    if input.folder_rules.len() > 50_000 || input.site_rules.len() > 50_000 {
        errors.add("folder_rules", "At most 50,000 characters of rules.");
    }
    errors.into_result()?;
    m.folder_rules = input.folder_rules.trim().to_string();
    m.folder_default = input.folder_default.trim().to_string();
    m.site_rules = input.site_rules.trim().to_string();
    m.site_default = input.site_default.trim().to_string();
    m.alias = input.alias.trim().to_string();
    m.labels = input.labels.trim().to_string();
    m.tag_groups = input.tag_groups.trim().to_string();
    m.ignored_attributes = ignored.join("\n");
    m.allow_delete = input.allow_delete;
    m.scheduled_add = input.scheduled_add;
    m.scheduled_update = input.scheduled_update;
    m.scheduled_activate = input.scheduled_activate;
    Ok(m)
}

/// Checks and saves the mapping; audited with the fields that changed.
pub async fn save(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: &MappingInput,
) -> Result<mapping::Model, Error> {
    let new = check(db, input).await?;
    let old = mapping::Entity::find_by_id(ID).one(db).await?;
    let changed = match &old {
        Some(old) => audit::changed_fields(&[
            ("source_kind", old.source_kind != new.source_kind),
            (
                "nautobot_source_id",
                old.nautobot_source_id != new.nautobot_source_id,
            ),
            ("inventory_tag", old.inventory_tag != new.inventory_tag),
            ("folder_rules", old.folder_rules != new.folder_rules),
            ("folder_default", old.folder_default != new.folder_default),
            ("site_rules", old.site_rules != new.site_rules),
            ("site_default", old.site_default != new.site_default),
            ("alias", old.alias != new.alias),
            ("labels", old.labels != new.labels),
            ("tag_groups", old.tag_groups != new.tag_groups),
            (
                "ignored_attributes",
                old.ignored_attributes != new.ignored_attributes,
            ),
            ("allow_delete", old.allow_delete != new.allow_delete),
            ("scheduled_add", old.scheduled_add != new.scheduled_add),
            (
                "scheduled_update",
                old.scheduled_update != new.scheduled_update,
            ),
            (
                "scheduled_activate",
                old.scheduled_activate != new.scheduled_activate,
            ),
        ]),
        None => vec!["created"],
    };
    let mut active = new.clone().into_active_model();
    active.updated_at = Set(Utc::now());
    let saved = if old.is_some() {
        active.reset_all().update(db).await?
    } else {
        mapping::Entity::insert(active.clone()).exec(db).await?;
        load(db).await?
    };
    audit::record(
        db,
        actor,
        Event::admin("checkmk.mapping.update")
            .target("checkmk_mapping", ID)
            .detail("changed", json!(changed)),
    )
    .await?;
    Ok(saved)
}

/// The host CheckMK should have for a source device.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    pub name: String,
    pub folder: String,
    pub attributes: Map<String, Value>,
}

impl Host {
    pub fn to_json(&self) -> Value {
        json!({"folder": self.folder, "attributes": self.attributes})
    }
}

/// A stored mapping, its rules compiled.
pub struct Mapper {
    folder_rules: Vec<Rule>,
    folder_default: Template,
    site_rules: Vec<Rule>,
    site_default: Template,
    alias: Template,
    labels: Vec<(String, Template)>,
    tag_groups: Vec<(String, Template)>,
    pub ignored: BTreeSet<String>,
    /// The fixed starts of the folder templates: where extra hosts are looked for.
    pub roots: Vec<String>,
}

impl Mapper {
    /// A saved mapping was checked when saved; an error here means the row was edited by hand.
    pub fn new(m: &mapping::Model) -> Result<Mapper, Error> {
        let bad = |what: &str, e: String| {
            Error::Refused(format!(
                "the CheckMK mapping's {what} is not valid ({e}): save the mapping again"
            ))
        };
        let folder_rules =
            rules::parse_rules(&m.folder_rules).map_err(|e| bad("folder rules", e))?;
        let mut roots: Vec<String> = folder_rules
            .iter()
            .map(|r| rules::folder_root(r.then.text()))
            .collect();
        roots.push(rules::folder_root(&m.folder_default));
        roots.sort();
        roots.dedup();
        // `/a` covers `/a/b`: keep only the outermost roots.
        let outer: Vec<String> = roots
            .iter()
            .filter(|r| {
                !roots
                    .iter()
                    .any(|o| o != *r && (o == "/" || r.starts_with(&format!("{o}/"))))
            })
            .cloned()
            .collect();
        Ok(Mapper {
            folder_rules,
            folder_default: Template::parse(&m.folder_default)
                .map_err(|e| bad("default folder", e))?,
            site_rules: rules::parse_rules(&m.site_rules).map_err(|e| bad("site rules", e))?,
            site_default: Template::parse(&m.site_default).map_err(|e| bad("default site", e))?,
            alias: Template::parse(&m.alias).map_err(|e| bad("alias", e))?,
            labels: rules::parse_pairs(&m.labels).map_err(|e| bad("labels", e))?,
            tag_groups: rules::parse_pairs(&m.tag_groups).map_err(|e| bad("tag groups", e))?,
            ignored: lines(&m.ignored_attributes).into_iter().collect(),
            roots: outer,
        })
    }

    /// The host for a device, or why there cannot be one.
    pub fn host(&self, d: &SourceDevice) -> Result<Host, String> {
        let address = d
            .address
            .clone()
            .ok_or("no address: the source gives the device no primary IP")?;
        let folder =
            rules::folder_path(&rules::choose(&self.folder_rules, &self.folder_default, d));
        let mut attributes = Map::new();
        attributes.insert("ipaddress".into(), json!(address));
        let alias = self.alias.render(d);
        if !alias.is_empty() {
            attributes.insert("alias".into(), json!(alias));
        }
        let site = rules::choose(&self.site_rules, &self.site_default, d);
        if !site.is_empty() {
            attributes.insert("site".into(), json!(site));
        }
        let labels: Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, t)| (k.clone(), t.render(d)))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, json!(v)))
            .collect();
        if !labels.is_empty() {
            attributes.insert("labels".into(), Value::Object(labels));
        }
        for (group, t) in &self.tag_groups {
            let v = t.render(d);
            if !v.is_empty() {
                attributes.insert(group.clone(), json!(v));
            }
        }
        Ok(Host {
            name: d.name.clone(),
            folder,
            attributes,
        })
    }

    /// Whether a CheckMK folder is one the mapping manages.
    pub fn covers(&self, folder: &str) -> bool {
        self.roots
            .iter()
            .any(|r| r == "/" || folder == r || folder.starts_with(&format!("{r}/")))
    }

    /// How CheckMK's host (`folder`, `attributes`) differs from the desired one: one line per
    /// difference, ignored attributes left out.
    pub fn differences(
        &self,
        want: &Host,
        folder: &str,
        attributes: &Map<String, Value>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if want.folder != folder {
            out.push(format!("folder: {folder} → {}", want.folder));
        }
        let keys: BTreeSet<&String> = want.attributes.keys().chain(attributes.keys()).collect();
        for k in keys {
            if self.ignored.contains(k.as_str()) {
                continue;
            }
            let (w, h) = (want.attributes.get(k), attributes.get(k));
            if w != h {
                let show = |v: Option<&Value>| v.map_or("(not set)".to_string(), Value::to_string);
                out.push(format!("{k}: {} → {}", show(h), show(w)));
            }
        }
        out
    }

    /// The attributes an update writes: the desired ones plus the ignored ones CheckMK has (so
    /// replacing the attributes does not drop what the mapping leaves alone).
    pub fn update_attributes(
        &self,
        want: &Host,
        current: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = want.attributes.clone();
        for (k, v) in current {
            if self.ignored.contains(k.as_str()) && k != "meta_data" {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}
