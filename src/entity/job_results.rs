//! The `job_results` table.

use sea_orm::entity::prelude::*;

use crate::vocabulary::ResultStatus;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "job_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub device_id: Option<i32>,
    pub hostname: String,
    pub status: ResultStatus,
    #[sea_orm(column_type = "Text")]
    pub message: Option<String>,
    pub backup_id: Option<i32>,
    pub credential_id: Option<i32>,
    /// The credential's name at the time (it may be renamed or deleted later).
    pub credential_name: Option<String>,
    /// `ErrorClass::id()` of the device engine when the device failed.
    pub error_class: Option<String>,
    pub changed: bool,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub duration_ms: Option<i32>,
    /// The job's progress count when this device finished: the order of finishes, which a
    /// watching page asks from (see `jobs::live`).
    pub finish_seq: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::job_logs::Entity",
        from = "Column::JobLogId",
        to = "super::job_logs::Column::Id",
        on_delete = "Cascade"
    )]
    JobLog,
    #[sea_orm(
        belongs_to = "super::devices::Entity",
        from = "Column::DeviceId",
        to = "super::devices::Column::Id",
        on_delete = "SetNull"
    )]
    Device,
    #[sea_orm(
        belongs_to = "super::backups::Entity",
        from = "Column::BackupId",
        to = "super::backups::Column::Id",
        on_delete = "SetNull"
    )]
    Backup,
    #[sea_orm(
        belongs_to = "super::credentials::Entity",
        from = "Column::CredentialId",
        to = "super::credentials::Column::Id",
        on_delete = "SetNull"
    )]
    Credential,
}

impl Related<super::job_logs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::JobLog.def()
    }
}

impl Related<super::devices::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Device.def()
    }
}

impl Related<super::backups::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Backup.def()
    }
}

impl Related<super::credentials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Credential.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
