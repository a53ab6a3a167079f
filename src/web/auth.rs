use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::Form;
use super::{AppState, page, redirect, render, safe_next};
use crate::auth::SignedIn;
use crate::auth::csrf;
use crate::auth::session_store::{CLIENT_IP, USER_AGENT, USER_ID};
use crate::error::AppError;
use crate::services::audit::{self, Actor, Event};
use crate::services::users::{self, LoginError};

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
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login_page(
    session: Session,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if session.get::<i32>(USER_ID).ok().flatten().is_some() {
        return Ok(redirect(safe_next(query.next.as_deref().unwrap_or("/"))));
    }
    page(&LoginPage {
        csrf: csrf::token(&session),
        next: safe_next(query.next.as_deref().unwrap_or("/")).to_string(),
        username: String::new(),
        error: None,
        notice: query
            .signed_out
            .as_ref()
            .map(|_| "You have signed out.".to_string()),
        css_href: super::assets::css_href(),
    })
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::from_request(&req, None);
    let next = safe_next(&form.next).to_string();
    match users::authenticate(&state.db, &actor, &form.username, form.password).await {
        Ok(user) => {
            // A new session key on sign-in defeats session fixation.
            session.renew();
            session
                .insert(USER_ID, user.id)
                .and_then(|_| session.insert(CLIENT_IP, actor.ip.clone().unwrap_or_default()))
                .and_then(|_| session.insert(USER_AGENT, actor.user_agent.clone().unwrap_or_default()))
                .map_err(|e| AppError::Internal(format!("cannot store session: {e}")))?;
            csrf::rotate(&session);
            Ok(redirect(&next))
        }
        Err(LoginError::Rejected) => render(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                csrf: csrf::token(&session),
                next,
                username: form.username.chars().take(255).collect(),
                error: Some("Sign-in failed: wrong username or password, or the account is locked or disabled.".into()),
                notice: None,
                css_href: super::assets::css_href(),
            },
        ),
        Err(LoginError::Db(e)) => Err(e.into()),
    }
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
