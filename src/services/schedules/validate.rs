//! A schedule form checked: its timing alone (`parse_spec`, for the live preview) and the whole
//! form against the database (`validate`: target, unique name, a `once` time in the future).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde_json::Value;

use super::input::ScheduleInput;
use super::parse::{
    parse_at, parse_cron, parse_day, parse_days, parse_minutes, parse_time, parse_timezone, shorten,
};
use super::recurrence::resolve_local;
use super::spec::Spec;
use crate::entity::{devices, nautobot_sources, scheduled_jobs, tags};
use crate::error::Error;
use crate::services::validation::FieldErrors;
use crate::vocabulary::{JobType, ScheduleKind, TargetKind};

pub const MAX_NAME: usize = 100;

/// A validated form, ready to store.
#[derive(Clone, Debug)]
pub struct ValidSchedule {
    pub name: String,
    pub job_type: JobType,
    pub target_type: TargetKind,
    pub target_id: Option<i32>,
    pub spec: Spec,
    pub tz: Tz,
    pub enabled: bool,
    pub debug: bool,
    /// A discovery's scan (ranges, ports, credentials), kept with the schedule.
    pub scan: Option<Value>,
}

impl ValidSchedule {
    pub(super) fn params(&self) -> Value {
        let mut p = self.spec.to_params(self.debug);
        if let Some(scan) = &self.scan {
            p["scan"] = scan.clone();
        }
        p
    }
}

/// Parses the schedule part of a form (type, its fields, time zone) without a database, for the
/// live preview and for `validate`. Errors go to `errors` under the form's field names.
pub fn parse_spec(input: &ScheduleInput, errors: &mut FieldErrors) -> Option<(Spec, Tz)> {
    let tz = parse_timezone(&input.timezone)
        .map_err(|m| errors.add("timezone", m))
        .ok();
    let spec = match ScheduleKind::parse(&input.schedule_type) {
        Some(ScheduleKind::Once) => {
            take(errors, "at", parse_at(&input.at)).map(|at| Spec::Once { at })
        }
        Some(ScheduleKind::Interval) => take(errors, "minutes", parse_minutes(&input.minutes))
            .map(|minutes| Spec::Interval { minutes }),
        Some(ScheduleKind::Daily) => {
            take(errors, "time", parse_time(&input.time)).map(|time| Spec::Daily { time })
        }
        Some(ScheduleKind::Weekly) => {
            let days = take(errors, "days", parse_days(&input.days));
            let time = take(errors, "time", parse_time(&input.time));
            days.zip(time)
                .map(|(days, time)| Spec::Weekly { days, time })
        }
        Some(ScheduleKind::Monthly) => {
            let day = take(errors, "day", parse_day(&input.day));
            let time = take(errors, "time", parse_time(&input.time));
            day.zip(time).map(|(day, time)| Spec::Monthly { day, time })
        }
        Some(ScheduleKind::Cron) => {
            take(errors, "cron", parse_cron(&input.cron)).map(|_| Spec::Cron {
                pattern: input.cron.split_whitespace().collect::<Vec<_>>().join(" "),
            })
        }
        None => {
            errors.add("schedule_type", "Choose how often the job runs.");
            None
        }
    };
    spec.zip(tz)
}

/// The value, or its message recorded under `field`.
fn take<T>(errors: &mut FieldErrors, field: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|m| errors.add(field, m)).ok()
}

/// Checks a form: every field's message in words, the target against the database, the name
/// unique, and a `once` time in the future (unless it is unchanged and the schedule stays off).
pub async fn validate(
    db: &impl ConnectionTrait,
    input: &ScheduleInput,
    existing: Option<&scheduled_jobs::Model>,
    now: DateTime<Utc>,
) -> Result<ValidSchedule, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let job_type = JobType::parse(&input.job_type).filter(|t| JobType::SCHEDULED.contains(t));
    if job_type.is_none() {
        errors.add(
            "job_type",
            "Choose backup, retention, a Nautobot sync, a CheckMK sync or a discovery.",
        );
    }
    let mut scan = None;
    let (target_type, target_id) = match (job_type, TargetKind::parse(&input.target_type)) {
        // A discovery scans again the ranges of an earlier scan, kept with the schedule.
        (Some(JobType::Discovery), _) => {
            match scan_target(db, &input.scan_id, &mut errors).await? {
                Some((id, spec)) => {
                    scan = Some(spec);
                    (TargetKind::Scan, Some(id))
                }
                None => (TargetKind::Scan, None),
            }
        }
        // A sync's target is its source, whatever the device target says.
        (Some(JobType::NautobotSync), _) => (
            TargetKind::NautobotSource,
            source_target(db, &input.source_id, &mut errors).await?,
        ),
        // Retention works on every stored configuration; it has no target.
        (Some(JobType::Retention | JobType::CheckmkCompare), _) | (_, Some(TargetKind::All)) => {
            (TargetKind::All, None)
        }
        (_, Some(TargetKind::Device)) => (
            TargetKind::Device,
            device_target(db, &input.device, &mut errors).await?,
        ),
        (_, Some(TargetKind::Tag)) => (
            TargetKind::Tag,
            tag_target(db, &input.tag_id, &mut errors).await?,
        ),
        (_, Some(TargetKind::Devices | TargetKind::NautobotSource | TargetKind::Scan) | None) => {
            errors.add("target_type", "Choose all devices, one device or a tag.");
            (TargetKind::All, None)
        }
    };
    let parsed = parse_spec(input, &mut errors);
    if let Some((Spec::Once { at }, tz)) = &parsed {
        let unchanged = existing.is_some_and(|s| {
            s.schedule_type == ScheduleKind::Once
                && Spec::from_params(ScheduleKind::Once, &s.parameters).ok()
                    == Some(Spec::Once { at: *at })
                && s.timezone == tz.name()
        });
        if resolve_local(*tz, *at) <= now && (input.enabled || !unchanged) {
            errors.add(
                "at",
                format!(
                    "This time has passed (it is now {} in {}); choose a time in the future.",
                    now.with_timezone(tz).format("%Y-%m-%d %H:%M"),
                    tz.name()
                ),
            );
        }
    }
    if errors.get("name").is_none() {
        let mut q = scheduled_jobs::Entity::find().filter(
            Expr::expr(Func::lower(Expr::col(scheduled_jobs::Column::Name)))
                .eq(name.to_lowercase()),
        );
        if let Some(s) = existing {
            q = q.filter(scheduled_jobs::Column::Id.ne(s.id));
        }
        if q.count(db).await? > 0 {
            errors.add("name", "A schedule with this name already exists.");
        }
    }
    errors.into_result()?;
    let (Some(job_type), Some((spec, tz))) = (job_type, parsed) else {
        return Err(Error::Internal("schedule validation lost a value".into()));
    };
    Ok(ValidSchedule {
        name,
        job_type,
        target_type,
        target_id,
        spec,
        tz,
        enabled: input.enabled,
        debug: input.debug,
        scan,
    })
}

