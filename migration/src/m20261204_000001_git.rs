//! Git repositories gain what sync, the configuration mirror and the browser need: the mirror's
//! layout, the SSH host keys trusted for the remote, the state of the last sync (commit,
//! ahead/behind, last commit), the lock that lets one process at a time work on a repository,
//! and `git_mirror_files`, what the mirror holds for each device as of its last push.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> Vec<ColumnDef> {
    vec![
        boolean("is_mirror").default(false).to_owned(),
        // A folder inside the repository ("" = its root) and the file name of each device.
        string("mirror_dir").default("").to_owned(),
        string("file_template").default("{hostname}.cfg").to_owned(),
        // `known_hosts` lines trusted for an SSH remote.
        text_null("known_hosts").to_owned(),
        string_len_null("head_commit", 64).to_owned(),
        text_null("head_message").to_owned(),
        string_null("head_author").to_owned(),
        timestamp_with_time_zone_null("head_date").to_owned(),
        integer_null("ahead").to_owned(),
        integer_null("behind").to_owned(),
        string_len_null("lock_holder", 128).to_owned(),
        timestamp_with_time_zone_null("lock_until").to_owned(),
        timestamp_with_time_zone_null("last_mirror_at").to_owned(),
        text_null("mirror_message").to_owned(),
    ]
}

/// SQLite alters one column per statement.
const COLUMNS: [&str; 14] = [
    "is_mirror",
    "mirror_dir",
    "file_template",
    "known_hosts",
    "head_commit",
    "head_message",
    "head_author",
    "head_date",
    "ahead",
    "behind",
    "lock_holder",
    "lock_until",
    "last_mirror_at",
    "mirror_message",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table("git_repositories")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // No foreign key to devices or backups: a deleted device's row is what tells the next
        // commit which file to remove, and retention may remove the version a file came from.
        manager
            .create_table(
                Table::create()
                    .table("git_mirror_files")
                    .if_not_exists()
                    .col(integer("repository_id"))
                    .col(integer("device_id"))
                    .col(string_len("path", 1024))
                    .col(integer("backup_id"))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .primary_key(Index::create().col("repository_id").col("device_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_git_mirror_files_repository_id")
                            .from("git_mirror_files", "repository_id")
                            .to("git_repositories", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("git_mirror_files").to_owned())
            .await?;
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("git_repositories")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
