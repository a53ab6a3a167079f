//! The `nautobot_sources` table: a saved filter on Nautobot's devices and how they map to
//! NetRaven devices.

use sea_orm::entity::prelude::*;

use crate::vocabulary::LeaveAction;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nautobot_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    /// Filter values, one name per line (any of them matches); empty: no filter.
    #[sea_orm(column_type = "Text")]
    pub locations: String,
    #[sea_orm(column_type = "Text")]
    pub roles: String,
    #[sea_orm(column_type = "Text")]
    pub statuses: String,
    #[sea_orm(column_type = "Text")]
    pub tags: String,
    #[sea_orm(column_type = "Text")]
    pub platforms: String,
    #[sea_orm(column_type = "Text")]
    pub tenants: String,
    /// Extra GraphQL arguments of `devices(...)`, e.g. `has_primary_ip: true`.
    #[sea_orm(column_type = "Text")]
    pub graphql_filter: Option<String>,
    /// The custom field holding the SSH port (22 when unset or empty).
    pub port_field: Option<String>,
    pub import_tags: bool,
    pub location_tag_prefix: Option<String>,
    pub role_tag_prefix: Option<String>,
    pub status_tag_prefix: Option<String>,
    pub tenant_tag_prefix: Option<String>,
    pub on_leave: LeaveAction,
    /// A hand-added device with an imported device's name becomes this source's.
    pub adopt: bool,
    /// Write the last successful backup time into `write_back_field` after each backup.
    pub write_back: bool,
    pub write_back_field: String,
    pub last_sync_at: Option<DateTimeUtc>,
    pub last_sync_job_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub last_sync_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
