//! The `command_outputs` table: what each device answered to each command of a command run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "command_outputs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job_log_id: i32,
    pub device_id: Option<i32>,
    pub hostname: String,
    /// The command's place in the run (0 first).
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub command: String,
    /// The output, secrets masked with the platform's filters.
    #[sea_orm(column_type = "Text")]
    pub output: Option<String>,
    /// The device's rejection of the command.
    #[sea_orm(column_type = "Text")]
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::job_logs::Entity",
        from = "Column::JobLogId",
        to = "super::job_logs::Column::Id",
        on_delete = "Cascade"
    )]
    JobLog,
}

impl Related<super::job_logs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::JobLog.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
