//! Schedules: list, create, edit, enable/disable, delete, run now, and the live "next 5 runs"
//! preview. The logic lives in `services::schedules`.

use crate::auth::flash::FlashKind;
use crate::vocabulary::{JobStatus, JobType, ScheduleKind, TargetKind};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::form::{Form, FormQuery, accepted, again};
use super::list::{ListQuery, NoFilters, Pager, Sorter};
use super::{page, redirect, render, safe_next};
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{scheduled_jobs, tags as tag_entity};
use crate::error::Error;
use crate::services::nautobot;
use crate::services::query::Sort;
use crate::services::schedules::{
    self, ScheduleInput, ScheduleSort, ScheduleTarget, Spec, WEEKDAYS,
};
use crate::services::tags;
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/schedules" => index,
    POST r"/schedules" => create,
    GET r"/schedules/new" => new_form,
    GET r"/schedules/preview" => preview,
    GET r"/schedules/fields" => fields,
    GET r"/schedules/{id:\d+}" => show,
    POST r"/schedules/{id:\d+}" => update,
    POST r"/schedules/{id:\d+}/toggle" => toggle,
    GET r"/schedules/{id:\d+}/delete" => confirm_delete,
    POST r"/schedules/{id:\d+}/delete" => delete,
    POST r"/schedules/{id:\d+}/run" => run_now,
}

/// How many host names the device field suggests; beyond that the user types the name.
const HOSTNAME_SUGGESTIONS: u64 = 1000;
const PREVIEW_RUNS: usize = 5;

/// "2026-03-29 03:00 CEST" in the schedule's time zone.
fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// "in 3 h", "in 12 min", "in 2 days", or "due now" for a time that has come.
fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let minutes = (secs + 30) / 60;
    let hours = (secs + 1800) / 3600;
    match secs {
        s if s <= 0 => "due now".into(),
        s if s < 60 => "in less than a minute".into(),
        s if s < 3600 => format!("in {minutes} min"),
        s if s < 48 * 3600 => format!("in {hours} h"),
        s => format!("in {} days", (s + 43_200) / 86_400),
    }
}

fn tz_of(s: &scheduled_jobs::Model) -> Tz {
    schedules::parse_timezone(&s.timezone).unwrap_or(Tz::UTC)
}

fn words_of(s: &scheduled_jobs::Model) -> String {
    match schedules::stored_spec(s) {
        Ok((spec, tz)) => spec.describe(tz),
        Err(m) => format!("unreadable ({m})"),
    }
}

/// What a schedule runs on, as the pages show it: words, and a link (with the tag's colour for a
/// tag) while the target exists.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TargetLink {
    label: String,
    href: Option<String>,
    color: Option<String>,
}

impl TargetLink {
    fn of(target: ScheduleTarget) -> Self {
        let text = |label: String| Self {
            label,
            href: None,
            color: None,
        };
        match target {
            ScheduleTarget::StoredConfigs => text("stored configurations".into()),
            ScheduleTarget::CheckmkMapping => Self {
                href: Some("/checkmk".into()),
                ..text("the CheckMK mapping's devices".into())
            },
            ScheduleTarget::AllDevices => Self {
                href: Some("/devices".into()),
                ..text("all devices".into())
            },
            ScheduleTarget::Device { id, hostname } => Self {
                href: Some(format!("/devices/{id}")),
                ..text(hostname)
            },
            ScheduleTarget::Tag { id, name, color } => Self {
                label: format!("tag {name}"),
                href: Some(format!("/tags/{id}")),
                color: Some(color),
            },
            ScheduleTarget::NautobotSource { id, name } => Self {
                href: Some(format!("/nautobot/{id}")),
                ..text(format!("Nautobot source {name}"))
            },
            ScheduleTarget::Scan { id } => Self {
                href: Some(format!("/discovery/jobs/{id}")),
                ..text(format!("the ranges of scan {id}"))
            },
            ScheduleTarget::Deleted { kind, id } => text(format!("{kind} #{id} (deleted)")),
        }
    }
}

