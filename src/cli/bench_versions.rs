//! `netraven dev bench-versions`: data and in-process timings for the stored-versions benchmark
//! (`scripts/bench-versions.sh` adds the HTTP timings against `netraven serve`).
//!
//! Seeds, once per database:
//! - `bench-history`: one device with `--versions` versions (default 10,000);
//! - `bench-diff`: one device with two versions of `--diff-lines` lines (default 10,000), about
//!   1% of the lines changed, inserted or removed;
//! - a latest version for every device that has none (run `netraven dev seed` first for an
//!   inventory), stored unmasked with secrets, so a viewer's search has to mask every one.
//!
//! Then times, in this process, the diff service on the two large versions and the
//! configuration search across every device's latest version.

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use super::CliError;
use crate::device::scrub;
use crate::entity::{backups, devices};
use crate::services::backups::{self as backup_service, LatestFilter};
use crate::services::config_diff::{self, LineDiff};
use crate::services::config_search::{self, SearchQuery};

const CHUNK: usize = 200;

#[derive(clap::Args, Debug)]
pub struct BenchVersionsArgs {
    /// Versions of the history device.
    #[arg(long, default_value_t = 10_000)]
    pub versions: usize,
    /// Lines of each seeded configuration (history versions and latest versions).
    #[arg(long, default_value_t = 300)]
    pub lines: usize,
    /// Lines of the two versions diffed.
    #[arg(long, default_value_t = 10_000)]
    pub diff_lines: usize,
    /// Runs of each timed operation (the median is reported).
    #[arg(long, default_value_t = 9)]
    pub runs: usize,
    /// Only seed, do not time anything.
    #[arg(long)]
    pub seed_only: bool,
}

