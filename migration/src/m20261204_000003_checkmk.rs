//! CheckMK's connection settings that join the site URL and secret seeded with the schema: the
//! automation user, the timeout and TLS verification.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (key, value as JSON, type, description).
const SETTINGS: [(&str, &str, &str, &str); 3] = [
    (
        "checkmk.user",
        "\"automation\"",
        "string",
        "The CheckMK automation user NetRaven signs in as",
    ),
    (
        "checkmk.timeout_seconds",
        "30",
        "integer",
        "Time each request to CheckMK may take",
    ),
    (
        "checkmk.verify_tls",
        "true",
        "boolean",
        "Refuse a CheckMK whose certificate is not trusted (turn off only for a lab)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (key, value, value_type, description) in SETTINGS {
            let value: serde_json::Value =
                serde_json::from_str(value).map_err(|e| DbErr::Migration(e.to_string()))?;
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
                            key.into(),
                            value.into(),
                            value_type.into(),
                            "checkmk".into(),
                            description.into(),
                            false.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table("admin_settings")
                    .and_where(Expr::col("key").is_in(SETTINGS.map(|(key, ..)| key)))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