/// A schedule's facts for display (list row and page head).
struct ScheduleView {
    id: i32,
    name: String,
    job_type: JobType,
    enabled: bool,
    words: String,
    timezone: String,
    target: TargetLink,
    next_at: Option<String>,
    next_rel: String,
    last_at: Option<String>,
}

impl ScheduleView {
    fn new(s: &scheduled_jobs::Model, target: ScheduleTarget, now: DateTime<Utc>) -> Self {
        let tz = tz_of(s);
        Self {
            id: s.id,
            name: s.name.clone(),
            job_type: s.job_type,
            enabled: s.enabled,
            words: words_of(s),
            timezone: s.timezone.clone(),
            target: TargetLink::of(target),
            next_at: s.next_run_at.map(|t| local(t, tz)),
            next_rel: s.next_run_at.map(|t| relative(t, now)).unwrap_or_default(),
            last_at: s.last_run_at.map(|t| local(t, tz)),
        }
    }
}

#[derive(Template)]
#[template(path = "schedules/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<ScheduleView>,
    sorter: Sorter<ScheduleSort>,
    pager: Pager,
    here: String,
}

pub async fn index(
    auth: Auth<READ>,
    list: ListQuery<NoFilters, Sort<ScheduleSort>>,
) -> Result<HttpResponse, AppError> {
    let result = schedules::list(auth.db(), list.sort, list.paging).await?;
    let sorter = list.sorter();
    let pager = list.pager(&result);
    let here = pager.href(&result.paging.page());
    let now = Utc::now();
    let rows = result
        .items
        .into_iter()
        .map(|r| ScheduleView::new(&r.schedule, r.target, now))
        .collect();
    page(&ListPage {
        ctx: auth.0,
        rows,
        sorter,
        pager,
        here,
    })
}

/// The "next 5 runs" box: the times, or what keeps them from being computed.
pub struct PreviewView {
    words: Option<String>,
    runs: Vec<(String, String)>,
    problems: Vec<String>,
}

impl PreviewView {
    fn of(spec: &Spec, tz: Tz, now: DateTime<Utc>) -> Self {
        let runs: Vec<(String, String)> = schedules::preview(spec, tz, now, PREVIEW_RUNS)
            .into_iter()
            .map(|t| {
                (
                    t.with_timezone(&tz)
                        .format("%a %Y-%m-%d %H:%M %Z")
                        .to_string(),
                    // The UTC time beside a local one; nothing twice for a UTC schedule.
                    if tz == Tz::UTC {
                        String::new()
                    } else {
                        t.format("%Y-%m-%d %H:%M UTC").to_string()
                    },
                )
            })
            .collect();
        let problems = if runs.is_empty() {
            vec!["It does not run again: its time has passed.".to_string()]
        } else {
            Vec::new()
        };
        Self {
            words: Some(spec.describe(tz)),
            runs,
            problems,
        }
    }

