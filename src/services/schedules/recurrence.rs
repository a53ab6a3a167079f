//! When a `Spec` runs next: local times read in the schedule's time zone by the daylight saving
//! rules of the module documentation, the next runs for the preview, and the run after a due one.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use croner::Cron;

use super::parse::cron_parser;
use super::spec::Spec;

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
pub(super) fn next_after_due(
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

#[cfg(test)]
mod tests {
    //! Every expected instant is written out by hand (with the zone's offsets in the comments),
    //! never computed with the code under test.

    use chrono::{NaiveTime, Weekday};

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
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
        let spec = Spec::Daily { time: time(2, 0) };
        assert_eq!(
            runs(&spec, "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
            [
                "2026-03-28T01:00:00+00:00",
                "2026-03-29T01:00:00+00:00",
                "2026-03-30T00:00:00+00:00"
            ]
        );
        // A time inside the gap moves forward by the gap's length: 02:30 runs at 03:30 CEST.
        let spec = Spec::Daily { time: time(2, 30) };
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
        let spec = Spec::Daily { time: time(2, 30) };
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
            time: time(2, 0),
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
            days: vec![Weekday::Mon, Weekday::Thu],
            time: time(2, 0),
        };
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
            at: NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(2, 0, 0)
                .unwrap(),
        };
        // 02:00 CET is 01:00 UTC.
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
        // Overdue calendar schedules take their next time after now.
        let daily = Spec::Daily { time: time(2, 0) };
        assert_eq!(
            next_after_due(&daily, Tz::UTC, due, utc("2026-01-11T12:00:00Z")),
            Some(utc("2026-01-12T02:00:00Z"))
        );
    }

    #[test]
    fn local_times_resolve_by_the_documented_rules() {
        let berlin = Tz::Europe__Berlin;
        let at = |d: u32, m: u32, h: u32, min: u32| {
            NaiveDate::from_ymd_opt(2026, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap()
        };
        // Winter (CET, +1), summer (CEST, +2), skipped (read as CET), repeated (the first, CEST).
        assert_eq!(
            resolve_local(berlin, at(15, 1, 12, 0)),
            utc("2026-01-15T11:00:00Z")
        );
        assert_eq!(
            resolve_local(berlin, at(15, 7, 12, 0)),
            utc("2026-07-15T10:00:00Z")
        );
        assert_eq!(
            resolve_local(berlin, at(29, 3, 2, 30)),
            utc("2026-03-29T01:30:00Z")
        );
        assert_eq!(
            resolve_local(berlin, at(25, 10, 2, 30)),
            utc("2026-10-25T00:30:00Z")
        );
    }
}
