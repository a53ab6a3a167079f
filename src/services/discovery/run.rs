//! The scan job: every address and port of the scan, at most `concurrency` at a time and no
//! faster than the per-scan rate, each discovered by the engine with the credentials its address
//! may receive; results written in batches with the job's progress, and the job stops when it is
//! cancelled. Nothing is added to the inventory here.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use futures_util::{StreamExt, stream};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, QuerySelect};
use tokio::sync::Mutex;

use super::scan::{ScanSpec, addresses};
use crate::crypto::Vault;
use crate::device::discover::{Discovered, discover};
use crate::entity::{devices, discovery_results, job_logs};
use crate::error::Error;
use crate::services::credentials::{self, permits};
use crate::services::device_access::engine_credential;
use crate::services::jobs::{self, Target};
use crate::services::settings::{self, registry};
use crate::vocabulary::{DiscoveryOutcome, JobStatus, LogLevel};

/// Results written per statement.
const BATCH: usize = 100;
/// How often the job looks for a cancel.
const CANCEL_CHECK: Duration = Duration::from_secs(1);

/// The inventory's devices by address and by host name (lower case), to tell new devices apart.
pub struct Inventory {
    by_address: HashMap<String, i32>,
    by_hostname: HashMap<String, i32>,
}

impl Inventory {
    pub async fn load(db: &DatabaseConnection) -> Result<Inventory, Error> {
        let rows: Vec<(i32, String, String)> = devices::Entity::find()
            .select_only()
            .column(devices::Column::Id)
            .column(devices::Column::IpAddress)
            .column(devices::Column::Hostname)
            .into_tuple()
            .all(db)
            .await?;
        let mut by_address = HashMap::new();
        let mut by_hostname = HashMap::new();
        for (id, address, hostname) in rows {
            let address = address
                .parse::<IpAddr>()
                .map(|a| a.to_string())
                .unwrap_or(address);
            by_address.insert(address, id);
            by_hostname.insert(hostname.to_lowercase(), id);
        }
        Ok(Inventory {
            by_address,
            by_hostname,
        })
    }

    /// The device already at this address or with this host name.
    pub fn existing(&self, address: &str, hostname: Option<&str>) -> Option<i32> {
        self.by_address
            .get(address)
            .copied()
            .or_else(|| hostname.and_then(|h| self.by_hostname.get(&h.to_lowercase()).copied()))
    }
}

pub async fn run_job(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
) -> Result<(), Error> {
    jobs::mark_running(db, job.id).await?;
    let Some(Target::Scan(spec)) = Target::of_job(job) else {
        return jobs::settle(
            db,
            job.id,
            JobStatus::Failed,
            "the scan's parameters are unreadable",
        )
        .await;
    };
    let limit =
        usize::try_from(settings::int(db, &registry::DISCOVERY_MAX_ADDRESSES).await?).unwrap_or(1);
    let addrs = match addresses(&spec.ranges, &spec.exclude, limit) {
        Ok(a) => a,
        Err(why) => {
            jobs::entry(db, job.id, LogLevel::Error, "discovery", &why, None).await?;
            return jobs::settle(db, job.id, JobStatus::Failed, &why).await;
        }
    };
    let counts = scan(db, vault, job, &spec, &addrs).await?;
    let Some(counts) = counts else {
        return jobs::settle(db, job.id, JobStatus::Cancelled, "cancelled").await;
    };
    let message = summary(&counts);
    jobs::entry(db, job.id, LogLevel::Info, "discovery", &message, None).await?;
    jobs::settle(db, job.id, JobStatus::Success, &message).await
}

/// Outcomes counted, and how many identified devices are new.
#[derive(Default)]
pub struct Counts {
    pub by_outcome: BTreeMap<&'static str, usize>,
    pub new: usize,
    pub total: usize,
}

fn summary(c: &Counts) -> String {
    let identified = c.by_outcome.get("identified").copied().unwrap_or(0);
    let others: Vec<String> = c
        .by_outcome
        .iter()
        .filter(|(k, _)| **k != "identified")
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect();
    format!(
        "{} addresses scanned: {identified} identified ({} new){}{}",
        c.total,
        c.new,
        if others.is_empty() { "" } else { "; " },
        others.join(", ")
    )
}