    fn from_input(input: &ScheduleInput, now: DateTime<Utc>) -> Self {
        let mut errors = FieldErrors::new();
        match schedules::parse_spec(input, &mut errors) {
            Some((spec, tz)) => Self::of(&spec, tz, now),
            None => Self {
                words: None,
                runs: Vec::new(),
                problems: errors.iter().map(|(_, m)| m.to_string()).collect(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "schedules/preview.html")]
struct PreviewFragment {
    preview: PreviewView,
}

/// A recent job of the schedule, for its page.
struct JobView {
    id: i32,
    status: JobStatus,
    created: String,
}

/// The form's values, messages and choices: what the page and the field groups fragment share.
struct FormFields {
    f: ScheduleInput,
    errors: FieldErrors,
    tags: Vec<tag_entity::Model>,
    sources: Vec<crate::entity::nautobot_sources::Model>,
    /// Recent scans, whose ranges a discovery schedule scans again.
    scans: Vec<crate::entity::job_logs::Model>,
    /// Hide (and disable) the field groups that do not apply to the chosen types. Only the htmx
    /// fragment does: a page without JavaScript shows every group under its heading.
    hide_others: bool,
}

impl FormFields {
    fn weekdays(&self) -> Vec<(&'static str, &'static str)> {
        WEEKDAYS
            .iter()
            .map(|(id, label, _)| (*id, *label))
            .collect()
    }
    fn day_checked(&self, id: &str) -> bool {
        self.f.days.iter().any(|d| d == id)
    }
    fn tag_selected(&self, id: &i32) -> bool {
        self.f.tag_id == id.to_string()
    }
    /// Whether a field group applies to the chosen job, target and schedule type.
    fn source_selected(&self, id: &i32) -> bool {
        self.f.source_id == id.to_string()
    }
    fn scan_selected(&self, id: &i32) -> bool {
        self.f.scan_id == id.to_string()
    }
    fn scan_label(&self, j: &crate::entity::job_logs::Model) -> String {
        crate::services::jobs::Target::of_job(j)
            .map(|t| match t {
                crate::services::jobs::Target::Scan(s) => s.ranges.join(", "),
                _ => String::new(),
            })
            .unwrap_or_default()
    }
    fn applies(&self, group: &str) -> bool {
        let job = JobType::parse(&self.f.job_type);
        let backup = job == Some(JobType::Backup);
        let target = TargetKind::parse(&self.f.target_type);
        let kind = ScheduleKind::parse(&self.f.schedule_type);
        match group {
            "device" => backup && target == Some(TargetKind::Device),
            "tag" => backup && target == Some(TargetKind::Tag),
            "source" => job == Some(JobType::NautobotSync),
            "scan" => job == Some(JobType::Discovery),
            "at" => kind == Some(ScheduleKind::Once),
            "minutes" => kind == Some(ScheduleKind::Interval),
            "time" => matches!(
                kind,
                Some(ScheduleKind::Daily | ScheduleKind::Weekly | ScheduleKind::Monthly)
            ),
            "days" => kind == Some(ScheduleKind::Weekly),
            "day" => kind == Some(ScheduleKind::Monthly),
            "cron" => kind == Some(ScheduleKind::Cron),
            _ => true,
        }
    }
    fn hidden(&self, group: &str) -> bool {
        self.hide_others && !self.applies(group)
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.get(field).is_some()
    }
}

#[derive(Template)]
#[template(path = "schedules/fields.html")]
struct FieldsFragment {
    g: FormFields,
}

#[derive(Template)]
#[template(path = "schedules/form.html")]
struct FormPage {
    ctx: Ctx,
    /// The stored schedule on its own page; `None` on "new".
    schedule: Option<ScheduleView>,
    recent: Vec<JobView>,
    /// Whether the user may change it (else the page only shows it).
    editable: bool,
    g: FormFields,
    hostnames: Vec<String>,
    preview: PreviewView,
}

impl FormPage {
    fn schedule_types(&self) -> &'static [ScheduleKind] {
        ScheduleKind::ALL
    }
    fn job_types(&self) -> &'static [JobType] {
        &JobType::SCHEDULED
    }
    fn target_types(&self) -> [TargetKind; 3] {
        TargetKind::FOR_SCHEDULES
    }
    fn timezones(&self) -> Vec<&'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
    }
    fn tz_selected(&self, tz: &str) -> bool {
        self.g.f.timezone == tz || (self.g.f.timezone.is_empty() && tz == "UTC")
    }
    fn action(&self) -> String {
        match &self.schedule {
            Some(s) => format!("/schedules/{}", s.id),
            None => "/schedules".into(),
        }
    }
}

