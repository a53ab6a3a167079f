//! The `nb2cmk_results` table.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::vocabulary::{CheckmkAction, CheckmkStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "nb2cmk_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub device_name: String,
    pub status: CheckmkStatus,
    /// One line per difference: `folder: /a → /b`, `attribute: old → new`.
    #[sea_orm(column_type = "Text")]
    pub diff: Option<String>,
    /// The desired host, `{folder, attributes}` (the source's side, whatever the source).
    #[sea_orm(column_type = "JsonBinary")]
    pub nautobot_data: Option<Json>,
    /// CheckMK's host, `{folder, attributes, etag}`.
    #[sea_orm(column_type = "JsonBinary")]
    pub checkmk_data: Option<Json>,
    #[sea_orm(column_type = "Text")]
    pub message: Option<String>,
    pub created_at: DateTimeUtc,
    pub action: Option<CheckmkAction>,
    pub action_ok: Option<bool>,
    /// CheckMK's answer to the action, in words.
    #[sea_orm(column_type = "Text")]
    pub action_message: Option<String>,
    pub acted_at: Option<DateTimeUtc>,
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
