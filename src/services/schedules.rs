//! Scheduled jobs: when a backup or retention job runs on its own.
//!
//! A schedule is a row of `scheduled_jobs`: job type, target, a schedule type with its
//! `parameters`, an IANA time zone, and `next_run_at` (UTC), the moment it is next due.
//! The scheduler tick (src/jobs) asks `due()` for what is due, starts each job with the key
//! `idempotency_key()` (a second node's start of the same tick is a no-op) and calls `advance()`,
//! a compare-and-set on `next_run_at` that only one node wins. A tick advances a schedule even
//! when its job could not start (no enabled device), so it is not retried on every tick.
//!
//! `parameters` (JSON) by `schedule_type`, each with `"debug": true|false` (capture session
//! transcripts in the job log):
//!
//! | type     | parameters                                  | meaning                                  |
//! |----------|---------------------------------------------|------------------------------------------|
//! | once     | `{"at": "2026-12-01T02:00"}`                | local time in the schedule's time zone   |
//! | interval | `{"minutes": 60}`                           | 1..=10080, in real (UTC) time            |
//! | daily    | `{"time": "02:00"}`                         |                                          |
//! | weekly   | `{"days": ["mon","thu"], "time": "02:00"}`  | mon tue wed thu fri sat sun              |
//! | monthly  | `{"day": 1, "time": "02:00"}`               | a day past the month's end: its last day |
//! | cron     | `{"cron": "*/15 * * * *"}`                  | 5 fields, local time                     |
//!
//! Local times and daylight saving time: a local time the clock skips (spring forward) is read
//! with the offset in force before the gap, so it moves forward by the gap's length (02:30 in a
//! 02:00→03:00 gap runs at 03:30; RFC 5545 §3.3.5 does the same); a local time the clock passes
//! twice (fall back) runs once, at the first of the two.

use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::audit::{self, Actor, Event};
use super::jobs::{NewJob, Target};
use super::query::{Page, Paging, fetch_page, is_unique_violation};
use super::validation::FieldErrors;
use crate::entity::{admin_settings, devices, job_logs, scheduled_jobs, tags};
use crate::error::AppError;
use crate::vocabulary::{JobType, ScheduleKind, TargetKind};

pub const MAX_NAME: usize = 100;
pub const MAX_INTERVAL_MINUTES: u32 = 10_080;

/// Weekdays as stored in `days`, with their labels.
pub const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("mon", "Mon", Weekday::Mon),
    ("tue", "Tue", Weekday::Tue),
    ("wed", "Wed", Weekday::Wed),
    ("thu", "Thu", Weekday::Thu),
    ("fri", "Fri", Weekday::Fri),
    ("sat", "Sat", Weekday::Sat),
    ("sun", "Sun", Weekday::Sun),
];

/// The `admin_settings` row that records that the default schedules were created (so a user who
/// deletes them does not get them back). Its category is not one of the settings page's, so it
/// is never shown or edited there; only its existence counts.
pub const DEFAULTS_MARKER: &str = "schedules.defaults_created";
const MARKER_CATEGORY: &str = "internal";

/// When a schedule runs, in local time of its time zone (except `Interval`, in real time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Once {
        at: NaiveDateTime,
    },
    Interval {
        minutes: u32,
    },
    Daily {
        time: NaiveTime,
    },
    Weekly {
        days: Vec<Weekday>,
        time: NaiveTime,
    },
    Monthly {
        day: u32,
        time: NaiveTime,
    },
    /// A pattern that `parse_cron` accepted.
    Cron {
        pattern: String,
    },
}

impl Spec {
    pub fn kind(&self) -> ScheduleKind {
        match self {
            Spec::Once { .. } => ScheduleKind::Once,
            Spec::Interval { .. } => ScheduleKind::Interval,
            Spec::Daily { .. } => ScheduleKind::Daily,
            Spec::Weekly { .. } => ScheduleKind::Weekly,
            Spec::Monthly { .. } => ScheduleKind::Monthly,
            Spec::Cron { .. } => ScheduleKind::Cron,
        }
    }

    /// The `parameters` JSON (layout in the module documentation).
    pub fn to_params(&self, debug: bool) -> Value {
        let hm = |t: &NaiveTime| t.format("%H:%M").to_string();
        let mut v = match self {
            Spec::Once { at } => json!({"at": at.format("%Y-%m-%dT%H:%M").to_string()}),
            Spec::Interval { minutes } => json!({"minutes": minutes}),
            Spec::Daily { time } => json!({"time": hm(time)}),
            Spec::Weekly { days, time } => json!({
                "days": days.iter().map(|d| weekday_id(*d)).collect::<Vec<_>>(),
                "time": hm(time),
            }),
            Spec::Monthly { day, time } => json!({"day": day, "time": hm(time)}),
            Spec::Cron { pattern } => json!({"cron": pattern}),
        };
        v["debug"] = Value::Bool(debug);
        v
    }

    /// Reads stored parameters back; the message says what is wrong with them.
    pub fn from_params(kind: ScheduleKind, params: &Value) -> Result<Spec, String> {
        let text = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or("");
        let number = |key: &str| match params.get(key) {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        match kind {
            ScheduleKind::Once => Ok(Spec::Once {
                at: parse_at(text("at"))?,
            }),
            ScheduleKind::Interval => Ok(Spec::Interval {
                minutes: parse_minutes(&number("minutes"))?,
            }),
            ScheduleKind::Daily => Ok(Spec::Daily {
                time: parse_time(text("time"))?,
            }),
            ScheduleKind::Weekly => {
                let days: Vec<String> = params
                    .get("days")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Spec::Weekly {
                    days: parse_days(&days)?,
                    time: parse_time(text("time"))?,
                })
            }
            ScheduleKind::Monthly => Ok(Spec::Monthly {
                day: parse_day(&number("day"))?,
                time: parse_time(text("time"))?,
            }),
            ScheduleKind::Cron => {
                parse_cron(text("cron"))?;
                Ok(Spec::Cron {
                    pattern: text("cron").trim().to_string(),
                })
            }
        }
    }

