use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::list::{Pager, query_string};
use super::page;
use crate::auth::permissions::ADMIN;
use crate::auth::{Auth, Ctx};
use crate::entity::audit_logs;
use crate::services::audit::{self, AuditFilter};
use crate::services::query::PageParams;
use crate::vocabulary::AuditKind;
use crate::web::error::AppError;

routes! {
    GET r"/audit" => index,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    #[serde(flatten)]
    paging: PageParams,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<audit_logs::Model>,
    f: AuditQuery,
    pager: Pager,
    date_error: Option<&'static str>,
}

impl AuditPage {
    fn event_types(&self) -> &'static [AuditKind] {
        AuditKind::ALL
    }
    fn details(&self, row: &audit_logs::Model) -> String {
        row.details
            .as_ref()
            .and_then(|d| serde_json::to_string_pretty(d).ok())
            .unwrap_or_default()
    }
}

fn date(value: &str) -> Result<Option<NaiveDate>, ()> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

pub async fn index(
    auth: Auth<ADMIN>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner();
    let from = date(&f.from);
    let to = date(&f.to);
    let date_error = (from.is_err() || to.is_err()).then_some("Dates must look like 2026-11-22.");
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let filter = AuditFilter {
        event_type: AuditKind::parse(f.event_type.trim()),
        actor: non_empty(&f.actor),
        from: from.ok().flatten(),
        to: to.ok().flatten(),
        text: non_empty(&f.q),
    };
    let result = audit::list(auth.db(), &filter, f.paging.paging()).await?;
    let filters = query_string(&[
        ("event_type", &f.event_type),
        ("actor", &f.actor),
        ("from", &f.from),
        ("to", &f.to),
        ("q", &f.q),
    ]);
    let pager = Pager::new("/audit", &filters, None, &result);
    page(&AuditPage {
        ctx: auth.0,
        rows: result.items,
        f,
        pager,
        date_error,
    })
}
