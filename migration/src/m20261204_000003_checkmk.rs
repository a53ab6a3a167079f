//! CheckMK's connection settings that join the site URL and secret seeded with the schema: the
//! automation user, the timeout and TLS verification.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (key, value as JSON, type, description).
const SETTINGS: [crate::seed_settings::Row; 3] = [
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
        crate::seed_settings::add(manager, "checkmk", &SETTINGS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::seed_settings::remove(manager, &SETTINGS).await
    }
}
