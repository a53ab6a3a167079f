//! A job's page: its state, its devices' results and its log, kept live while the job runs by
//! a poll that asks only for what changed since the page's last look (`jobs::live`), and
//! *Cancel job*.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::jobs::duration_words;
use super::{page_or_block, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{job_log_entries, job_logs, job_results};
use crate::services::jobs::{self, Cursor};
use crate::vocabulary::{LogLevel, ResultStatus};
use crate::web::error::AppError;

routes! {
    GET r"/jobs/{id:\d+}" => show,
    GET r"/jobs/{id:\d+}/live" => live,
    POST r"/jobs/{id:\d+}/cancel" => cancel,
}

const HX_RETARGET: HeaderName = HeaderName::from_static("hx-retarget");
const HX_RESWAP: HeaderName = HeaderName::from_static("hx-reswap");

/// Most log entries a page shows at first, and a poll adds at once.
const MAX_ENTRIES: u64 = 2000;
/// Devices named as running now on the progress card.
const RUNNING_NAMED: u64 = 12;

/// The page's own address: the log level it filters on.
#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    level: String,
}

/// A poll's address: the level, and where the page stands (`Cursor`).
#[derive(Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    level: String,
    #[serde(default)]
    seq: i32,
    #[serde(default)]
    entry: i32,
}

/// The job's state: the cards, the actions and the poller, on the page and in every poll.
struct JobState {
    job: job_logs::Model,
    counts: Vec<(ResultStatus, i64)>,
    running_now: Vec<String>,
    level: Option<LogLevel>,
    cursor: Cursor,
}

impl JobState {
    async fn load(
        db: &sea_orm::DatabaseConnection,
        id: i32,
        level: Option<LogLevel>,
    ) -> Result<JobState, AppError> {
        let job = jobs::get(db, id).await?;
        let counts = jobs::result_counts(db, job.id).await?;
        let running = counts
            .iter()
            .any(|(s, n)| *s == ResultStatus::Running && *n > 0);
        let running_now = if job.finished_at.is_none() && running {
            jobs::running_now(db, job.id, RUNNING_NAMED).await?
        } else {
            Vec::new()
        };
        Ok(JobState {
            job,
            counts,
            running_now,
            level,
            cursor: Cursor::default(),
        })
    }

    fn running(&self) -> bool {
        self.job.finished_at.is_none()
    }
    fn cancellable(&self) -> bool {
        self.job.status.is_open()
    }
    fn percent(&self) -> i64 {
        if self.job.progress_total == 0 {
            return if self.running() { 0 } else { 100 };
        }
        i64::from(self.job.progress_done) * 100 / i64::from(self.job.progress_total)
    }
    /// The devices by status for the progress card: the usual four always, the others when
    /// there are any.
    fn tally(&self) -> Vec<(ResultStatus, i64)> {
        let count = |status| {
            self.counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n)
        };
        ResultStatus::ALL
            .iter()
            .map(|s| (*s, count(*s)))
            .filter(|(s, n)| {
                *n > 0 || !matches!(s, ResultStatus::Skipped | ResultStatus::Cancelled)
            })
            .collect()
    }
    /// Running devices beyond the ones named.
    fn running_unnamed(&self) -> i64 {
        let running = self
            .counts
            .iter()
            .find(|(s, _)| *s == ResultStatus::Running)
            .map_or(0, |(_, n)| *n);
        (running - self.running_now.len() as i64).max(0)
    }
    fn duration(&self) -> String {
        duration_words(&self.job)
    }
    fn levels(&self) -> &'static [LogLevel] {
        LogLevel::ALL
    }
    fn level_chosen(&self, level: &LogLevel) -> bool {
        self.level == Some(*level)
    }
    /// The poll's address from here on.
    fn live_href(&self) -> String {
        let mut href = format!(
            "/jobs/{}/live?seq={}&entry={}",
            self.job.id, self.cursor.finish_seq, self.cursor.entry_id
        );
        if let Some(level) = self.level {
            href.push_str("&level=");
            href.push_str(level.as_str());
        }
        href
    }
}

/// Result rows and log entries, and the stored versions the rows link to.
struct Rows {
    results: Vec<job_results::Model>,
    /// backup id -> (device id, version).
    versions: HashMap<i32, (i32, i32)>,
    entries: Vec<job_log_entries::Model>,
}

impl Rows {
    async fn load(
        db: &sea_orm::DatabaseConnection,
        results: Vec<job_results::Model>,
        entries: Vec<job_log_entries::Model>,
    ) -> Result<Rows, AppError> {
        let versions = jobs::versions_stored(db, &results).await?;
        Ok(Rows {
            results,
            versions,
            entries,
        })
    }
    fn version_of(&self, r: &job_results::Model) -> Option<(i32, i32)> {
        r.backup_id.and_then(|b| self.versions.get(&b).copied())
    }
}

