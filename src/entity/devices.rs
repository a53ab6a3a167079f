//! The `devices` table.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{DeviceSource, ResultStatus};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub hostname: String,
    pub ip_address: String,
    /// `ip_address` as a key that sorts as addresses do (`services::devices::ip_sort_key`).
    pub ip_sort: String,
    pub port: i32,
    pub device_type: String,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub owner_id: Option<i32>,
    pub enabled: bool,
    pub serial_number: Option<String>,
    pub model: Option<String>,
    pub os_version: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub ssh_host_key: Option<String>,
    /// The key presented when it no longer matched `ssh_host_key`, until an admin decides.
    #[sea_orm(column_type = "Text")]
    pub ssh_host_key_pending: Option<String>,
    pub last_backup_at: Option<DateTimeUtc>,
    pub last_backup_status: Option<ResultStatus>,
    #[sea_orm(column_type = "Text")]
    pub last_backup_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub source: DeviceSource,
    /// The Nautobot source that imported it (`source` = nautobot).
    pub nautobot_source_id: Option<i32>,
    /// Its Nautobot id (UUID): set by an import or by *Add to Nautobot*.
    pub external_id: Option<String>,
    /// When a sync disabled it because it left its source (cleared when it comes back).
    pub left_source_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::OwnerId",
        to = "super::users::Column::Id",
        on_delete = "SetNull"
    )]
    Owner,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
