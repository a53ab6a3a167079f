//! The order in which a job's devices finished, so a job's page fetches only what changed since
//! its last look: `finish_seq` is the job's progress count that device's finish made (taken under
//! the job row's lock, so the numbers follow commit order on PostgreSQL too).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("job_results")
                    .add_column(integer_null("finish_seq"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_results_job_finish_seq")
                    .table("job_results")
                    .col("job_log_id")
                    .col("finish_seq")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_job_results_job_finish_seq")
                    .table("job_results")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("job_results")
                    .drop_column("finish_seq")
                    .to_owned(),
            )
            .await
    }
}
