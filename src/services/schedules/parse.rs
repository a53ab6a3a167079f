//! The text of a schedule's timing fields (time, date, minutes, day, weekdays, cron, time zone)
//! read into values, or a message in words saying what is wrong.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::spec::WEEKDAYS;

pub const MAX_INTERVAL_MINUTES: u32 = 10_080;

/// The start of a user's text, short enough to quote back in a message.
pub(super) fn shorten(text: &str) -> String {
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

/// The one cron dialect of schedules: five fields, no seconds, no year.
pub(super) fn cron_parser() -> CronParser {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_checked_in_words() {
        assert!(parse_time("25:00").unwrap_err().contains("25:00"));
        assert!(parse_time("2:5x").is_err());
        assert!(parse_time("02:00:30").is_err());
        let two = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        assert_eq!(parse_time("02:00"), Ok(two));
        assert_eq!(parse_time(" 02:00:00 "), Ok(two));
        assert!(parse_days(&[]).unwrap_err().contains("at least one"));
        assert!(
            parse_days(&["moonday".into()])
                .unwrap_err()
                .contains("moonday")
        );
        assert!(parse_day("0").is_err() && parse_day("32").is_err());
        assert_eq!(parse_day("31"), Ok(31));
        assert!(parse_minutes("0").is_err() && parse_minutes("10081").is_err());
        assert_eq!(parse_minutes("10080"), Ok(10_080));
        assert!(parse_cron("*/15 * * * *").is_ok());
        assert!(parse_cron("* * * *").unwrap_err().contains("5 fields"));
        assert!(parse_cron("0 0 * * * *").unwrap_err().contains("5 fields"));
        assert!(parse_cron("@daily").unwrap_err().contains("5 fields"));
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
        assert_eq!(parse_timezone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(parse_timezone(""), Ok(Tz::UTC));
        assert!(parse_at("2026-13-01T02:00").is_err());
        assert!(parse_at("1999-12-31T23:00").is_err());
        assert_eq!(
            parse_at("2026-12-01T02:00"),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(2, 0, 0)
                .unwrap())
        );
    }

    #[test]
    fn weekdays_come_in_week_order_once() {
        let ids = ["thu", "MON", "thu"].map(String::from);
        assert_eq!(parse_days(&ids), Ok(vec![Weekday::Mon, Weekday::Thu]));
    }
}
