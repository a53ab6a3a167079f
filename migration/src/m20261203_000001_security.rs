//! Security hardening: sign-in throttling by source address, the addresses each user has signed
//! in from (which a lockout caused elsewhere does not shut out), and the networks a credential may
//! be sent to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per throttled key (a source address, or a user at a familiar address): the
        // attempts counted in the current window and, once over the limit, until when it is
        // refused.
        manager
            .create_table(
                Table::create()
                    .table("login_throttle")
                    .if_not_exists()
                    .col(string_len("key", 128).primary_key())
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("window_started_at"))
                    .col(timestamp_with_time_zone_null("blocked_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("user_login_addresses")
                    .if_not_exists()
                    .col(integer("user_id"))
                    .col(string_len("address", 64))
                    .col(timestamp_with_time_zone("last_success_at"))
                    .primary_key(Index::create().col("user_id").col("address"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_login_addresses_user_id")
                            .from("user_login_addresses", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
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
                        "security.address_failure_limit".into(),
                        serde_json::json!(20).into(),
                        "integer".into(),
                        "security".into(),
                        "Failed sign-ins from one source address, to any accounts, before that address is refused for the lockout minutes"
                            .into(),
                        false.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        // Empty: no restriction (existing credentials keep working; pages warn about them).
        manager
            .alter_table(
                Table::alter()
                    .table("credentials")
                    .add_column(text("allowed_networks").default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("credentials")
                    .drop_column("allowed_networks")
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table("admin_settings")
                    .and_where(Expr::col("key").eq("security.address_failure_limit"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("user_login_addresses").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("login_throttle").to_owned())
            .await
    }
}
