//! Wall-clock formatting for the timestamps devices print (UTC only; no time-zone database
//! needed, and a dependency like chrono is not worth it for a handful of formats).

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) unix: u64,
    pub(crate) millis: u32,
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    weekday: usize,
}

impl Stamp {
    pub(crate) fn now() -> Stamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Stamp::from_unix(d.as_secs(), d.subsec_millis())
    }

    pub(crate) fn from_unix(unix: u64, millis: u32) -> Stamp {
        let days = (unix / 86_400) as i64;
        let secs = (unix % 86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Stamp {
            unix,
            millis,
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days.rem_euclid(7)) as usize,
        }
    }

    /// The same instant shifted back by `secs` seconds.
    pub(crate) fn minus(&self, secs: u64) -> Stamp {
        Stamp::from_unix(self.unix.saturating_sub(secs), self.millis)
    }

    pub(crate) fn month_abbr(&self) -> &'static str {
        MONTHS[(self.month - 1) as usize]
    }

    pub(crate) fn weekday_abbr(&self) -> &'static str {
        WEEKDAYS[self.weekday]
    }

    /// `10:01:02`
    pub(crate) fn hms(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }

    /// `2026-11-25`
    pub(crate) fn ymd(&self) -> String {
        format!("{}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `2026-11-25 10:01:02`
    pub(crate) fn iso(&self) -> String {
        format!("{} {}", self.ymd(), self.hms())
    }

    /// `Wed Nov 25 10:01:02 2026` (ctime style)
    pub(crate) fn ctime(&self) -> String {
        format!(
            "{} {} {:2} {} {}",
            self.weekday_abbr(),
            self.month_abbr(),
            self.day,
            self.hms(),
            self.year
        )
    }
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A duration split the way uptime lines show it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) weeks: u64,
    pub(crate) days: u64,
    pub(crate) hours: u64,
    pub(crate) minutes: u64,
    pub(crate) seconds: u64,
}

impl Span {
    pub(crate) fn of(secs: u64) -> Span {
        Span {
            weeks: secs / 604_800,
            days: secs / 86_400 % 7,
            hours: secs / 3600 % 24,
            minutes: secs / 60 % 60,
            seconds: secs % 60,
        }
    }

    pub(crate) fn total_days(&self) -> u64 {
        self.weeks * 7 + self.days
    }

    /// `3 weeks, 2 days, 4 hours, 12 minutes` (Cisco IOS style).
    pub(crate) fn cisco(&self) -> String {
        let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, {}, {}",
            plural(self.weeks, "week"),
            plural(self.days, "day"),
            plural(self.hours, "hour"),
            plural(self.minutes, "minute")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let s = Stamp::from_unix(1_795_600_862, 123);
        assert_eq!(s.iso(), "2026-11-25 10:01:02");
        assert_eq!(s.weekday_abbr(), "Wed");
        assert_eq!(s.ctime(), "Wed Nov 25 10:01:02 2026");
        assert_eq!(Stamp::from_unix(0, 0).iso(), "1970-01-01 00:00:00");
        assert_eq!(
            Span::of(3 * 604_800 + 2 * 86_400 + 4 * 3600 + 12 * 60).cisco(),
            "3 weeks, 2 days, 4 hours, 12 minutes"
        );
    }
}
