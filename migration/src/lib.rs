//! The database schema, applied on start and by `netraven migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_schema;
mod m20261125_000001_host_key_pending;
mod m20261125_000002_jobs;
mod m20261125_000003_ip_sort;
mod m20261203_000001_security;
mod m20261203_000002_job_live;
mod m20261203_000003_api_tokens;
mod m20261204_000001_git;
mod m20261204_000002_nautobot;
mod m20261204_000003_checkmk;
mod m20261205_000001_checkmk_mapping;
mod m20261205_000002_templates;
mod m20261205_000003_execute;
mod m20261205_000004_command_outputs;
mod m20261206_000001_push;
mod m20261206_000002_discovery;
mod seed_settings;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_schema::Migration),
            Box::new(m20261125_000001_host_key_pending::Migration),
            Box::new(m20261125_000002_jobs::Migration),
            Box::new(m20261125_000003_ip_sort::Migration),
            Box::new(m20261203_000001_security::Migration),
            Box::new(m20261203_000002_job_live::Migration),
            Box::new(m20261203_000003_api_tokens::Migration),
            Box::new(m20261204_000001_git::Migration),
            Box::new(m20261204_000002_nautobot::Migration),
            Box::new(m20261204_000003_checkmk::Migration),
            Box::new(m20261205_000001_checkmk_mapping::Migration),
            Box::new(m20261205_000002_templates::Migration),
            Box::new(m20261205_000003_execute::Migration),
            Box::new(m20261205_000004_command_outputs::Migration),
            Box::new(m20261206_000001_push::Migration),
            Box::new(m20261206_000002_discovery::Migration),
        ]
    }
}
