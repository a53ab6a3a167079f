//! A configuration push on an open session: enter configuration mode the platform's way, type
//! the lines one by one and stop at the first the device refuses, commit (or discard what is not
//! committed, on platforms with a candidate), leave, and save when asked.

use serde::Serialize;

use super::error::DeviceError;
use super::profile::{Configure, Profile};
use super::session::CliSession;
use super::transport::Transport;

/// What to push to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPlan {
    pub lines: Vec<String>,
    /// Save the running configuration for the next boot once every line is in.
    pub save: bool,
}

/// How a push went on one device.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushReport {
    /// Lines to push.
    pub total: usize,
    /// Lines the device accepted, counted from the first.
    pub applied: usize,
    pub refused: Option<Refusal>,
    /// The device refused the commit: nothing of the push took effect.
    pub commit_error: Option<String>,
    /// The platform's abort ran: what was not committed is discarded.
    pub rolled_back: bool,
    /// `None`: no save was asked (or the push failed first); `Some(Err)`: the device refused it.
    pub saved: Option<Result<(), String>>,
}

impl PushReport {
    /// Every line is in (and committed where the platform commits).
    pub fn complete(&self) -> bool {
        self.refused.is_none() && self.commit_error.is_none()
    }
}

/// The first line a device refused.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// Its place among the pushed lines (0 first).
    pub index: usize,
    pub line: String,
    /// What the device answered.
    pub message: String,
}

/// The line of `output` that says the device refused what was typed.
fn refusal(configure: &Configure, profile: &Profile, output: &str) -> Option<String> {
    output
        .lines()
        .find(|l| configure.refuses(profile, l))
        .map(|l| l.trim().to_string())
}

/// Runs the steps in order; the first refused one ends them with what the device said.
async fn steps<T: Transport>(
    session: &mut CliSession<'_, T>,
    configure: &Configure,
    commands: &[String],
) -> Result<Result<(), (String, String)>, DeviceError> {
    let profile = session.profile();
    for command in commands {
        let output = session.exchange(command, &configure.answers).await?;
        if let Some(message) = refusal(configure, profile, &output) {
            return Ok(Err((command.clone(), message)));
        }
    }
    Ok(Ok(()))
}

pub async fn push<T: Transport>(
    session: &mut CliSession<'_, T>,
    plan: &PushPlan,
) -> Result<PushReport, DeviceError> {
    let profile = session.profile();
    let Some(configure) = profile.configure.as_ref() else {
        return Err(DeviceError::Configuration(format!(
            "{} takes no configuration pushes: its platform profile has no configuration mode",
            profile.name
        )));
    };
    let rejected =
        |(command, message): (String, String)| DeviceError::CommandRejected { command, message };
    let mut report = PushReport {
        total: plan.lines.len(),
        ..PushReport::default()
    };
    session.set_configuring(true);
    steps(session, configure, &configure.enter)
        .await?
        .map_err(rejected)?;
    for (index, line) in plan.lines.iter().enumerate() {
        let output = session.exchange(line, &configure.answers).await?;
        if let Some(message) = refusal(configure, profile, &output) {
            report.refused = Some(Refusal {
                index,
                line: line.clone(),
                message,
            });
            break;
        }
        report.applied += 1;
    }
    if report.refused.is_none()
        && let Err((_, message)) = steps(session, configure, &configure.commit).await?
    {
        report.commit_error = Some(message);
    }
    let leave = if report.complete() || configure.abort.is_empty() {
        &configure.exit
    } else {
        report.rolled_back = true;
        &configure.abort
    };
    steps(session, configure, leave).await?.map_err(rejected)?;
    session.set_configuring(false);
    // A half-applied change is not saved: the next boot keeps the last configuration saved.
    if plan.save && report.complete() && !configure.save.is_empty() {
        report.saved = Some(
            steps(session, configure, &configure.save)
                .await?
                .map_err(|(command, message)| format!("{command:?} refused: {message}")),
        );
    }
    Ok(report)
}
