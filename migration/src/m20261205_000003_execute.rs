//! The `execute` permission (32: command runs and configuration pushes) joins the admin preset:
//! accounts holding the whole former preset (31) hold the new one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_ALL: i32 = 31;
const EXECUTE: i32 = 32;

async fn set(manager: &SchemaManager<'_>, from: i32, to: i32) -> Result<(), DbErr> {
    let update = Query::update()
        .table("users")
        .value("permissions", to)
        .and_where(Expr::col("permissions").eq(from))
        .to_owned();
    manager.exec_stmt(update).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set(manager, OLD_ALL, OLD_ALL | EXECUTE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set(manager, OLD_ALL | EXECUTE, OLD_ALL).await
    }
}
