//! API tokens gain what a token needs beyond its owner: the permission flags it carries (a subset
//! of its owner's), the networks it may be used from, and where it was last used from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite alters one column per statement.
const COLUMNS: [&str; 3] = ["permissions", "allowed_networks", "last_used_from"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Read-only unless the creator chose more: the safe default for a token made before.
        let permissions = integer("permissions").default(1).to_owned();
        // Space-separated CIDR networks (as credentials keep theirs); empty means anywhere.
        let networks = text("allowed_networks").default("").to_owned();
        let from = string_len_null("last_used_from", 64).to_owned();
        for column in [permissions, networks, from] {
            manager
                .alter_table(
                    Table::alter()
                        .table("api_tokens")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("api_tokens")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
