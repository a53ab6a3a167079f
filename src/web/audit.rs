use actix_web::HttpResponse;
use askama::Template;
use serde::{Deserialize, Serialize};

use super::list::{ListQuery, Pager, date, lenient, trimmed};
use super::page;
use crate::auth::permissions::ADMIN;
use crate::auth::{Auth, Ctx};
use crate::entity::audit_logs;
use crate::services::audit::{self, AuditFilter};
use crate::vocabulary::AuditKind;
use crate::web::error::AppError;

routes! {
    GET r"/audit" => index,
}

/// The audit log's filters, by their names in its address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AuditFilters {
    #[serde(deserialize_with = "lenient")]
    event_type: Option<AuditKind>,
    #[serde(deserialize_with = "trimmed")]
    actor: String,
    /// Dates as typed (see `list::date`).
    from: String,
    to: String,
    #[serde(deserialize_with = "trimmed")]
    q: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<audit_logs::Model>,
    f: AuditFilters,
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

pub async fn index(
    auth: Auth<ADMIN>,
    list: ListQuery<AuditFilters>,
) -> Result<HttpResponse, AppError> {
    let f = &list.filters;
    let (from, to) = (date(&f.from), date(&f.to));
    let date_error = (from.is_err() || to.is_err()).then_some("Dates must look like 2026-11-22.");
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let filter = AuditFilter {
        event_type: f.event_type,
        actor: non_empty(&f.actor),
        from: from.ok().flatten(),
        to: to.ok().flatten(),
        text: non_empty(&f.q),
    };
    let result = audit::list(auth.db(), &filter, list.paging).await?;
    let pager = list.pager(&result);
    page(&AuditPage {
        ctx: auth.0,
        rows: result.items,
        f: list.filters,
        pager,
        date_error,
    })
}
