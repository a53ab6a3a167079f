//! One device of a job of devices: contact it with its credentials in order, then for a backup
//! store a new version when the configuration changed, for a command run keep each command's
//! output (secrets masked); and record the outcome, the log entries (and, with debug on, the
//! session transcript) for the job.

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::background::queue::DeviceTask;
use crate::crypto::Vault;
use crate::device::fetch::{Attempt, Collect};
use crate::entity::devices;
use crate::error::Error;
use crate::services::device_access::{self, Contact, HostKeyEvent};
use crate::services::jobs::{self, DeviceOutcome, DeviceStart};
use crate::services::settings::registry::BACKUPS_STORE_SECRETS_MASKED;
use crate::services::{backups, commands, push, settings};
use crate::vocabulary::{JobType, LogLevel, ResultStatus};

/// A device session may take this many step timeouts in all (several credentials, several
/// commands) before the worker gives up on it.
const STEPS_PER_DEVICE: u32 = 20;

pub async fn run_device(
    db: &DatabaseConnection,
    vault: &Vault,
    task: &DeviceTask,
) -> Result<(), Error> {
    let (job, device_id) = (task.job_log_id, task.device_id);
    let DeviceStart::Run {
        debug,
        interrupted,
        on_behalf_of,
        job_type,
        commands,
    } = jobs::begin_device(db, job, device_id).await?
    else {
        return Ok(());
    };
    let Some(device) = devices::Entity::find_by_id(device_id).one(db).await? else {
        return jobs::finish_device(
            db,
            job,
            device_id,
            DeviceOutcome {
                message: Some("the device was deleted".into()),
                ..DeviceOutcome::new(ResultStatus::Skipped)
            },
        )
        .await;
    };
    if interrupted {
        let message = format!(
            "{}: an earlier attempt was interrupted (its worker stopped); running it again",
            device.hostname
        );
        jobs::entry(
            db,
            job,
            LogLevel::Warning,
            "device",
            &message,
            Some(device_id),
        )
        .await?;
    }
    let collect = match job_type {
        JobType::CommandRun => Collect::Commands(commands),
        JobType::ConfigPush => match push::plan_of(db, vault, job, device_id).await? {
            Some(plan) => Collect::Push(plan),
            None => {
                let outcome = DeviceOutcome {
                    message: Some("the device was not part of the push when it started".into()),
                    ..DeviceOutcome::new(ResultStatus::Skipped)
                };
                return jobs::finish_device(db, job, device_id, outcome).await;
            }
        },
        _ => Collect::Configuration,
    };
    let started = Instant::now();
    let step = device_access::step_timeout(db).await?;
    let deadline = step * STEPS_PER_DEVICE;
    let contact = tokio::time::timeout(
        deadline,
        device_access::contact(db, vault, &device, on_behalf_of, collect, step, debug),
    )
    .await;
    let elapsed_ms = || i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let failed =
        |class: &'static str, message: String, notes: Vec<(LogLevel, String)>| DeviceOutcome {
            error_class: Some(class),
            message: Some(message),
            duration_ms: Some(elapsed_ms()),
            entries: notes,
            ..DeviceOutcome::new(ResultStatus::Failed)
        };
    let contact = match contact {
        Err(_) => {
            let message = format!(
                "gave up after {} s (the device kept answering slowly)",
                deadline.as_secs()
            );
            let note = (LogLevel::Error, format!("{}: {message}", device.hostname));
            let outcome = failed("timeout", message, vec![note]);
            return record_failure(db, job, job_type, &device, None, outcome).await;
        }
        Ok(Err(e)) => {
            let message = format!("could not start: {e}");
            let note = (LogLevel::Error, format!("{}: {message}", device.hostname));
            let outcome = failed("internal", message, vec![note]);
            return record_failure(db, job, job_type, &device, None, outcome).await;
        }
        Ok(Ok(contact)) => contact,
    };
    // Written with the device's result, in one transaction.
    let mut notes: Vec<(LogLevel, String)> = contact
        .withheld
        .iter()
        .map(|w| (LogLevel::Warning, format!("{}: {w}", device.hostname)))
        .collect();
    match &contact.host_key {
        HostKeyEvent::Recorded(fp) => notes.push((LogLevel::Info,
            format!("{}: SSH host key recorded on first contact ({fp})", device.hostname),
        )),
        HostKeyEvent::Changed { presented } => notes.push((LogLevel::Error,
            format!(
                "{}: the SSH host key changed (now {presented}); an administrator must accept it on the device page",
                device.hostname
            ),
        )),
        HostKeyEvent::Unchanged => {}
    }
    let fetched = match &contact.result {
        Ok(fetched) => fetched,
        Err(e) => {
            note_transcript(&mut notes, &device, e.transcript.as_deref());
            note_failed_attempts(&mut notes, &device, &e.attempts);
            let message = e.error.to_string();
            notes.push((
                LogLevel::Error,
                format!("{}: {}: {message}", device.hostname, e.class().describe()),
            ));
            let outcome = failed(e.class().id(), message, notes);
            return record_failure(db, job, job_type, &device, Some(&contact), outcome).await;
        }
    };
    note_failed_attempts(&mut notes, &device, &fetched.attempts);
    for w in &fetched.warnings {
        notes.push((LogLevel::Warning, format!("{}: {w}", device.hostname)));
    }
    note_transcript(&mut notes, &device, fetched.transcript.as_deref());
    if job_type == JobType::CommandRun {
        let txn = crate::db::begin_write(db).await?;
        let (ran, refused) = commands::store_outputs(&txn, job, &device, &fetched.outputs).await?;
        contact.record(&txn).await?;
        let what = match refused {
            0 => format!("{ran} commands run"),
            n => format!("{ran} commands run, {n} refused by the device"),
        };
        notes.push((LogLevel::Info, format!("{}: {what}", device.hostname)));
        let outcome = DeviceOutcome {
            message: Some(what),
            credential_id: contact.credential_id,
            credential_name: Some(fetched.credential_name.clone()),
            duration_ms: Some(elapsed_ms()),
            entries: notes,
            ..DeviceOutcome::new(ResultStatus::Success)
        };
        let recorded = jobs::record_outcome(&txn, job, device.id, outcome).await?;
        return jobs::commit_outcome(db, txn, job, recorded).await;
    }
    let Some(config) = fetched.config.as_ref() else {
        let message = "the engine read no configuration".to_string();
        notes.push((LogLevel::Error, format!("{}: {message}", device.hostname)));
        let outcome = failed("internal", message, notes);
        return record_failure(db, job, job_type, &device, Some(&contact), outcome).await;
    };
    let masked = settings::boolean(db, &BACKUPS_STORE_SECRETS_MASKED).await?;
    let duration_ms = elapsed_ms();
    let (txn, stored) =
        backups::begin_store(db, &device, config, &fetched.facts, Some(job), masked).await?;
    contact.record(&txn).await?;
    let mut what = if stored.changed {
        format!(
            "new version {} ({} lines changed)",
            stored.version, stored.changed_lines
        )
    } else {
        format!("unchanged since version {}", stored.version)
    };
    let mut status = ResultStatus::Success;
    if let Some(report) = &fetched.push {
        push::record(&txn, job, &device, report, Some(stored.backup_id)).await?;
        what = format!("{}; {what}", push::describe(report, &device.device_type));
        if !report.complete() || matches!(report.saved, Some(Err(_))) {
            status = ResultStatus::Failed;
        }
    }
    notes.push((
        LogLevel::Info,
        format!(
            "{}: {what}; logged in with {:?}",
            device.hostname, fetched.credential_name
        ),
    ));
    let outcome = DeviceOutcome {
        message: Some(what),
        backup_id: Some(stored.backup_id),
        changed: stored.changed,
        credential_id: contact.credential_id,
        credential_name: Some(fetched.credential_name.clone()),
        duration_ms: Some(duration_ms),
        entries: notes,
        error_class: (status == ResultStatus::Failed).then_some("command_rejected"),
        ..DeviceOutcome::new(status)
    };
    let recorded = jobs::record_outcome(&txn, job, device.id, outcome).await?;
    jobs::commit_outcome(db, txn, job, recorded).await
}

