//! Discovery (`/discovery`, write): the scan form (ranges, exclusions, ports, credentials or a
//! tag's, concurrency and timeout within the admin's bounds), a scan's results (one row per
//! address and port: stage, the reason in words, found facts, already in the inventory or not;
//! filters and a CSV export, read), and onboarding chosen or all new identified devices.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::{Form, accepted, page_or_again};
use super::{attachment, redirect};
use crate::auth::permissions::{READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{discovery_results, job_logs, tags};
use crate::error::Error;
use crate::services::credentials::{self, CredentialView};
use crate::services::discovery::onboard::{self, Onboarding};
use crate::services::discovery::results::{self, Filter};
use crate::services::discovery::scan::{self, ScanInput};
use crate::services::discovery::{self as discovery_service};
use crate::services::jobs;
use crate::services::settings::{self, registry};
use crate::services::tags as tag_service;
use crate::services::validation::{FieldErrors, ticked};
use crate::vocabulary::{DiscoveryOutcome, JobType};
use crate::web::error::AppError;

routes! {
    GET r"/discovery" => index,
    POST r"/discovery" => start,
    GET r"/discovery/jobs/{id:\d+}" => show,
    GET r"/discovery/jobs/{id:\d+}/results.csv" => csv,
    POST r"/discovery/jobs/{id:\d+}/onboard" => onboard_found,
}

/// Rows a results page shows (the CSV has them all).
const SHOWN: usize = 1000;

#[derive(Template)]
#[template(path = "discovery/index.html")]
struct IndexPage {
    ctx: Ctx,
    input: ScanInput,
    credentials: Vec<CredentialView>,
    tags: Vec<tags::Model>,
    jobs: Vec<job_logs::Model>,
    default_ports: String,
    errors: FieldErrors,
}

impl IndexPage {
    fn credential_chosen(&self, id: &i32) -> bool {
        self.input.credential_ids.contains(&id.to_string())
    }
    fn tag_chosen(&self, id: &i32) -> bool {
        self.input.tag_id == id.to_string()
    }
}

async fn index_page(
    auth: Auth<WRITE>,
    input: ScanInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let view = IndexPage {
        credentials: credentials::list(db, auth.credential_viewer(), false).await?,
        tags: tag_service::all(db).await?,
        jobs: jobs::recent_of_type(db, JobType::Discovery, 20).await?,
        default_ports: settings::text(db, &registry::DISCOVERY_SSH_PORTS).await?,
        ctx: auth.0,
        input,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn index(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    index_page(auth, ScanInput::default(), FieldErrors::new()).await
}

pub async fn start(
    auth: Auth<WRITE>,
    Form(input): Form<ScanInput>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let started = match scan::validate(db, &input).await {
        Ok(spec) => {
            discovery_service::start(
                db,
                &auth.state.queue,
                &auth.audit_actor(),
                auth.user.id,
                spec,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match accepted(started)? {
        Ok(job) => Ok(redirect(&format!("/discovery/jobs/{}", job.id))),
        Err(errors) => index_page(auth, input, errors).await,
    }
}

/// The results page's address: its filters.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    new: String,
}

impl ShowQuery {
    fn filter(&self) -> Filter {
        Filter {
            outcome: DiscoveryOutcome::parse(self.outcome.trim()),
            new_only: !self.new.is_empty(),
        }
    }
}

#[derive(Template)]
#[template(path = "discovery/show.html")]
struct ShowPage {
    ctx: Ctx,
    job: job_logs::Model,
    rows: Vec<discovery_results::Model>,
    total: usize,
    query: ShowQuery,
    counts: Vec<(DiscoveryOutcome, usize)>,
    tags: Vec<tags::Model>,
    /// What the last onboarding did, or its messages.
    done: Option<String>,
    errors: FieldErrors,
}

impl ShowPage {
    fn outcomes(&self) -> &'static [DiscoveryOutcome] {
        DiscoveryOutcome::ALL
    }
    fn outcome_chosen(&self, o: &DiscoveryOutcome) -> bool {
        self.query.outcome == o.as_str()
    }
    fn csv_href(&self) -> String {
        format!("/discovery/jobs/{}/results.csv", self.job.id)
    }
}

async fn scan_job(db: &sea_orm::DatabaseConnection, id: i32) -> Result<job_logs::Model, Error> {
    let job = jobs::get(db, id).await?;
    if job.job_type != JobType::Discovery {
        return Err(Error::NotFound);
    }
    Ok(job)
}

async fn show_page<const P: i32>(
    auth: Auth<P>,
    id: i32,
    query: ShowQuery,
    done: Option<String>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = scan_job(db, id).await?;
    let all = results::of_job(db, job.id, &Filter::default()).await?;
    let counts = DiscoveryOutcome::ALL
        .iter()
        .map(|o| (*o, all.iter().filter(|r| r.outcome == *o).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut rows = results::of_job(db, job.id, &query.filter()).await?;
    let total = rows.len();
    rows.truncate(SHOWN);
    let view = ShowPage {
        tags: tag_service::all(db).await?,
        ctx: auth.0,
        job,
        rows,
        total,
        query,
        counts,
        done,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    show_page(
        auth,
        id.into_inner(),
        query.into_inner(),
        None,
        FieldErrors::new(),
    )
    .await
}

pub async fn csv(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let job = scan_job(db, id.into_inner()).await?;
    let rows = results::of_job(db, job.id, &Filter::default()).await?;
    let name = format!("discovery-{}.csv", job.id);
    Ok(attachment(
        &name,
        "text/csv; charset=utf-8",
        results::csv(&rows).into_bytes(),
    ))
}

/// The onboarding form.
#[derive(Debug, Default, Deserialize)]
pub struct OnboardInput {
    #[serde(default)]
    ids: Vec<String>,
    /// `new`: every identified device not in the inventory; otherwise the chosen rows.
    #[serde(default)]
    which: String,
    #[serde(default)]
    tag_ids: Vec<String>,
    #[serde(default, deserialize_with = "ticked")]
    attach_credential: bool,
    #[serde(default, deserialize_with = "ticked")]
    update_existing: bool,
    #[serde(default, deserialize_with = "ticked")]
    backup: bool,
    #[serde(default, deserialize_with = "ticked")]
    nautobot: bool,
}

pub async fn onboard_found(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<OnboardInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let db = auth.db();
    let job = scan_job(db, id).await?;
    let numbers = |v: &[String]| v.iter().filter_map(|s| s.trim().parse().ok()).collect();
    let o = Onboarding {
        ids: numbers(&input.ids),
        all_new: input.which == "new",
        tag_ids: numbers(&input.tag_ids),
        attach_credential: input.attach_credential,
        update_existing: input.update_existing,
        backup: input.backup,
        nautobot: input.nautobot,
    };
    let done = onboard::onboard(
        db,
        &auth.state.queue,
        &auth.state.vault,
        &auth.audit_actor(),
        auth.credential_viewer(),
        job.id,
        &o,
    )
    .await;
    match accepted(done)? {
        Ok(done) => {
            let mut text = done.summary();
            for p in &done.problems {
                text.push_str("; ");
                text.push_str(p);
            }
            show_page(
                auth,
                id,
                ShowQuery::default(),
                Some(text),
                FieldErrors::new(),
            )
            .await
        }
        Err(errors) => show_page(auth, id, ShowQuery::default(), None, errors).await,
    }
}
