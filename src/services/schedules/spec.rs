//! `Spec`, when a schedule runs: its `parameters` JSON (stored and read back) and its words.

use chrono::{NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::parse::{
    parse_at, parse_cron, parse_day, parse_days, parse_minutes, parse_time, parse_timezone,
};
use crate::entity::scheduled_jobs;
use crate::vocabulary::ScheduleKind;

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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// Each spec beside its parameters written out by hand, so that a mistake made the same way
    /// in writing and in reading cannot pass.
    fn examples() -> Vec<(Spec, Value)> {
        let at = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(2, 0, 0)
            .unwrap();
        vec![
            (
                Spec::Once { at },
                json!({"at": "2026-12-01T02:00", "debug": true}),
            ),
            (
                Spec::Interval { minutes: 15 },
                json!({"minutes": 15, "debug": true}),
            ),
            (
                Spec::Daily { time: time(2, 0) },
                json!({"time": "02:00", "debug": true}),
            ),
            (
                Spec::Weekly {
                    days: vec![Weekday::Mon, Weekday::Thu],
                    time: time(6, 30),
                },
                json!({"days": ["mon", "thu"], "time": "06:30", "debug": true}),
            ),
            (
                Spec::Monthly {
                    day: 31,
                    time: time(4, 5),
                },
                json!({"day": 31, "time": "04:05", "debug": true}),
            ),
            (
                Spec::Cron {
                    pattern: "*/15 * * * *".into(),
                },
                json!({"cron": "*/15 * * * *", "debug": true}),
            ),
        ]
    }

    #[test]
    fn params_are_written_and_read_as_documented() {
        for (spec, params) in examples() {
            assert_eq!(spec.to_params(true), params, "{spec:?} written");
            assert_eq!(
                Spec::from_params(spec.kind(), &params),
                Ok(spec.clone()),
                "{params} read"
            );
        }
        assert_eq!(
            Spec::Daily { time: time(2, 0) }.to_params(false),
            json!({"time": "02:00", "debug": false})
        );
        // A number typed as text by hand still reads.
        assert_eq!(
            Spec::from_params(ScheduleKind::Interval, &json!({"minutes": "90"})),
            Ok(Spec::Interval { minutes: 90 })
        );
        assert!(Spec::from_params(ScheduleKind::Daily, &json!({})).is_err());
    }

    #[test]
    fn schedules_in_words() {
        let berlin = Tz::Europe__Berlin;
        let words: Vec<String> = examples()
            .iter()
            .map(|(spec, _)| spec.describe(berlin))
            .collect();
        assert_eq!(
            words,
            [
                "once on 2026-12-01 at 02:00 Europe/Berlin",
                "every 15 min",
                "daily at 02:00 Europe/Berlin",
                "weekly on Mon, Thu at 06:30 Europe/Berlin",
                "monthly on day 31 (or the last day of a shorter month) at 04:05 Europe/Berlin",
                "cron */15 * * * *",
            ]
        );
        let every = |minutes| Spec::Interval { minutes }.describe(Tz::UTC);
        assert_eq!(
            [every(60), every(120), every(1440), every(2880), every(90)],
            [
                "every hour",
                "every 2 h",
                "every day",
                "every 2 days",
                "every 90 min"
            ]
        );
        assert_eq!(
            Spec::Monthly {
                day: 28,
                time: time(2, 0)
            }
            .describe(Tz::UTC),
            "monthly on day 28 at 02:00 UTC"
        );
    }
}
