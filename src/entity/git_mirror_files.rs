//! The `git_mirror_files` table: the file each device has in a mirror repository, and the
//! configuration version it holds, as of the mirror's last push.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "git_mirror_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub repository_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub device_id: i32,
    pub path: String,
    pub backup_id: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::git_repositories::Entity",
        from = "Column::RepositoryId",
        to = "super::git_repositories::Column::Id",
        on_delete = "Cascade"
    )]
    Repository,
}

impl ActiveModelBehavior for ActiveModel {}
