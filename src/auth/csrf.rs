//! CSRF protection: a per-session token checked on every unsafe method, taken from the
//! `X-CSRF-Token` header (htmx sends it from `hx-headers` on `<body>`) or the `csrf_token` form
//! field, plus a check that a browser-declared Origin (or Referer) is this site.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, ResponseError};

use crate::crypto::{constant_time_eq, random_token};
use crate::error::AppError;
use crate::web::AppState;

const SESSION_KEY: &str = "csrf";
pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(existing)) = session.get::<String>(SESSION_KEY) {
        return existing;
    }
    let fresh = random_token(32);
    // Insert fails only if the value cannot be serialised, which a String always can.
    let _ = session.insert(SESSION_KEY, &fresh);
    fresh
}

/// A new token, after login (the anonymous one must not survive into the signed-in session).
pub fn rotate(session: &Session) -> String {
    let _ = session.remove(SESSION_KEY);
    token(session)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !is_unsafe(req.method()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    match check(&mut req).await {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(reason) => {
            let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
            if let Some(state) = state {
                crate::services::audit::record_request(
                    &state.db,
                    req.request(),
                    crate::services::audit::Event::security("csrf_rejected")
                        .failure()
                        .detail("reason", reason)
                        .detail("path", req.path()),
                )
                .await;
            }
            let response = AppError::Csrf(reason).error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

async fn check(req: &mut ServiceRequest) -> Result<(), &'static str> {
    check_origin(req)?;
    let expected = match req.get_session().get::<String>(SESSION_KEY) {
        Ok(Some(token)) => token,
        _ => return Err("no CSRF token in this session"),
    };
    let supplied = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(value) => value.to_string(),
        None => form_token(req).await?,
    };
    if constant_time_eq(supplied.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err("wrong CSRF token")
    }
}

/// Reads the token from an urlencoded body, then puts the body back for the handler.
async fn form_token(req: &mut ServiceRequest) -> Result<String, &'static str> {
    let is_form = req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded");
    if !is_form {
        return Err("missing CSRF token header");
    }
    let bytes = req
        .extract::<Bytes>()
        .await
        .map_err(|_| "form body too large or unreadable")?;
    // Decoding is lossy, so a field that is not UTF-8 cannot hide the token.
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FORM_FIELD)
        .map(|(_, value)| value.into_owned());
    req.set_payload(Payload::from(bytes));
    token.ok_or("missing CSRF token field")
}

/// Checks that a browser-declared origin is this site (or a configured trusted origin).
fn check_origin(req: &ServiceRequest) -> Result<(), &'static str> {
    let headers = req.headers();
    let declared = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null")
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .map(origin_of)
        });
    let Some(origin) = declared else {
        // Non-browser clients send neither; the token still has to match.
        return Ok(());
    };
    let host = req.connection_info().host().to_string();
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host));
    let trusted = req
        .app_data::<actix_web::web::Data<AppState>>()
        .is_some_and(|s| {
            s.config
                .trusted_origins
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&origin))
        });
    if same_host || trusted {
        Ok(())
    } else {
        Err("request came from another origin")
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_of_strips_path() {
        assert_eq!(super::origin_of("http://a.b:8080/x?y"), "http://a.b:8080");
        assert_eq!(super::origin_of("garbage"), "");
    }
}
