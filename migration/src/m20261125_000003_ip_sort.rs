//! A sort key for device IP addresses, so that lists order them as addresses (10.0.0.2 before
//! 10.0.0.10, IPv4 before IPv6) rather than as text. Filled for the devices already stored.

use std::net::IpAddr;

use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The same key as the application's `devices::ip_sort_key` (a migration must not change when
/// the application does, so it keeps its own copy).
fn key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => hex(&v4.to_ipv6_mapped().octets()),
        Ok(IpAddr::V6(v6)) => hex(&v6.octets()),
        Err(_) => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("devices")
                    .add_column(string_len("ip_sort", 32).default(""))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, ip_address FROM devices",
            ))
            .await?;
        for row in rows {
            let id: i32 = row.try_get("", "id")?;
            let ip: String = row.try_get("", "ip_address")?;
            let update = Query::update()
                .table("devices")
                .value("ip_sort", key(&ip))
                .and_where(Expr::col("id").eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_devices_ip_sort")
                    .table("devices")
                    .col("ip_sort")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_devices_ip_sort")
                    .table("devices")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("devices")
                    .drop_column("ip_sort")
                    .to_owned(),
            )
            .await
    }
}
