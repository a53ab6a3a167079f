//! `ScheduleInput`, the schedule form as text: from a stored schedule, or a new one's defaults.

use serde::Deserialize;
use serde_json::Value;

use super::spec::debug_of;
use crate::entity::scheduled_jobs;
use crate::services::validation::toggle;
use crate::vocabulary::{JobType, ScheduleKind, TargetKind};

/// The schedule form: what it posts (and its previews send), what `validate` checks, and what a
/// rejected form shows again. The fields of the chosen kind and target come and go with the
/// choice (htmx swaps them in), so only the ones every variant has are required.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScheduleInput {
    pub name: String,
    pub job_type: String,
    pub target_type: String,
    /// Host name of the device, for target "device".
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub tag_id: String,
    /// The Nautobot source, for job type "nautobot_sync".
    #[serde(default)]
    pub source_id: String,
    /// The scan whose ranges are scanned again, for job type "discovery".
    #[serde(default)]
    pub scan_id: String,
    pub schedule_type: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub time: String,
    /// Weekdays: a repeated field, none when no box is ticked.
    #[serde(default)]
    pub days: Vec<String>,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub cron: String,
    pub timezone: String,
    #[serde(deserialize_with = "toggle")]
    pub enabled: bool,
    #[serde(deserialize_with = "toggle")]
    pub debug: bool,
}

impl ScheduleInput {
    /// The form's values for a stored schedule (the device by host name).
    pub fn from_model(s: &scheduled_jobs::Model, device_hostname: Option<String>) -> Self {
        let p = &s.parameters;
        let text = |key: &str| match p.get(key) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        Self {
            name: s.name.clone(),
            job_type: s.job_type.as_str().to_string(),
            target_type: s.target_type.as_str().to_string(),
            device: device_hostname.unwrap_or_default(),
            tag_id: match (s.target_type, s.target_id) {
                (TargetKind::Tag, Some(id)) => id.to_string(),
                _ => String::new(),
            },
            source_id: match (s.target_type, s.target_id) {
                (TargetKind::NautobotSource, Some(id)) => id.to_string(),
                _ => String::new(),
            },
            scan_id: match (s.target_type, s.target_id) {
                (TargetKind::Scan, Some(id)) => id.to_string(),
                _ => String::new(),
            },
            schedule_type: s.schedule_type.as_str().to_string(),
            at: text("at"),
            minutes: text("minutes"),
            time: text("time"),
            days: p
                .get("days")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            day: text("day"),
            cron: text("cron"),
            timezone: s.timezone.clone(),
            enabled: s.enabled,
            debug: debug_of(s),
        }
    }

    /// A new schedule's form: a daily backup of all devices at 02:00 UTC.
    pub fn new_default() -> Self {
        Self {
            job_type: JobType::Backup.as_str().into(),
            target_type: TargetKind::All.as_str().into(),
            schedule_type: ScheduleKind::Daily.as_str().into(),
            time: "02:00".into(),
            minutes: "60".into(),
            day: "1".into(),
            timezone: "UTC".into(),
            enabled: true,
            ..Self::default()
        }
    }
}
