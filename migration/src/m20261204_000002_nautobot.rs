//! Nautobot as an inventory source: saved sources (filters and mapping), the platform-name
//! mapping table, each sync job's planned items, and on devices where they came from (source,
//! the Nautobot id) and whether a sync disabled them because they left their source. Tags a sync
//! attached are marked, so a later sync removes only those.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite alters one column per statement, and cannot add a foreign key to an existing table:
/// `nautobot_source_id` is cleared by the service that deletes a source.
fn device_columns() -> Vec<ColumnDef> {
    vec![
        string("source").default("manual").to_owned(),
        integer_null("nautobot_source_id").to_owned(),
        string_len_null("external_id", 64).to_owned(),
        timestamp_with_time_zone_null("left_source_at").to_owned(),
    ]
}

/// The connection and onboarding settings that join the URL and token seeded with the schema:
/// (key, value, type, description).
const SETTINGS: [crate::seed_settings::Row; 9] = [
    (
        "nautobot.timeout_seconds",
        "30",
        "integer",
        "Time each request to Nautobot may take",
    ),
    (
        "nautobot.verify_tls",
        "true",
        "boolean",
        "Refuse a Nautobot whose certificate is not trusted (turn off only for a lab)",
    ),
    (
        "nautobot.ca_file",
        "\"\"",
        "string",
        "PEM file on the NetRaven server with the CA that signed Nautobot's certificate, trusted besides the system's (empty: system CAs only)",
    ),
    (
        "nautobot.onboard_location",
        "\"\"",
        "string",
        "Location a device added to Nautobot gets unless another is chosen",
    ),
    (
        "nautobot.onboard_role",
        "\"\"",
        "string",
        "Role a device added to Nautobot gets unless another is chosen",
    ),
    (
        "nautobot.onboard_status",
        "\"Active\"",
        "string",
        "Status of a device added to Nautobot, and of its interface and IP address",
    ),
    (
        "nautobot.onboard_device_type",
        "\"\"",
        "string",
        "Device type (model) used when the device's model fact matches none in Nautobot",
    ),
    (
        "nautobot.onboard_namespace",
        "\"Global\"",
        "string",
        "Namespace the management address is created in",
    ),
    (
        "nautobot.onboard_interface",
        "\"Management\"",
        "string",
        "Name of the interface created to carry the management address",
    ),
];

const DEVICE_COLUMNS: [&str; 4] = [
    "source",
    "nautobot_source_id",
    "external_id",
    "left_source_at",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::seed_settings::add(manager, "nautobot", &SETTINGS).await?;
        for mut column in device_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table("devices")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_devices_external_id")
                    .table("devices")
                    .col("external_id")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("device_tags")
                    .add_column(boolean("from_nautobot").default(false).to_owned())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("nautobot_sources")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("name"))
                    .col(text_null("description"))
                    // Names, one per line; empty = no filter on that field.
                    .col(text("locations").default(""))
                    .col(text("roles").default(""))
                    .col(text("statuses").default(""))
                    .col(text("tags").default(""))
                    .col(text("platforms").default(""))
                    .col(text("tenants").default(""))
                    .col(text_null("graphql_filter"))
                    .col(string_null("port_field"))
                    .col(boolean("import_tags").default(true))
                    // A prefix turns on the generated tag (e.g. "site:" + location name).
                    .col(string_null("location_tag_prefix"))
                    .col(string_null("role_tag_prefix"))
                    .col(string_null("status_tag_prefix"))
                    .col(string_null("tenant_tag_prefix"))
                    .col(string("on_leave").default("disable"))
                    .col(boolean("adopt").default(false))
                    .col(boolean("write_back").default(false))
                    .col(string("write_back_field").default("last_backup"))
                    .col(timestamp_with_time_zone_null("last_sync_at"))
                    .col(integer_null("last_sync_job_id"))
                    .col(text_null("last_sync_message"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("nautobot_platforms")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("nautobot_platform"))
                    .col(string("platform"))
                    .to_owned(),
            )
            .await?;
        // No foreign key to devices: an item of a `delete` outlives the device it removed.
        manager
            .create_table(
                Table::create()
                    .table("nautobot_sync_items")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(string("action"))
                    .col(string("hostname"))
                    .col(string_len_null("nautobot_id", 64))
                    .col(integer_null("device_id"))
                    .col(json_binary_null("detail"))
                    .col(text_null("reason"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_nautobot_sync_items_job_log_id")
                            .from("nautobot_sync_items", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_nautobot_sync_items_job")
                    .table("nautobot_sync_items")
                    .col("job_log_id")
                    .col("action")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::seed_settings::remove(manager, &SETTINGS).await?;
        for table in [
            "nautobot_sync_items",
            "nautobot_platforms",
            "nautobot_sources",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("device_tags")
                    .drop_column("from_nautobot")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_devices_external_id")
                    .table("devices")
                    .to_owned(),
            )
            .await?;
        for column in DEVICE_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("devices")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
