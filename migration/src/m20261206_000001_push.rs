//! A configuration push's devices: the lines rendered for each (masked for reading, and
//! encrypted as they will be typed), then how the push went there. They go with the job.
//! Templates gain a pre-run command and the TextFSM template that parses its output.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("push_results")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(integer_null("device_id"))
                    .col(string("hostname"))
                    .col(text("lines"))
                    .col(text("payload"))
                    .col(integer("line_count"))
                    .col(integer("new_lines"))
                    .col(string("status").default("pending"))
                    .col(integer("applied").default(0))
                    .col(text_null("refused_line"))
                    .col(text_null("message"))
                    .col(boolean("rolled_back").default(false))
                    .col(boolean_null("saved"))
                    .col(integer_null("backup_id"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_push_results_job_log_id")
                            .from("push_results", "job_log_id")
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
                    .name("idx_push_results_job_device")
                    .table("push_results")
                    .col("job_log_id")
                    .col("device_id")
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one at a time.
        if !manager.has_column("templates", "pre_run_command").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("templates")
                        .add_column(text_null("pre_run_command"))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("templates", "pre_run_parser_id").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("templates")
                        .add_column(integer_null("pre_run_parser_id"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["pre_run_parser_id", "pre_run_command"] {
            if manager.has_column("templates", column).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table("templates")
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name("idx_push_results_job_device")
                    .table("push_results")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("push_results").if_exists().to_owned())
            .await
    }
}
