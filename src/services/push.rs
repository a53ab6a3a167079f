//! Configuration pushes: a template (rendered per device) or raw lines, for a device, a tag's
//! devices or a selection. A dry run shows each device's lines and which of them its latest
//! stored configuration lacks; nothing is sent. An apply, confirmed with the number of devices,
//! keeps each device's lines with the job (masked to read, encrypted as they will be typed) and
//! hands the devices to the workers, which push and then back up (`background::backup`).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::background::Queue;
use crate::crypto::Vault;
use crate::device::profile;
use crate::device::push::{PushPlan, PushReport};
use crate::device::session::has_line_break;
use crate::entity::{devices, job_logs, push_results};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::backups;
use crate::services::credentials::Viewer;
use crate::services::jobs::{self, NewJob, Target};
use crate::services::templates::{context, pre_run, rendering, store};
use crate::services::validation::FieldErrors;
use crate::vocabulary::{JobType, PushStatus, TemplateKind};

/// Lines per device.
pub const MAX_LINES: usize = 1_000;
const MAX_LINE: usize = 1_000;
/// Distinct texts an audit entry keeps (a template renders one per device at most).
const AUDITED_TEXTS: usize = 20;

/// What to push.
#[derive(Clone, Debug)]
pub enum Source {
    /// A Jinja2 or text template, with the user's `name = value` lines for its variables.
    Template {
        id: i32,
        values: String,
    },
    Lines(String),
}

/// A push as asked for.
#[derive(Clone, Debug)]
pub struct Request {
    pub source: Source,
    pub target: Target,
    pub save: bool,
}

/// One device's part of a push.
pub struct DevicePlan {
    pub device: devices::Model,
    /// The rendering failed (the template's error with its line).
    pub error: Option<String>,
    pub lines: Vec<String>,
    /// Per line: missing from the latest stored configuration.
    pub new: Vec<bool>,
    pub has_config: bool,
    pub warnings: Vec<String>,
    /// The platform has a configuration mode NetRaven knows how to drive.
    pub pushable: bool,
}

impl DevicePlan {
    pub fn new_count(&self) -> usize {
        self.new.iter().filter(|n| **n).count()
    }
    /// The lines with their "new" mark, for the dry run's table.
    pub fn marked(&self) -> impl Iterator<Item = (&String, bool)> {
        self.lines.iter().zip(self.new.iter().copied())
    }
}

/// The lines to type: trailing blanks and empty lines dropped, indentation kept (it places a
/// line in its section on the platforms that indent).
pub fn split_lines(text: &str) -> Result<Vec<String>, String> {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if lines.len() > MAX_LINES {
        return Err(format!(
            "{} lines: at most {MAX_LINES} per device.",
            lines.len()
        ));
    }
    if let Some(l) = lines.iter().find(|l| l.chars().count() > MAX_LINE) {
        return Err(format!(
            "{:?}… is longer than {MAX_LINE} characters.",
            l.chars().take(40).collect::<String>()
        ));
    }
    // A tab completes a word on most CLIs, a line break would type two lines, others are keys.
    if let Some(l) = lines
        .iter()
        .find(|l| has_line_break(l) || l.chars().any(char::is_control))
    {
        return Err(format!(
            "{:?} holds a control character (tab, escape, ...): type it as plain text.",
            l.chars().take(40).collect::<String>()
        ));
    }
    Ok(lines)
}

/// Which `lines` a configuration lacks. An indented line counts as present only under the same
/// section line (` description x` below `interface Gi1/0/1`), an unindented one anywhere at the
/// top level.
pub fn missing(config: &str, lines: &[String]) -> Vec<bool> {
    let mut top: HashSet<&str> = HashSet::new();
    let mut children: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut parent: Option<&str> = None;
    for line in config.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            children
                .entry(parent.unwrap_or_default())
                .or_default()
                .insert(line.trim());
        } else {
            top.insert(line);
            parent = Some(line);
        }
    }
    let mut parent: Option<&str> = None;
    lines
        .iter()
        .map(|line| {
            if line.starts_with(char::is_whitespace) {
                !children
                    .get(parent.unwrap_or_default())
                    .is_some_and(|c| c.contains(line.trim()))
            } else {
                parent = Some(line.as_str());
                !top.contains(line.as_str())
            }
        })
        .collect()
}

/// One device's lines (or why there are none) and the rendering's warnings.
type Rendered = (Result<Vec<String>, String>, Vec<String>);

