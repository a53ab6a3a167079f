//! The `checkmk_mapping` table: one row saying which devices become which CheckMK hosts.

use sea_orm::entity::prelude::*;

use crate::vocabulary::CheckmkSourceKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkmk_mapping")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source_kind: CheckmkSourceKind,
    pub nautobot_source_id: Option<i32>,
    /// Inventory devices carrying this tag; empty: every enabled device.
    pub inventory_tag: String,
    /// Lines `kind argument => folder template`, first match wins.
    #[sea_orm(column_type = "Text")]
    pub folder_rules: String,
    pub folder_default: String,
    #[sea_orm(column_type = "Text")]
    pub site_rules: String,
    /// Empty: no `site` attribute unless a rule gives one.
    pub site_default: String,
    /// Template of the `alias` attribute; empty: none.
    pub alias: String,
    /// Lines `label key: template`.
    #[sea_orm(column_type = "Text")]
    pub labels: String,
    /// Lines `tag_group: template`.
    #[sea_orm(column_type = "Text")]
    pub tag_groups: String,
    /// Attribute names, one per line, left out of comparisons and kept on updates.
    #[sea_orm(column_type = "Text")]
    pub ignored_attributes: String,
    pub allow_delete: bool,
    pub scheduled_add: bool,
    pub scheduled_update: bool,
    pub scheduled_activate: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