impl FormPage {
    async fn build<const P: i32>(
        auth: Auth<P>,
        stored: Option<&scheduled_jobs::Model>,
        f: ScheduleInput,
        errors: FieldErrors,
    ) -> Result<Self, AppError> {
        let db = auth.db();
        let now = Utc::now();
        let editable = auth.can(WRITE);
        let (schedule, recent) = match stored {
            Some(s) => {
                let target = schedules::target_of(db, s).await?;
                let tz = tz_of(s);
                let recent = schedules::recent_jobs(db, s.id, 10)
                    .await?
                    .into_iter()
                    .map(|j| JobView {
                        id: j.id,
                        status: j.status,
                        created: local(j.created_at, tz),
                    })
                    .collect();
                (Some(ScheduleView::new(s, target, now)), recent)
            }
            None => (None, Vec::new()),
        };
        // A reader sees the stored schedule's runs; an editor those of the form as typed.
        let preview = match stored {
            Some(s) if !editable => match schedules::stored_spec(s) {
                Ok((spec, tz)) => PreviewView::of(&spec, tz, now),
                Err(m) => PreviewView {
                    words: None,
                    runs: Vec::new(),
                    problems: vec![m],
                },
            },
            _ => PreviewView::from_input(&f, now),
        };
        let (tags, sources, hostnames, scans) = if editable {
            (
                tags::all(db).await?,
                nautobot::sources::list(db).await?,
                schedules::hostname_choices(db, HOSTNAME_SUGGESTIONS).await?,
                recent_scans(db).await?,
            )
        } else {
            (Vec::new(), Vec::new(), Vec::new(), Vec::new())
        };
        Ok(Self {
            ctx: auth.0,
            schedule,
            recent,
            editable,
            g: FormFields {
                f,
                errors,
                tags,
                sources,
                scans,
                hide_others: false,
            },
            hostnames,
            preview,
        })
    }
}

