//! Configuration push (`/push`): the form (a template and its values, or raw lines; host names
//! or a tag; save or not), the dry run it shows by default (per device the lines and which its
//! stored configuration lacks), the apply after a confirmation naming the number of devices, and
//! a push's page (per device: what was applied, the refused line, the diff of the backup taken
//! after). Pushing needs `execute`; reading a push's page `read`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Deserialize;

use super::form::{Form, accepted, page_or_again};
use super::{page, redirect};
use crate::auth::permissions::{EXECUTE, READ};
use crate::auth::{Auth, Ctx};
use crate::entity::{backups as backup_entity, job_logs, push_results, tags, templates};
use crate::error::Error;
use crate::services::jobs::{self, Target};
use crate::services::push::{self, DevicePlan, Request, Source};
use crate::services::templates::store;
use crate::services::validation::{FieldErrors, ticked};
use crate::services::{backups, devices, tags as tag_service};
use crate::vocabulary::{JobType, TemplateKind};
use crate::web::error::AppError;

routes! {
    GET r"/push" => index,
    POST r"/push" => submit,
    GET r"/push/jobs/{id:\d+}" => show,
}

/// Devices whose lines a dry run shows (the counts cover them all).
const SHOWN_DEVICES: usize = 100;

/// The form as sent.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PushInput {
    /// `template` or `lines`.
    #[serde(default)]
    source: String,
    #[serde(default)]
    template_id: String,
    #[serde(default)]
    values: String,
    #[serde(default)]
    lines: String,
    /// Host names, separated by spaces, commas or lines.
    #[serde(default)]
    devices: String,
    #[serde(default)]
    tag_id: String,
    #[serde(default, deserialize_with = "ticked")]
    save: bool,
    /// `apply`, or a dry run.
    #[serde(default)]
    action: String,
    /// The number of devices the user confirmed.
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "push/index.html")]
struct IndexPage {
    ctx: Ctx,
    input: PushInput,
    templates: Vec<templates::Model>,
    tags: Vec<tags::Model>,
    jobs: Vec<job_logs::Model>,
    /// The dry run, when one was asked for and the form was valid.
    plans: Option<Vec<DevicePlan>>,
    errors: FieldErrors,
}

impl IndexPage {
    fn uses_template(&self) -> bool {
        self.input.source != "lines"
    }
    fn template_chosen(&self, id: &i32) -> bool {
        self.input.template_id == id.to_string()
    }
    fn tag_chosen(&self, id: &i32) -> bool {
        self.input.tag_id == id.to_string()
    }
    fn shown(&self) -> &[DevicePlan] {
        self.plans
            .as_deref()
            .map(|p| &p[..p.len().min(SHOWN_DEVICES)])
            .unwrap_or_default()
    }
    fn device_count(&self) -> usize {
        self.plans.as_ref().map_or(0, Vec::len)
    }
    fn new_lines(&self) -> usize {
        self.plans.iter().flatten().map(DevicePlan::new_count).sum()
    }
    fn failing(&self) -> usize {
        self.plans
            .iter()
            .flatten()
            .filter(|p| p.error.is_some() || !p.pushable)
            .count()
    }
}