    /// The schedule in words: "daily at 02:00 Europe/Berlin", "every 15 min", "cron */15 * * * *".
    pub fn describe(&self, tz: Tz) -> String {
        let hm = |t: &NaiveTime| t.format("%H:%M").to_string();
        match self {
            Spec::Once { at } => format!(
                "once on {} at {} {}",
                at.format("%Y-%m-%d"),
                at.format("%H:%M"),
                tz.name()
            ),
            Spec::Interval { minutes } => format!("every {}", interval_words(*minutes)),
            Spec::Daily { time } => format!("daily at {} {}", hm(time), tz.name()),
            Spec::Weekly { days, time } => format!(
                "weekly on {} at {} {}",
                days.iter()
                    .map(|d| weekday_label(*d))
                    .collect::<Vec<_>>()
                    .join(", "),
                hm(time),
                tz.name()
            ),
            Spec::Monthly { day, time } => {
                let last = if *day > 28 {
                    " (or the last day of a shorter month)"
                } else {
                    ""
                };
                format!("monthly on day {day}{last} at {} {}", hm(time), tz.name())
            }
            Spec::Cron { pattern } => format!("cron {pattern}"),
        }
    }
}

fn weekday_id(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, _, d)| *d == day)
        .map_or("mon", |(id, _, _)| id)
}

fn weekday_label(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, _, d)| *d == day)
        .map_or("Mon", |(_, label, _)| label)
}

fn interval_words(minutes: u32) -> String {
    match minutes {
        1440 => "day".into(),
        m if m % 1440 == 0 => format!("{} days", m / 1440),
        60 => "hour".into(),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// "HH:MM", 00:00 to 23:59 (a time input may add ":SS", which must be :00).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the time of day as HH:MM, for example 02:00.".into());
    }
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
        .filter(|t| t.second() == 0)
        .ok_or_else(|| {
            format!(
                "Enter a time as HH:MM between 00:00 and 23:59, not \u{201c}{}\u{201d}.",
                shorten(text)
            )
        })
}

/// A local date and time as a datetime-local input sends it: "2026-12-01T02:00".
pub fn parse_at(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the date and time to run, for example 2026-12-01T02:00.".into());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        // Years outside this range are typos, and keep date arithmetic far from its limits.
        .filter(|t| (2000..=9999).contains(&t.year()) && t.second() == 0)
        .ok_or_else(|| {
            format!(
                "Enter a date and time as YYYY-MM-DDTHH:MM, not \u{201c}{}\u{201d}.",
                shorten(text)
            )
        })
}

pub fn parse_minutes(text: &str) -> Result<u32, String> {
    let message =
        format!("Enter a whole number of minutes from 1 to {MAX_INTERVAL_MINUTES} (one week).");
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=i64::from(MAX_INTERVAL_MINUTES)).contains(&n) => {
            u32::try_from(n).map_err(|_| message)
        }
        _ => Err(message),
    }
}

pub fn parse_day(text: &str) -> Result<u32, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=31).contains(&n) => u32::try_from(n).map_err(|e| e.to_string()),
        _ => Err("Enter a day of the month from 1 to 31.".into()),
    }
}

/// Weekday ids in week order, each once; at least one.
pub fn parse_days(ids: &[String]) -> Result<Vec<Weekday>, String> {
    let mut days = Vec::new();
    for id in ids {
        let id = id.trim().to_lowercase();
        match WEEKDAYS.iter().find(|(w, _, _)| *w == id) {
            Some((_, _, day)) => days.push(*day),
            None => return Err(format!("Unknown weekday \u{201c}{}\u{201d}.", shorten(&id))),
        }
    }
    if days.is_empty() {
        return Err("Choose at least one weekday.".into());
    }
    days.sort_by_key(|d| d.num_days_from_monday());
    days.dedup();
    Ok(days)
}

fn cron_parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

/// A standard 5-field cron pattern (minute hour day-of-month month day-of-week) that matches
/// at least one time.
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    let text = text.trim();
    let fields = text.split_whitespace().count();
    if text.is_empty() {
        return Err("Enter a cron expression, for example */15 * * * *.".into());
    }
    if text.starts_with('@') || fields != 5 {
        return Err(format!(
            "A cron expression has 5 fields: minute hour day-of-month month day-of-week (this has {fields})."
        ));
    }
    let cron = cron_parser()
        .parse(text)
        .map_err(|e| format!("Invalid cron expression: {e}"))?;
    // A pattern such as "0 0 30 2 *" parses but never matches.
    let probe = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or("date arithmetic failed")?;
    if cron.find_next_occurrence(&probe, false).is_err() {
        return Err("This cron expression never matches a date (for example 30 February).".into());
    }
    Ok(cron)
}

pub fn parse_timezone(text: &str) -> Result<Tz, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Tz::UTC);
    }
    Tz::from_str(text).map_err(|_| {
        format!(
            "Unknown time zone \u{201c}{}\u{201d}: pick one from the list (for example Europe/Berlin).",
            shorten(text)
        )
    })
}