/// A small deterministic generator, so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// An IOS-style configuration of about `lines` lines: secrets, interfaces, VLANs, an ACL, BGP
/// neighbours, SNMP, NTP, lines. `seed` varies descriptions and addresses.
pub fn synthetic_config(hostname: &str, lines: usize, seed: u64) -> String {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Vec::with_capacity(lines + 16);
    out.push(format!("hostname {hostname}"));
    out.push("!".into());
    out.push(format!("enable secret 9 $9${:016x}", r.next()));
    out.push(format!(
        "username netops privilege 15 secret 9 $9${:016x}",
        r.next()
    ));
    out.push("!".into());
    let mut i = 0u64;
    while out.len() + 12 < lines {
        i += 1;
        match i % 5 {
            0 => {
                out.push(format!("vlan {}", 100 + i));
                out.push(format!(" name users-{}", r.below(900) + 100));
                out.push("!".into());
            }
            1 => {
                out.push(format!("ip access-list extended ACL-{i}"));
                out.push(format!(
                    " permit tcp 10.{}.{}.0 0.0.0.255 any eq 443",
                    r.below(255),
                    r.below(255)
                ));
                out.push(" deny   ip any any log".into());
                out.push("!".into());
            }
            2 => {
                out.push(format!(
                    " neighbor 192.0.{}.{} remote-as {}",
                    r.below(255),
                    r.below(255),
                    64_512 + r.below(1000)
                ));
                out.push(format!(
                    " neighbor 192.0.{}.{} password 7 {:012X}",
                    r.below(255),
                    r.below(255),
                    r.next() & 0xFFFF_FFFF_FFFF
                ));
            }
            _ => {
                out.push(format!("interface GigabitEthernet{}/0/{}", i / 48, i % 48));
                out.push(format!(
                    " description link to rack {} port {}",
                    r.below(40),
                    r.below(48)
                ));
                out.push(format!(
                    " ip address 10.{}.{}.{} 255.255.255.252",
                    r.below(255),
                    r.below(255),
                    r.below(63) * 4 + 1
                ));
                out.push(" no shutdown".into());
                out.push("!".into());
            }
        }
    }
    out.push(format!(
        "snmp-server community {:x} RO",
        r.next() & 0xFFFF_FFFF
    ));
    out.push("snmp-server location datacenter-1".into());
    out.push("ntp server 10.9.9.9".into());
    out.push("ntp server 10.9.9.10".into());
    out.push("line vty 0 4".into());
    out.push(" transport input ssh".into());
    out.push("end".into());
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// `old` with about 1% of its lines changed, a few removed and a few added.
pub(super) fn edited(old: &str, seed: u64) -> String {
    let mut r = Rng(seed | 1);
    let mut out = Vec::new();
    for line in old.lines() {
        match r.below(1000) {
            0..=5 => out.push(format!("{line} ! edited")),
            6..=7 => {}
            8..=9 => {
                out.push(line.to_string());
                out.push(format!(" description added {}", r.below(1_000_000)));
            }
            _ => out.push(line.to_string()),
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

async fn device(
    db: &DatabaseConnection,
    hostname: &str,
) -> Result<(devices::Model, bool), CliError> {
    if let Some(d) = devices::Entity::find()
        .filter(devices::Column::Hostname.eq(hostname))
        .one(db)
        .await?
    {
        return Ok((d, false));
    }
    let now = Utc::now();
    let d = devices::ActiveModel {
        hostname: Set(hostname.to_string()),
        ip_address: Set("198.51.100.1".into()),
        ip_sort: Set(crate::services::devices::ip_sort_key("198.51.100.1")),
        port: Set(22),
        device_type: Set("cisco_ios".into()),
        description: Set(Some("benchmark (dev bench-versions)".into())),
        enabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((d, true))
}

pub(super) fn version_row(
    device: &devices::Model,
    version: i32,
    content: String,
    changed: usize,
    masked: bool,
) -> backups::ActiveModel {
    let now = Utc::now();
    // Stored masked means what a backup with `backups.store_secrets_masked` stores.
    let content = if masked {
        backup_service::mask_for_platform(&device.device_type, &content)
    } else {
        content
    };
    backups::ActiveModel {
        device_id: Set(Some(device.id)),
        hostname: Set(device.hostname.clone()),
        version: Set(version),
        size: Set(i32::try_from(content.len()).unwrap_or(i32::MAX)),
        content_hash: Set(scrub::sha256_hex(&content)),
        content: Set(content),
        changed_lines: Set(i32::try_from(changed).unwrap_or(i32::MAX)),
        filename: Set(backup_service::filename(&device.hostname, version)),
        job_log_id: Set(None),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        secrets_masked: Set(masked),
        ..Default::default()
    }
}

pub(super) async fn insert_chunked(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = backups::ActiveModel>,
) -> Result<usize, CliError> {
    let txn = crate::db::begin_write(db).await?;
    let mut n = 0;
    let mut chunk = Vec::with_capacity(CHUNK);
    for row in rows {
        chunk.push(row);
        if chunk.len() == CHUNK {
            n += chunk.len();
            backups::Entity::insert_many(std::mem::take(&mut chunk))
                .exec(&txn)
                .await?;
        }
    }
    if !chunk.is_empty() {
        n += chunk.len();
        backups::Entity::insert_many(chunk).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(n)
}

struct Seeded {
    history: devices::Model,
    diff: devices::Model,
}

async fn seed(db: &DatabaseConnection, args: &BenchVersionsArgs) -> Result<Seeded, CliError> {
    let started = Instant::now();
    let (history, new) = device(db, "bench-history").await?;
    if new {
        // Each version differs from the previous one in one line, as a typical change does.
        let base = synthetic_config(&history.hostname, args.lines, 1);
        let rows = (1..=args.versions).map(|v| {
            let content = base.replacen(
                "snmp-server location datacenter-1",
                &format!("snmp-server location datacenter-1 rev {v}"),
                1,
            );
            version_row(&history, v as i32, content, 2, true)
        });
        let n = insert_chunked(db, rows).await?;
        println!("seeded {n} versions of {}", history.hostname);
    }
    let (diff, new) = device(db, "bench-diff").await?;
    if new {
        let old = synthetic_config(&diff.hostname, args.diff_lines, 2);
        let new_text = edited(&old, 3);
        let changed = config_diff::changed_lines(&old, &new_text);
        insert_chunked(
            db,
            [
                version_row(&diff, 1, old, 0, true),
                version_row(&diff, 2, new_text, changed, true),
            ]
            .into_iter(),
        )
        .await?;
        println!(
            "seeded two {}-line versions of {}",
            args.diff_lines, diff.hostname
        );
    }
    // Every device without a version gets one: unmasked, with secrets (the costly case for a
    // viewer's search, which masks each configuration before matching).
    let without: Vec<devices::Model> = devices::Entity::find()
        .filter(
            devices::Column::Id.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(backups::Column::DeviceId)
                    .from(backups::Entity)
                    .and_where(backups::Column::DeviceId.is_not_null())
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    if !without.is_empty() {
        let rows = without.iter().map(|d| {
            let content = synthetic_config(&d.hostname, args.lines, d.id as u64);
            let lines = content.lines().count();
            version_row(d, 1, content, lines, false)
        });
        let n = insert_chunked(db, rows).await?;
        println!("seeded a latest version for {n} devices");
    }
    let total = backups::Entity::find().count(db).await?;
    println!(
        "seeding done in {:.1} s; {total} stored versions",
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded { history, diff })
}

/// Median, minimum and maximum of `runs` timings of `f`.
pub(super) fn stats(mut t: Vec<Duration>) -> String {
    t.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms (min {:.1}, max {:.1}, {} runs)",
        ms(&t[t.len() / 2]),
        ms(&t[0]),
        ms(&t[t.len() - 1]),
        t.len()
    )
}

pub async fn run(db: &DatabaseConnection, args: BenchVersionsArgs) -> Result<(), CliError> {
    let seeded = seed(db, &args).await?;
    println!(
        "HISTORY_DEVICE={} DIFF_DEVICE={}",
        seeded.history.id, seeded.diff.id
    );
    if args.seed_only {
        return Ok(());
    }
    let runs = args.runs.max(1);

    // The diff: reading both versions, masking them for display, the line diff, and the rows of
    // both views with 3 lines of context (what the diff page does before rendering HTML).
    let old = backup_service::get_version(db, seeded.diff.id, 1).await?;
    let new = backup_service::get_version(db, seeded.diff.id, 2).await?;
    let mut diff_only = Vec::new();
    let mut page_work = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let d = LineDiff::new(&old.content, &new.content);
        let rows = d.unified(Some(3));
        diff_only.push(t.elapsed());
        summary = format!(
            "{} vs {} lines: +{} -{}, {} unified rows with 3 lines of context",
            d.old_lines(),
            d.new_lines(),
            d.added,
            d.removed,
            rows.len()
        );
        let t = Instant::now();
        let a = backup_service::visible_content("cisco_ios", &old.content, false, false);
        let b = backup_service::visible_content("cisco_ios", &new.content, false, false);
        let d = LineDiff::new(&a, &b);
        let _ = (d.unified(Some(3)), d.side_by_side(Some(3)));
        let _ = backup_service::only_secrets_changed("cisco_ios", &old, &new);
        page_work.push(t.elapsed());
    }
    println!("diff: {summary}");
    println!(
        "diff service (LineDiff::new + unified rows): {}",
        stats(diff_only)
    );
    println!(
        "diff page work (mask both, diff, unified + side-by-side rows, only-secrets check): {}",
        stats(page_work)
    );

    // Search across the latest version of every device.
    let searched = backup_service::latest_configs(db, &LatestFilter::default(), None, 1)
        .await
        .map(|v| v.len())?;
    if searched == 0 {
        println!("search: no stored configurations");
        return Ok(());
    }
    let cases: [(&str, bool, bool, &str); 4] = [
        (
            r"^interface GigabitEthernet\d+/0/(1|2)$",
            true,
            false,
            "regex, viewer (masks every configuration)",
        ),
        (
            r"^interface GigabitEthernet\d+/0/(1|2)$",
            true,
            true,
            "regex, secrets visible (no masking; = stored-masked configurations)",
        ),
        (
            r"neighbor 192\.0\.1\d\.\d+ remote-as 6[45]\d+",
            true,
            false,
            "regex with classes, viewer",
        ),
        (
            "ntp server 10.9.9.10",
            false,
            false,
            "substring, case-insensitive, viewer",
        ),
    ];
    for (pattern, regex, reveal, label) in cases {
        let q = SearchQuery {
            text: pattern.into(),
            regex,
            case_sensitive: false,
            ..Default::default()
        };
        let mut t = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let r = config_search::search(db, &q, reveal).await?;
            t.push(r.elapsed);
            last = Some(r);
        }
        if let Some(r) = last {
            println!(
                "search {label}: /{pattern}/ → {} of {} devices, {} lines: {}",
                r.devices_matched,
                r.devices_searched,
                r.lines_matched,
                stats(t)
            );
        }
    }
    // How long just reading every latest configuration takes (the floor under a search).
    let mut t = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut after: Option<String> = None;
        loop {
            let rows =
                backup_service::latest_configs(db, &LatestFilter::default(), after.as_deref(), 256)
                    .await?;
            after = rows.last().map(|r| r.hostname.clone());
            if rows.len() < 256 {
                break;
            }
        }
        t.push(start.elapsed());
    }
    println!(
        "reading every latest configuration (no matching): {}",
        stats(t)
    );
    Ok(())
}