async fn index_page(
    auth: Auth<EXECUTE>,
    input: PushInput,
    plans: Option<Vec<DevicePlan>>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let kinds = [TemplateKind::Jinja2, TemplateKind::Text];
    let view = IndexPage {
        templates: store::active_of_kinds(db, auth.credential_viewer(), &kinds).await?,
        tags: tag_service::all(db).await?,
        jobs: jobs::recent_of_type(db, JobType::ConfigPush, 20).await?,
        ctx: auth.0,
        input,
        plans,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn index(auth: Auth<EXECUTE>) -> Result<HttpResponse, AppError> {
    index_page(auth, PushInput::default(), None, FieldErrors::new()).await
}

/// The request the form describes, or the form's messages.
async fn request_of(db: &sea_orm::DatabaseConnection, input: &PushInput) -> Result<Request, Error> {
    let source = if input.source == "lines" {
        Source::Lines(input.lines.clone())
    } else {
        let id = input
            .template_id
            .trim()
            .parse()
            .map_err(|_| FieldErrors::single("template_id", "Choose a template."))?;
        Source::Template {
            id,
            values: input.values.clone(),
        }
    };
    let target = match input.tag_id.trim().parse::<i32>().ok() {
        Some(tag) => Target::Tag(tag),
        None => {
            let names: Vec<&str> = input
                .devices
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|n| !n.is_empty())
                .collect();
            if names.is_empty() {
                return Err(FieldErrors::single(
                    "devices",
                    "Enter host names, or choose a tag.",
                ));
            }
            let (ids, unknown) = devices::ids_by_hostnames(db, &names).await?;
            if !unknown.is_empty() {
                return Err(FieldErrors::single(
                    "devices",
                    format!("No device has these host names: {}.", unknown.join(", ")),
                ));
            }
            match ids.as_slice() {
                [one] => Target::Device(*one),
                _ => Target::Devices(ids),
            }
        }
    };
    Ok(Request {
        source,
        target,
        save: input.save,
    })
}

pub async fn submit(
    auth: Auth<EXECUTE>,
    Form(input): Form<PushInput>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let request = match accepted(request_of(db, &input).await)? {
        Ok(r) => r,
        Err(errors) => return index_page(auth, input, None, errors).await,
    };
    let reveal = backups::reveals_secrets(db, auth.is_admin()).await?;
    let vault = &auth.state.vault;
    let plans = push::plan(db, vault, auth.credential_viewer(), reveal, &request).await;
    let plans = match accepted(plans)? {
        Ok(p) => p,
        Err(errors) => return index_page(auth, input, None, errors).await,
    };
    if input.action != "apply" {
        return index_page(auth, input, Some(plans), FieldErrors::new()).await;
    }
    let started = push::start(
        db,
        &auth.state.queue,
        vault,
        &auth.audit_actor(),
        auth.user.id,
        &plans,
        &request,
        input.confirm.trim().parse().ok(),
    )
    .await;
    match accepted(started)? {
        Ok(job) => Ok(redirect(&format!("/push/jobs/{}", job.id))),
        Err(errors) => index_page(auth, input, Some(plans), errors).await,
    }
}

#[derive(Template)]
#[template(path = "push/show.html")]
struct ShowPage {
    ctx: Ctx,
    job: job_logs::Model,
    results: Vec<push_results::Model>,
    /// Backup id → its version, for the diff links.
    versions: HashMap<i32, i32>,
}

impl ShowPage {
    fn changes_href(&self, r: &push_results::Model) -> Option<String> {
        let version = self.versions.get(&r.backup_id?)?;
        Some(format!(
            "/devices/{}/backups/{version}/changes",
            r.device_id?
        ))
    }
    fn saved_text(&self, r: &push_results::Model) -> &'static str {
        match r.saved {
            Some(true) => "saved",
            Some(false) => "not saved",
            None => "",
        }
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = jobs::get(db, id.into_inner()).await?;
    if job.job_type != JobType::ConfigPush {
        return Err(Error::NotFound.into());
    }
    let results = push::results(db, job.id).await?;
    let ids: Vec<i32> = results.iter().filter_map(|r| r.backup_id).collect();
    let mut versions = HashMap::new();
    for chunk in ids.chunks(500) {
        let pairs: Vec<(i32, i32)> = backup_entity::Entity::find()
            .select_only()
            .column(backup_entity::Column::Id)
            .column(backup_entity::Column::Version)
            .filter(backup_entity::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        versions.extend(pairs);
    }
    let view = ShowPage {
        ctx: auth.0,
        job,
        results,
        versions,
    };
    page(&view)
}