/// The UTC instant of a local time, by the rules in the module documentation.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => std::cmp::min(a, b).with_timezone(&Utc),
        LocalResult::None => {
            // A skipped local time: read it with the offset before the gap (a day earlier is
            // before the transition and after the one before it, for every real zone).
            let before = local
                .checked_sub_signed(Duration::days(1))
                .map(|t| tz.offset_from_utc_datetime(&t).fix().local_minus_utc())
                .unwrap_or(0);
            local
                .checked_sub_signed(Duration::seconds(i64::from(before)))
                .unwrap_or(local)
                .and_utc()
        }
    }
}

/// The first local time of a calendar schedule at or after `from` (or strictly after it).
fn next_local(
    spec: &Spec,
    cron: Option<&Cron>,
    from: NaiveDateTime,
    inclusive: bool,
) -> Option<NaiveDateTime> {
    let fits = |c: NaiveDateTime| c > from || (inclusive && c == from);
    let date = from.date();
    match spec {
        Spec::Daily { time } => (0..=1)
            .filter_map(|i| date.checked_add_signed(Duration::days(i)))
            .map(|d| d.and_time(*time))
            .find(|c| fits(*c)),
        Spec::Weekly { days, time } => (0..=7)
            .filter_map(|i| date.checked_add_signed(Duration::days(i)))
            .filter(|d| days.contains(&d.weekday()))
            .map(|d| d.and_time(*time))
            .find(|c| fits(*c)),
        Spec::Monthly { day, time } => (0..=2)
            .filter_map(|i| month_day(date.year(), date.month(), i, *day))
            .map(|d| d.and_time(*time))
            .find(|c| fits(*c)),
        Spec::Cron { .. } => cron?.find_next_occurrence(&from, inclusive).ok(),
        Spec::Once { .. } | Spec::Interval { .. } => None,
    }
}

/// Day `day` of the month `plus` months after (year, month), or that month's last day.
fn month_day(year: i32, month: u32, plus: u32, day: u32) -> Option<NaiveDate> {
    let index = month - 1 + plus;
    let (y, m) = (year + i32::try_from(index / 12).ok()?, index % 12 + 1);
    let first_next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    let last = first_next.pred_opt()?.day();
    NaiveDate::from_ymd_opt(y, m, std::cmp::min(day, last))
}

/// How far a DST change can move a local time against the real one (the largest is two hours).
const DST_MARGIN_HOURS: i64 = 3;
/// A bound on the candidates one search looks at (a cron of every minute needs about 360).
const MAX_CANDIDATES: usize = 5_000;

/// The first time strictly after `after` at which the schedule runs; `None` when it never does
/// again (a `once` schedule whose time has passed).
///
/// Calendar schedules walk their local times from a little before `after` and keep the earliest
/// instant after it: near a DST change a later local time can be an earlier instant.
pub fn next_run(spec: &Spec, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match spec {
        Spec::Once { at } => Some(resolve_local(tz, *at)).filter(|t| *t > after),
        Spec::Interval { minutes } => {
            let next = after.checked_add_signed(Duration::minutes(i64::from(*minutes)))?;
            // Whole seconds: stored values compare exactly on both databases.
            next.with_nanosecond(0)
        }
        _ => {
            let cron = match spec {
                Spec::Cron { pattern } => Some(cron_parser().parse(pattern).ok()?),
                _ => None,
            };
            let margin = Duration::hours(DST_MARGIN_HOURS);
            let local_after = after.with_timezone(&tz).naive_local();
            let mut candidate = next_local(
                spec,
                cron.as_ref(),
                local_after.checked_sub_signed(margin)?,
                true,
            )?;
            let mut best: Option<(DateTime<Utc>, NaiveDateTime)> = None;
            for _ in 0..MAX_CANDIDATES {
                if let Some((_, best_local)) = best
                    && candidate > best_local + margin
                {
                    break;
                }
                let at = resolve_local(tz, candidate);
                if at > after && best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, candidate));
                }
                match next_local(spec, cron.as_ref(), candidate, false) {
                    Some(next) => candidate = next,
                    None => break,
                }
            }
            best.map(|(at, _)| at)
        }
    }
}

/// The next `n` run times after `from`.
pub fn preview(spec: &Spec, tz: Tz, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let mut runs = Vec::with_capacity(n);
    let mut after = from;
    while runs.len() < n {
        match next_run(spec, tz, after) {
            Some(t) => {
                runs.push(t);
                after = t;
            }
            None => break,
        }
    }
    runs
}

/// The run after a due time that has been handled, strictly after `now`: an interval keeps its
/// phase (due + k × interval); the others take their next time after `now`. Either way a
/// schedule that missed many periods runs once and continues in the future.
fn next_after_due(
    spec: &Spec,
    tz: Tz,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match spec {
        Spec::Once { .. } => None,
        Spec::Interval { minutes } => {
            let step = i64::from(*minutes) * 60;
            let behind = std::cmp::max((now - due).num_seconds(), 0);
            let periods = behind / step + 1;
            due.checked_add_signed(Duration::seconds(periods * step))
        }
        _ => next_run(spec, tz, now),
    }
}

