//! CSRF protection: a per-session token checked on every unsafe method, taken from the
//! `X-CSRF-Token` header (htmx sends it from `hx-headers` on `<body>`) or the `csrf_token` form
//! field, plus a check that a browser-declared Origin (or Referer) is this site.
//!
//! Before sign-in there is no session: the sign-in form's token lives in a signed cookie (the
//! double-submit pattern), so an anonymous visit stores nothing on the server.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};

use crate::crypto::{constant_time_eq, random_token};
use crate::web::AppState;
use crate::web::error::AppError;

const SESSION_KEY: &str = "csrf";
pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
/// The signed cookie that carries the sign-in form's token.
pub const LOGIN_COOKIE: &str = "netraven_login";
/// How long a sign-in form stays valid.
const LOGIN_COOKIE_HOURS: i64 = 12;
/// The only unsafe request that may come without a session.
const LOGIN_PATH: &str = "/login";

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

/// The sign-in form's token: the one in the request's signed cookie, or a new one with the
/// cookie that carries it (to be set on the response).
pub fn login_token(
    req: &HttpRequest,
    key: &Key,
    secure: bool,
) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = login_cookie_token(req, key) {
        return (existing, None);
    }
    let fresh = random_token(32);
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.signed_mut(key).add(
        Cookie::build(LOGIN_COOKIE, fresh.clone())
            .path(LOGIN_PATH)
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(actix_web::cookie::time::Duration::hours(LOGIN_COOKIE_HOURS))
            .finish(),
    );
    let cookie = jar.get(LOGIN_COOKIE).cloned();
    (fresh, cookie)
}

/// A cookie that removes the sign-in token once signed in.
pub fn login_cookie_removal() -> Cookie<'static> {
    let mut cookie = Cookie::build(LOGIN_COOKIE, "").path(LOGIN_PATH).finish();
    cookie.make_removal();
    cookie
}

fn login_cookie_token(req: &HttpRequest, key: &Key) -> Option<String> {
    let raw = req.cookie(LOGIN_COOKIE)?;
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.add_original(raw);
    jar.signed(key)
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
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
    if !is_unsafe(req.method()) || super::bearer::skips_csrf(req.request()) {
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
        Err(Refusal::Body(error)) => Ok(refuse(req, error)),
        Err(Refusal::Csrf(reason)) => {
            let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
            if let Some(state) = state {
                crate::services::audit::record_or_log(
                    &state.db,
                    &crate::web::client::actor(req.request(), None),
                    crate::services::audit::Event::security("csrf_rejected")
                        .failure()
                        .detail("reason", reason)
                        .detail("path", req.path()),
                )
                .await;
            }
            Ok(refuse(req, AppError::Csrf(reason)))
        }
    }
}

/// The refusal as a response that keeps its error, so the error-shaping middleware can answer an
/// htmx or JSON client in its shape (`ServiceRequest::into_response` would drop it).
fn refuse<B>(req: ServiceRequest, error: AppError) -> ServiceResponse<EitherBody<B>> {
    let (request, _) = req.into_parts();
    ServiceResponse::new(request, HttpResponse::from_error(error)).map_into_right_body()
}

enum Refusal {
    Csrf(&'static str),
    /// The body could not be read for its token (too large, broken): said as such, not as CSRF.
    Body(AppError),
}

impl From<&'static str> for Refusal {
    fn from(reason: &'static str) -> Self {
        Refusal::Csrf(reason)
    }
}

async fn check(req: &mut ServiceRequest) -> Result<(), Refusal> {
    check_origin(req)?;
    let expected = match req.get_session().get::<String>(SESSION_KEY) {
        Ok(Some(token)) => token,
        _ if req.path() == LOGIN_PATH => req
            .app_data::<actix_web::web::Data<AppState>>()
            .and_then(|state| login_cookie_token(req.request(), &state.cookie_key))
            .ok_or("the sign-in form has expired or cookies are blocked")?,
        _ => return Err("no CSRF token in this session".into()),
    };
    let supplied = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(value) => value.to_string(),
        None => form_token(req).await?,
    };
    if constant_time_eq(supplied.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err("wrong CSRF token".into())
    }
}

/// Reads the token from an urlencoded body, then puts the body back for the handler.
async fn form_token(req: &mut ServiceRequest) -> Result<String, Refusal> {
    if !crate::web::form::is_form(req.request()) {
        return Err("missing CSRF token header".into());
    }
    let bytes = req
        .extract::<Bytes>()
        .await
        .map_err(|e| Refusal::Body(crate::web::form::body_error(&e)))?;
    // Decoding is lossy, so a field that is not UTF-8 cannot hide the token.
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FORM_FIELD)
        .map(|(_, value)| value.into_owned());
    req.set_payload(Payload::from(bytes));
    token.ok_or_else(|| "missing CSRF token field".into())
}

/// Checks that a browser-declared origin is this site: scheme, host and port (see
/// `web::client::is_own_origin`).
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
    if crate::web::client::is_own_origin(req.request(), &origin) {
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
