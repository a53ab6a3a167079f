//! Onboarding what a scan identified: each chosen row (or every identified new one) becomes a
//! device with its host name, address, port, platform and facts and the chosen tags (tag rules
//! then apply); a device already in the inventory (by address or host name) is never added again
//! and, when asked, gets the platform and facts the scan read. The credential that worked can be
//! attached to the first chosen tag; a first backup and Nautobot onboarding are optional.

use std::collections::BTreeSet;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use serde_json::json;

use super::run::Inventory;
use crate::background::Queue;
use crate::crypto::Vault;
use crate::entity::{devices, discovery_results};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::credentials::{self, Viewer};
use crate::services::devices::{self as device_service, DeviceInput};
use crate::services::jobs::{self, Target};
use crate::services::nautobot::{client::Client, onboard as nautobot_onboard};
use crate::services::validation::FieldErrors;
use crate::vocabulary::DiscoveryOutcome;

/// What to onboard and how.
#[derive(Clone, Debug, Default)]
pub struct Onboarding {
    /// Result rows chosen; empty with `all_new`: every identified row not in the inventory.
    pub ids: Vec<i32>,
    pub all_new: bool,
    pub tag_ids: Vec<i32>,
    /// Attach the credential that logged in to the first chosen tag.
    pub attach_credential: bool,
    /// Devices already in the inventory get the scan's platform and facts.
    pub update_existing: bool,
    pub backup: bool,
    pub nautobot: bool,
}

/// What onboarding did.
#[derive(Debug, Default)]
pub struct Onboarded {
    pub added: Vec<i32>,
    pub updated: usize,
    pub unchanged: usize,
    pub backup_job: Option<i32>,
    /// Per device, what went wrong (Nautobot onboarding, a refused device).
    pub problems: Vec<String>,
}

impl Onboarded {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} devices added, {} updated, {} already in the inventory left as they were",
            self.added.len(),
            self.updated,
            self.unchanged
        );
        if let Some(job) = self.backup_job {
            s.push_str(&format!("; first backup: job {job}"));
        }
        s
    }
}

