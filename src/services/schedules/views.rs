//! Schedules read for pages, as plain data: the sorted list, what each schedule runs on, the
//! edit form's device names, a schedule's recent jobs. Links and words are the web layer's.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{devices, job_logs, nautobot_sources, scheduled_jobs, tags};
use crate::services::query::{Page, Paging, Sort, fetch_page, sort_columns};
use crate::vocabulary::{JobType, TargetKind};

sort_columns! {
    pub enum ScheduleSort {
        Name = "name",
        JobType = "job_type",
        NextRunAt = "next_run_at",
        LastRunAt = "last_run_at",
    } default Name
}

/// A schedule as the list shows it.
#[derive(Clone, Debug)]
pub struct ScheduleRow {
    pub schedule: scheduled_jobs::Model,
    pub target: ScheduleTarget,
}

/// What a schedule runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleTarget {
    /// A retention run, which covers every stored configuration whatever its target says.
    StoredConfigs,
    /// A CheckMK sync, which covers what the CheckMK mapping says.
    CheckmkMapping,
    AllDevices,
    Device {
        id: i32,
        hostname: String,
    },
    Tag {
        id: i32,
        name: String,
        color: String,
    },
    NautobotSource {
        id: i32,
        name: String,
    },
    /// The ranges of an earlier scan (kept with the schedule).
    Scan {
        id: i32,
    },
    /// A device, tag or source deleted after the schedule was saved.
    Deleted {
        kind: TargetKind,
        id: i32,
    },
}

/// One page of schedules, in `sort`'s order, then by id.
pub async fn list(
    db: &impl ConnectionTrait,
    sort: Sort<ScheduleSort>,
    paging: Paging,
) -> Result<Page<ScheduleRow>, DbErr> {
    let column = match sort.column {
        ScheduleSort::Name => scheduled_jobs::Column::Name,
        ScheduleSort::JobType => scheduled_jobs::Column::JobType,
        ScheduleSort::NextRunAt => scheduled_jobs::Column::NextRunAt,
        ScheduleSort::LastRunAt => scheduled_jobs::Column::LastRunAt,
    };
    let select = scheduled_jobs::Entity::find()
        .order_by(column, sort.direction.order())
        .order_by_asc(scheduled_jobs::Column::Id);
    let page: Page<scheduled_jobs::Model> = fetch_page(db, select, paging).await?;
    let targets = Targets::load(db, &page.items).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|schedule| ScheduleRow {
                target: targets.of(&schedule),
                schedule,
            })
            .collect(),
        total: page.total,
        paging: page.paging,
    })
}

/// What one schedule runs on.
pub async fn target_of(
    db: &impl ConnectionTrait,
    schedule: &scheduled_jobs::Model,
) -> Result<ScheduleTarget, DbErr> {
    let targets = Targets::load(db, std::slice::from_ref(schedule)).await?;
    Ok(targets.of(schedule))
}

/// The devices and tags some schedules name, read with two queries for the lot.
struct Targets {
    devices: Vec<(i32, String)>,
    /// Id, name and colour.
    tags: Vec<(i32, String, String)>,
    sources: Vec<(i32, String)>,
}

impl Targets {
    async fn load(
        db: &impl ConnectionTrait,
        schedules: &[scheduled_jobs::Model],
    ) -> Result<Self, DbErr> {
        let ids_of = |kind: TargetKind| -> Vec<i32> {
            schedules
                .iter()
                .filter(|s| s.target_type == kind && s.job_type == JobType::Backup)
                .filter_map(|s| s.target_id)
                .collect()
        };
        let (device_ids, tag_ids) = (ids_of(TargetKind::Device), ids_of(TargetKind::Tag));
        let devices = if device_ids.is_empty() {
            Vec::new()
        } else {
            devices::Entity::find()
                .select_only()
                .column(devices::Column::Id)
                .column(devices::Column::Hostname)
                .filter(devices::Column::Id.is_in(device_ids))
                .into_tuple()
                .all(db)
                .await?
        };
        let tags = if tag_ids.is_empty() {
            Vec::new()
        } else {
            tags::Entity::find()
                .select_only()
                .column(tags::Column::Id)
                .column(tags::Column::Name)
                .column(tags::Column::Color)
                .filter(tags::Column::Id.is_in(tag_ids))
                .into_tuple()
                .all(db)
                .await?
        };
        let source_ids: Vec<i32> = schedules
            .iter()
            .filter(|s| s.target_type == TargetKind::NautobotSource)
            .filter_map(|s| s.target_id)
            .collect();
        let sources = if source_ids.is_empty() {
            Vec::new()
        } else {
            nautobot_sources::Entity::find()
                .select_only()
                .column(nautobot_sources::Column::Id)
                .column(nautobot_sources::Column::Name)
                .filter(nautobot_sources::Column::Id.is_in(source_ids))
                .into_tuple()
                .all(db)
                .await?
        };
        Ok(Self {
            devices,
            tags,
            sources,
        })
    }

