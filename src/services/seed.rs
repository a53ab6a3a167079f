//! Synthetic inventory for benchmarks and demos: `netraven dev seed`.

use crate::vocabulary::ResultStatus;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait};

use super::audit::{self, Actor, Event};
use super::tags;
use crate::device::platforms::platforms;
use crate::entity::{device_tags, devices, tags as tag_entity};
use crate::error::Error;

const CHUNK: usize = 500;
const COLORS: [&str; 6] = [
    "#1f6feb", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#0969da",
];

pub struct Seeded {
    pub devices: usize,
    pub tags: usize,
    pub links: usize,
}

/// Adds `device_count` devices named `seed-NNNNN` and `tag_count` tags `seed-tag-NN`; each device
/// gets one to three tags. Deterministic, so runs are comparable.
pub async fn seed(
    db: &DatabaseConnection,
    device_count: usize,
    tag_count: usize,
) -> Result<Seeded, Error> {
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    let tag_count = tag_count.max(1);
    for i in 0..tag_count {
        tag_entity::Entity::insert(tag_entity::ActiveModel {
            name: Set(format!("seed-tag-{i:02}")),
            color: Set(COLORS[i % COLORS.len()].to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let tag_ids: Vec<i32> = tags::all(&txn)
        .await?
        .into_iter()
        .filter(|t| t.name.starts_with("seed-tag-"))
        .map(|t| t.id)
        .collect();
    let first_id = devices_max_id(&txn).await? + 1;
    let rows: Vec<devices::ActiveModel> = (0..device_count)
        .map(|i| devices::ActiveModel {
            hostname: Set(format!("seed-{i:05}")),
            ip_address: Set(seed_ip(i)),
            ip_sort: Set(super::devices::ip_sort_key(&seed_ip(i))),
            port: Set(22),
            device_type: Set(platforms()[i % platforms().len()].id.clone()),
            description: Set(Some(format!("rack {} row {}", i % 40, i % 7))),
            enabled: Set(i % 17 != 0),
            last_backup_status: Set(match i % 10 {
                0 => Some(ResultStatus::Failed),
                1 => None,
                _ => Some(ResultStatus::Success),
            }),
            last_backup_at: Set((i % 10 != 1).then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        devices::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let mut links = Vec::new();
    for i in 0..device_count {
        let device_id = first_id + i as i32;
        let n = 1 + i % 3;
        for k in 0..n {
            let tag_id = tag_ids[(i * 7 + k * 13) % tag_ids.len()];
            if !links
                .iter()
                .rev()
                .take(3)
                .any(|(d, t)| *d == device_id && *t == tag_id)
            {
                links.push((device_id, tag_id));
            }
        }
    }
    for chunk in links.chunks(CHUNK) {
        let models = chunk.iter().map(|(d, t)| device_tags::ActiveModel {
            device_id: Set(*d),
            tag_id: Set(*t),
            rule_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        device_tags::Entity::insert_many(models).exec(&txn).await?;
    }
    audit::record(
        &txn,
        &Actor::system("dev seed"),
        Event::data("dev.seed")
            .detail("devices", device_count)
            .detail("tags", tag_count)
            .detail("links", links.len()),
    )
    .await?;
    txn.commit().await?;
    // As after any bulk load on PostgreSQL: until autovacuum gets to the new rows (a minute or
    // more), the planner guesses row counts and index-only scans still visit the table for
    // each row's visibility, so a benchmark started right after seeding measured a device
    // list 2.5x slower than the same inventory a minute later. SQLite's plans do not change.
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE devices, tags, device_tags")
            .await?;
    }
    Ok(Seeded {
        devices: device_count,
        tags: tag_count,
        links: links.len(),
    })
}

async fn devices_max_id(db: &impl sea_orm::ConnectionTrait) -> Result<i32, sea_orm::DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(devices::Entity::find()
        .order_by_desc(devices::Column::Id)
        .limit(1)
        .one(db)
        .await?
        .map(|d| d.id)
        .unwrap_or(0))
}

fn seed_ip(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}