/// What the form sends, as text; `validate` turns it into a `ValidSchedule` or field errors.
#[derive(Clone, Debug, Default)]
pub struct ScheduleInput {
    pub name: String,
    pub job_type: String,
    pub target_type: String,
    /// Host name of the device, for target "device".
    pub device: String,
    pub tag_id: String,
    pub schedule_type: String,
    pub at: String,
    pub minutes: String,
    pub time: String,
    pub days: Vec<String>,
    pub day: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
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

/// The schedule of a stored row.
pub fn stored_spec(s: &scheduled_jobs::Model) -> Result<(Spec, Tz), String> {
    let spec = Spec::from_params(s.schedule_type, &s.parameters)?;
    let tz = parse_timezone(&s.timezone)?;
    Ok((spec, tz))
}

pub fn debug_of(s: &scheduled_jobs::Model) -> bool {
    s.parameters
        .get("debug")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

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
}

impl ValidSchedule {
    fn params(&self) -> Value {
        self.spec.to_params(self.debug)
    }
}

/// Checks a form: every field's message in words, the target against the database, the name
/// unique, and a `once` time in the future (unless it is unchanged and the schedule stays off).
pub async fn validate(
    db: &impl ConnectionTrait,
    input: &ScheduleInput,
    existing: Option<&scheduled_jobs::Model>,
    now: DateTime<Utc>,
) -> Result<ValidSchedule, AppError> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let job_type = JobType::parse(&input.job_type);
    if job_type.is_none() {
        errors.add("job_type", "Choose backup or retention.");
    }
    let (target_type, target_id) = match (job_type, TargetKind::parse(&input.target_type)) {
        // Retention works on every stored configuration; it has no target.
        (Some(JobType::Retention), _) | (_, Some(TargetKind::All)) => (TargetKind::All, None),
        (_, Some(TargetKind::Device)) => (
            TargetKind::Device,
            device_target(db, &input.device, &mut errors).await?,
        ),
        (_, Some(TargetKind::Tag)) => (
            TargetKind::Tag,
            tag_target(db, &input.tag_id, &mut errors).await?,
        ),
        (_, Some(TargetKind::Devices) | None) => {
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
        return Err(AppError::Internal(
            "schedule validation lost a value".into(),
        ));
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
    })
}

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