    fn of(&self, s: &scheduled_jobs::Model) -> ScheduleTarget {
        match (s.job_type, s.target_type, s.target_id) {
            (JobType::Retention, _, _) => ScheduleTarget::StoredConfigs,
            (JobType::CheckmkCompare, _, _) => ScheduleTarget::CheckmkMapping,
            (JobType::Discovery, _, Some(id)) => ScheduleTarget::Scan { id },
            (_, TargetKind::NautobotSource, Some(id)) => {
                match self.sources.iter().find(|(s, _)| *s == id) {
                    Some((_, name)) => ScheduleTarget::NautobotSource {
                        id,
                        name: name.clone(),
                    },
                    None => ScheduleTarget::Deleted {
                        kind: TargetKind::NautobotSource,
                        id,
                    },
                }
            }
            (_, TargetKind::Device, Some(id)) => {
                match self.devices.iter().find(|(d, _)| *d == id) {
                    Some((_, hostname)) => ScheduleTarget::Device {
                        id,
                        hostname: hostname.clone(),
                    },
                    None => ScheduleTarget::Deleted {
                        kind: TargetKind::Device,
                        id,
                    },
                }
            }
            (_, TargetKind::Tag, Some(id)) => match self.tags.iter().find(|(t, _, _)| *t == id) {
                Some((_, name, color)) => ScheduleTarget::Tag {
                    id,
                    name: name.clone(),
                    color: color.clone(),
                },
                None => ScheduleTarget::Deleted {
                    kind: TargetKind::Tag,
                    id,
                },
            },
            _ => ScheduleTarget::AllDevices,
        }
    }
}

/// The host name of a schedule's target device, for the edit form.
pub async fn device_hostname(
    db: &impl ConnectionTrait,
    s: &scheduled_jobs::Model,
) -> Result<Option<String>, DbErr> {
    match (s.target_type, s.target_id) {
        (TargetKind::Device, Some(id)) => Ok(devices::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.hostname)),
        _ => Ok(None),
    }
}

/// Device host names for the form's suggestions, alphabetically, at most `limit`.
pub async fn hostname_choices(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<String>, DbErr> {
    devices::Entity::find()
        .select_only()
        .column(devices::Column::Hostname)
        .order_by_asc(devices::Column::Hostname)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The schedule's latest jobs, newest first.
pub async fn recent_jobs(
    db: &impl ConnectionTrait,
    schedule_id: i32,
    limit: u64,
) -> Result<Vec<job_logs::Model>, DbErr> {
    job_logs::Entity::find()
        .filter(job_logs::Column::ScheduledJobId.eq(schedule_id))
        .order_by_desc(job_logs::Column::CreatedAt)
        .order_by_desc(job_logs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::vocabulary::ScheduleKind;

    fn schedule(
        job_type: JobType,
        target_type: TargetKind,
        id: Option<i32>,
    ) -> scheduled_jobs::Model {
        let now = Utc::now();
        scheduled_jobs::Model {
            id: 1,
            name: "s".into(),
            job_type,
            target_type,
            target_id: id,
            schedule_type: ScheduleKind::Daily,
            parameters: json!({"time": "02:00"}),
            timezone: "UTC".into(),
            enabled: true,
            next_run_at: None,
            last_run_at: None,
            created_by: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn each_schedule_names_what_it_runs_on() {
        let targets = Targets {
            devices: vec![(7, "core-sw01".into())],
            tags: vec![(3, "core".into(), "#d1242f".into())],
            sources: vec![(5, "dc".into())],
        };
        let of = |job_type, kind, id| targets.of(&schedule(job_type, kind, id));
        use JobType::{Backup, Retention};
        assert_eq!(
            of(Backup, TargetKind::Device, Some(7)),
            ScheduleTarget::Device {
                id: 7,
                hostname: "core-sw01".into()
            }
        );
        assert_eq!(
            of(Backup, TargetKind::Tag, Some(3)),
            ScheduleTarget::Tag {
                id: 3,
                name: "core".into(),
                color: "#d1242f".into()
            }
        );
        assert_eq!(
            of(Backup, TargetKind::Device, Some(8)),
            ScheduleTarget::Deleted {
                kind: TargetKind::Device,
                id: 8
            }
        );
        assert_eq!(
            of(Backup, TargetKind::Tag, Some(4)),
            ScheduleTarget::Deleted {
                kind: TargetKind::Tag,
                id: 4
            }
        );
        assert_eq!(
            of(Retention, TargetKind::Tag, Some(3)),
            ScheduleTarget::StoredConfigs
        );
        assert_eq!(
            of(Backup, TargetKind::All, None),
            ScheduleTarget::AllDevices
        );
        // A device target without its id (only a hand-edited row) reads as all devices.
        assert_eq!(
            of(Backup, TargetKind::Device, None),
            ScheduleTarget::AllDevices
        );
    }
}