/// Scans every target; `None` when the job was cancelled on the way.
async fn scan(
    db: &DatabaseConnection,
    vault: &Vault,
    job: &job_logs::Model,
    spec: &ScanSpec,
    addrs: &[IpAddr],
) -> Result<Option<Counts>, Error> {
    let usable =
        credentials::usable_for_scan(db, vault, &spec.credential_ids, spec.tag_id, job.created_by)
            .await?;
    let inventory = Inventory::load(db).await?;
    let targets: Vec<(IpAddr, u16)> = addrs
        .iter()
        .flat_map(|a| spec.ports.iter().map(move |p| (*a, *p)))
        .collect();
    let total = targets.len();
    jobs::progress(db, job.id, 0, Some(total)).await?;
    let rate = u64::try_from(settings::int(db, &registry::DISCOVERY_RATE_PER_SECOND).await?)
        .unwrap_or(1)
        .max(1);
    let pace = Mutex::new(tokio::time::interval(Duration::from_micros(
        1_000_000 / rate,
    )));
    let step = Duration::from_secs(spec.timeout_seconds.max(1));
    let (usable, pace) = (&usable, &pace);
    let mut results = stream::iter(targets)
        .map(|(addr, port)| async move {
            pace.lock().await.tick().await;
            let address = addr.to_string();
            // Only the credentials whose allowed networks hold this address.
            let allowed: Vec<(i32, crate::device::Credential)> = usable
                .iter()
                .filter(|(_, networks)| permits(networks, &address))
                .map(|(c, _)| engine_credential(c.clone()))
                .collect();
            let creds: Vec<_> = allowed.iter().map(|(_, c)| c.clone()).collect();
            let found = discover(&address, port, &creds, step, step).await;
            let credential = found.credential.and_then(|i| allowed.get(i));
            (
                address,
                port,
                found,
                credential.map(|(id, c)| (*id, c.name.clone())),
            )
        })
        .buffer_unordered(spec.concurrency.max(1));
    let mut counts = Counts {
        total,
        ..Counts::default()
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut done = 0;
    // A cancel is noticed within a second even while every address in flight is still waiting.
    let mut check = tokio::time::interval(CANCEL_CHECK);
    loop {
        let next = tokio::select! {
            next = results.next() => next,
            _ = check.tick() => {
                if jobs::get(db, job.id).await?.status == JobStatus::Cancelled {
                    if !batch.is_empty() {
                        discovery_results::Entity::insert_many(batch).exec(db).await?;
                    }
                    jobs::progress(db, job.id, done, None).await?;
                    return Ok(None);
                }
                continue;
            }
        };
        let Some((address, port, found, credential)) = next else {
            break;
        };
        *counts.by_outcome.entry(found.outcome.as_str()).or_default() += 1;
        let existing = inventory.existing(&address, found.hostname.as_deref());
        if found.outcome == DiscoveryOutcome::Identified && existing.is_none() {
            counts.new += 1;
        }
        batch.push(row(job.id, &address, port, found, credential, existing));
        done += 1;
        if batch.len() == BATCH {
            discovery_results::Entity::insert_many(std::mem::take(&mut batch))
                .exec(db)
                .await?;
            jobs::progress(db, job.id, done, None).await?;
        }
    }
    if !batch.is_empty() {
        discovery_results::Entity::insert_many(batch)
            .exec(db)
            .await?;
    }
    jobs::progress(db, job.id, done, None).await?;
    Ok(Some(counts))
}

fn row(
    job_id: i32,
    address: &str,
    port: u16,
    found: Discovered,
    credential: Option<(i32, String)>,
    existing: Option<i32>,
) -> discovery_results::ActiveModel {
    discovery_results::ActiveModel {
        job_log_id: Set(job_id),
        address: Set(address.to_string()),
        port: Set(i32::from(port)),
        outcome: Set(found.outcome),
        message: Set(found.message),
        banner: Set(found.banner),
        credential_id: Set(credential.as_ref().map(|(id, _)| *id)),
        credential_name: Set(credential.map(|(_, name)| name)),
        platform: Set(found.platform.map(str::to_string)),
        hostname: Set(found.hostname),
        model: Set(found.facts.model),
        serial_number: Set(found.facts.serial),
        os_version: Set(found.facts.os_version),
        device_id: Set(existing),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}
