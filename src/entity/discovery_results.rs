//! The `discovery_results` table: one scanned address and port, how far the scan got there and
//! what it found.

use sea_orm::entity::prelude::*;

use crate::vocabulary::DiscoveryOutcome;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "discovery_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub address: String,
    pub port: i32,
    pub outcome: DiscoveryOutcome,
    /// Why the scan stopped there, or what it found, in words.
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// The SSH identification string, or the first bytes of what answered.
    #[sea_orm(column_type = "Text")]
    pub banner: Option<String>,
    /// The credential that logged in.
    pub credential_id: Option<i32>,
    pub credential_name: Option<String>,
    pub platform: Option<String>,
    pub hostname: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub os_version: Option<String>,
    /// The inventory's device at this address or with this host name (when the scan ended, or
    /// the one onboarding made).
    pub device_id: Option<i32>,
    pub created_at: DateTimeUtc,
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
