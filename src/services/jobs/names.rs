//! The names a job list shows beside each job: who or which schedule started it, and the device
//! or tag it targets, read for a whole page at once.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Target;
use crate::entity::{
    devices, git_repositories, job_logs, nautobot_sources, scheduled_jobs, tags, users,
};
use crate::error::Error;
use crate::vocabulary::JobType;

/// Display names of the users and schedules that started the listed jobs, and of the devices
/// and tags they target.
#[derive(Default)]
pub struct Names {
    users: HashMap<i32, String>,
    schedules: HashMap<i32, String>,
    devices: HashMap<i32, String>,
    tags: HashMap<i32, String>,
    repositories: HashMap<i32, String>,
    sources: HashMap<i32, String>,
}

impl Names {
    pub async fn load(db: &impl ConnectionTrait, jobs: &[job_logs::Model]) -> Result<Names, Error> {
        let user_ids: Vec<i32> = jobs.iter().filter_map(|j| j.created_by).collect();
        let schedule_ids: Vec<i32> = jobs.iter().filter_map(|j| j.scheduled_job_id).collect();
        let users = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::Username)
            .filter(users::Column::Id.is_in(user_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let schedules = scheduled_jobs::Entity::find()
            .select_only()
            .column(scheduled_jobs::Column::Id)
            .column(scheduled_jobs::Column::Name)
            .filter(scheduled_jobs::Column::Id.is_in(schedule_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let targets: Vec<Target> = jobs.iter().filter_map(Target::of_job).collect();
        let device_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Device(id) => Some(*id),
                _ => None,
            })
            .collect();
        let devices = devices::Entity::find()
            .select_only()
            .column(devices::Column::Id)
            .column(devices::Column::Hostname)
            .filter(devices::Column::Id.is_in(device_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let tag_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Tag(id) => Some(*id),
                _ => None,
            })
            .collect();
        let tags = tags::Entity::find()
            .select_only()
            .column(tags::Column::Id)
            .column(tags::Column::Name)
            .filter(tags::Column::Id.is_in(tag_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let repository_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Repository { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        let repositories = git_repositories::Entity::find()
            .select_only()
            .column(git_repositories::Column::Id)
            .column(git_repositories::Column::Name)
            .filter(git_repositories::Column::Id.is_in(repository_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let source_ids: Vec<i32> = targets
            .iter()
            .filter_map(|t| match t {
                Target::NautobotSource { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        let sources = nautobot_sources::Entity::find()
            .select_only()
            .column(nautobot_sources::Column::Id)
            .column(nautobot_sources::Column::Name)
            .filter(nautobot_sources::Column::Id.is_in(source_ids))
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        Ok(Names {
            users,
            schedules,
            devices,
            tags,
            repositories,
            sources,
        })
    }

    /// "device core1", "tag site-a", "3 selected devices", "all devices".
    pub fn target(&self, job: &job_logs::Model) -> String {
        match job.job_type {
            JobType::Retention => return "stored versions and old job logs".into(),
            JobType::CheckmkCompare => return "the CheckMK mapping's devices".into(),
            _ => {}
        }
        let named = |map: &HashMap<i32, String>, id: i32, what: &str| match map.get(&id) {
            Some(name) => format!("{what} {name}"),
            None => format!("{what} #{id} (deleted)"),
        };
        match Target::of_job(job) {
            Some(Target::Device(id)) => named(&self.devices, id, "device"),
            Some(Target::Tag(id)) => named(&self.tags, id, "tag"),
            Some(Target::Devices(ids)) => format!("{} selected devices", ids.len()),
            Some(Target::Repository { id, fresh }) => {
                let name = named(&self.repositories, id, "repository");
                if fresh {
                    format!("{name} (fresh clone)")
                } else {
                    name
                }
            }
            Some(Target::NautobotSource { id, apply }) => {
                let name = named(&self.sources, id, "Nautobot source");
                if apply {
                    format!("{name} (apply)")
                } else {
                    format!("{name} (preview)")
                }
            }
            Some(Target::CheckmkResults { job, ids, activate }) => {
                let job = job.unwrap_or_default();
                let hosts = match ids.len() {
                    0 => String::new(),
                    1 => format!("1 result of comparison #{job}"),
                    n => format!("{n} results of comparison #{job}"),
                };
                match (hosts.is_empty(), activate) {
                    (true, _) => "activate pending CheckMK changes".into(),
                    (false, true) => format!("{hosts}, then activate"),
                    (false, false) => hosts,
                }
            }
            Some(Target::Scan(spec)) => {
                let ranges = spec.ranges.join(", ");
                let ports: Vec<String> = spec.ports.iter().map(u16::to_string).collect();
                format!("{ranges} (port {})", ports.join(", "))
            }
            Some(Target::All) | None => "all devices".into(),
        }
    }

    /// "alice", "schedule Daily backup", or "system".
    pub fn started_by(&self, job: &job_logs::Model) -> String {
        if let Some(name) = job.scheduled_job_id.and_then(|s| self.schedules.get(&s)) {
            return format!("schedule {name}");
        }
        match job.created_by.and_then(|u| self.users.get(&u)) {
            Some(name) => name.clone(),
            None if job.scheduled_job_id.is_some() => "a schedule".into(),
            None => "system".into(),
        }
    }
}
