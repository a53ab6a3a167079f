//! The `job_logs` table.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{JobStatus, JobType};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "job_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub session_id: String,
    pub job_type: JobType,
    pub status: JobStatus,
    pub device_id: Option<i32>,
    pub scheduled_job_id: Option<i32>,
    pub created_by: Option<i32>,
    #[sea_orm(column_type = "JsonBinary")]
    pub parameters: Option<Json>,
    #[sea_orm(column_type = "Text")]
    pub message: Option<String>,
    pub idempotency_key: String,
    pub progress_done: i32,
    pub progress_total: i32,
    pub debug: bool,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// When the job's queue tasks were handed to the queue; `None` until then.
    pub dispatched_at: Option<DateTimeUtc>,
    /// The last time a device of the job started or finished.
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::devices::Entity",
        from = "Column::DeviceId",
        to = "super::devices::Column::Id",
        on_delete = "SetNull"
    )]
    Device,
    #[sea_orm(
        belongs_to = "super::scheduled_jobs::Entity",
        from = "Column::ScheduledJobId",
        to = "super::scheduled_jobs::Column::Id",
        on_delete = "SetNull"
    )]
    ScheduledJob,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::CreatedBy",
        to = "super::users::Column::Id",
        on_delete = "SetNull"
    )]
    CreatedBy,
}

impl Related<super::devices::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Device.def()
    }
}

impl Related<super::scheduled_jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ScheduledJob.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CreatedBy.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
