//! The `nautobot_platforms` table: a Nautobot platform name and the NetRaven platform its
//! devices get when the platform has no network driver NetRaven knows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nautobot_platforms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub nautobot_platform: String,
    pub platform: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
