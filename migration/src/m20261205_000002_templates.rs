//! Templates are deleted softly: the row and its versions stay, marked with the time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("templates")
                    .add_column(timestamp_with_time_zone_null("deleted_at").to_owned())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("templates")
                    .drop_column("deleted_at")
                    .to_owned(),
            )
            .await
    }
}
