//! Command runs (`/commands`): the form (commands, and a device, a tag or every device), a run's
//! outputs by device (optionally parsed into tables with a TextFSM template), and downloads: one
//! device's outputs, or all of them as one tar archive. Running needs `execute`; reading `read`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Form, accepted, page_or_again};
use super::{attachment, page, redirect};
use crate::auth::permissions::{EXECUTE, READ};
use crate::auth::{Auth, Ctx};
use crate::entity::{command_outputs, job_logs, tags, templates};
use crate::error::Error;
use crate::services::commands;
use crate::services::jobs::{self, Target};
use crate::services::templates::store;
use crate::services::templates::textfsm::Fsm;
use crate::services::validation::FieldErrors;
use crate::services::{devices, tags as tag_service};
use crate::vocabulary::{JobType, TemplateKind};
use crate::web::error::AppError;

routes! {
    GET r"/commands" => index,
    POST r"/commands" => run,
    GET r"/commands/jobs/{id:\d+}" => outputs,
    GET r"/commands/jobs/{id:\d+}/outputs.tar" => archive,
    GET r"/commands/jobs/{id:\d+}/devices/{device:\d+}/output.txt" => device_text,
}

/// The form as sent: commands, and a device (host name) or a tag.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunInput {
    commands: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    tag_id: String,
}

#[derive(Template)]
#[template(path = "commands/index.html")]
struct IndexPage {
    ctx: Ctx,
    input: RunInput,
    tags: Vec<tags::Model>,
    jobs: Vec<job_logs::Model>,
    errors: FieldErrors,
}

impl IndexPage {
    fn tag_chosen(&self, id: &i32) -> bool {
        self.input.tag_id == id.to_string()
    }
    fn commands_of(&self, j: &job_logs::Model) -> String {
        jobs::commands_of(j).join("; ")
    }
}

