//! The `git_repositories` table.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::vocabulary::{RepoCategory, SyncStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "git_repositories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub url: String,
    pub branch: String,
    pub category: RepoCategory,
    pub credential_id: Option<i32>,
    pub verify_ssl: bool,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub is_active: bool,
    pub last_sync_at: Option<DateTimeUtc>,
    pub sync_status: Option<SyncStatus>,
    #[sea_orm(column_type = "Text")]
    pub sync_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Receives every new configuration version (a `configs` repository).
    pub is_mirror: bool,
    pub mirror_dir: String,
    pub file_template: String,
    #[sea_orm(column_type = "Text")]
    pub known_hosts: Option<String>,
    pub head_commit: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub head_message: Option<String>,
    pub head_author: Option<String>,
    pub head_date: Option<DateTimeUtc>,
    pub ahead: Option<i32>,
    pub behind: Option<i32>,
    pub lock_holder: Option<String>,
    pub lock_until: Option<DateTimeUtc>,
    pub last_mirror_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub mirror_message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::credentials::Entity",
        from = "Column::CredentialId",
        to = "super::credentials::Column::Id",
        on_delete = "SetNull"
    )]
    Credential,
}

impl Related<super::credentials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Credential.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
