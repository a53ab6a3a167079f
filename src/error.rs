//! One error type for the web layer and the services, turned into a response in one place.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use sea_orm::DbErr;

use crate::services::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// The user is signed in but lacks these permissions (names shown on the 403 page).
    #[error("missing permission: {}", .missing.join(", "))]
    Forbidden { missing: Vec<&'static str> },
    /// Not signed in: a page redirects to the login page, an htmx request gets HX-Redirect.
    #[error("login required")]
    LoginRequired { next: String, htmx: bool },
    #[error("request rejected by the CSRF check: {0}")]
    Csrf(&'static str),
    #[error("{0}")]
    BadRequest(String),
    /// Input that failed validation; handlers with a form catch it and re-render the form.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    /// A body larger than the endpoint accepts.
    #[error("{0}")]
    TooLarge(String),
    /// A body of a type the endpoint does not read (JSON sent to a form).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    code: u16,
    title: &'a str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden { .. } | AppError::Csrf(_) => StatusCode::FORBIDDEN,
            AppError::LoginRequired { htmx: true, .. } => StatusCode::UNAUTHORIZED,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Db(_)
            | AppError::Crypto(_)
            | AppError::Template(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::LoginRequired { next, htmx } = self {
            let location = format!("/login?next={}", crate::web::urlencode(next));
            let header_name = if *htmx { "HX-Redirect" } else { "Location" };
            return HttpResponse::build(status)
                .insert_header((header_name, location))
                .finish();
        }
        let (title, message) = match self {
            AppError::NotFound => (
                "Not found",
                "There is nothing at this address, or you may not see it.".to_string(),
            ),
            AppError::Forbidden { missing } => (
                "Permission denied",
                format!(
                    "This needs the {} permission, which your account does not have. Ask a user manager to grant it.",
                    missing.join(" and ")
                ),
            ),
            AppError::Csrf(reason) => (
                "Request rejected",
                format!(
                    "The form was stale or came from another site ({reason}). Reload the page and try again."
                ),
            ),
            AppError::BadRequest(m) | AppError::Conflict(m) => ("Bad request", m.clone()),
            AppError::TooLarge(m) => ("Too large", m.clone()),
            AppError::UnsupportedMediaType(m) => ("Not a form", m.clone()),
            AppError::Validation(errors) => ("Invalid input", errors.summary()),
            _ => {
                // Details go to the log, never to the browser.
                tracing::error!(error = %self, "request failed");
                (
                    "Something went wrong",
                    "The server could not complete this request. The error has been logged."
                        .to_string(),
                )
            }
        };
        let body = ErrorPage {
            code: status.as_u16(),
            title,
            message,
        }
        .render()
        .unwrap_or_else(|_| title.to_string());
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body)
    }
}
