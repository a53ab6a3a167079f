//! The `credentials` table.

use sea_orm::entity::prelude::*;

use crate::vocabulary::CredentialKind;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub kind: CredentialKind,
    pub username: String,
    #[sea_orm(column_type = "Text")]
    pub secret: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub enable_secret: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub private_key: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub valid_until: Option<DateTimeUtc>,
    /// CIDRs separated by spaces; empty means any address.
    #[sea_orm(column_type = "Text")]
    pub allowed_networks: String,
    pub owner_id: Option<i32>,
    pub created_by: Option<i32>,
    pub success_count: i32,
    pub failure_count: i32,
    pub last_used_at: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::OwnerId",
        to = "super::users::Column::Id",
        on_delete = "Cascade"
    )]
    Owner,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::CreatedBy",
        to = "super::users::Column::Id",
        on_delete = "SetNull"
    )]
    CreatedBy,
}

impl ActiveModelBehavior for ActiveModel {}
