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
//!
//! One concern per module, all reached through this one:
//! - `spec`: `Spec`, a schedule's timing, with its `parameters` JSON and its words;
//! - `parse`: the text of the form's timing fields read into values, with messages in words;
//! - `recurrence`: when a `Spec` runs next, daylight saving time included;
//! - `input`: `ScheduleInput`, the form's text;
//! - `validate`: a form checked, alone and against the database, into a `ValidSchedule`;
//! - `store`: one schedule read, created, changed, switched or deleted, each change audited;
//! - `views`: the schedule list and what each schedule runs on, as data for pages;
//! - `tick`: the scheduler's pass: due schedules, their jobs, the compare-and-set advance;
//! - `defaults`: the default schedules of a first start.

mod defaults;
mod input;
mod parse;
mod recurrence;
mod spec;
mod store;
mod tick;
mod validate;
mod views;

pub use defaults::{DEFAULTS_MARKER, ensure_defaults};
pub use input::ScheduleInput;
pub use parse::{
    MAX_INTERVAL_MINUTES, parse_at, parse_cron, parse_day, parse_days, parse_minutes, parse_time,
    parse_timezone,
};
pub use recurrence::{next_run, preview, resolve_local};
pub use spec::{Spec, WEEKDAYS, debug_of, stored_spec};
pub use store::{create, delete, get, set_enabled, update};
pub use tick::{advance, due, idempotency_key, new_job, run_due, start_now};
pub use validate::{MAX_NAME, ValidSchedule, parse_spec, validate};
pub use views::{
    ScheduleRow, ScheduleSort, ScheduleTarget, device_hostname, hostname_choices, list,
    recent_jobs, target_of,
};