/// The target's enabled devices with their lines and what their stored configurations lack.
pub async fn plan(
    db: &DatabaseConnection,
    vault: &Vault,
    viewer: Viewer,
    reveal_secrets: bool,
    request: &Request,
) -> Result<Vec<DevicePlan>, Error> {
    let ids: Vec<i32> = jobs::resolve(db, &request.target)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Err(FieldErrors::single("target", "No enabled device matches."));
    }
    let mut devices = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        devices.extend(
            devices::Entity::find()
                .filter(devices::Column::Id.is_in(chunk.to_vec()))
                .order_by_asc(devices::Column::Hostname)
                .all(db)
                .await?,
        );
    }
    devices.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    let rendered: Vec<Rendered> = match &request.source {
        Source::Lines(text) => {
            let lines = split_lines(text).map_err(|m| FieldErrors::single("lines", m))?;
            if lines.is_empty() {
                return Err(FieldErrors::single("lines", "Enter the lines to push."));
            }
            devices
                .iter()
                .map(|_| (Ok(lines.clone()), Vec::new()))
                .collect()
        }
        Source::Template { id, values } => {
            let t = store::get(db, viewer, *id)
                .await
                .ok()
                .filter(|t| t.deleted_at.is_none())
                .ok_or_else(|| FieldErrors::single("template_id", "Choose a template."))?;
            let given =
                context::parse_values(values).map_err(|m| FieldErrors::single("values", m))?;
            match t.template_type {
                TemplateKind::Text => {
                    let lines = split_lines(&t.content)
                        .map_err(|m| FieldErrors::single("template_id", m))?;
                    devices
                        .iter()
                        .map(|_| (Ok(lines.clone()), Vec::new()))
                        .collect()
                }
                TemplateKind::Jinja2 => {
                    let vars = context::vars(&store::variables_of(&t), &given);
                    let pre_run =
                        pre_run::collect(db, vault, &t, &devices, Some(viewer.user_id)).await?;
                    rendering::for_devices(
                        db,
                        vault,
                        &t.content,
                        &devices,
                        &vars,
                        reveal_secrets,
                        &pre_run,
                    )
                    .await?
                    .map_err(|why| FieldErrors::single("template_id", why))?
                    .into_iter()
                    .map(|r| {
                        let lines = r.outcome.and_then(|o| split_lines(&o.output));
                        (lines, r.warnings)
                    })
                    .collect()
                }
                other => {
                    return Err(FieldErrors::single(
                        "template_id",
                        format!(
                            "A {} template is not pushed: choose a Jinja2 or text template.",
                            other.label()
                        ),
                    ));
                }
            }
        }
    };
    let ids: Vec<i32> = devices.iter().map(|d| d.id).collect();
    let mut configs = backups::latest_of_devices(db, &ids).await?;
    Ok(devices
        .into_iter()
        .zip(rendered)
        .map(|(device, (lines, warnings))| {
            let config = configs.remove(&device.id).map(|b| {
                backups::visible_content(
                    &device.device_type,
                    &b.content,
                    b.secrets_masked,
                    reveal_secrets,
                )
                .into_owned()
            });
            let (lines, error) = match lines {
                Ok(l) if l.is_empty() => (l, Some("the template renders no line".to_string())),
                Ok(l) => (l, None),
                Err(why) => (Vec::new(), Some(why)),
            };
            let new = missing(config.as_deref().unwrap_or_default(), &lines);
            DevicePlan {
                pushable: profile::find(&device.device_type).is_some_and(|p| p.configure.is_some()),
                has_config: config.is_some(),
                device,
                error,
                lines,
                new,
                warnings,
            }
        })
        .collect())
}

/// What a push job's device carries to the worker (encrypted: the lines may hold secrets).
#[derive(Serialize, Deserialize)]
struct Payload {
    lines: Vec<String>,
    save: bool,
}