/// The identified rows the onboarding covers.
async fn chosen(
    db: &DatabaseConnection,
    job_id: i32,
    o: &Onboarding,
    inventory: &Inventory,
) -> Result<Vec<discovery_results::Model>, Error> {
    let rows = discovery_results::Entity::find()
        .filter(discovery_results::Column::JobLogId.eq(job_id))
        .filter(discovery_results::Column::Outcome.eq(DiscoveryOutcome::Identified))
        .order_by_asc(discovery_results::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            if o.all_new {
                inventory
                    .existing(&r.address, r.hostname.as_deref())
                    .is_none()
            } else {
                o.ids.contains(&r.id)
            }
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
pub async fn onboard(
    db: &DatabaseConnection,
    queue: &Queue,
    vault: &Vault,
    actor: &Actor,
    viewer: Viewer,
    job_id: i32,
    o: &Onboarding,
) -> Result<Onboarded, Error> {
    let inventory = Inventory::load(db).await?;
    let rows = chosen(db, job_id, o, &inventory).await?;
    if rows.is_empty() {
        return Err(FieldErrors::single(
            "ids",
            "Choose identified rows to onboard (or onboard every identified new device).",
        ));
    }
    if o.attach_credential && o.tag_ids.is_empty() {
        return Err(FieldErrors::single(
            "tag_ids",
            "Choose a tag: the credential that worked is attached to the first chosen tag.",
        ));
    }
    let nautobot = if o.nautobot {
        let client = Client::from_settings(db, vault)
            .await
            .map_err(|e| FieldErrors::single("nautobot", format!("Nautobot is not ready: {e}")))?;
        let choices = nautobot_onboard::choices(&client)
            .await
            .map_err(|e| FieldErrors::single("nautobot", format!("Nautobot: {e}")))?;
        Some(choices)
    } else {
        None
    };
    let mut done = Onboarded::default();
    let mut credentials_used = BTreeSet::new();
    // Two rows of one scan may name the same device (two ports): the first one wins.
    let mut seen = BTreeSet::new();
    for row in &rows {
        if !seen.insert(row.address.clone()) {
            continue;
        }
        let facts = (&row.model, &row.serial_number, &row.os_version);
        if let Some(existing) = inventory.existing(&row.address, row.hostname.as_deref()) {
            if o.update_existing {
                update_platform_and_facts(db, actor, existing, row).await?;
                done.updated += 1;
            } else {
                done.unchanged += 1;
            }
            set_device(db, row.id, existing).await?;
            continue;
        }
        let input = DeviceInput {
            hostname: row.hostname.clone().unwrap_or_else(|| row.address.clone()),
            ip_address: row.address.clone(),
            port: row.port.to_string(),
            device_type: row.platform.clone().unwrap_or_default(),
            description: format!("found by discovery job {job_id}"),
            enabled: true,
        };
        let device = match device_service::create(db, actor, &input).await {
            Ok(d) => d,
            Err(Error::Invalid(errors)) => {
                done.problems.push(format!(
                    "{}: not added ({})",
                    input.hostname,
                    errors.messages()
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        set_facts(db, device.id, facts).await?;
        for tag in &o.tag_ids {
            device_service::add_tag(db, actor, device.id, *tag).await?;
        }
        set_device(db, row.id, device.id).await?;
        if let Some(c) = row.credential_id {
            credentials_used.insert(c);
        }
        done.added.push(device.id);
        if let Some(choices) = &nautobot {
            let device = device_service::get(db, device.id).await?;
            let input = nautobot_onboard::defaults(db, &device, choices).await?;
            if let Err(e) = nautobot_onboard::onboard(db, vault, actor, device.id, &input).await {
                done.problems
                    .push(format!("{}: not added to Nautobot ({e})", device.hostname));
            }
        }
    }
    if o.attach_credential
        && let Some(tag) = o.tag_ids.first()
    {
        for c in &credentials_used {
            credentials::attach(db, actor, viewer, *c, *tag, 100).await?;
        }
    }
    if o.backup && !done.added.is_empty() {
        let job = jobs::start_backup(
            db,
            queue,
            actor,
            Target::Devices(done.added.clone()),
            viewer.user_id,
            false,
        )
        .await?;
        done.backup_job = Some(job.id);
    }
    audit::record(
        db,
        actor,
        Event::data("discovery.onboard")
            .target("job", job_id)
            .detail("added", json!(done.added))
            .detail("updated", done.updated)
            .detail("tags", json!(o.tag_ids))
            .detail("backup", done.backup_job),
    )
    .await?;
    Ok(done)
}

async fn set_device(db: &DatabaseConnection, row: i32, device: i32) -> Result<(), Error> {
    discovery_results::Entity::update_many()
        .col_expr(discovery_results::Column::DeviceId, Expr::value(device))
        .filter(discovery_results::Column::Id.eq(row))
        .exec(db)
        .await?;
    Ok(())
}

type FactsRef<'a> = (&'a Option<String>, &'a Option<String>, &'a Option<String>);

async fn set_facts(db: &DatabaseConnection, device: i32, facts: FactsRef<'_>) -> Result<(), Error> {
    let (model, serial, os) = facts;
    let mut update = devices::Entity::update_many().filter(devices::Column::Id.eq(device));
    for (column, value) in [
        (devices::Column::Model, model),
        (devices::Column::SerialNumber, serial),
        (devices::Column::OsVersion, os),
    ] {
        if let Some(v) = value {
            update = update.col_expr(column, Expr::value(v.clone()));
        }
    }
    update.exec(db).await?;
    Ok(())
}

/// An existing device takes the platform and facts the scan read (audited).
async fn update_platform_and_facts(
    db: &DatabaseConnection,
    actor: &Actor,
    device: i32,
    row: &discovery_results::Model,
) -> Result<(), Error> {
    if let Some(platform) = &row.platform {
        devices::Entity::update_many()
            .col_expr(devices::Column::DeviceType, Expr::value(platform.clone()))
            .filter(devices::Column::Id.eq(device))
            .exec(db)
            .await?;
    }
    set_facts(
        db,
        device,
        (&row.model, &row.serial_number, &row.os_version),
    )
    .await?;
    audit::record(
        db,
        actor,
        Event::data("device.update")
            .target("device", device)
            .detail("changed", json!(["device_type", "facts"]))
            .detail("by", "discovery"),
    )
    .await?;
    Ok(())
}
