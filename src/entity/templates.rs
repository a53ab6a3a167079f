//! The `templates` table.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::vocabulary::{TemplateKind, TemplateScope, TemplateSource};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub source: TemplateSource,
    pub template_type: TemplateKind,
    pub category: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub variables: Option<Json>,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub scope: TemplateScope,
    pub owner_id: Option<i32>,
    pub git_repository_id: Option<i32>,
    pub file_path: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Deleted (hidden, history kept) since then.
    pub deleted_at: Option<DateTimeUtc>,
    /// A command run on the device before rendering; its output, parsed with the TextFSM
    /// template `pre_run_parser_id`, is the context's `pre_run`.
    #[sea_orm(column_type = "Text")]
    pub pre_run_command: Option<String>,
    pub pre_run_parser_id: Option<i32>,
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
    #[sea_orm(
        belongs_to = "super::git_repositories::Entity",
        from = "Column::GitRepositoryId",
        to = "super::git_repositories::Column::Id",
        on_delete = "SetNull"
    )]
    GitRepository,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl Related<super::git_repositories::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::GitRepository.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