/// Who started the job and what it covers, in words (the page's head, which polls leave alone).
struct Heading {
    started_by: String,
    target: String,
}

impl Heading {
    async fn load(
        db: &sea_orm::DatabaseConnection,
        job: &job_logs::Model,
    ) -> Result<Heading, AppError> {
        let names = jobs::Names::load(db, std::slice::from_ref(job)).await?;
        Ok(Heading {
            started_by: names.started_by(job),
            target: names.target(job),
        })
    }
}

#[derive(Template)]
#[template(path = "jobs/show.html", blocks = ["live"])]
struct ShowPage {
    ctx: Ctx,
    heading: Heading,
    state: JobState,
    rows: Rows,
    /// The answer to a poll that found the job ended: the actions change beside the live part.
    ended_while_watched: bool,
}

impl ShowPage {
    fn actions_oob(&self) -> bool {
        self.ended_while_watched
    }
    fn summary_oob(&self) -> bool {
        false
    }
}

/// A poll's answer while the job runs: the poller with its next address, the cards and actions
/// in place, new result rows on top of the table and new entries under the log.
#[derive(Template)]
#[template(path = "jobs/live.html")]
struct LiveUpdate {
    ctx: Ctx,
    state: JobState,
    rows: Rows,
}

impl LiveUpdate {
    fn actions_oob(&self) -> bool {
        true
    }
    fn summary_oob(&self) -> bool {
        true
    }
}

pub async fn show(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let level = LogLevel::parse(&query.level);
    let mut state = JobState::load(auth.db(), id.into_inner(), level).await?;
    let results = if state.running() {
        // While it runs the table grows from the top as devices finish (the poll adds them).
        jobs::finished_since(auth.db(), state.job.id, 0).await?
    } else {
        jobs::results(auth.db(), state.job.id, None).await?
    };
    let entries = jobs::entries_after(auth.db(), state.job.id, level, 0, MAX_ENTRIES).await?;
    state.cursor = Cursor::default().after(&results, &entries);
    let rows = Rows::load(auth.db(), results, entries).await?;
    let fragment = auth.wants_fragment();
    let heading = Heading::load(auth.db(), &state.job).await?;
    let view = ShowPage {
        ctx: auth.0,
        heading,
        state,
        rows,
        ended_while_watched: false,
    };
    page_or_block(fragment, StatusCode::OK, &view, ShowPage::as_live)
}

/// What changed since the page's cursor. Once the job has ended, the whole live part instead
/// (sorted for reading, without a poller) and the actions without *Cancel job*.
pub async fn live(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<LiveQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let level = LogLevel::parse(&query.level);
    let cursor = Cursor {
        finish_seq: query.seq.max(0),
        entry_id: query.entry.max(0),
    };
    let mut state = JobState::load(auth.db(), id, level).await?;
    if !state.running() {
        let results = jobs::results(auth.db(), id, None).await?;
        let entries = jobs::entries_after(auth.db(), id, level, 0, MAX_ENTRIES).await?;
        let rows = Rows::load(auth.db(), results, entries).await?;
        let view = ShowPage {
            ctx: auth.0,
            // Only the head shows them, which this answer leaves alone.
            heading: Heading {
                started_by: String::new(),
                target: String::new(),
            },
            state,
            rows,
            ended_while_watched: true,
        };
        let mut response = render(StatusCode::OK, &view.as_live())?;
        let headers = response.headers_mut();
        headers.insert(HX_RETARGET, HeaderValue::from_static("#job-live"));
        headers.insert(HX_RESWAP, HeaderValue::from_static("outerHTML"));
        return Ok(response);
    }
    let results = jobs::finished_since(auth.db(), id, cursor.finish_seq).await?;
    let entries = jobs::entries_after(auth.db(), id, level, cursor.entry_id, MAX_ENTRIES).await?;
    state.cursor = cursor.after(&results, &entries);
    let rows = Rows::load(auth.db(), results, entries).await?;
    render(
        StatusCode::OK,
        &LiveUpdate {
            ctx: auth.0,
            state,
            rows,
        },
    )
}

pub async fn cancel(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    jobs::cancel(auth.db(), &auth.audit_actor(), id).await?;
    auth.flash(
        FlashKind::Warning,
        "Job cancelled: devices not yet started are skipped; running ones finish.",
    );
    Ok(redirect(&format!("/jobs/{id}")))
}
