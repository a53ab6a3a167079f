//! The `nautobot_sync_items` table: what one sync job planned (and, when it applied, did) for
//! each device, kept with the job log.

use sea_orm::entity::prelude::*;

use crate::vocabulary::SyncAction;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "nautobot_sync_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub action: SyncAction,
    pub hostname: String,
    pub nautobot_id: Option<String>,
    pub device_id: Option<i32>,
    /// `add`: the device to create; `update`: the changed fields, `{field: [old, new]}`.
    #[sea_orm(column_type = "JsonBinary")]
    pub detail: Option<Json>,
    #[sea_orm(column_type = "Text")]
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::job_logs::Entity",
        from = "Column::JobLogId",
        to = "super::job_logs::Column::Id",
        on_delete = "Cascade"
    )]
    Job,
}

impl ActiveModelBehavior for ActiveModel {}