/// The scans a discovery schedule may repeat, newest first.
async fn recent_scans(
    db: &sea_orm::DatabaseConnection,
) -> Result<Vec<crate::entity::job_logs::Model>, sea_orm::DbErr> {
    crate::services::jobs::recent_of_type(db, JobType::Discovery, 50).await
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    page(&FormPage::build(auth, None, ScheduleInput::new_default(), FieldErrors::new()).await?)
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(input): Form<ScheduleInput>,
) -> Result<HttpResponse, AppError> {
    match accepted(schedules::create(auth.db(), &auth.audit_actor(), &input).await)? {
        Ok(s) => {
            auth.flash(FlashKind::Success, format!("Schedule {} created.", s.name));
            Ok(redirect(&format!("/schedules/{}", s.id)))
        }
        Err(errors) => again(&FormPage::build(auth, None, input, errors).await?),
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let s = schedules::get(auth.db(), id.into_inner()).await?;
    let hostname = schedules::device_hostname(auth.db(), &s).await?;
    let input = ScheduleInput::from_model(&s, hostname);
    page(&FormPage::build(auth, Some(&s), input, FieldErrors::new()).await?)
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<ScheduleInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    match accepted(schedules::update(auth.db(), &auth.audit_actor(), id, &input).await)? {
        Ok(s) => {
            auth.flash(FlashKind::Success, format!("Schedule {} saved.", s.name));
            Ok(redirect(&format!("/schedules/{id}")))
        }
        Err(errors) => {
            let s = schedules::get(auth.db(), id).await?;
            again(&FormPage::build(auth, Some(&s), input, errors).await?)
        }
    }
}

/// The field groups for the chosen job, target and schedule type (htmx, on load and on change):
/// the others come back hidden and disabled, so the browser neither shows nor checks them.
pub async fn fields(
    auth: Auth<WRITE>,
    FormQuery(mut input): FormQuery<ScheduleInput>,
) -> Result<HttpResponse, AppError> {
    // A group shown for the first time starts from the new-schedule defaults.
    let defaults = ScheduleInput::new_default();
    for (value, default) in [
        (&mut input.time, defaults.time),
        (&mut input.minutes, defaults.minutes),
        (&mut input.day, defaults.day),
    ] {
        if value.trim().is_empty() {
            *value = default;
        }
    }
    let view = FieldsFragment {
        g: FormFields {
            f: input,
            errors: FieldErrors::new(),
            tags: tags::all(auth.db()).await?,
            sources: nautobot::sources::list(auth.db()).await?,
            scans: recent_scans(auth.db()).await?,
            hide_others: true,
        },
    };
    render(StatusCode::OK, &view)
}

/// "Next 5 runs" for the form as typed (htmx fragment). `from` (RFC 3339, or a UTC
/// `YYYY-MM-DDTHH:MM`) previews from another moment than now, to check a schedule against a
/// known date such as a daylight saving change.
pub async fn preview(
    _auth: Auth<WRITE>,
    FormQuery(input): FormQuery<ScheduleInput>,
    FormQuery(at): FormQuery<PreviewFrom>,
) -> Result<HttpResponse, AppError> {
    let from = at
        .from
        .as_deref()
        .and_then(parse_from)
        .unwrap_or_else(Utc::now);
    render(
        StatusCode::OK,
        &PreviewFragment {
            preview: PreviewView::from_input(&input, from),
        },
    )
}

/// The moment a preview counts from, beside the form's fields.
#[derive(Deserialize)]
pub struct PreviewFrom {
    from: Option<String>,
}

fn parse_from(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[derive(Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

pub async fn toggle(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<BackForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let back = form
        .back
        .as_deref()
        .map(safe_next)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/schedules/{id}"));
    let s = schedules::get(auth.db(), id).await?;
    match schedules::set_enabled(auth.db(), &auth.audit_actor(), id, !s.enabled).await {
        Ok(s) => {
            let state = if s.enabled { "enabled" } else { "disabled" };
            auth.flash(FlashKind::Success, format!("Schedule {} {state}.", s.name));
        }
        Err(Error::Conflict(message)) => auth.flash(FlashKind::Error, message),
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&back))
}

#[derive(Template)]
#[template(path = "schedules/delete.html")]
struct DeletePage {
    ctx: Ctx,
    schedule: ScheduleView,
    jobs: usize,
}

pub async fn confirm_delete(
    auth: Auth<DELETE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let s = schedules::get(auth.db(), id.into_inner()).await?;
    let target = schedules::target_of(auth.db(), &s).await?;
    let jobs = schedules::recent_jobs(auth.db(), s.id, 1).await?.len();
    page(&DeletePage {
        ctx: auth.0,
        schedule: ScheduleView::new(&s, target, Utc::now()),
        jobs,
    })
}

pub async fn delete(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let s = schedules::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    auth.flash(
        FlashKind::Success,
        format!("Schedule {} deleted; its past jobs were kept.", s.name),
    );
    Ok(redirect("/schedules"))
}

/// Start the schedule's job now, outside its schedule (a fresh idempotency key, the clicking
/// user as its creator), and follow it on the job's page.
pub async fn run_now(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let started = schedules::start_now(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        id,
        auth.user.id,
    )
    .await;
    match started {
        Ok(job) => Ok(redirect(&format!("/jobs/{}", job.id))),
        Err(Error::Refused(message) | Error::Conflict(message)) => {
            auth.flash(
                FlashKind::Error,
                format!("The job did not start: {message}."),
            );
            Ok(redirect(&format!("/schedules/{id}")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        let at = |secs: i64| now + chrono::Duration::seconds(secs);
        assert_eq!(relative(at(-5), now), "due now");
        assert_eq!(relative(at(20), now), "in less than a minute");
        assert_eq!(relative(at(15 * 60), now), "in 15 min");
        assert_eq!(relative(at(3 * 3600 - 100), now), "in 3 h");
        assert_eq!(relative(at(5 * 86_400), now), "in 5 days");
    }

    #[test]
    fn targets_link_to_their_pages_while_they_exist() {
        let link = |label: &str, href: Option<&str>, color: Option<&str>| TargetLink {
            label: label.into(),
            href: href.map(str::to_string),
            color: color.map(str::to_string),
        };
        let cases = [
            (
                ScheduleTarget::Device {
                    id: 7,
                    hostname: "core-sw01".into(),
                },
                link("core-sw01", Some("/devices/7"), None),
            ),
            (
                ScheduleTarget::Tag {
                    id: 3,
                    name: "core".into(),
                    color: "#d1242f".into(),
                },
                link("tag core", Some("/tags/3"), Some("#d1242f")),
            ),
            (
                ScheduleTarget::AllDevices,
                link("all devices", Some("/devices"), None),
            ),
            (
                ScheduleTarget::StoredConfigs,
                link("stored configurations", None, None),
            ),
            (
                ScheduleTarget::Deleted {
                    kind: TargetKind::Device,
                    id: 8,
                },
                link("device #8 (deleted)", None, None),
            ),
            (
                ScheduleTarget::Deleted {
                    kind: TargetKind::Tag,
                    id: 4,
                },
                link("tag #4 (deleted)", None, None),
            ),
        ];
        for (target, expected) in cases {
            assert_eq!(TargetLink::of(target), expected);
        }
    }
}
