//! Jobs: one `job_logs` row per run, one `job_results` row per device, log entries. A job is
//! created with its devices in one transaction, then handed to the queue (one task per device,
//! so several worker processes share a big job); the last device to finish settles the job's
//! status. Cancelling stops devices that have not started; running ones finish.

mod create;
mod device;
mod live;
mod log;
mod names;
mod queries;
mod settle;

pub use create::{
    NewJob, Target, cancel, commands_of, create, dispatch, dispatch_again, redispatch_stranded,
    resolve, start, start_backup, start_fresh,
};
pub use device::{
    DeviceOutcome, DeviceStart, Recorded, begin_device, commit_outcome, finish_device,
    record_outcome,
};
pub use live::{Cursor, entries_after, finished_since, running_now};
pub use log::entry;
pub use names::Names;
pub use queries::{
    JobFilter, for_device, get, list, recent_of_type, result_counts, results, started_or_created,
    versions_stored,
};
pub use settle::{end_stalled, mark_running, progress, settle, settle_if_done};
