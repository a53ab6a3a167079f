//! A command run's outputs: per device, per command, in order, with the device's rejection when
//! it refused the command. They go with the job (and its retention).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("command_outputs")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(integer_null("device_id"))
                    .col(string("hostname"))
                    .col(integer("position"))
                    .col(text("command"))
                    .col(text_null("output"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_command_outputs_job_log_id")
                            .from("command_outputs", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_command_outputs_job_device")
                    .table("command_outputs")
                    .col("job_log_id")
                    .col("device_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name("idx_command_outputs_job_device")
                    .table("command_outputs")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table("command_outputs")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
