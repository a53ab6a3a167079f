//! CheckMK's mapping (which inventory becomes which CheckMK host: source, folder and site rules,
//! attributes, what to ignore, what scheduled runs may do), one row; and on each comparison
//! result what was done about it and CheckMK's answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite alters one column per statement.
fn result_columns() -> Vec<ColumnDef> {
    vec![
        string_null("action").to_owned(),
        boolean_null("action_ok").to_owned(),
        text_null("action_message").to_owned(),
        timestamp_with_time_zone_null("acted_at").to_owned(),
    ]
}

const RESULT_COLUMNS: [&str; 4] = ["action", "action_ok", "action_message", "acted_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("checkmk_mapping")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string("source_kind").default("inventory"))
                    .col(integer_null("nautobot_source_id"))
                    // Empty: every enabled device.
                    .col(string("inventory_tag").default(""))
                    // Rules are lines `kind argument => template`, evaluated in order.
                    .col(text("folder_rules").default(""))
                    .col(string("folder_default").default("/network/{location}"))
                    .col(text("site_rules").default(""))
                    .col(string("site_default").default(""))
                    .col(string("alias").default(""))
                    // Lines `key: template`.
                    .col(text("labels").default(""))
                    .col(text("tag_groups").default(""))
                    .col(text("ignored_attributes").default("meta_data\ntag_address_family"))
                    .col(boolean("allow_delete").default(false))
                    .col(boolean("scheduled_add").default(false))
                    .col(boolean("scheduled_update").default(false))
                    .col(boolean("scheduled_activate").default(false))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        for mut column in result_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table("nb2cmk_results")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_nb2cmk_results_job_status")
                    .table("nb2cmk_results")
                    .col("job_log_id")
                    .col("status")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_nb2cmk_results_job_status")
                    .table("nb2cmk_results")
                    .to_owned(),
            )
            .await?;
        for column in RESULT_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("nb2cmk_results")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("checkmk_mapping").to_owned())
            .await
    }
}
