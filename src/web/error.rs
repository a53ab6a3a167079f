//! The web layer's error: a domain error, or one only a request can have (not signed in, a
//! failed CSRF check, a body that is not a form, a template that failed). It becomes a response
//! here and nowhere else: a full page, the bare error box for an htmx request, or JSON for a
//! client that asks for it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use sea_orm::DbErr;
use serde_json::json;

use crate::crypto::CryptoError;
use crate::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] Error),
    /// The user is signed in but lacks these permissions (names shown on the 403 page).
    #[error("missing permission: {}", .missing.join(", "))]
    Forbidden { missing: Vec<&'static str> },
    /// Not signed in: a page redirects to the login page, an htmx request gets HX-Redirect.
    #[error("login required")]
    LoginRequired { next: String, htmx: bool },
    /// An API token that is wrong, expired, revoked, not allowed from this address, or of a
    /// deactivated user: which, the caller is not told.
    #[error("invalid API token")]
    TokenRefused,
    /// Too many invalid tokens or sign-ins from this address.
    #[error("too many failed attempts from this address")]
    TooManyAttempts {
        until: chrono::DateTime<chrono::Utc>,
    },
    #[error("request rejected by the CSRF check: {0}")]
    Csrf(&'static str),
    /// A request the application cannot read: a malformed query, an incomplete form.
    #[error("{0}")]
    BadRequest(String),
    /// A body larger than the endpoint accepts.
    #[error("{0}")]
    TooLarge(String),
    /// A body of a type the endpoint does not read (JSON sent to a form).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// A handler's own query keeps the place it ran, like a service's.
impl From<DbErr> for AppError {
    #[track_caller]
    fn from(source: DbErr) -> Self {
        AppError::Domain(Error::from(source))
    }
}

impl From<CryptoError> for AppError {
    fn from(e: CryptoError) -> Self {
        AppError::Domain(Error::Crypto(e))
    }
}

impl AppError {
    pub fn not_found() -> Self {
        AppError::Domain(Error::NotFound)
    }

    /// A fault of the server (session store, state), logged and shown as a 500.
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Domain(Error::Internal(message.into()))
    }

    /// The field messages of an invalid-input error, for a form that shows them.
    pub fn field_errors(self) -> Result<crate::services::validation::FieldErrors, Self> {
        match self {
            AppError::Domain(Error::Invalid(errors)) => Ok(errors),
            other => Err(other),
        }
    }

    /// The status, a title and a message worded for the user; details of server faults go to
    /// the log only.
    fn explain(&self) -> (StatusCode, &'static str, String) {
        match self {
            AppError::Domain(Error::NotFound) => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address, or you may not see it.".into(),
            ),
            AppError::Domain(Error::Invalid(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                errors.summary(),
            ),
            AppError::Domain(Error::Conflict(m)) => (StatusCode::CONFLICT, "Conflict", m.clone()),
            AppError::Domain(Error::Refused(m)) => {
                (StatusCode::BAD_REQUEST, "Not possible", m.clone())
            }
            AppError::Domain(Error::NotPermitted { missing }) | AppError::Forbidden { missing } => {
                (
                    StatusCode::FORBIDDEN,
                    "Permission denied",
                    format!(
                        "This needs the {} permission, which your account does not have. Ask a user manager to grant it.",
                        missing.join(" and ")
                    ),
                )
            }
            AppError::LoginRequired { .. } => (
                StatusCode::UNAUTHORIZED,
                "Sign in",
                "Sign in to continue.".into(),
            ),
            AppError::TokenRefused => (
                StatusCode::UNAUTHORIZED,
                "Invalid token",
                "The API token is not valid: it is wrong, expired or revoked, its owner is deactivated, or it is not allowed from this address.".into(),
            ),
            AppError::TooManyAttempts { until } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!(
                    "Too many invalid tokens from your address. Try again in {} minutes.",
                    retry_minutes(*until)
                ),
            ),
            AppError::Csrf(reason) => (
                StatusCode::FORBIDDEN,
                "Request rejected",
                format!(
                    "The form was stale or came from another site ({reason}). Reload the page and try again."
                ),
            ),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            AppError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "Too large", m.clone()),
            AppError::UnsupportedMediaType(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Not a form", m.clone())
            }
            AppError::Domain(e) if e.storage_unavailable().is_some() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again shortly",
                format!(
                    "Nothing was changed: {}. The administrator can see it in the log and on /healthz.",
                    e.storage_unavailable().unwrap_or_default()
                ),
            ),
            AppError::Domain(Error::Db { .. } | Error::Crypto(_) | Error::Internal(_))
            | AppError::Template(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server could not complete this request. The error has been logged.".into(),
            ),
        }
    }

    /// The response in the shape the request asked for.
    fn respond(&self, shape: Shape) -> HttpResponse {
        let (status, title, message) = self.explain();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        if let AppError::LoginRequired { next, htmx } = self
            && matches!(shape, Shape::Page | Shape::Fragment)
        {
            let location = format!("/login?next={}", crate::web::urlencode(next));
            let (status, header_name) = if *htmx {
                (StatusCode::UNAUTHORIZED, "HX-Redirect")
            } else {
                (StatusCode::SEE_OTHER, "Location")
            };
            return HttpResponse::build(status)
                .insert_header((header_name, location))
                .finish();
        }
        let mut response = HttpResponse::build(status);
        match self {
            AppError::LoginRequired { .. } | AppError::TokenRefused => {
                // An API client is told how to authenticate; an Oxidized client with Basic.
                let challenge = if shape == Shape::Text {
                    "Basic realm=\"NetRaven\""
                } else {
                    "Bearer realm=\"NetRaven\""
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            AppError::TooManyAttempts { until } => {
                response.insert_header((header::RETRY_AFTER, retry_minutes(*until) * 60));
            }
            _ => {}
        }
        match shape {
            Shape::Json => {
                let fields = match self {
                    AppError::Domain(Error::Invalid(errors)) => errors
                        .iter()
                        .map(|(f, m)| (f.to_string(), json!(m)))
                        .collect(),
                    _ => serde_json::Map::new(),
                };
                response.json(json!({
                    "error": message,
                    "title": title,
                    "status": status.as_u16(),
                    "fields": fields,
                }))
            }
            Shape::Text => response
                .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body(format!("{message}\n")),
            Shape::Page | Shape::Fragment => {
                let page = ErrorPage {
                    code: status.as_u16(),
                    title,
                    message,
                };
                let body = if shape == Shape::Fragment {
                    page.as_error_box().render()
                } else {
                    page.render()
                };
                response
                    .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
                    .body(body.unwrap_or_else(|_| title.to_string()))
            }
        }
    }
}

/// Whole minutes until `until`, at least one (for "try again in" and `Retry-After`).
fn retry_minutes(until: chrono::DateTime<chrono::Utc>) -> i64 {
    (until - chrono::Utc::now()).num_minutes().max(0) + 1
}

#[derive(Template)]
#[template(path = "error.html", blocks = ["error_box"])]
struct ErrorPage<'a> {
    code: u16,
    title: &'a str,
    message: String,
}

