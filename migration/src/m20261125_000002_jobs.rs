//! What the job system needs beyond the first schema: per-device result details (error class,
//! credential used), one result per device and job, the dispatch mark of a job's queue tasks
//! (a transactional outbox: a job whose tasks were not handed to the queue is dispatched again),
//! the last time a job made progress (a watchdog ends jobs that stopped moving),
//! whether a stored version has its secrets masked, and the setting that lets administrators see
//! secrets of versions stored unmasked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            string_len_null("error_class", 32),
            string_null("credential_name"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("job_results")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            timestamp_with_time_zone_null("dispatched_at"),
            timestamp_with_time_zone_null("updated_at"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("job_logs")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("backups")
                    .add_column(boolean("secrets_masked").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("admin_settings")
                    .columns([
                        "key",
                        "value",
                        "value_type",
                        "category",
                        "description",
                        "is_sensitive",
                    ])
                    .values_panic([
                        "backups.show_secrets_to_admins".into(),
                        serde_json::json!(false).into(),
                        "boolean".into(),
                        "backups".into(),
                        "Administrators see secrets in stored configurations (when they were stored unmasked)".into(),
                        false.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        // Backups mostly wait on the network: 8 devices at a time was far too few. Only a value
        // nobody changed is raised.
        manager
            .exec_stmt(
                Query::update()
                    .table("admin_settings")
                    .values([
                        ("value", serde_json::json!(100).into()),
                        (
                            "description",
                            "Devices backed up at the same time by each worker process (applies after a restart)".into(),
                        ),
                    ])
                    .and_where(Expr::col("key").eq("jobs.concurrency"))
                    .and_where(Expr::col("value").eq(serde_json::json!(8)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_job_results_job_log_id_device_id")
                    .table("job_results")
                    .col("job_log_id")
                    .col("device_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // The device list filtered by a tag reads each link's device id straight from the index.
        manager
            .create_index(
                Index::create()
                    .name("idx_device_tags_tag_id_device_id")
                    .table("device_tags")
                    .col("tag_id")
                    .col("device_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_results_job_log_id_status")
                    .table("job_results")
                    .col("job_log_id")
                    .col("status")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table("admin_settings")
                    .and_where(Expr::col("key").eq("backups.show_secrets_to_admins"))
                    .to_owned(),
            )
            .await?;
        for (name, table) in [
            ("idx_device_tags_tag_id_device_id", "device_tags"),
            ("uq_job_results_job_log_id_device_id", "job_results"),
            ("idx_job_results_job_log_id_status", "job_results"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            ("job_results", "error_class"),
            ("job_results", "credential_name"),
            ("job_logs", "dispatched_at"),
            ("job_logs", "updated_at"),
            ("backups", "secrets_masked"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