fn name_taken_error() -> AppError {
    FieldErrors::single("name", "A schedule with this name already exists.")
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ScheduleInput,
) -> Result<scheduled_jobs::Model, AppError> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None, now).await?;
    let next = if v.enabled {
        next_run(&v.spec, v.tz, now)
    } else {
        None
    };
    let inserted = scheduled_jobs::ActiveModel {
        name: Set(v.name.clone()),
        job_type: Set(v.job_type),
        target_type: Set(v.target_type),
        target_id: Set(v.target_id),
        schedule_type: Set(v.spec.kind()),
        parameters: Set(v.params()),
        timezone: Set(v.tz.name().into()),
        enabled: Set(v.enabled),
        next_run_at: Set(next),
        last_run_at: Set(None),
        created_by: Set(actor.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let schedule = match inserted {
        Ok(s) => s,
        // Another request took the name between the check and the insert.
        Err(e) if is_unique_violation(&e) => return Err(name_taken_error()),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        Event::data("schedule.create")
            .target("schedule", schedule.id)
            .detail("name", schedule.name.clone())
            .detail("job_type", schedule.job_type.as_str())
            .detail("schedule", v.spec.describe(v.tz)),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &ScheduleInput,
) -> Result<scheduled_jobs::Model, AppError> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let old = get(&txn, id).await?;
    let v = validate(&txn, input, Some(&old), now).await?;
    let params = v.params();
    let timing_changed = v.spec.kind() != old.schedule_type
        || stored_spec(&old).ok().map(|(s, _)| s) != Some(v.spec.clone())
        || v.tz.name() != old.timezone;
    let fields = audit::changed_fields(&[
        ("name", v.name != old.name),
        ("job_type", v.job_type != old.job_type),
        (
            "target",
            v.target_type != old.target_type || v.target_id != old.target_id,
        ),
        ("schedule", timing_changed),
        ("enabled", v.enabled != old.enabled),
        ("debug", v.debug != debug_of(&old)),
    ]);
    // An unchanged schedule keeps its next run (an interval keeps its phase); a changed one, or
    // one switched on, counts from now.
    let next = match (v.enabled, old.enabled && !timing_changed) {
        (false, _) => None,
        (true, true) if old.next_run_at.is_some() => old.next_run_at,
        (true, _) => next_run(&v.spec, v.tz, now),
    };
    let mut active = old.clone().into_active_model();
    active.name = Set(v.name.clone());
    active.job_type = Set(v.job_type);
    active.target_type = Set(v.target_type);
    active.target_id = Set(v.target_id);
    active.schedule_type = Set(v.spec.kind());
    active.parameters = Set(params);
    active.timezone = Set(v.tz.name().into());
    active.enabled = Set(v.enabled);
    active.next_run_at = Set(next);
    active.updated_at = Set(now);
    let schedule = match active.update(&txn).await {
        Ok(s) => s,
        Err(e) if is_unique_violation(&e) => return Err(name_taken_error()),
        Err(e) => return Err(e.into()),
    };
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("schedule.update")
                .target("schedule", id)
                .detail("name", schedule.name.clone())
                .detail("fields", fields)
                .detail("schedule", v.spec.describe(v.tz)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(schedule)
}

/// Switch a schedule on (its next run counted from now, so a long pause does not make it due at
/// once) or off.
pub async fn set_enabled(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    enabled: bool,
) -> Result<scheduled_jobs::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let old = get(&txn, id).await?;
    if old.enabled == enabled {
        return Ok(old);
    }
    let next = if enabled {
        let (spec, tz) = stored_spec(&old).map_err(|m| {
            AppError::Conflict(format!(
                "This schedule's settings cannot be read ({m}); edit it to fix them."
            ))
        })?;
        Some(next_run(&spec, tz, Utc::now()).ok_or_else(|| {
            AppError::Conflict(
                "This one-time schedule's time has passed: edit it to choose a new time.".into(),
            )
        })?)
    } else {
        None
    };
    let mut active = old.into_active_model();
    active.enabled = Set(enabled);
    active.next_run_at = Set(next);
    active.updated_at = Set(Utc::now());
    let schedule = active.update(&txn).await?;
    let event = if enabled {
        "schedule.enable"
    } else {
        "schedule.disable"
    };
    audit::record(
        &txn,
        actor,
        Event::data(event)
            .target("schedule", id)
            .detail("name", schedule.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}

/// Delete a schedule; its past jobs stay (their link to it becomes empty).
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> Result<scheduled_jobs::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let schedule = get(&txn, id).await?;
    scheduled_jobs::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("schedule.delete")
            .target("schedule", id)
            .detail("name", schedule.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(schedule)
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<scheduled_jobs::Model, AppError> {
    scheduled_jobs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub const SORT_COLUMNS: [&str; 4] = ["name", "job_type", "next_run_at", "last_run_at"];

/// A schedule as the list shows it.
#[derive(Clone, Debug)]
pub struct ScheduleRow {
    pub schedule: scheduled_jobs::Model,
    pub target: TargetView,
}

/// What a schedule runs on, for display: a label and a link when the target exists.
#[derive(Clone, Debug, Default)]
pub struct TargetView {
    pub label: String,
    pub href: Option<String>,
    pub color: Option<String>,
}

/// One page of schedules, sorted by `sort` (one of `SORT_COLUMNS`), then by id.
pub async fn list(
    db: &impl ConnectionTrait,
    sort: &str,
    descending: bool,
    paging: Paging,
) -> Result<Page<ScheduleRow>, DbErr> {
    let column = match sort {
        "job_type" => scheduled_jobs::Column::JobType,
        "next_run_at" => scheduled_jobs::Column::NextRunAt,
        "last_run_at" => scheduled_jobs::Column::LastRunAt,
        _ => scheduled_jobs::Column::Name,
    };
    let order = if descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    let select = scheduled_jobs::Entity::find()
        .order_by(column, order)
        .order_by_asc(scheduled_jobs::Column::Id);
    let page: Page<scheduled_jobs::Model> = fetch_page(db, select, paging).await?;
    let targets = target_views(db, &page.items).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .zip(targets)
            .map(|(schedule, target)| ScheduleRow { schedule, target })
            .collect(),
        total: page.total,
        paging: page.paging,
    })
}

/// The targets of the given schedules, with two queries for the lot.
pub async fn target_views(
    db: &impl ConnectionTrait,
    schedules: &[scheduled_jobs::Model],
) -> Result<Vec<TargetView>, DbErr> {
    let ids_of = |kind: TargetKind| -> Vec<i32> {
        schedules
            .iter()
            .filter(|s| s.target_type == kind && s.job_type == JobType::Backup)
            .filter_map(|s| s.target_id)
            .collect()
    };
    let (device_ids, tag_ids) = (ids_of(TargetKind::Device), ids_of(TargetKind::Tag));
    let device_names: Vec<(i32, String)> = if device_ids.is_empty() {
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
    let tag_rows = if tag_ids.is_empty() {
        Vec::new()
    } else {
        tags::Entity::find()
            .filter(tags::Column::Id.is_in(tag_ids))
            .all(db)
            .await?
    };
    Ok(schedules
        .iter()
        .map(|s| match (s.job_type, s.target_type, s.target_id) {
            (JobType::Retention, _, _) => TargetView {
                label: "stored configurations".into(),
                ..TargetView::default()
            },
            (_, TargetKind::Device, Some(id)) => {
                match device_names.iter().find(|(d, _)| *d == id) {
                    Some((_, hostname)) => TargetView {
                        label: hostname.clone(),
                        href: Some(format!("/devices/{id}")),
                        color: None,
                    },
                    None => TargetView {
                        label: format!("device #{id} (deleted)"),
                        ..TargetView::default()
                    },
                }
            }
            (_, TargetKind::Tag, Some(id)) => match tag_rows.iter().find(|t| t.id == id) {
                Some(t) => TargetView {
                    label: format!("tag {}", t.name),
                    href: Some(format!("/tags/{id}")),
                    color: Some(t.color.clone()),
                },
                None => TargetView {
                    label: format!("tag #{id} (deleted)"),
                    ..TargetView::default()
                },
            },
            _ => TargetView {
                label: "all devices".into(),
                href: Some("/devices".into()),
                color: None,
            },
        })
        .collect())
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

/// Enabled schedules whose next run is at or before `now`, the longest-waiting first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<scheduled_jobs::Model>, DbErr> {
    scheduled_jobs::Entity::find()
        .filter(scheduled_jobs::Column::Enabled.eq(true))
        .filter(scheduled_jobs::Column::NextRunAt.is_not_null())
        .filter(scheduled_jobs::Column::NextRunAt.lte(now))
        .order_by_asc(scheduled_jobs::Column::NextRunAt)
        .order_by_asc(scheduled_jobs::Column::Id)
        .all(db)
        .await
}

/// Moves a due schedule (as read by `due`) past `now`: `next_run_at` becomes its next run
/// strictly after `now` and `last_run_at` the due time, in one
/// `UPDATE … WHERE id = ? AND next_run_at = <the value read>`. True for the one caller whose
/// update took effect; false when another node (or an edit) got there first. A schedule that
/// missed many periods moves once, to its next future time. A `once` schedule ends disabled,
/// without a next run.
pub async fn advance(
    db: &impl ConnectionTrait,
    schedule: &scheduled_jobs::Model,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(due_at) = schedule.next_run_at else {
        return Ok(false);
    };
    let next = match stored_spec(schedule) {
        Ok((spec, tz)) => next_after_due(&spec, tz, due_at, now),
        Err(message) => {
            // Only a hand-edited row gets here. Stopping it beats failing on every tick.
            tracing::warn!(schedule = schedule.id, %message, "schedule parameters unreadable; disabling it after this run");
            None
        }
    };
    let mut update = scheduled_jobs::Entity::update_many()
        .col_expr(scheduled_jobs::Column::NextRunAt, Expr::value(next))
        .col_expr(scheduled_jobs::Column::LastRunAt, Expr::value(Some(due_at)));
    if next.is_none() {
        update = update.col_expr(scheduled_jobs::Column::Enabled, Expr::value(false));
    }
    let result = update
        .filter(scheduled_jobs::Column::Id.eq(schedule.id))
        .filter(scheduled_jobs::Column::NextRunAt.eq(due_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// One scheduler pass: start the job of every due schedule, then advance it. A second node doing
/// the same pass starts nothing (the job's idempotency key is taken) and loses the advance.
/// A schedule whose job cannot start (no enabled device matches, the device was deleted) is
/// still advanced, so it is not retried on every tick; any other failure leaves it due and is
/// retried on the next pass. Returns the number of jobs this pass started.
pub async fn run_due(
    db: &DatabaseConnection,
    queue: &crate::background::Queue,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let actor = Actor::system("scheduler");
    let mut started = 0;
    for schedule in due(db, now).await? {
        // Start before advancing: a stop in between repeats the start on the next pass, which
        // the key turns into a no-op, instead of losing the run.
        let outcome = match new_job(&schedule) {
            Ok(job) => super::jobs::start(db, queue, &actor, job).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Some(_)) => started += 1,
            Ok(None) => {}
            Err(AppError::BadRequest(reason)) => {
                tracing::warn!(schedule = schedule.id, name = %schedule.name, %reason, "scheduled job not started");
            }
            Err(AppError::NotFound) => {
                tracing::warn!(schedule = schedule.id, name = %schedule.name, "scheduled job not started: its target no longer exists");
            }
            Err(e) => {
                tracing::error!(schedule = schedule.id, error = %e, "scheduled job failed to start; retrying on the next pass");
                continue;
            }
        }
        advance(db, &schedule, now).await?;
    }
    Ok(started)
}

/// The idempotency key of the job for the schedule's current due time: one job per tick, however
/// many nodes try.
pub fn idempotency_key(schedule: &scheduled_jobs::Model) -> String {
    format!(
        "schedule:{}:{}",
        schedule.id,
        schedule.next_run_at.map_or(0, |t| t.timestamp())
    )
}

/// The job a schedule starts, with the tick's idempotency key (set it to `None` for "run now").
pub fn new_job(schedule: &scheduled_jobs::Model) -> Result<NewJob, AppError> {
    let job_type = schedule.job_type;
    let target = match (job_type, schedule.target_type, schedule.target_id) {
        (JobType::Retention, _, _) | (_, TargetKind::All, _) => Target::All,
        (_, TargetKind::Device, Some(id)) => Target::Device(id),
        (_, TargetKind::Tag, Some(id)) => Target::Tag(id),
        (_, other, id) => {
            return Err(AppError::Internal(format!(
                "schedule {} has an unusable target {other:?} {id:?}",
                schedule.id
            )));
        }
    };
    Ok(NewJob {
        job_type,
        target,
        created_by: schedule.created_by,
        scheduled_job_id: Some(schedule.id),
        idempotency_key: Some(idempotency_key(schedule)),
        debug: debug_of(schedule),
    })
}

/// On the first start, create the default schedules: a daily backup of all devices at 02:00 UTC
/// and a daily retention run at 03:30 UTC. Exactly once per database: the marker row
/// `DEFAULTS_MARKER` is inserted in the same transaction, so deleted defaults stay deleted and
/// two nodes starting together create them once. True when they were created now.
pub async fn ensure_defaults(db: &DatabaseConnection) -> Result<bool, AppError> {
    let exists = admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.eq(DEFAULTS_MARKER))
        .count(db)
        .await?
        > 0;
    if exists {
        return Ok(false);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let marker = admin_settings::ActiveModel {
        key: Set(DEFAULTS_MARKER.into()),
        value: Set(json!(now.to_rfc3339())),
        value_type: Set("internal".into()),
        category: Set(MARKER_CATEGORY.into()),
        description: Set(
            "When the default schedules were created (bookkeeping, not a setting).".into(),
        ),
        is_sensitive: Set(false),
        updated_by: Set(None),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match marker {
        Ok(_) => {}
        // Another node is creating them (its transaction committed first).
        Err(e) if is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let actor = Actor::system("first start");
    let two = NaiveTime::from_hms_opt(2, 0, 0);
    let half_past_three = NaiveTime::from_hms_opt(3, 30, 0);
    let defaults = [
        ("Daily backup of all devices", JobType::Backup, two),
        (
            "Daily cleanup (retention)",
            JobType::Retention,
            half_past_three,
        ),
    ];
    for (name, job_type, time) in defaults {
        let Some(time) = time else { continue };
        let taken = scheduled_jobs::Entity::find()
            .filter(scheduled_jobs::Column::Name.eq(name))
            .count(&txn)
            .await?
            > 0;
        if taken {
            continue;
        }
        let spec = Spec::Daily { time };
        let schedule = scheduled_jobs::ActiveModel {
            name: Set(name.into()),
            job_type: Set(job_type),
            target_type: Set(TargetKind::All),
            target_id: Set(None),
            schedule_type: Set(spec.kind()),
            parameters: Set(spec.to_params(false)),
            timezone: Set("UTC".into()),
            enabled: Set(true),
            next_run_at: Set(next_run(&spec, Tz::UTC, now)),
            last_run_at: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &actor,
            Event::data("schedule.create")
                .target("schedule", schedule.id)
                .detail("name", name)
                .detail("job_type", job_type.as_str())
                .detail("schedule", spec.describe(Tz::UTC)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn time(s: &str) -> NaiveTime {
        parse_time(s).unwrap()
    }

    fn runs(spec: &Spec, tz: &str, from: &str, n: usize) -> Vec<String> {
        preview(spec, tz.parse().unwrap(), utc(from), n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect()
    }

    #[test]
    fn daily_across_spring_forward_gap() {
        // Berlin skips 02:00-03:00 on 2026-03-29: 02:00 becomes 03:00 CEST (01:00 UTC).
        let spec = Spec::Daily {
            time: time("02:00"),
        };
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
            [
                "2026-03-28T01:00:00+00:00",
                "2026-03-29T01:00:00+00:00",
                "2026-03-30T00:00:00+00:00"
            ]
        );
        // A time inside the gap moves forward by the gap's length: 02:30 runs at 03:30 CEST.
        let spec = Spec::Daily {
            time: time("02:30"),
        };
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-03-28T12:00:00Z", 1),
            ["2026-03-29T01:30:00+00:00"]
        );
        // Asked from 03:10 CEST that day, 03:30 CEST is still ahead.
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-03-29T01:10:00Z", 1),
            ["2026-03-29T01:30:00+00:00"]
        );
    }

    #[test]
    fn fall_back_overlap_runs_once_at_the_first() {
        // Berlin repeats 02:00-03:00 on 2026-10-25: 02:30 CEST (00:30 UTC), not 02:30 CET.
        let spec = Spec::Daily {
            time: time("02:30"),
        };
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
        );
        // Asked from inside the second pass, the next is the following day.
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-10-25T01:10:00Z", 1),
            ["2026-10-26T01:30:00+00:00"]
        );
        // A cron every 30 minutes does not run the repeated hour twice.
        let cron = Spec::Cron {
            pattern: "*/30 * * * *".into(),
        };
        assert_eq!(
            runs(&cron, "Europe/Berlin", "2026-10-24T23:15:00Z", 4),
            [
                "2026-10-24T23:30:00+00:00",
                "2026-10-25T00:00:00+00:00",
                "2026-10-25T00:30:00+00:00",
                "2026-10-25T02:00:00+00:00"
            ]
        );
    }

    #[test]
    fn cron_across_the_gap() {
        let cron = Spec::Cron {
            pattern: "*/15 * * * *".into(),
        };
        // 01:45 CET, then the clock jumps to 03:00 CEST.
        assert_eq!(
            runs(&cron, "Europe/Berlin", "2026-03-29T00:40:00Z", 3),
            [
                "2026-03-29T00:45:00+00:00",
                "2026-03-29T01:00:00+00:00",
                "2026-03-29T01:15:00+00:00"
            ]
        );
        assert_eq!(
            runs(&cron, "UTC", "2026-01-01T10:07:30Z", 2),
            ["2026-01-01T10:15:00+00:00", "2026-01-01T10:30:00+00:00"]
        );
    }

    #[test]
    fn mixed_times_near_the_gap_stay_in_order() {
        // 02:45 moves to 03:45 CEST, after 03:15 CEST: the earlier instant comes first.
        let cron = Spec::Cron {
            pattern: "45 2 * * *".into(),
        };
        let other = Spec::Cron {
            pattern: "15,45 2,3 * * *".into(),
        };
        assert_eq!(
            runs(&cron, "Europe/Berlin", "2026-03-28T12:00:00Z", 1),
            ["2026-03-29T01:45:00+00:00"]
        );
        assert_eq!(
            runs(&other, "Europe/Berlin", "2026-03-28T23:00:00Z", 3),
            [
                "2026-03-29T01:15:00+00:00",
                "2026-03-29T01:45:00+00:00",
                "2026-03-30T00:15:00+00:00"
            ]
        );
    }

    #[test]
    fn monthly_31st_runs_on_the_last_day() {
        let spec = Spec::Monthly {
            day: 31,
            time: time("02:00"),
        };
        assert_eq!(
            runs(&spec, "UTC", "2026-01-31T03:00:00Z", 4),
            [
                "2026-02-28T02:00:00+00:00",
                "2026-03-31T02:00:00+00:00",
                "2026-04-30T02:00:00+00:00",
                "2026-05-31T02:00:00+00:00"
            ]
        );
        // A leap year's February has 29 days; December wraps into the next year.
        assert_eq!(
            runs(&spec, "UTC", "2028-02-01T00:00:00Z", 1),
            ["2028-02-29T02:00:00+00:00"]
        );
        assert_eq!(
            runs(&spec, "UTC", "2026-12-31T02:00:00Z", 1),
            ["2027-01-31T02:00:00+00:00"]
        );
    }

    #[test]
    fn weekly_days_in_order() {
        let spec = Spec::Weekly {
            days: parse_days(&["thu".into(), "mon".into(), "thu".into()]).unwrap(),
            time: time("02:00"),
        };
        assert_eq!(spec.describe(Tz::UTC), "weekly on Mon, Thu at 02:00 UTC");
        // 2026-03-02 is a Monday.
        assert_eq!(
            runs(&spec, "UTC", "2026-03-02T02:00:00Z", 3),
            [
                "2026-03-05T02:00:00+00:00",
                "2026-03-09T02:00:00+00:00",
                "2026-03-12T02:00:00+00:00"
            ]
        );
    }

    #[test]
    fn interval_and_once() {
        let spec = Spec::Interval { minutes: 90 };
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-03-29T00:00:00.5Z", 2),
            ["2026-03-29T01:30:00+00:00", "2026-03-29T03:00:00+00:00"]
        );
        let once = Spec::Once {
            at: parse_at("2026-12-01T02:00").unwrap(),
        };
        assert_eq!(
            runs(&once, "Europe/Berlin", "2026-11-01T00:00:00Z", 5),
            ["2026-12-01T01:00:00+00:00"]
        );
        assert_eq!(
            next_run(
                &once,
                "Europe/Berlin".parse().unwrap(),
                utc("2026-12-01T01:00:00Z")
            ),
            None
        );
        // Overdue: an interval keeps its phase and lands after now, once.
        let due = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            next_after_due(&spec, Tz::UTC, due, utc("2026-01-01T15:10:00Z")),
            Some(utc("2026-01-01T16:30:00Z"))
        );
        assert_eq!(
            next_after_due(&spec, Tz::UTC, due, due),
            Some(utc("2026-01-01T01:30:00Z"))
        );
        assert_eq!(next_after_due(&once, Tz::UTC, due, due), None);
    }

    #[test]
    fn form_values_are_checked_in_words() {
        assert!(parse_time("25:00").unwrap_err().contains("25:00"));
        assert!(parse_time("2:5x").is_err());
        assert_eq!(parse_time("02:00:00").unwrap(), time("02:00"));
        assert!(parse_days(&[]).unwrap_err().contains("at least one"));
        assert!(parse_day("0").is_err() && parse_day("32").is_err() && parse_day("31").is_ok());
        assert!(parse_minutes("0").is_err() && parse_minutes("10081").is_err());
        assert_eq!(parse_minutes("10080"), Ok(10_080));
        assert!(parse_cron("*/15 * * * *").is_ok());
        assert!(parse_cron("* * * *").unwrap_err().contains("5 fields"));
        assert!(parse_cron("0 0 * * * *").unwrap_err().contains("5 fields"));
        assert!(
            parse_cron("61 * * * *")
                .unwrap_err()
                .starts_with("Invalid cron expression")
        );
        assert!(parse_cron("0 0 30 2 *").unwrap_err().contains("never"));
        assert!(
            parse_timezone("Mars/Olympus")
                .unwrap_err()
                .contains("Mars/Olympus")
        );
        assert_eq!(parse_timezone("Europe/Berlin").unwrap(), Tz::Europe__Berlin);
        assert!(parse_at("2026-13-01T02:00").is_err());
    }

    #[test]
    fn params_round_trip() {
        let specs = [
            Spec::Once {
                at: parse_at("2026-12-01T02:00").unwrap(),
            },
            Spec::Interval { minutes: 15 },
            Spec::Daily {
                time: time("02:00"),
            },
            Spec::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
                time: time("02:00"),
            },
            Spec::Monthly {
                day: 1,
                time: time("02:00"),
            },
            Spec::Cron {
                pattern: "*/15 * * * *".into(),
            },
        ];
        for spec in specs {
            let params = spec.to_params(true);
            assert_eq!(params["debug"], true);
            assert_eq!(Spec::from_params(spec.kind(), &params), Ok(spec));
        }
        assert_eq!(
            Spec::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
                time: time("02:00")
            }
            .to_params(false),
            json!({"days": ["mon", "thu"], "time": "02:00", "debug": false})
        );
    }

    async fn memory_db() -> DatabaseConnection {
        use migration::MigratorTrait;
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    async fn insert(
        db: &DatabaseConnection,
        spec: &Spec,
        next: DateTime<Utc>,
    ) -> scheduled_jobs::Model {
        scheduled_jobs::ActiveModel {
            name: Set(format!("s-{}", next.timestamp())),
            job_type: Set(JobType::Backup),
            target_type: Set(TargetKind::All),
            schedule_type: Set(spec.kind()),
            parameters: Set(spec.to_params(false)),
            timezone: Set("UTC".into()),
            enabled: Set(true),
            next_run_at: Set(Some(next)),
            created_at: Set(next),
            updated_at: Set(next),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn advance_is_compare_and_set() {
        let db = memory_db().await;
        let now = utc("2026-06-15T12:00:30Z");
        let daily = Spec::Daily {
            time: time("02:00"),
        };
        // Ten days overdue: runs once, then next at tomorrow's 02:00.
        let s = insert(&db, &daily, utc("2026-06-05T02:00:00Z")).await;
        assert_eq!(due(&db, now).await.unwrap().len(), 1);
        assert!(advance(&db, &s, now).await.unwrap());
        assert!(
            !advance(&db, &s, now).await.unwrap(),
            "same read: second loses"
        );
        let after = get(&db, s.id).await.unwrap();
        assert_eq!(after.next_run_at, Some(utc("2026-06-16T02:00:00Z")));
        assert_eq!(after.last_run_at, Some(utc("2026-06-05T02:00:00Z")));
        assert!(due(&db, now).await.unwrap().is_empty());
        assert_eq!(
            idempotency_key(&s),
            format!(
                "schedule:{}:{}",
                s.id,
                utc("2026-06-05T02:00:00Z").timestamp()
            )
        );

        let once = Spec::Once {
            at: parse_at("2026-06-15T11:00").unwrap(),
        };
        let o = insert(&db, &once, utc("2026-06-15T11:00:00Z")).await;
        assert!(advance(&db, &o, now).await.unwrap());
        let o = get(&db, o.id).await.unwrap();
        assert_eq!((o.next_run_at, o.enabled), (None, false));
    }
}