/// What a request wants back.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Page,
    /// htmx swaps the error box in place of what it asked for.
    Fragment,
    /// The JSON API, and any client that asks for JSON: `{"error", "title", "status", "fields"}`.
    Json,
    /// The Oxidized-compatible routes: their clients read plain text.
    Text,
}

impl Shape {
    fn of(req: &HttpRequest) -> Self {
        if req.path().starts_with(crate::web::api::PREFIX) {
            return Shape::Json;
        }
        if crate::web::oxidized::owns(req.path()) {
            return Shape::Text;
        }
        let accepts_json = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if accepts_json {
            Shape::Json
        } else if crate::auth::extract::wants_fragment(req) {
            Shape::Fragment
        } else {
            Shape::Page
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.explain().0
    }

    /// A full page; `shape_errors` re-shapes it for htmx and JSON clients.
    fn error_response(&self) -> HttpResponse {
        self.respond(Shape::Page)
    }
}

/// Middleware: an error answered to an htmx request or a JSON client takes that client's shape.
pub async fn shape_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let shape = Shape::of(req.request());
    let res = next.call(req).await?.map_into_boxed_body();
    if shape == Shape::Page {
        return Ok(res);
    }
    let reshaped = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| e.respond(shape));
    Ok(match reshaped {
        Some(response) => res.into_response(response),
        None => res,
    })
}
