use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::Form;
use super::{AppState, redirect, render, safe_next};
use crate::auth::SignedIn;
use crate::auth::csrf;
use crate::auth::session_store::{CLIENT_IP, USER_AGENT, USER_ID};
use crate::services::audit::{self, Event};
use crate::services::sign_in::{self, LoginError};
use crate::web::error::AppError;

routes! {
    GET r"/login" => login_page,
    POST r"/login" => login,
    POST r"/logout" => logout,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
    css_href: &'static str,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

pub async fn login_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if session.get::<i32>(USER_ID).ok().flatten().is_some() {
        return Ok(redirect(safe_next(query.next.as_deref().unwrap_or("/"))));
    }
    login_form(
        &req,
        &state,
        StatusCode::OK,
        LoginPage {
            csrf: String::new(),
            next: safe_next(query.next.as_deref().unwrap_or("/")).to_string(),
            username: String::new(),
            error: None,
            notice: query
                .signed_out
                .as_ref()
                .map(|_| "You have signed out.".to_string()),
            css_href: super::assets::css_href(),
        },
    )
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        username,
        password,
        next,
    } = form;
    let actor = crate::web::client::actor(&req, None);
    let next = safe_next(&next).to_string();
    let refused = |error: String| LoginPage {
        csrf: String::new(),
        next: next.clone(),
        username: username.chars().take(255).collect(),
        error: Some(error),
        notice: None,
        css_href: super::assets::css_href(),
    };
    match sign_in::authenticate(&state.db, &actor, &username, password).await {
        Ok(user) => {
            // A new session key on sign-in defeats session fixation.
            session.renew();
            session
                .insert(USER_ID, user.id)
                .and_then(|_| session.insert(CLIENT_IP, actor.ip.clone().unwrap_or_default()))
                .and_then(|_| {
                    session.insert(USER_AGENT, actor.user_agent.clone().unwrap_or_default())
                })
                .map_err(|e| AppError::internal(format!("cannot store session: {e}")))?;
            csrf::rotate(&session);
            let mut response = redirect(&next);
            response
                .add_cookie(&csrf::login_cookie_removal())
                .map_err(|e| AppError::internal(format!("cannot set a cookie: {e}")))?;
            Ok(response)
        }
        Err(LoginError::Rejected) => login_form(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            refused(
                "Sign-in failed: wrong username or password, or the account is locked or disabled."
                    .into(),
            ),
        ),
        Err(LoginError::Throttled { until }) => {
            let minutes = (until - chrono::Utc::now()).num_minutes().max(0) + 1;
            let mut response = login_form(
                &req,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                refused(format!(
                    "Too many failed sign-ins from your address. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )),
            )?;
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(minutes * 60),
            );
            Ok(response)
        }
        Err(LoginError::Db(e)) => Err(e.into()),
    }
}

/// The sign-in page with its form token, setting the token's cookie when it is new.
fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    mut page: LoginPage,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = csrf::login_token(req, &state.cookie_key, state.config.cookie_secure);
    page.csrf = token;
    let mut response = render(status, &page)?;
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::internal(format!("cannot set a cookie: {e}")))?;
    }
    Ok(response)
}

pub async fn logout(auth: SignedIn) -> Result<HttpResponse, AppError> {
    audit::record(
        auth.db(),
        &auth.audit_actor(),
        Event::auth("logout").target("user", auth.user.id),
    )
    .await?;
    auth.session.purge();
    Ok(redirect("/login?signed_out=1"))
}
