//! Command runs: commands typed by a user with `execute`, checked against the deny list (what no
//! platform may run from here, and each platform's own), run on a device, a tag's devices or a
//! selection as a job of devices, each device's outputs kept with the job, secrets masked.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::Utc;
use regex::Regex;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::background::Queue;
use crate::device::fetch::CommandOutput;
use crate::device::{profile, scrub};
use crate::entity::{command_outputs, devices, job_logs};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::jobs::{self, NewJob, Target};
use crate::services::validation::FieldErrors;
use crate::vocabulary::JobType;

/// Commands per run.
pub const MAX_COMMANDS: usize = 20;
const MAX_COMMAND: usize = 500;

/// Refused on every platform: what changes the configuration or disrupts the device. A command
/// run reads; configuration goes through a push.
static DENIED_EVERYWHERE: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"conf(?:i(?:g(?:u(?:r(?:e)?)?)?)?)?(?:\s|$)",
            "configuration mode",
        ),
        (r"reload\b", "a reload"),
        (r"reboot\b", "a reboot"),
        (r"shutdown\b", "a shutdown"),
        (r"halt\b|poweroff\b", "a halt"),
        (
            r"(?:write|wr)\s+(?:erase|mem(?:ory)?|e)\b|(?:write|wr)\s*$",
            "writing the configuration",
        ),
        (
            r"erase\b|format\b|delete\b|del\b|rm\b|rmdir\b",
            "deleting files",
        ),
        (r"copy\b|cp\b|mv\b|move\b", "copying files"),
        (r"clear\b|reset\b", "clearing state"),
        (r"debug\b|undebug\b", "debugging"),
        (r"set\b|unset\b|request\b|restart\b|execute\b", "a change"),
        (r"no\s", "a change"),
        (r"install\b|upgrade\b|boot\b", "software changes"),
        (r"system\s+(?:reboot|shutdown|reset)", "a reboot"),
        (r"/system\s+(?:reboot|shutdown|reset)", "a reboot"),
    ]
    .into_iter()
    .filter_map(|(p, why)| {
        Regex::new(&format!("(?i)^\\s*(?:{p})"))
            .ok()
            .map(|r| (r, why))
    })
    .collect()
});

/// Why `command` may not run on `platform`, if it may not.
pub fn refusal(platform: &str, command: &str) -> Option<String> {
    if let Some((_, why)) = DENIED_EVERYWHERE.iter().find(|(r, _)| r.is_match(command)) {
        return Some(format!(
            "{command:?} is refused here ({why}); configuration goes through a push"
        ));
    }
    let p = profile::find(platform)?;
    p.denied_commands
        .iter()
        .any(|r| r.is_match(command))
        .then(|| format!("{command:?} is refused on {} (its deny list)", p.name))
}

/// The commands of the form, one per line.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let commands: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if commands.is_empty() {
        return Err("Enter at least one command.".into());
    }
    if commands.len() > MAX_COMMANDS {
        return Err(format!("At most {MAX_COMMANDS} commands per run."));
    }
    if let Some(c) = commands.iter().find(|c| c.chars().count() > MAX_COMMAND) {
        return Err(format!(
            "{:?}… is longer than {MAX_COMMAND} characters.",
            c.chars().take(40).collect::<String>()
        ));
    }
    if commands.iter().any(|c| c.chars().any(char::is_control)) {
        return Err("Control characters are not allowed.".into());
    }
    Ok(commands)
}

/// Starts a command run on `target`; refused with the form's messages when a command may not run
/// on one of the target's platforms.
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    actor: &Actor,
    user_id: i32,
    target: Target,
    text: &str,
) -> Result<job_logs::Model, Error> {
    let commands = parse(text).map_err(|m| FieldErrors::single("commands", m))?;
    let ids: Vec<i32> = jobs::resolve(db, &target)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Err(FieldErrors::single("target", "No enabled device matches."));
    }
    let mut platforms: BTreeSet<String> = BTreeSet::new();
    for chunk in ids.chunks(500) {
        let types: Vec<String> = devices::Entity::find()
            .select_only()
            .column(devices::Column::DeviceType)
            .filter(devices::Column::Id.is_in(chunk.to_vec()))
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        platforms.extend(types);
    }
    let refused: Vec<String> = commands
        .iter()
        .flat_map(|c| platforms.iter().filter_map(move |p| refusal(p, c)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !refused.is_empty() {
        return Err(FieldErrors::single("commands", refused.join("; ")));
    }
    let new = NewJob {
        commands: commands.clone(),
        ..NewJob::by_hand(JobType::CommandRun, target, Some(user_id))
    };
    let job = jobs::start_fresh(db, queue, actor, new).await?;
    audit::record(
        db,
        actor,
        Event::data("commands.run")
            .target("job", job.id)
            .detail("commands", json!(commands))
            .detail("devices", ids.len()),
    )
    .await?;
    Ok(job)
}

/// Keeps a device's outputs (secrets masked with its platform's filters); how many commands ran
/// and how many the device refused.
pub async fn store_outputs(
    db: &impl ConnectionTrait,
    job_id: i32,
    device: &devices::Model,
    outputs: &[CommandOutput],
) -> Result<(usize, usize), Error> {
    let mask = |text: &str| match profile::find(&device.device_type) {
        Some(p) => scrub::mask(&p.filters, text),
        None => crate::services::backups::mask_for_platform(&device.device_type, text),
    };
    let now = Utc::now();
    let rows: Vec<command_outputs::ActiveModel> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| command_outputs::ActiveModel {
            job_log_id: Set(job_id),
            device_id: Set(Some(device.id)),
            hostname: Set(device.hostname.clone()),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            command: Set(o.command.clone()),
            output: Set(o.output.as_ref().ok().map(|t| mask(t))),
            error: Set(o.output.as_ref().err().cloned()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    let refused = outputs.iter().filter(|o| o.output.is_err()).count();
    if !rows.is_empty() {
        command_outputs::Entity::insert_many(rows).exec(db).await?;
    }
    Ok((outputs.len(), refused))
}

/// A run's outputs, by device then command.
pub async fn outputs(
    db: &impl ConnectionTrait,
    job_id: i32,
) -> Result<Vec<command_outputs::Model>, Error> {
    Ok(command_outputs::Entity::find()
        .filter(command_outputs::Column::JobLogId.eq(job_id))
        .order_by_asc(command_outputs::Column::Hostname)
        .order_by_asc(command_outputs::Column::Position)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_list_reads_like_an_engineer() {
        for ok in [
            "show running-config",
            "show version",
            "display current-configuration",
            "show configuration | display set",
            "ping 192.0.2.1",
        ] {
            assert_eq!(refusal("cisco_ios", ok), None, "{ok}");
        }
        for bad in [
            "reload",
            "conf t",
            "configure terminal",
            "write erase",
            "wr",
            "copy run start",
            "clear counters",
            "delete flash:x",
            "no ip route",
            "request system reboot",
            "/system reboot",
        ] {
            assert!(refusal("cisco_ios", bad).is_some(), "{bad}");
        }
        assert!(parse("").is_err());
        assert_eq!(
            parse(" show ver \n\nshow clock").unwrap(),
            vec!["show ver", "show clock"]
        );
    }
}