async fn index_page(
    auth: Auth<EXECUTE>,
    input: RunInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let view = IndexPage {
        tags: tag_service::all(db).await?,
        jobs: jobs::recent_of_type(db, JobType::CommandRun, 20).await?,
        ctx: auth.0,
        input,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn index(auth: Auth<EXECUTE>) -> Result<HttpResponse, AppError> {
    index_page(auth, RunInput::default(), FieldErrors::new()).await
}

pub async fn run(
    auth: Auth<EXECUTE>,
    Form(input): Form<RunInput>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let target = match (input.device.trim(), input.tag_id.trim().parse::<i32>().ok()) {
        (_, Some(tag)) => Ok(Target::Tag(tag)),
        ("", None) => Err("Enter a device's host name, or choose a tag."),
        (name, None) => match devices::find_by_hostname(db, name).await? {
            Some(d) => Ok(Target::Device(d.id)),
            None => Err("No device has this host name."),
        },
    };
    let result = match target {
        Ok(target) => {
            commands::start(
                db,
                &auth.state.queue,
                &auth.audit_actor(),
                auth.user.id,
                target,
                &input.commands,
            )
            .await
        }
        Err(m) => Err(FieldErrors::single("device", m)),
    };
    match accepted(result)? {
        Ok(job) => Ok(redirect(&format!("/commands/jobs/{}", job.id))),
        Err(errors) => index_page(auth, input, errors).await,
    }
}

/// A parsed output: the header and the rows.
type Table = (Vec<String>, Vec<Vec<String>>);

/// One command's output on one device, parsed when a template was chosen.
struct Shown {
    output: command_outputs::Model,
    table: Option<Result<Table, String>>,
}

#[derive(Template)]
#[template(path = "commands/outputs.html")]
struct OutputsPage {
    ctx: Ctx,
    job: job_logs::Model,
    commands: Vec<String>,
    /// By device: (device id, host name, its outputs).
    devices: Vec<(Option<i32>, String, Vec<Shown>)>,
    parsers: Vec<templates::Model>,
    parser: Option<i32>,
}

impl OutputsPage {
    fn parser_chosen(&self, id: &i32) -> bool {
        self.parser == Some(*id)
    }
    fn live_href(&self) -> String {
        match self.parser {
            Some(p) => format!("/commands/jobs/{}?parser={p}", self.job.id),
            None => format!("/commands/jobs/{}", self.job.id),
        }
    }
}

#[derive(Deserialize)]
pub struct OutputsQuery {
    parser: Option<String>,
}

async fn command_job(db: &sea_orm::DatabaseConnection, id: i32) -> Result<job_logs::Model, Error> {
    let job = jobs::get(db, id).await?;
    if job.job_type != JobType::CommandRun {
        return Err(Error::NotFound);
    }
    Ok(job)
}

/// A parsed output as a table: the header and the rows (a list value joined with commas).
fn table(fsm: &Fsm, text: &str) -> Result<Table, String> {
    let header = fsm.header();
    let rows = fsm
        .parse(text)?
        .into_iter()
        .map(|r| {
            header
                .iter()
                .map(|h| match r.get(h) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Array(a)) => a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    Ok((header, rows))
}

pub async fn outputs(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<OutputsQuery>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = command_job(db, id.into_inner()).await?;
    let viewer = auth.credential_viewer();
    let parsers = store::active_of_kinds(db, viewer, &[TemplateKind::Textfsm]).await?;
    let parser = query
        .parser
        .as_deref()
        .and_then(|p| p.trim().parse::<i32>().ok());
    let fsm = match parser {
        Some(p) => Some(
            Fsm::compile(&store::get(db, viewer, p).await?.content)
                .map_err(|e| Error::Refused(format!("the parser does not compile: {e}")))?,
        ),
        None => None,
    };
    let mut devices: Vec<(Option<i32>, String, Vec<Shown>)> = Vec::new();
    for o in commands::outputs(db, job.id).await? {
        let table = match (&fsm, &o.output) {
            (Some(f), Some(text)) => Some(table(f, text)),
            _ => None,
        };
        let shown = Shown { output: o, table };
        match devices.last_mut() {
            Some((d, _, list)) if *d == shown.output.device_id => list.push(shown),
            _ => devices.push((
                shown.output.device_id,
                shown.output.hostname.clone(),
                vec![shown],
            )),
        }
    }
    page(&OutputsPage {
        commands: jobs::commands_of(&job),
        ctx: auth.0,
        job,
        devices,
        parsers,
        parser,
    })
}

/// One device's outputs as text: each command under a `## command` line.
fn as_text(outputs: &[command_outputs::Model]) -> String {
    let mut text = String::new();
    for o in outputs {
        text.push_str(&format!("## {}\n", o.command));
        match (&o.output, &o.error) {
            (Some(out), _) => text.push_str(out),
            (None, Some(e)) => text.push_str(&format!("(refused by the device: {e})")),
            (None, None) => {}
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// A file name from a host name (letters, digits, `.`, `-`, `_`).
fn file_name(hostname: &str) -> String {
    hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub async fn device_text(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, device) = path.into_inner();
    let db = auth.db();
    let job = command_job(db, id).await?;
    let outputs: Vec<command_outputs::Model> = commands::outputs(db, job.id)
        .await?
        .into_iter()
        .filter(|o| o.device_id == Some(device))
        .collect();
    let Some(first) = outputs.first() else {
        return Err(Error::NotFound.into());
    };
    let name = format!("{}-job{}.txt", file_name(&first.hostname), job.id);
    Ok(attachment(
        &name,
        "text/plain; charset=utf-8",
        as_text(&outputs).into_bytes(),
    ))
}

/// A ustar archive of files (name, content).
fn tar(files: &[(String, Vec<u8>)], mtime: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut h = [0u8; 512];
        let put = |h: &mut [u8; 512], at: usize, text: &str| {
            h[at..at + text.len()].copy_from_slice(text.as_bytes());
        };
        put(&mut h, 0, &name.chars().take(99).collect::<String>());
        put(&mut h, 100, "0000644\0");
        put(&mut h, 108, "0000000\0");
        put(&mut h, 116, "0000000\0");
        put(&mut h, 124, &format!("{:011o}\0", content.len()));
        put(&mut h, 136, &format!("{:011o}\0", mtime.max(0)));
        put(&mut h, 148, "        ");
        h[156] = b'0';
        put(&mut h, 257, "ustar\0");
        put(&mut h, 263, "00");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        put(&mut h, 148, &format!("{sum:06o}\0 "));
        out.extend_from_slice(&h);
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub async fn archive(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = command_job(db, id.into_inner()).await?;
    let all = commands::outputs(db, job.id).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut start = 0;
    while start < all.len() {
        let device = all[start].device_id;
        let end = all[start..]
            .iter()
            .position(|o| o.device_id != device)
            .map_or(all.len(), |n| start + n);
        let name = format!("job{}/{}.txt", job.id, file_name(&all[start].hostname));
        files.push((name, as_text(&all[start..end]).into_bytes()));
        start = end;
    }
    let mtime = job.finished_at.unwrap_or(job.created_at).timestamp();
    let name = format!("command-run-{}.tar", job.id);
    Ok(attachment(&name, "application/x-tar", tar(&files, mtime)))
}
