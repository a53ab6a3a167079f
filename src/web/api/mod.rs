//! The JSON API under `/api/v1`, for scripts, monitoring and the integrations. It uses the same
//! guard as the pages (`Auth<P>`, with an API token or a browser session) and the same services;
//! what is its own is here: the request contract and the list envelope.
//!
//! - Query parameters are read strictly: one the endpoint does not know is a 400 that names it
//!   (a typo in a filter must not silently list everything).
//! - Bodies are JSON objects ([`Body`]); a field the endpoint does not know is a 400 too.
//! - Lists answer in the NetBox/Nautobot envelope `{"count", "next", "previous", "results"}`
//!   with `limit` (default 50, at most 1,000) and `offset`, in a stable order.
//! - Errors are `{"error", "title", "status", "fields"}` (`web::error`, the one error path).

pub mod admin;
pub mod backups;
pub mod credentials;
pub mod devices;
pub mod docs;
pub mod jobs;
pub mod schedules;
pub mod search;
pub mod system;
pub mod tag_rules;
pub mod tags;
pub mod users;

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::services::query::{Page, Paging};
use crate::web::error::AppError;

/// Every path of the API starts with this.
pub const PREFIX: &str = "/api/";
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1_000;

/// An endpoint's query parameters, read strictly into `P` (a `Deserialize` struct with
/// `#[serde(default)]`).
pub struct Params<P>(pub P);

impl<P: DeserializeOwned + 'static> FromRequest for Params<P> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(strict(req.query_string(), &[]).map(Params))
    }
}

/// A list endpoint's parameters: `limit`, `offset` and the list's own `P`.
pub struct ListParams<P> {
    pub paging: Paging,
    pub filters: P,
    request: HttpRequest,
}

impl<P: DeserializeOwned + 'static> FromRequest for ListParams<P> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(list_params(req))
    }
}

fn list_params<P: DeserializeOwned>(req: &HttpRequest) -> Result<ListParams<P>, AppError> {
    let query = req.query_string();
    let filters = strict(query, &["limit", "offset"])?;
    let value = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .last()
    };
    let number = |name: &str, default: u64, max: u64| -> Result<u64, AppError> {
        match value(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "{name} must be a whole number from 0 to {max}, not {:?}",
                        text.chars().take(40).collect::<String>()
                    ))
                }),
        }
    };
    let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = number("offset", 0, crate::services::query::MAX_OFFSET)?;
    if limit == 0 {
        return Err(AppError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    Ok(ListParams {
        paging: Paging::window(offset, limit),
        filters,
        request: req.clone(),
    })
}

/// `query` read into `P`; `paging` names the parameters the caller reads itself. Any other
/// name `P` does not have is refused, all of them named.
fn strict<P: DeserializeOwned>(query: &str, paging: &[&str]) -> Result<P, AppError> {
    let mut unknown: Vec<String> = Vec::new();
    let pairs =
        form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| !paging.contains(&key.as_ref()));
    let own = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let deserializer = serde_html_form::Deserializer::from_bytes(own.as_bytes());
    let parsed: Result<P, _> = serde_ignored::deserialize(deserializer, |path| {
        unknown.push(path.to_string());
    });
    if !unknown.is_empty() {
        unknown.sort();
        unknown.dedup();
        return Err(AppError::BadRequest(format!(
            "unknown query parameter{}: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )));
    }
    parsed.map_err(|e| AppError::BadRequest(format!("query string: {e}")))
}

/// A JSON object body read into `T` (declare it `#[serde(deny_unknown_fields)]`). The handler
/// takes it with [`Body::read`] after the guard: extractors run side by side, and a caller
/// without the permission must hear 403 whatever it sent, not what was wrong with its body.
pub struct Body<T>(Result<T, AppError>);

impl<T> Body<T> {
    pub fn read(self) -> Result<T, AppError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let body = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move { Ok(Body(read_json(is_json, body).await)) })
    }
}

async fn read_json<T: DeserializeOwned>(
    is_json: bool,
    body: impl Future<Output = Result<actix_web::web::Bytes, actix_web::Error>>,
) -> Result<T, AppError> {
    if !is_json {
        return Err(AppError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ));
    }
    // The same limit as a form's (actix-web's for a body read whole): far above any
    // request here, a list of 10,000 device ids included.
    let bytes = body.await.map_err(|e| {
        if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "the body is larger than {} KB",
                crate::web::form::MAX_FORM_BYTES / 1024
            ))
        } else {
            AppError::BadRequest(format!("the body could not be read: {e}"))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(format!("body: {e}")))
}

/// A list in the NetBox/Nautobot envelope.
#[derive(Serialize, ToSchema)]
pub struct ListOf<T> {
    /// How many rows match, on every page.
    pub count: u64,
    /// The next window's address; `null` on the last.
    pub next: Option<String>,
    /// The previous window's address; `null` on the first.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<P> ListParams<P> {
    /// The envelope for `page`, its rows turned into `T`.
    pub fn envelope<R, T>(&self, page: Page<R>, row: impl FnMut(R) -> T) -> ListOf<T> {
        let Paging { offset, limit, .. } = page.paging;
        let window = |offset: u64| self.window_link(offset, limit);
        ListOf {
            count: page.total,
            next: (offset + limit < page.total).then(|| window(offset + limit)),
            previous: (offset > 0).then(|| window(offset.saturating_sub(limit))),
            results: page.items.into_iter().map(row).collect(),
        }
    }

    /// This list's address with its filters and another window.
    fn window_link(&self, offset: u64, limit: u64) -> String {
        let req = &self.request;
        let kept = form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(key, _)| key != "limit" && key != "offset");
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .append_pair("limit", &limit.to_string())
            .append_pair("offset", &offset.to_string())
            .finish();
        format!("{}{}?{query}", own_origin(req), req.path())
    }
}

/// The site's address for links a client follows: the configured public one, else the one the
/// request was sent to.
pub fn own_origin(req: &HttpRequest) -> String {
    req.app_data::<actix_web::web::Data<crate::web::AppState>>()
        .and_then(|state| state.config.public_origin.clone())
        .or_else(|| crate::web::client::request_origin(req))
        .unwrap_or_default()
}

/// A window of `rows` read whole (short lists: tags, a job's results), already in their order.
pub fn window_of<T>(rows: Vec<T>, paging: Paging) -> Page<T> {
    let total = rows.len() as u64;
    let items = rows
        .into_iter()
        .skip(usize::try_from(paging.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(paging.limit).unwrap_or(usize::MAX))
        .collect();
    Page {
        items,
        total,
        paging,
    }
}

/// A 200 with `value` as JSON.
pub fn ok<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

/// A 201 with the new object as JSON.
pub fn created<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Created().json(value)
}

/// The error body, for the OpenAPI document (written by `web::error`).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in words.
    pub error: String,
    /// A short heading for it.
    pub title: String,
    pub status: u16,
    /// A message per invalid field.
    pub fields: std::collections::BTreeMap<String, String>,
}

/// Query parameters of endpoints that take none.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NoParams {}