/// The scan job named by `scan_id` and its scan, or a message under "scan_id".
async fn scan_target(
    db: &impl ConnectionTrait,
    scan_id: &str,
    errors: &mut FieldErrors,
) -> Result<Option<(i32, Value)>, DbErr> {
    let Ok(id) = scan_id.trim().parse::<i32>() else {
        errors.add("scan_id", "Choose the scan whose ranges are scanned again.");
        return Ok(None);
    };
    let job = crate::entity::job_logs::Entity::find_by_id(id)
        .one(db)
        .await?;
    match job
        .filter(|j| j.job_type == JobType::Discovery)
        .and_then(|j| j.parameters)
        .and_then(|p| p.get("scan").cloned())
    {
        Some(spec) => Ok(Some((id, spec))),
        None => {
            errors.add("scan_id", "That scan no longer exists; choose another.");
            Ok(None)
        }
    }
}

/// The id of the device named `hostname` (any case), or a message under "device".
async fn device_target(
    db: &impl ConnectionTrait,
    hostname: &str,
    errors: &mut FieldErrors,
) -> Result<Option<i32>, DbErr> {
    let hostname = hostname.trim();
    if hostname.is_empty() {
        errors.add("device", "Enter the host name of the device.");
        return Ok(None);
    }
    let id: Option<i32> = devices::Entity::find()
        .select_only()
        .column(devices::Column::Id)
        .filter(
            Expr::expr(Func::lower(Expr::col(devices::Column::Hostname)))
                .eq(hostname.to_lowercase()),
        )
        .into_tuple()
        .one(db)
        .await?;
    if id.is_none() {
        errors.add(
            "device",
            format!("No device is named \u{201c}{}\u{201d}.", shorten(hostname)),
        );
    }
    Ok(id)
}

/// The id of an existing tag, or a message under "tag_id".
async fn tag_target(
    db: &impl ConnectionTrait,
    tag_id: &str,
    errors: &mut FieldErrors,
) -> Result<Option<i32>, DbErr> {
    let Ok(id) = tag_id.trim().parse::<i32>() else {
        errors.add("tag_id", "Choose a tag.");
        return Ok(None);
    };
    if tags::Entity::find_by_id(id).one(db).await?.is_none() {
        errors.add("tag_id", "That tag no longer exists; choose another.");
        return Ok(None);
    }
    Ok(Some(id))
}

async fn source_target(
    db: &impl ConnectionTrait,
    source_id: &str,
    errors: &mut FieldErrors,
) -> Result<Option<i32>, DbErr> {
    let Ok(id) = source_id.trim().parse::<i32>() else {
        errors.add("source_id", "Choose a Nautobot source.");
        return Ok(None);
    };
    if nautobot_sources::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_none()
    {
        errors.add("source_id", "That source no longer exists; choose another.");
        return Ok(None);
    }
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;

    use super::*;

    fn input(schedule_type: &str) -> ScheduleInput {
        ScheduleInput {
            schedule_type: schedule_type.into(),
            timezone: "Europe/Berlin".into(),
            ..ScheduleInput::default()
        }
    }

    #[test]
    fn the_timing_alone_reads_without_a_database() {
        let mut errors = FieldErrors::new();
        let cron = ScheduleInput {
            cron: " */15   * * * * ".into(),
            ..input("cron")
        };
        assert_eq!(
            parse_spec(&cron, &mut errors),
            Some((
                Spec::Cron {
                    pattern: "*/15 * * * *".into()
                },
                Tz::Europe__Berlin
            ))
        );
        let daily = ScheduleInput {
            time: "06:30".into(),
            ..input("daily")
        };
        assert_eq!(
            parse_spec(&daily, &mut errors),
            Some((
                Spec::Daily {
                    time: NaiveTime::from_hms_opt(6, 30, 0).unwrap()
                },
                Tz::Europe__Berlin
            ))
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn each_message_goes_under_its_field() {
        let mut errors = FieldErrors::new();
        let weekly = ScheduleInput {
            time: "25:00".into(),
            timezone: "Mars/Olympus".into(),
            ..input("weekly")
        };
        assert_eq!(parse_spec(&weekly, &mut errors), None);
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["timezone", "days", "time"]);
        let mut errors = FieldErrors::new();
        assert_eq!(parse_spec(&input("hourly"), &mut errors), None);
        assert_eq!(
            errors.get("schedule_type"),
            Some("Choose how often the job runs.")
        );
    }
}
