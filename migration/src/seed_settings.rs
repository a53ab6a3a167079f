//! Adding and removing seeded `admin_settings` rows, for the migrations that bring a feature's
//! settings: (key, value as JSON text, value type, description), none of them sensitive.

use sea_orm_migration::prelude::*;

pub type Row = (&'static str, &'static str, &'static str, &'static str);

pub async fn add(manager: &SchemaManager<'_>, category: &str, rows: &[Row]) -> Result<(), DbErr> {
    for (key, value, value_type, description) in rows {
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
                        (*key).into(),
                        value.into(),
                        (*value_type).into(),
                        category.into(),
                        (*description).into(),
                        false.into(),
                    ])
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

pub async fn remove(manager: &SchemaManager<'_>, rows: &[Row]) -> Result<(), DbErr> {
    manager
        .exec_stmt(
            Query::delete()
                .from_table("admin_settings")
                .and_where(Expr::col("key").is_in(rows.iter().map(|(key, ..)| *key)))
                .to_owned(),
        )
        .await
}
