//! Network discovery: one row per scanned address and port with how far the scan got, and the
//! settings that bound scans.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (key, value as JSON, type, description).
const SETTINGS: [crate::seed_settings::Row; 5] = [
    (
        "discovery.max_addresses",
        "4096",
        "integer",
        "The most addresses one scan may cover (after exclusions)",
    ),
    (
        "discovery.ssh_ports",
        "\"22\"",
        "string",
        "The TCP ports a scan probes unless its form says otherwise (comma-separated)",
    ),
    (
        "discovery.max_concurrency",
        "512",
        "integer",
        "The highest concurrency a scan may ask for",
    ),
    (
        "discovery.max_timeout_seconds",
        "30",
        "integer",
        "The longest wait a scan may ask for at each step (connecting, the banner, each prompt)",
    ),
    (
        "discovery.rate_per_second",
        "500",
        "integer",
        "How fast one scan opens connections (a rate limit per scan)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("discovery_results")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(string("address"))
                    .col(integer("port"))
                    .col(string("outcome"))
                    .col(text("message"))
                    .col(text_null("banner"))
                    .col(integer_null("credential_id"))
                    .col(string_null("credential_name"))
                    .col(string_null("platform"))
                    .col(string_null("hostname"))
                    .col(string_null("model"))
                    .col(string_null("serial_number"))
                    .col(string_null("os_version"))
                    .col(integer_null("device_id"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_discovery_results_job_log_id")
                            .from("discovery_results", "job_log_id")
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
                    .name("idx_discovery_results_job")
                    .table("discovery_results")
                    .col("job_log_id")
                    .col("outcome")
                    .to_owned(),
            )
            .await?;
        crate::seed_settings::add(manager, "discovery", &SETTINGS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::seed_settings::remove(manager, &SETTINGS).await?;
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name("idx_discovery_results_job")
                    .table("discovery_results")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table("discovery_results")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
