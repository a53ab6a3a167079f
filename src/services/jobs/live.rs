//! What a job's page asks while the job runs: the devices that finished since its last look (in
//! finish order, see `record_outcome`), the devices running now, and the new log entries. Each
//! look reads a few indexed rows, however big the job, so many watchers cost little.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{job_log_entries, job_results};
use crate::vocabulary::{LogLevel, ResultStatus};

/// Where a watching page stands: the last finish and the last log entry it shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub finish_seq: i32,
    pub entry_id: i32,
}

impl Cursor {
    /// The cursor after showing `results` and `entries` on top of this one.
    pub fn after(
        self,
        results: &[job_results::Model],
        entries: &[job_log_entries::Model],
    ) -> Cursor {
        Cursor {
            finish_seq: results
                .iter()
                .filter_map(|r| r.finish_seq)
                .fold(self.finish_seq, i32::max),
            entry_id: entries.iter().map(|e| e.id).fold(self.entry_id, i32::max),
        }
    }
}

/// Devices of the job that finished after `after_seq`, the latest first.
pub async fn finished_since(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    after_seq: i32,
) -> Result<Vec<job_results::Model>, DbErr> {
    let mut rows = job_results::Entity::find()
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .filter(job_results::Column::FinishSeq.gt(after_seq))
        .order_by_desc(job_results::Column::FinishSeq)
        .all(db)
        .await?;
    if after_seq == 0 {
        // Finished without a count (cancelled or interrupted ones the job's end settled).
        let unnumbered = job_results::Entity::find()
            .filter(job_results::Column::JobLogId.eq(job_log_id))
            .filter(job_results::Column::FinishSeq.is_null())
            .filter(
                job_results::Column::Status
                    .is_not_in([ResultStatus::Queued, ResultStatus::Running]),
            )
            .order_by_asc(job_results::Column::Hostname)
            .all(db)
            .await?;
        rows.extend(unnumbered);
    }
    Ok(rows)
}

/// The host names of the first `limit` devices running now, the longest running first.
pub async fn running_now(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    job_results::Entity::find()
        .select_only()
        .column(job_results::Column::Hostname)
        .filter(job_results::Column::JobLogId.eq(job_log_id))
        .filter(job_results::Column::Status.eq(ResultStatus::Running))
        .order_by_asc(job_results::Column::StartedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Log entries after `after_id` at `min_level` or above, oldest first, at most `limit`.
pub async fn entries_after(
    db: &impl ConnectionTrait,
    job_log_id: i32,
    min_level: Option<LogLevel>,
    after_id: i32,
    limit: u64,
) -> Result<Vec<job_log_entries::Model>, DbErr> {
    let mut q = job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job_log_id))
        .filter(job_log_entries::Column::Id.gt(after_id));
    if let Some(level) = min_level {
        let from = LogLevel::ALL.iter().position(|l| *l == level).unwrap_or(0);
        q = q.filter(job_log_entries::Column::Level.is_in(LogLevel::ALL[from..].to_vec()));
    }
    q.order_by_asc(job_log_entries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