/// A failed device: its status, the contact's bookkeeping and its outcome in one transaction.
async fn record_failure(
    db: &DatabaseConnection,
    job: i32,
    job_type: JobType,
    device: &devices::Model,
    contact: Option<&Contact>,
    outcome: DeviceOutcome,
) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let message = outcome.message.clone().unwrap_or_default();
    // A failed command run or push says nothing about the device's backups.
    match job_type {
        JobType::Backup => backups::record_failure(&txn, device.id, &message, Utc::now()).await?,
        JobType::ConfigPush => push::record_failure(&txn, job, device.id, &message).await?,
        _ => {}
    }
    if let Some(contact) = contact {
        contact.record(&txn).await?;
    }
    let recorded = jobs::record_outcome(&txn, job, device.id, outcome).await?;
    jobs::commit_outcome(db, txn, job, recorded).await
}

/// A debug-mode job keeps the (masked) session transcript in its log.
fn note_transcript(
    notes: &mut Vec<(LogLevel, String)>,
    device: &devices::Model,
    transcript: Option<&str>,
) {
    if let Some(t) = transcript {
        notes.push((
            LogLevel::Debug,
            format!("{}: session transcript\n{t}", device.hostname),
        ));
    }
}

/// One warning per credential that did not work, so the log says why the next one was tried.
fn note_failed_attempts(
    notes: &mut Vec<(LogLevel, String)>,
    device: &devices::Model,
    attempts: &[Attempt],
) {
    for attempt in attempts.iter().filter(|a| a.error_class.is_some()) {
        notes.push((
            LogLevel::Warning,
            format!(
                "{}: credential {:?}: {}",
                device.hostname,
                attempt.credential,
                attempt.message.as_deref().unwrap_or("failed")
            ),
        ));
    }
}

/// The longest a device may take, for the stalled-job watchdog: a device still running after
/// this has lost its worker.
pub fn device_deadline(step: Duration) -> Duration {
    step * STEPS_PER_DEVICE
}
