//! The `push_results` table: what a configuration push sends to each device and how it went.

use sea_orm::entity::prelude::*;

use crate::vocabulary::PushStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub device_id: Option<i32>,
    pub hostname: String,
    /// The rendered lines, secrets masked with the platform's filters: what people read.
    #[sea_orm(column_type = "Text")]
    pub lines: String,
    /// The lines as they are typed (a JSON list), encrypted with the vault.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub line_count: i32,
    /// Lines the dry run did not find in the stored configuration.
    pub new_lines: i32,
    pub status: PushStatus,
    /// Lines the device accepted, from the first.
    pub applied: i32,
    #[sea_orm(column_type = "Text")]
    pub refused_line: Option<String>,
    /// What the device said about the refused line, or why the device failed.
    #[sea_orm(column_type = "Text")]
    pub message: Option<String>,
    /// Uncommitted changes were discarded (Junos, IOS XR, ...).
    pub rolled_back: bool,
    /// `None`: no save asked or not reached.
    pub saved: Option<bool>,
    /// The backup read right after the push.
    pub backup_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
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
}

impl Related<super::job_logs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::JobLog.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
