//! A job's log entries.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

use crate::entity::job_log_entries;
use crate::vocabulary::LogLevel;

/// Write one log entry.
pub async fn entry(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    level: LogLevel,
    category: &str,
    message: &str,
    device_id: Option<i32>,
) -> Result<(), DbErr> {
    job_log_entries::ActiveModel {
        job_log_id: Set(job_log_id),
        level: Set(level),
        category: Set(category.into()),
        message: Set(message.into()),
        device_id: Set(device_id),
        timestamp: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
