//! One process at a time works on a repository (its local copy, its pushes): a lock held in the
//! repository's row, taken by a conditional update so that only one of several processes on a
//! shared database gets it, and given up when its holder finishes or its time runs out.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::entity::git_repositories as repo;
use crate::error::Error;

/// A lock not given back after this (its process died) is free again. Longer than a sync's
/// few network steps can take together.
pub const HELD_FOR: Duration = Duration::from_secs(15 * 60);

/// This process's name as a lock holder: host, process id and a random part.
pub fn holder() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "node".into());
        format!("{host}:{}:{}", std::process::id(), ulid::Ulid::generate())
    })
}

/// Take the lock on repository `id` if it is free (or ours, or expired).
pub async fn try_take(db: &DatabaseConnection, id: i32, task: &str) -> Result<bool, Error> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(HELD_FOR).unwrap_or_default();
    let me = format!("{} {task}", holder());
    let taken = repo::Entity::update_many()
        .col_expr(repo::Column::LockHolder, Expr::value(me))
        .col_expr(repo::Column::LockUntil, Expr::value(until))
        .filter(repo::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(repo::Column::LockHolder.is_null())
                .add(repo::Column::LockUntil.lt(now)),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok(taken > 0)
}

/// Wait up to `patience` for the lock on repository `id`.
pub async fn take(
    db: &DatabaseConnection,
    id: i32,
    task: &str,
    patience: Duration,
) -> Result<bool, Error> {
    let start = Instant::now();
    loop {
        if try_take(db, id, task).await? {
            return Ok(true);
        }
        if start.elapsed() >= patience {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Give the lock back (only if this process holds it).
pub async fn give_back(db: &DatabaseConnection, id: i32) -> Result<(), Error> {
    repo::Entity::update_many()
        .col_expr(
            repo::Column::LockHolder,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            repo::Column::LockUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(repo::Column::Id.eq(id))
        .filter(repo::Column::LockHolder.starts_with(holder()))
        .exec(db)
        .await?;
    Ok(())
}

/// Who holds the lock on a repository, for the message of a process that gave up waiting.
pub fn held_by(r: &repo::Model) -> String {
    match (&r.lock_holder, r.lock_until) {
        (Some(h), Some(until)) if until > Utc::now() => {
            format!("{h} (until {})", until.format("%H:%M:%S UTC"))
        }
        _ => "nobody".into(),
    }
}
