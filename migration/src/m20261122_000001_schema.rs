//! The whole schema of DESIGN.md's data model, on SQLite and PostgreSQL alike, with the admin
//! settings' defaults.

use sea_orm_migration::sea_orm::sea_query::Expr;
use sea_orm_migration::{prelude::*, schema::*};
use serde_json::{Value, json};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (key, default value, value type, category, description, is_sensitive)
const SETTINGS: &[(&str, &str, &str, &str, &str, bool)] = &[
    (
        "security.lockout_threshold",
        "5",
        "integer",
        "security",
        "Failed logins before an account is locked",
        false,
    ),
    (
        "security.lockout_minutes",
        "15",
        "integer",
        "security",
        "Minutes an account stays locked after too many failed logins",
        false,
    ),
    (
        "security.session_lifetime_minutes",
        "480",
        "integer",
        "security",
        "Minutes a login session lasts before the user must sign in again",
        false,
    ),
    (
        "security.password_min_length",
        "10",
        "integer",
        "security",
        "Minimum password length",
        false,
    ),
    (
        "security.password_require_mixed",
        "true",
        "boolean",
        "security",
        "Passwords must contain letters and digits",
        false,
    ),
    (
        "jobs.concurrency",
        "8",
        "integer",
        "jobs",
        "Devices backed up in parallel per worker",
        false,
    ),
    (
        "jobs.device_timeout_seconds",
        "60",
        "integer",
        "jobs",
        "Timeout for each step of a device session",
        false,
    ),
    (
        "jobs.log_retention_days",
        "90",
        "integer",
        "jobs",
        "Days job logs are kept",
        false,
    ),
    (
        "backups.retention_versions",
        "0",
        "integer",
        "backups",
        "Configuration versions kept per device (0 keeps all)",
        false,
    ),
    (
        "backups.retention_days",
        "0",
        "integer",
        "backups",
        "Days unchanged old versions are kept (0 keeps all)",
        false,
    ),
    (
        "backups.store_secrets_masked",
        "true",
        "boolean",
        "backups",
        "Store configurations with secrets replaced by a marker",
        false,
    ),
    (
        "credentials.expiry_warning_days",
        "7",
        "integer",
        "credentials",
        "Days before expiry a credential is shown as expiring",
        false,
    ),
    (
        "notifications.smtp_host",
        "\"\"",
        "string",
        "notifications",
        "SMTP server for job notifications",
        false,
    ),
    (
        "notifications.smtp_password",
        "null",
        "secret",
        "notifications",
        "SMTP password",
        true,
    ),
    (
        "nautobot.url",
        "\"\"",
        "string",
        "nautobot",
        "Nautobot base URL",
        false,
    ),
    (
        "nautobot.token",
        "null",
        "secret",
        "nautobot",
        "Nautobot API token",
        true,
    ),
    (
        "checkmk.url",
        "\"\"",
        "string",
        "checkmk",
        "CheckMK site URL",
        false,
    ),
    (
        "checkmk.secret",
        "null",
        "secret",
        "checkmk",
        "CheckMK automation secret",
        true,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_len_uniq("username", 255))
                    .col(string_null("email"))
                    .col(string_null("realname"))
                    .col(string("password_hash"))
                    .col(integer("permissions").default(1))
                    .col(boolean("is_active").default(true))
                    .col(boolean("debug").default(false))
                    .col(timestamp_with_time_zone_null("last_login_at"))
                    .col(integer("failed_logins").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone_null("password_changed_at"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .if_not_exists()
                    .col(string_len("id", 64).primary_key())
                    .col(integer_null("user_id"))
                    .col(text("data"))
                    .col(string_null("ip"))
                    .col(string_null("user_agent"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(
                        timestamp_with_time_zone("last_seen_at").default(Expr::current_timestamp()),
                    )
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user_id")
                            .from("sessions", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_sessions_user_id",
            "sessions",
            &["user_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_sessions_expires_at",
            "sessions",
            &["expires_at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("user_id"))
                    .col(string("name"))
                    .col(string_len_uniq("token_hash", 64))
                    .col(string_len("prefix", 16))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_tokens_user_id")
                            .from("api_tokens", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_api_tokens_user_id_name",
            "api_tokens",
            &["user_id", "name"],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("tags")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("name"))
                    .col(string_len("color", 7))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("devices")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("hostname"))
                    .col(string_len("ip_address", 45))
                    .col(integer("port").default(22))
                    .col(string_len("device_type", 64))
                    .col(text_null("description"))
                    .col(integer_null("owner_id"))
                    .col(boolean("enabled").default(true))
                    .col(string_null("serial_number"))
                    .col(string_null("model"))
                    .col(string_null("os_version"))
                    .col(text_null("ssh_host_key"))
                    .col(timestamp_with_time_zone_null("last_backup_at"))
                    .col(string_len_null("last_backup_status", 16))
                    .col(text_null("last_backup_error"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_devices_owner_id")
                            .from("devices", "owner_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_devices_ip_address",
            "devices",
            &["ip_address"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_devices_device_type",
            "devices",
            &["device_type"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_devices_enabled",
            "devices",
            &["enabled"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_devices_last_backup_status",
            "devices",
            &["last_backup_status"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_devices_last_backup_at",
            "devices",
            &["last_backup_at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("tag_rules")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("tag_id"))
                    .col(string("name"))
                    .col(json_binary("criteria"))
                    .col(boolean("is_active").default(true))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tag_rules_tag_id")
                            .from("tag_rules", "tag_id")
                            .to("tags", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_tag_rules_tag_id",
            "tag_rules",
            &["tag_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("device_tags")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("device_id"))
                    .col(integer("tag_id"))
                    .col(integer_null("rule_id"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_device_tags_device_id")
                            .from("device_tags", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_device_tags_tag_id")
                            .from("device_tags", "tag_id")
                            .to("tags", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_device_tags_rule_id")
                            .from("device_tags", "rule_id")
                            .to("tag_rules", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_device_tags_device_id_tag_id",
            "device_tags",
            &["device_id", "tag_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_device_tags_tag_id",
            "device_tags",
            &["tag_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_device_tags_rule_id",
            "device_tags",
            &["rule_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("credentials")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string("name"))
                    .col(string_len("kind", 16))
                    .col(string("username"))
                    .col(text_null("secret"))
                    .col(text_null("enable_secret"))
                    .col(text_null("private_key"))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone_null("valid_until"))
                    .col(integer_null("owner_id"))
                    .col(integer_null("created_by"))
                    .col(integer("success_count").default(0))
                    .col(integer("failure_count").default(0))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone_null("last_success_at"))
                    .col(timestamp_with_time_zone_null("last_failure_at"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credentials_owner_id")
                            .from("credentials", "owner_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credentials_created_by")
                            .from("credentials", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_credentials_name",
            "credentials",
            &["name"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_credentials_owner_id",
            "credentials",
            &["owner_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("credential_tags")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("credential_id"))
                    .col(integer("tag_id"))
                    .col(integer("priority").default(100))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_tags_credential_id")
                            .from("credential_tags", "credential_id")
                            .to("credentials", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_tags_tag_id")
                            .from("credential_tags", "tag_id")
                            .to("tags", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_credential_tags_credential_id_tag_id",
            "credential_tags",
            &["credential_id", "tag_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_credential_tags_tag_id_priority",
            "credential_tags",
            &["tag_id", "priority"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("scheduled_jobs")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("name"))
                    .col(string_len("job_type", 32))
                    .col(string_len("target_type", 16))
                    .col(integer_null("target_id"))
                    .col(string_len("schedule_type", 16))
                    .col(json_binary("parameters"))
                    .col(string_len("timezone", 64).default("UTC"))
                    .col(boolean("enabled").default(true))
                    .col(timestamp_with_time_zone_null("next_run_at"))
                    .col(timestamp_with_time_zone_null("last_run_at"))
                    .col(integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scheduled_jobs_created_by")
                            .from("scheduled_jobs", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_scheduled_jobs_next_run_at",
            "scheduled_jobs",
            &["next_run_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_scheduled_jobs_enabled",
            "scheduled_jobs",
            &["enabled"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("job_logs")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_len_uniq("session_id", 64))
                    .col(string_len("job_type", 32))
                    .col(string_len("status", 16))
                    .col(integer_null("device_id"))
                    .col(integer_null("scheduled_job_id"))
                    .col(integer_null("created_by"))
                    .col(json_binary_null("parameters"))
                    .col(text_null("message"))
                    .col(string_null("idempotency_key").unique_key().to_owned())
                    .col(integer("progress_done").default(0))
                    .col(integer("progress_total").default(0))
                    .col(boolean("debug").default(false))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_logs_device_id")
                            .from("job_logs", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_logs_scheduled_job_id")
                            .from("job_logs", "scheduled_job_id")
                            .to("scheduled_jobs", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_logs_created_by")
                            .from("job_logs", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_job_logs_status",
            "job_logs",
            &["status"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_logs_job_type",
            "job_logs",
            &["job_type"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_logs_created_at",
            "job_logs",
            &["created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_logs_created_by",
            "job_logs",
            &["created_by"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_logs_scheduled_job_id",
            "job_logs",
            &["scheduled_job_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("job_log_entries")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(string_len("level", 16))
                    .col(string_len("category", 32))
                    .col(text("message"))
                    .col(integer_null("device_id"))
                    .col(timestamp_with_time_zone("timestamp").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_log_entries_job_log_id")
                            .from("job_log_entries", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_log_entries_device_id")
                            .from("job_log_entries", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_job_log_entries_job_log_id_timestamp",
            "job_log_entries",
            &["job_log_id", "timestamp"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_log_entries_level",
            "job_log_entries",
            &["level"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("backups")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer_null("device_id"))
                    .col(string("hostname"))
                    .col(integer("version"))
                    .col(text("content"))
                    .col(string_len("content_hash", 64))
                    .col(integer("size"))
                    .col(integer("changed_lines").default(0))
                    .col(string("filename"))
                    .col(integer_null("job_log_id"))
                    .col(
                        timestamp_with_time_zone("first_seen_at")
                            .default(Expr::current_timestamp()),
                    )
                    .col(
                        timestamp_with_time_zone("last_seen_at").default(Expr::current_timestamp()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_backups_device_id")
                            .from("backups", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_backups_job_log_id")
                            .from("backups", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_backups_device_id_version",
            "backups",
            &["device_id", "version"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_backups_device_id_last_seen_at",
            "backups",
            &["device_id", "last_seen_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_backups_content_hash",
            "backups",
            &["content_hash"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_backups_first_seen_at",
            "backups",
            &["first_seen_at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("job_results")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(integer_null("device_id"))
                    .col(string("hostname"))
                    .col(string_len("status", 16))
                    .col(text_null("message"))
                    .col(integer_null("backup_id"))
                    .col(integer_null("credential_id"))
                    .col(boolean("changed").default(false))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .col(integer_null("duration_ms"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_results_job_log_id")
                            .from("job_results", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_results_device_id")
                            .from("job_results", "device_id")
                            .to("devices", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_results_backup_id")
                            .from("job_results", "backup_id")
                            .to("backups", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_results_credential_id")
                            .from("job_results", "credential_id")
                            .to("credentials", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_job_results_job_log_id",
            "job_results",
            &["job_log_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_job_results_device_id",
            "job_results",
            &["device_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("admin_settings")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_len_uniq("key", 128))
                    .col(json_binary("value"))
                    .col(string_len("value_type", 16))
                    .col(string_len("category", 32))
                    .col(text("description"))
                    .col(boolean("is_sensitive").default(false))
                    .col(integer_null("updated_by"))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_admin_settings_updated_by")
                            .from("admin_settings", "updated_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_admin_settings_category",
            "admin_settings",
            &["category"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_logs")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(timestamp_with_time_zone("timestamp").default(Expr::current_timestamp()))
                    .col(string_len("event_type", 16))
                    .col(string_len("event_name", 64))
                    .col(integer_null("actor_id"))
                    .col(string_null("actor_name"))
                    .col(string_len_null("target_type", 32))
                    .col(string_len_null("target_id", 64))
                    .col(string_len_null("ip", 64))
                    .col(string_null("user_agent"))
                    .col(string_len("outcome", 16))
                    .col(json_binary_null("details"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_logs_actor_id")
                            .from("audit_logs", "actor_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_logs_timestamp",
            "audit_logs",
            &["timestamp"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_audit_logs_event_type_timestamp",
            "audit_logs",
            &["event_type", "timestamp"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_audit_logs_event_name",
            "audit_logs",
            &["event_name"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_audit_logs_actor_id",
            "audit_logs",
            &["actor_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("git_repositories")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string_uniq("name"))
                    .col(string("url"))
                    .col(string("branch").default("main"))
                    .col(string_len("category", 16))
                    .col(integer_null("credential_id"))
                    .col(boolean("verify_ssl").default(true))
                    .col(string_null("author_name"))
                    .col(string_null("author_email"))
                    .col(text_null("description"))
                    .col(boolean("is_active").default(true))
                    .col(timestamp_with_time_zone_null("last_sync_at"))
                    .col(string_len_null("sync_status", 16))
                    .col(text_null("sync_message"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_git_repositories_credential_id")
                            .from("git_repositories", "credential_id")
                            .to("credentials", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("templates")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(string("name"))
                    .col(string_len("source", 16))
                    .col(string_len("template_type", 16))
                    .col(string_null("category"))
                    .col(text("content"))
                    .col(json_binary_null("variables"))
                    .col(text_null("description"))
                    .col(string_len("scope", 16).default("global"))
                    .col(integer_null("owner_id"))
                    .col(integer_null("git_repository_id"))
                    .col(string_null("file_path"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_templates_owner_id")
                            .from("templates", "owner_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_templates_git_repository_id")
                            .from("templates", "git_repository_id")
                            .to("git_repositories", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_templates_name", "templates", &["name"], false).await?;
        index(
            manager,
            "idx_templates_owner_id",
            "templates",
            &["owner_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("template_versions")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("template_id"))
                    .col(integer("version"))
                    .col(text("content"))
                    .col(string_len("content_hash", 64))
                    .col(text_null("change_notes"))
                    .col(integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_template_versions_template_id")
                            .from("template_versions", "template_id")
                            .to("templates", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_template_versions_created_by")
                            .from("template_versions", "created_by")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_template_versions_template_id_version",
            "template_versions",
            &["template_id", "version"],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("nb2cmk_results")
                    .if_not_exists()
                    .col(pk_auto("id"))
                    .col(integer("job_log_id"))
                    .col(string("device_name"))
                    .col(string_len("status", 16))
                    .col(text_null("diff"))
                    .col(json_binary_null("nautobot_data"))
                    .col(json_binary_null("checkmk_data"))
                    .col(text_null("message"))
                    .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_nb2cmk_results_job_log_id")
                            .from("nb2cmk_results", "job_log_id")
                            .to("job_logs", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_nb2cmk_results_job_log_id",
            "nb2cmk_results",
            &["job_log_id"],
            false,
        )
        .await?;
        seed_settings(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "nb2cmk_results",
            "template_versions",
            "templates",
            "git_repositories",
            "audit_logs",
            "admin_settings",
            "job_results",
            "backups",
            "job_log_entries",
            "job_logs",
            "scheduled_jobs",
            "credential_tags",
            "credentials",
            "device_tags",
            "tag_rules",
            "devices",
            "tags",
            "api_tokens",
            "sessions",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table).if_not_exists();
    for col in columns {
        stmt.col(*col);
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

async fn seed_settings(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for (key, value, value_type, category, description, sensitive) in SETTINGS {
        let value: Value = serde_json::from_str(value).unwrap_or(json!(null));
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
                        (*key).into(),
                        value.into(),
                        (*value_type).into(),
                        (*category).into(),
                        (*description).into(),
                        (*sensitive).into(),
                    ])
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