/// Starts the push after checking every device renders, every platform takes pushes and the
/// user confirmed this number of devices.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    db: &DatabaseConnection,
    queue: &Queue,
    vault: &Vault,
    actor: &Actor,
    user_id: i32,
    plans: &[DevicePlan],
    request: &Request,
    confirmed: Option<usize>,
) -> Result<job_logs::Model, Error> {
    let failing: Vec<String> = plans
        .iter()
        .filter_map(|p| {
            p.error
                .as_ref()
                .map(|e| format!("{}: {e}", p.device.hostname))
        })
        .collect();
    if !failing.is_empty() {
        return Err(FieldErrors::single(
            "template_id",
            format!(
                "Nothing was pushed: {} devices cannot be rendered ({}).",
                failing.len(),
                failing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    let unsupported: BTreeMap<&str, usize> =
        plans
            .iter()
            .filter(|p| !p.pushable)
            .fold(BTreeMap::new(), |mut m, p| {
                *m.entry(p.device.device_type.as_str()).or_default() += 1;
                m
            });
    if !unsupported.is_empty() {
        let list: Vec<String> = unsupported
            .iter()
            .map(|(p, n)| format!("{n} on {p}"))
            .collect();
        return Err(FieldErrors::single(
            "target",
            format!(
                "Nothing was pushed: these platforms take no pushes ({}).",
                list.join(", ")
            ),
        ));
    }
    if confirmed != Some(plans.len()) {
        return Err(FieldErrors::single(
            "confirm",
            format!(
                "Confirm the push to {} devices: nothing was sent.",
                plans.len()
            ),
        ));
    }
    let ids: Vec<i32> = plans.iter().map(|p| p.device.id).collect();
    // The devices planned, not the tag's devices at the time the job starts.
    let new = NewJob::by_hand(JobType::ConfigPush, Target::Devices(ids), Some(user_id));
    let job = jobs::create(db, actor, new)
        .await?
        .ok_or_else(|| Error::Internal("a fresh job key was already used".into()))?;
    let now = Utc::now();
    let mut texts: BTreeMap<String, usize> = BTreeMap::new();
    for chunk in plans.chunks(500) {
        let rows = chunk
            .iter()
            .map(|p| {
                let masked = backups::mask_for_platform(&p.device.device_type, &p.lines.join("\n"));
                *texts.entry(masked.clone()).or_default() += 1;
                let payload = json!(Payload {
                    lines: p.lines.clone(),
                    save: request.save,
                })
                .to_string();
                push_results::ActiveModel {
                    job_log_id: Set(job.id),
                    device_id: Set(Some(p.device.id)),
                    hostname: Set(p.device.hostname.clone()),
                    lines: Set(masked),
                    payload: Set(vault.encrypt(&payload)),
                    line_count: Set(i32::try_from(p.lines.len()).unwrap_or(i32::MAX)),
                    new_lines: Set(i32::try_from(p.new_count()).unwrap_or(i32::MAX)),
                    status: Set(PushStatus::Pending),
                    applied: Set(0),
                    rolled_back: Set(false),
                    created_at: Set(now),
                    ..Default::default()
                }
            })
            .collect::<Vec<_>>();
        push_results::Entity::insert_many(rows).exec(db).await?;
    }
    jobs::dispatch(db, queue, &job).await?;
    let source = match &request.source {
        Source::Template { id, .. } => json!({"template_id": id}),
        Source::Lines(_) => json!("lines"),
    };
    let audited: Vec<_> = texts
        .iter()
        .take(AUDITED_TEXTS)
        .map(|(text, devices)| json!({"text": text, "devices": devices}))
        .collect();
    audit::record(
        db,
        actor,
        Event::data("push.apply")
            .target("job", job.id)
            .detail("source", source)
            .detail("target", request.target.to_json())
            .detail("devices", plans.len())
            .detail("save", request.save)
            .detail("texts", json!(audited)),
    )
    .await?;
    Ok(job)
}

/// The lines a push job sends to a device (`None`: the device was not part of the push).
pub async fn plan_of(
    db: &impl ConnectionTrait,
    vault: &Vault,
    job_id: i32,
    device_id: i32,
) -> Result<Option<PushPlan>, Error> {
    let Some(row) = row_of(db, job_id, device_id).await? else {
        return Ok(None);
    };
    let text = vault
        .decrypt(&row.payload)
        .map_err(|e| Error::Internal(format!("push payload: {e}")))?;
    let p: Payload =
        serde_json::from_str(&text).map_err(|e| Error::Internal(format!("push payload: {e}")))?;
    Ok(Some(PushPlan {
        lines: p.lines,
        save: p.save,
    }))
}

async fn row_of(
    db: &impl ConnectionTrait,
    job_id: i32,
    device_id: i32,
) -> Result<Option<push_results::Model>, Error> {
    Ok(push_results::Entity::find()
        .filter(push_results::Column::JobLogId.eq(job_id))
        .filter(push_results::Column::DeviceId.eq(device_id))
        .one(db)
        .await?)
}

/// One sentence on how the push went on a device of `platform` (a refused line's secrets
/// masked: the sentence goes to the job's log and results).
pub fn describe(report: &PushReport, platform: &str) -> String {
    let total = report.total;
    let mut out = match (&report.refused, &report.commit_error) {
        (Some(r), _) => format!(
            "line {} of {total} refused ({:?}: {}); {} applied before it",
            r.index + 1,
            backups::mask_for_platform(platform, &r.line),
            r.message,
            report.applied
        ),
        (None, Some(e)) => format!("{total} lines sent, the commit was refused: {e}"),
        (None, None) => format!("{total} lines applied"),
    };
    if report.rolled_back {
        out.push_str("; the uncommitted changes were discarded");
    }
    match &report.saved {
        Some(Ok(())) => out.push_str("; configuration saved"),
        Some(Err(e)) => out.push_str(&format!("; not saved: {e}")),
        None => {}
    }
    out
}

/// Keeps how the push went on a device (in the caller's transaction).
pub async fn record(
    db: &impl ConnectionTrait,
    job_id: i32,
    device: &devices::Model,
    report: &PushReport,
    backup_id: Option<i32>,
) -> Result<(), Error> {
    let device_id = device.id;
    let status = if report.complete() && !matches!(report.saved, Some(Err(_))) {
        PushStatus::Applied
    } else {
        PushStatus::Refused
    };
    let message = describe(report, &device.device_type);
    push_results::Entity::update_many()
        .col_expr(push_results::Column::Status, Expr::value(status))
        .col_expr(
            push_results::Column::Applied,
            Expr::value(i32::try_from(report.applied).unwrap_or(i32::MAX)),
        )
        .col_expr(
            push_results::Column::RefusedLine,
            Expr::value(
                report
                    .refused
                    .as_ref()
                    .map(|r| backups::mask_for_platform(&device.device_type, &r.line)),
            ),
        )
        .col_expr(push_results::Column::Message, Expr::value(message))
        .col_expr(
            push_results::Column::RolledBack,
            Expr::value(report.rolled_back),
        )
        .col_expr(
            push_results::Column::Saved,
            Expr::value(report.saved.as_ref().map(|s| s.is_ok())),
        )
        .col_expr(push_results::Column::BackupId, Expr::value(backup_id))
        .col_expr(push_results::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(push_results::Column::JobLogId.eq(job_id))
        .filter(push_results::Column::DeviceId.eq(device_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A device the push could not reach or lost on the way.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    job_id: i32,
    device_id: i32,
    message: &str,
) -> Result<(), Error> {
    push_results::Entity::update_many()
        .col_expr(
            push_results::Column::Status,
            Expr::value(PushStatus::Failed),
        )
        .col_expr(push_results::Column::Message, Expr::value(message))
        .col_expr(push_results::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(push_results::Column::JobLogId.eq(job_id))
        .filter(push_results::Column::DeviceId.eq(device_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A push's devices, by host name.
pub async fn results(
    db: &impl ConnectionTrait,
    job_id: i32,
) -> Result<Vec<push_results::Model>, Error> {
    Ok(push_results::Entity::find()
        .filter(push_results::Column::JobLogId.eq(job_id))
        .order_by_asc(push_results::Column::Hostname)
        .all(db)
        .await?)
}

/// The audit entry of a finished push: how many devices took it, refused it or failed.
pub async fn audit_outcome(db: &DatabaseConnection, job: &job_logs::Model) -> Result<(), Error> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in results(db, job.id).await? {
        *counts.entry(r.status.as_str()).or_default() += 1;
    }
    audit::record(
        db,
        &Actor::system("push"),
        Event::data("push.finished")
            .target("job", job.id)
            .detail("status", job.status.as_str())
            .detail("devices", json!(counts)),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_missing_from_a_configuration() {
        let config = "hostname r1\ninterface Gi1/0/1\n description uplink\n!\ninterface Gi1/0/2\n shutdown\n";
        let lines: Vec<String> = [
            "hostname r1",
            "interface Gi1/0/2",
            " description uplink",
            " shutdown",
            "ntp server 192.0.2.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(missing(config, &lines), [false, false, true, false, true]);
    }

    #[test]
    fn lines_are_checked() {
        assert_eq!(
            split_lines("a\n\n  b  \n").unwrap(),
            vec!["a".to_string(), "  b".to_string()]
        );
        assert!(split_lines("a\tb").is_err());
        assert!(split_lines(&"x\n".repeat(MAX_LINES + 1)).is_err());
    }
}
